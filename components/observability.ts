/**
 * One region's observability: what its operators watch, as data. The dashboard rows and the
 * alarm specs (each with its runbook line) are tables over the region's identifiers; the toolkit
 * that turns them into CloudWatch resources is ./monitoring.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  type AlarmSpec,
  alarmEmailProblems,
  type DashboardRow,
  FIVE_MINUTES,
  metric,
  MINUTE,
  MonitoringComponent,
  type ObservabilityTransforms,
} from "./monitoring";
import { INVALIDATION_MAX_REPLAY_WAIT_SECONDS } from "../contract";
import { visibilityTimeoutSeconds } from "./awsLimits";
import { throwIfInvalid } from "./validation";
import type { WebAclMetrics } from "./webAcl";
import type { AwsContext } from "./awsContext";

const BYTES_PER_GIB = 1024 ** 3;

export interface AlarmThresholds {
  /** Share of requests answered 5xx by the web tasks, in percent. @example 1 */
  http5xxPercent: number;
  /** 99th percentile of the targets' response time, in seconds. @example 1 */
  p99LatencySeconds: number;
  /** CPU of any database instance, in percent. @example 80 */
  databaseCpuPercent: number;
  /** Free storage left on the writer, in GiB. @example 10 */
  databaseFreeStorageGb: number;
  /** How far a read replica may fall behind the writer, in seconds. @example 30 */
  replicaLagSeconds: number;
  /** Memory used by the cache engine on any node, in percent. @example 80 */
  cacheMemoryPercent: number;
  /** Keys evicted per minute on any cache node before it counts as too small. @example 100 */
  cacheEvictionsPerMinute: number;
  /** Age of the oldest job in the queue, in seconds. @example 300 */
  oldestMessageSeconds: number;
}

/** A threshold's valid range: above 0 (or 0 itself when `allowsZero`), up to `max`. */
interface ThresholdRange {
  allowsZero?: boolean;
  max?: number;
  text: string;
}
const PERCENT: ThresholdRange = { max: 100, text: "above 0 and at most 100" };
const POSITIVE: ThresholdRange = { text: "above 0" };
/** The valid range of each threshold (named one by one: callers may pass a wider config object). */
const THRESHOLD_RANGES: Record<keyof AlarmThresholds, ThresholdRange> = {
  http5xxPercent: PERCENT,
  p99LatencySeconds: POSITIVE,
  databaseCpuPercent: PERCENT,
  databaseFreeStorageGb: POSITIVE,
  replicaLagSeconds: POSITIVE,
  cacheMemoryPercent: PERCENT,
  cacheEvictionsPerMinute: { allowsZero: true, text: "of 0 or more" },
  oldestMessageSeconds: POSITIVE,
};

/** A web ACL as the dashboards and alarms watch it: its metrics, and when a spike pages. */
export interface WebAclWatch extends WebAclMetrics {
  /**
   * Requests blocked (counted, in count mode) per minute, for 3 of 5 minutes, before the alarm
   * fires: an attack, or a rule turning real users away.
   * @example 300
   */
  blockedRequestsPerMinute: number;
}

/** Problems with a web ACL watch (the threshold; the metrics come from the WebAcl component). */
export function webAclWatchProblems(webAcl: WebAclWatch | undefined): string[] {
  const threshold = webAcl?.blockedRequestsPerMinute;
  if (threshold === undefined || (Number.isFinite(threshold) && threshold > 0)) return [];
  return [`webAcl.blockedRequestsPerMinute: ${threshold} must be a number above 0`];
}

/** A web ACL's metric: the whole ACL (`Rule` ALL) or one rule, in the ACL's region when regional. */
function wafMetric(webAcl: WebAclMetrics, name: string, rule: string, label?: string) {
  return metric(
    "AWS/WAFV2",
    name,
    {
      WebACL: webAcl.webAclMetricName,
      Rule: rule,
      ...(webAcl.region === undefined ? {} : { Region: webAcl.region }),
    },
    "Sum",
    label,
  );
}

/** What the ACL's rules act on: blocked requests, or counted ones in count mode. */
const wafActedOn = (webAcl: WebAclMetrics) =>
  webAcl.mode === "block" ? "BlockedRequests" : "CountedRequests";

/** The dashboard row of a web ACL: requests by action, and what each rule matched. */
export function webAclDashboardRow(webAcl: WebAclMetrics): DashboardRow {
  return {
    title: `Edge firewall (AWS WAF, ${webAcl.mode} mode)`,
    graphs: [
      {
        title: "Requests by action",
        lines: [
          wafMetric(webAcl, "AllowedRequests", "ALL", "allowed"),
          wafMetric(webAcl, "BlockedRequests", "ALL", "blocked"),
          wafMetric(webAcl, "CountedRequests", "ALL", "counted (would be blocked)"),
        ],
      },
      {
        title: webAcl.mode === "block" ? "Blocked, by rule" : "Counted, by rule",
        lines: webAcl.rules.map((rule) =>
          wafMetric(webAcl, wafActedOn(webAcl), rule.metricName, rule.label),
        ),
      },
    ],
  };
}

/** The alarm on a spike of what the web ACL blocks (or counts, in count mode). */
export function webAclAlarmSpec(webAcl: WebAclWatch): AlarmSpec {
  const verb = webAcl.mode === "block" ? "blocks" : "counts (count mode: would block)";
  return {
    role: "waf-blocked-spike",
    what: `The web ACL ${verb} over ${webAcl.blockedRequestsPerMinute} requests a minute: an attack, or a rule turning real users away.`,
    lookAt:
      "the dashboard's rule graph and the ACL's aws-waf-logs-* log group (terminatingRuleId, client IPs, URIs); a legitimate path blocked needs a rule override in components/webAcl.ts",
    line: wafMetric(webAcl, wafActedOn(webAcl), "ALL"),
    comparison: "GreaterThanThreshold",
    threshold: webAcl.blockedRequestsPerMinute,
    periodSeconds: MINUTE,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    treatMissingData: "notBreaching", // AWS WAF publishes a count only when a rule matched something
  };
}

export interface ObservabilityArgs {
  /**
   * The account, partition and region the resources live in (components/awsContext.ts).
   * @default looked up through the component's provider (STS in its region)
   */
  context?: AwsContext;
  /**
   * The region the dashboard's graphs read from: the region of this component's provider.
   * @example "us-east-1"
   */
  region: string;
  /** Subscribes this address to the alarm topic (AWS emails a confirmation link first). */
  alarmEmail?: string;
  thresholds: AlarmThresholds;
  web: {
    /** The load balancer's ARN suffix (`app/<name>/<id>`), its CloudWatch `LoadBalancer` dimension. */
    albArnSuffix: pulumi.Input<string>;
    /** The target group's ARN suffix (`targetgroup/<name>/<id>`), its `TargetGroup` dimension. */
    targetGroupArnSuffix: pulumi.Input<string>;
    /** The ECS cluster; it needs Container Insights on for the running-task graph. */
    clusterName: pulumi.Input<string>;
    serviceName: pulumi.Input<string>;
  };
  workers: {
    clusterName: pulumi.Input<string>;
    serviceName: pulumi.Input<string>;
    queueName: pulumi.Input<string>;
    deadLetterQueueName: pulumi.Input<string>;
  };
  /** The region's database instances; a secondary region has no writer, only its cross-region replica. */
  database: DatabaseInstances;
  /**
   * Physical shards 1..N-1 (`database.shards`), each of the same shape as `database` (shard 0):
   * each instance gets its own alarms and lines on the database graphs, named `shard N ...`.
   * @default []
   */
  databaseShards?: DatabaseInstances[];
  /**
   * The replication group and its member clusters (one per node: `<group>-001`, `<group>-002`, ...).
   * Undefined when the region runs without a cache (an emulator without ElastiCache): no cache
   * row, no cache alarms.
   */
  cache?: {
    replicationGroupId: pulumi.Input<string>;
    memberClusterIds: pulumi.Input<string>[];
  };
  /**
   * The region's cache-invalidation queue (InvalidationQueue), whose consumers are this region's
   * web tasks; unset: no cross-region invalidation, no alarms on it.
   */
  invalidations?: {
    queueName: pulumi.Input<string>;
    deadLetterQueueName: pulumi.Input<string>;
  };
  /**
   * The app's embedded-metric-format namespace (docs/CONTRACT.md; dimension `Service` = web|worker).
   * @example "ZeroToMillions"
   */
  appMetricsNamespace: string;
  /** The region's web ACL (WebAcl.metrics), when its load balancer has one. */
  webAcl?: WebAclWatch;
  /** Change the arguments of a child resource before it is created. */
  transform?: ObservabilityTransforms;
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateObservabilityArgs(args: ObservabilityArgs): string[] {
  const problems = [...alarmEmailProblems(args.alarmEmail), ...webAclWatchProblems(args.webAcl)];
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(args.region)) {
    problems.push(
      `region: "${args.region}" is not an AWS region; pass the provider's region such as us-east-1`,
    );
  }
  for (const [key, range] of Object.entries(THRESHOLD_RANGES) as Array<
    [keyof AlarmThresholds, ThresholdRange]
  >) {
    const value = args.thresholds[key];
    const tooLow = range.allowsZero ? value < 0 : value <= 0;
    if (
      typeof value !== "number" ||
      !Number.isFinite(value) ||
      tooLow ||
      value > (range.max ?? Infinity)
    ) {
      problems.push(`thresholds.${key}: ${value} must be a number ${range.text}`);
    }
  }
  if (
    args.database.writerIdentifier === undefined &&
    args.database.replicaIdentifiers.length === 0
  ) {
    problems.push(
      "database: no writerIdentifier and no replicaIdentifiers; pass the region's database instances",
    );
  }
  if (args.cache !== undefined && args.cache.memberClusterIds.length === 0) {
    problems.push(
      "cache.memberClusterIds: empty; pass the replication group's member clusters (one per node)",
    );
  }
  if (
    !/^[A-Za-z0-9._/#: -]{1,255}$/.test(args.appMetricsNamespace) ||
    args.appMetricsNamespace.startsWith("AWS/")
  ) {
    problems.push(
      `appMetricsNamespace: "${args.appMetricsNamespace}" is not a custom CloudWatch namespace (1..255 letters, digits, ._/#:- and spaces, not starting with AWS/)`,
    );
  }
  return problems;
}

/** One physical shard's database instances. */
export interface DatabaseInstances {
  writerIdentifier?: pulumi.Input<string>;
  replicaIdentifiers: pulumi.Input<string>[];
}

/** A database instance as the dashboard and alarms name it. */
interface DatabaseInstance {
  role: string;
  label: string;
  identifier: pulumi.Input<string>;
  /** What the writer's free-storage alarm is called (shard 0's keeps its name from before shards). */
  storageRole: string;
}

/** Every shard's instances; shard 0's roles and labels are those from before sharding. */
function databaseInstances(args: ObservabilityArgs): {
  all: DatabaseInstance[];
  writers: DatabaseInstance[];
  replicas: DatabaseInstance[];
} {
  const shards = [args.database, ...(args.databaseShards ?? [])];
  const writers: DatabaseInstance[] = [];
  const replicas: DatabaseInstance[] = [];
  shards.forEach((database, shard) => {
    const role = shard === 0 ? "" : `shard${shard}-`;
    const label = shard === 0 ? "" : `shard ${shard} `;
    const storageRole = shard === 0 ? "db-free-storage" : `db-free-storage-shard${shard}`;
    if (database.writerIdentifier !== undefined) {
      const identifier = database.writerIdentifier;
      writers.push({ role: `${role}writer`, label: `${label}writer`, identifier, storageRole });
    }
    database.replicaIdentifiers.forEach((identifier, index) =>
      replicas.push({
        role: `${role}replica-${index}`,
        label: `${label}replica ${index + 1}`,
        identifier,
        storageRole,
      }),
    );
  });
  return { all: [...writers, ...replicas], writers, replicas };
}

/** The cache's member clusters (one node each), as the dashboard and alarms name them. */
function cacheMembers(cache: ObservabilityArgs["cache"]) {
  return (cache?.memberClusterIds ?? []).map((id, index) => ({
    role: `node-${index}`,
    label: `node ${index + 1}`,
    id,
  }));
}

/** The dashboard of one region: a row per tier, each graph on the identifiers passed in. */
function regionDashboardRows(args: ObservabilityArgs): DashboardRow[] {
  const { web, workers } = args;
  const alb = (name: string, stat: string, label?: string) =>
    metric("AWS/ApplicationELB", name, { LoadBalancer: web.albArnSuffix }, stat, label);
  const targets = (name: string, stat: string, label: string) =>
    metric(
      "AWS/ApplicationELB",
      name,
      { TargetGroup: web.targetGroupArnSuffix, LoadBalancer: web.albArnSuffix },
      stat,
      label,
    );
  const services = (namespace: string, name: string, stat: string) =>
    [web, workers].map((service, index) =>
      metric(
        namespace,
        name,
        { ClusterName: service.clusterName, ServiceName: service.serviceName },
        stat,
        ["web", "workers"][index],
      ),
    );
  const db = databaseInstances(args);
  const perInstance = (name: string, stat: string, instances = db.all) =>
    instances.map((instance) =>
      metric("AWS/RDS", name, { DBInstanceIdentifier: instance.identifier }, stat, instance.label),
    );
  const perNode = (name: string, stat: string) =>
    cacheMembers(args.cache).map((node) =>
      metric("AWS/ElastiCache", name, { CacheClusterId: node.id }, stat, node.label),
    );
  const sqs = (name: string, queueName: pulumi.Input<string>, label: string) =>
    metric("AWS/SQS", name, { QueueName: queueName }, "Maximum", label);
  const app = (name: string, service: "web" | "worker", label?: string) =>
    metric(args.appMetricsNamespace, name, { Service: service }, "Sum", label);

  return [
    {
      title: "Load balancer",
      graphs: [
        { title: "Requests", lines: [alb("RequestCount", "Sum", "requests")] },
        {
          title: "HTTP errors",
          lines: [
            alb("HTTPCode_Target_4XX_Count", "Sum", "4xx from tasks"),
            alb("HTTPCode_Target_5XX_Count", "Sum", "5xx from tasks"),
            alb("HTTPCode_ELB_5XX_Count", "Sum", "5xx from the load balancer"),
          ],
        },
        {
          title: "Target response time (s)",
          lines: [alb("TargetResponseTime", "p50", "p50"), alb("TargetResponseTime", "p99", "p99")],
        },
        {
          title: "Targets",
          lines: [
            targets("HealthyHostCount", "Minimum", "healthy"),
            targets("UnHealthyHostCount", "Maximum", "unhealthy"),
          ],
        },
      ],
    },
    {
      title: "Web and worker tasks",
      graphs: [
        { title: "CPU (%)", lines: services("AWS/ECS", "CPUUtilization", "Average") },
        { title: "Memory (%)", lines: services("AWS/ECS", "MemoryUtilization", "Average") },
        {
          title: "Running tasks",
          lines: services("ECS/ContainerInsights", "RunningTaskCount", "Average"),
        },
      ],
    },
    {
      title: "Database",
      graphs: [
        { title: "CPU (%)", lines: perInstance("CPUUtilization", "Average") },
        { title: "Connections", lines: perInstance("DatabaseConnections", "Average") },
        ...(db.replicas.length > 0
          ? [{ title: "Replica lag (s)", lines: perInstance("ReplicaLag", "Maximum", db.replicas) }]
          : []),
        {
          title: "IOPS",
          lines: [...perInstance("ReadIOPS", "Average"), ...perInstance("WriteIOPS", "Average")],
        },
      ],
    },
    ...(args.cache === undefined
      ? []
      : [
          {
            title: "Cache",
            graphs: [
              { title: "Engine CPU (%)", lines: perNode("EngineCPUUtilization", "Average") },
              {
                title: "Memory used (%)",
                lines: perNode("DatabaseMemoryUsagePercentage", "Average"),
              },
              { title: "Hit rate (%)", lines: perNode("CacheHitRate", "Average") },
              { title: "Evictions", lines: perNode("Evictions", "Sum") },
            ],
          },
        ]),
    {
      title: "Queue",
      graphs: [
        {
          title: "Jobs waiting",
          lines: [sqs("ApproximateNumberOfMessagesVisible", workers.queueName, "jobs")],
        },
        {
          title: "Age of oldest job (s)",
          lines: [sqs("ApproximateAgeOfOldestMessage", workers.queueName, "oldest")],
        },
        {
          title: "Dead-letter queue",
          lines: [
            sqs("ApproximateNumberOfMessagesVisible", workers.deadLetterQueueName, "failed jobs"),
          ],
        },
      ],
    },
    ...(args.invalidations === undefined
      ? []
      : [invalidationDashboardRow(args.invalidations, args.appMetricsNamespace)]),
    {
      title: "App",
      graphs: [
        { title: "Signups", lines: [app("Signups", "web", "signups")] },
        // Each instance counts its own users each minute, so the sum overcounts users seen by several.
        {
          title: "Active users (sum over instances)",
          lines: [app("ActiveUsers", "web", "active users")],
        },
        {
          title: "App cache hit ratio (%)",
          lines: [
            {
              expression: "100 * hits / (hits + misses)",
              metrics: { hits: app("CacheHit", "web"), misses: app("CacheMiss", "web") },
              label: "hit ratio",
            },
          ],
        },
        {
          title: "Jobs",
          lines: [
            app("JobsProcessed", "worker", "processed"),
            app("JobsFailed", "worker", "failed"),
          ],
        },
      ],
    },
    ...(args.webAcl ? [webAclDashboardRow(args.webAcl)] : []),
  ];
}

/**
 * Cross-region cache invalidation (contract/invalidation.ts): this region's queue, its dead
 * letters, and what the app counts when a wait runs out or a send fails.
 */
function invalidationDashboardRow(
  queues: NonNullable<ObservabilityArgs["invalidations"]>,
  appMetricsNamespace: string,
): DashboardRow {
  const sqs = (name: string, queueName: pulumi.Input<string>, label: string) =>
    metric("AWS/SQS", name, { QueueName: queueName }, "Maximum", label);
  const app = (name: string, service: "web" | "worker", label: string) =>
    metric(appMetricsNamespace, name, { Service: service }, "Sum", label);
  return {
    title: "Cache invalidations",
    graphs: [
      {
        title: "Waiting, and age of the oldest (s)",
        lines: [
          sqs("ApproximateNumberOfMessagesVisible", queues.queueName, "waiting"),
          sqs("ApproximateAgeOfOldestMessage", queues.queueName, "oldest"),
        ],
      },
      {
        title: "Dead-letter queue",
        lines: [
          sqs(
            "ApproximateNumberOfMessagesVisible",
            queues.deadLetterQueueName,
            "failed invalidations",
          ),
        ],
      },
      {
        title: "Stale-row risks",
        lines: [
          app("InvalidationWaitExceeded", "web", "replay wait ran out"),
          app("InvalidationPublishFailed", "web", "sends failed (web)"),
          app("InvalidationPublishFailed", "worker", "sends failed (workers)"),
        ],
      },
    ],
  };
}

/** The alarms of one region, thresholds from `args.thresholds`. */
function regionAlarmSpecs(args: ObservabilityArgs): AlarmSpec[] {
  const { thresholds: t, web, workers } = args;
  const alb = (name: string, stat: string) =>
    metric("AWS/ApplicationELB", name, { LoadBalancer: web.albArnSuffix }, stat);
  const db = databaseInstances(args);
  const rds = (instance: DatabaseInstance, name: string, stat: string) =>
    metric("AWS/RDS", name, { DBInstanceIdentifier: instance.identifier }, stat);
  const nodes = cacheMembers(args.cache);
  const node = (id: pulumi.Input<string>, name: string, stat: string) =>
    metric("AWS/ElastiCache", name, { CacheClusterId: id }, stat);
  const sqs = (queueName: pulumi.Input<string>, name: string) =>
    metric("AWS/SQS", name, { QueueName: queueName }, "Maximum");

  return [
    {
      role: "alb-5xx-rate",
      what: `Over ${t.http5xxPercent}% of requests got a 5xx from the web tasks.`,
      lookAt: "the web service's logs and its latest deployment",
      line: {
        // No 5xx in a minute publishes no datapoint: FILL makes it 0 rather than a gap.
        expression: "100 * FILL(errors, 0) / requests",
        metrics: {
          errors: alb("HTTPCode_Target_5XX_Count", "Sum"),
          requests: alb("RequestCount", "Sum"),
        },
        label: "5xx rate (%)",
      },
      comparison: "GreaterThanThreshold",
      threshold: t.http5xxPercent,
      periodSeconds: MINUTE,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: "notBreaching", // no requests at all: there is no error rate to worry about
    },
    {
      role: "alb-p99-latency",
      what: `The slowest 1% of requests took over ${t.p99LatencySeconds} s.`,
      lookAt: "database CPU and connections, the cache hit rate and the web tasks' CPU",
      line: alb("TargetResponseTime", "p99"),
      comparison: "GreaterThanThreshold",
      threshold: t.p99LatencySeconds,
      periodSeconds: MINUTE,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: "notBreaching", // no requests: no latency
    },
    {
      role: "alb-unhealthy-hosts",
      what: "A web task fails the load balancer's health check.",
      lookAt: "the web service's events and logs (/readyz checks the database and the cache)",
      line: metric(
        "AWS/ApplicationELB",
        "UnHealthyHostCount",
        { TargetGroup: web.targetGroupArnSuffix, LoadBalancer: web.albArnSuffix },
        "Maximum",
      ),
      comparison: "GreaterThanThreshold",
      threshold: 0,
      periodSeconds: MINUTE,
      evaluationPeriods: 3,
      treatMissingData: "notBreaching", // published every minute while targets are registered; none reported means none unhealthy
    },
    ...db.all.map((instance): AlarmSpec => ({
      role: `db-cpu-${instance.role}`,
      what: `The database ${instance.label}'s CPU is over ${t.databaseCpuPercent}%.`,
      lookAt:
        "Performance Insights for its top queries; then add replicas or use a larger database.instanceClass",
      line: rds(instance, "CPUUtilization", "Average"),
      comparison: "GreaterThanThreshold",
      threshold: t.databaseCpuPercent,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 3,
      treatMissingData: "missing", // a gap means the instance is restarting or gone, which RDS events report
    })),
    ...db.writers.map((writer): AlarmSpec => ({
      role: writer.storageRole,
      what: `The database ${writer.label} has under ${t.databaseFreeStorageGb} GiB free.`,
      lookAt:
        "its allocated storage: at database.maxAllocatedStorageGb autoscaling stops, so raise it",
      line: rds(writer, "FreeStorageSpace", "Minimum"),
      comparison: "LessThanThreshold",
      threshold: t.databaseFreeStorageGb * BYTES_PER_GIB,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 1,
      treatMissingData: "missing", // a gap means the instance is restarting, not that its disk filled
    })),
    ...db.replicas.map((replica): AlarmSpec => ({
      role: `db-lag-${replica.role}`,
      what: `The database ${replica.label} is over ${t.replicaLagSeconds} s behind the writer: reads there are stale.`,
      lookAt: "the writer's write load and the replica's CPU and IOPS",
      line: rds(replica, "ReplicaLag", "Maximum"),
      comparison: "GreaterThanThreshold",
      threshold: t.replicaLagSeconds,
      periodSeconds: MINUTE,
      evaluationPeriods: 5,
      treatMissingData: "breaching", // a replica that stops reporting lag has stopped replicating
    })),
    ...nodes.flatMap((member): AlarmSpec[] => [
      {
        role: `cache-evictions-${member.role}`,
        what: `Cache ${member.label} evicts over ${t.cacheEvictionsPerMinute} keys a minute: it is too small for the working set.`,
        lookAt: "its memory graph; then use a larger cache.nodeType",
        line: node(member.id, "Evictions", "Sum"),
        comparison: "GreaterThanThreshold",
        threshold: t.cacheEvictionsPerMinute,
        periodSeconds: MINUTE,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: "notBreaching", // no datapoint means no evictions counted
      },
      {
        role: `cache-memory-${member.role}`,
        what: `Cache ${member.label} uses over ${t.cacheMemoryPercent}% of its memory; evictions follow.`,
        lookAt: "the app's key TTLs, or use a larger cache.nodeType",
        line: node(member.id, "DatabaseMemoryUsagePercentage", "Average"),
        comparison: "GreaterThanThreshold",
        threshold: t.cacheMemoryPercent,
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: 3,
        treatMissingData: "missing", // a gap means the node is being replaced, which ElastiCache events report
      },
    ]),
    {
      role: "queue-oldest-job",
      what: `A job has waited over ${t.oldestMessageSeconds} s.`,
      lookAt:
        "the workers' running tasks and logs; raise workers.maxTasks if they are at the maximum",
      line: sqs(workers.queueName, "ApproximateAgeOfOldestMessage"),
      comparison: "GreaterThanThreshold",
      threshold: t.oldestMessageSeconds,
      periodSeconds: MINUTE,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: "notBreaching", // SQS stops publishing for a queue idle for hours: nothing waits
    },
    {
      role: "dlq-not-empty",
      what: "Jobs failed every retry and landed in the dead-letter queue.",
      lookAt: "the workers' logs for the error; fix it, then redrive the queue",
      line: sqs(workers.deadLetterQueueName, "ApproximateNumberOfMessagesVisible"),
      comparison: "GreaterThanThreshold",
      threshold: 0,
      periodSeconds: MINUTE,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching", // SQS stops publishing for an idle, empty queue
    },
    ...invalidationAlarmSpecs(args),
    ...(args.webAcl ? [webAclAlarmSpec(args.webAcl)] : []),
  ];
}

/**
 * Cross-region cache invalidation (contract/invalidation.ts): a region deletes a key only once its
 * replica has replayed the write, or after a bounded wait. Each alarm is a way a region may serve
 * a stale row until the cache's TTL: the wait ran out, a send failed, or the queue is behind.
 */
function invalidationAlarmSpecs(args: ObservabilityArgs): AlarmSpec[] {
  const queues = args.invalidations;
  if (queues === undefined) return [];
  const app = (name: string, service: "web" | "worker") =>
    metric(args.appMetricsNamespace, name, { Service: service }, "Sum");
  const sqs = (queueName: pulumi.Input<string>, name: string) =>
    metric("AWS/SQS", name, { QueueName: queueName }, "Maximum");
  // An invalidation older than one full processing cycle (the replay wait plus SQS's margin)
  // means the consumers are behind or failing.
  const behindSeconds = visibilityTimeoutSeconds(INVALIDATION_MAX_REPLAY_WAIT_SECONDS);
  return [
    {
      role: "invalidation-wait-exceeded",
      what: `The replica here had not replayed a write after ${INVALIDATION_MAX_REPLAY_WAIT_SECONDS} s; the key was deleted anyway, so a stale row may be cached until its TTL.`,
      lookAt:
        "the replica lag of this region's database (RPO during a loss); the web logs with invalidationWaitExceeded",
      line: app("InvalidationWaitExceeded", "web"),
      comparison: "GreaterThanThreshold",
      threshold: 0,
      periodSeconds: MINUTE,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching", // the app emits the count only when it happens
    },
    {
      role: "invalidation-publish-failed",
      what: "A write's cache invalidation could not be sent to a region's queue; that region may serve the old row until its TTL.",
      lookAt:
        "the web and worker logs with degraded=invalidation: which region's queue, and SQS's error there",
      line: {
        expression: "FILL(web, 0) + FILL(worker, 0)",
        metrics: {
          web: app("InvalidationPublishFailed", "web"),
          worker: app("InvalidationPublishFailed", "worker"),
        },
        label: "invalidations not sent",
      },
      comparison: "GreaterThanThreshold",
      threshold: 0,
      periodSeconds: MINUTE,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching", // the app emits the count only when it happens
    },
    {
      role: "invalidation-queue-behind",
      what: `An invalidation has waited over ${behindSeconds} s in this region's queue: its web tasks are not applying them.`,
      lookAt: "the web tasks' logs (service=invalidations) and their running count",
      line: sqs(queues.queueName, "ApproximateAgeOfOldestMessage"),
      comparison: "GreaterThanThreshold",
      threshold: behindSeconds,
      periodSeconds: MINUTE,
      evaluationPeriods: 3,
      treatMissingData: "notBreaching", // SQS stops publishing for a queue idle for hours
    },
    {
      role: "invalidation-dlq-not-empty",
      what: "Invalidations failed every retry and landed in the dead-letter queue.",
      lookAt: "the web logs (service=invalidations) for the error; the message body names the key",
      line: sqs(queues.deadLetterQueueName, "ApproximateNumberOfMessagesVisible"),
      comparison: "GreaterThanThreshold",
      threshold: 0,
      periodSeconds: MINUTE,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching", // SQS stops publishing for an idle, empty queue
    },
  ];
}

/**
 * What one region's operators look at: a CloudWatch dashboard with a row per tier (load
 * balancer, web and worker tasks, database, cache, queue, the app's own metrics) and alarms on
 * what needs a person, all notifying one SNS topic when they fire and when they recover.
 *
 * Create it with the region's provider: alarms only see metrics of their own region.
 *
 * @example
 * ```ts
 * new Observability("primary-observability", {
 *   region: "us-east-1",
 *   alarmEmail: "ops@example.com",
 *   thresholds: config.alarms,
 *   web: { albArnSuffix, targetGroupArnSuffix, clusterName, serviceName },
 *   workers: { clusterName, serviceName: workerServiceName, queueName, deadLetterQueueName },
 *   database: { writerIdentifier, replicaIdentifiers },
 *   cache: { replicationGroupId, memberClusterIds },
 *   appMetricsNamespace: "ZeroToMillions",
 * }, { provider });
 * ```
 *
 * Cost: about $5 a month in prod (the dashboard $3 beyond an account's first three, $0.10 per
 * alarm metric, the topic's KMS key $1), less in dev; email notifications are free.
 */
export class Observability extends MonitoringComponent {
  constructor(name: string, args: ObservabilityArgs, opts: pulumi.ComponentResourceOptions = {}) {
    throwIfInvalid("Observability", name, validateObservabilityArgs(args));
    super(
      "zero-to-millions:components:Observability",
      name,
      {
        region: args.region,
        whyRegion: "args.region names the region the alarms and graphs watch",
        alarmEmail: args.alarmEmail,
        rows: regionDashboardRows(args),
        alarms: regionAlarmSpecs(args),
        transform: args.transform,
        context: args.context,
      },
      opts,
    );
  }
}
