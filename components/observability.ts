import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { physicalName, tierTags, type Tags } from "./tags";
import { type Transform, transform } from "./transform";

/** CloudWatch's limit for dashboard names. */
const MAX_DASHBOARD_NAME_LENGTH = 255;
/** The dashboard grid is 24 units wide; a row shows up to four graphs side by side. */
const GRID_WIDTH = 24;
const MAX_GRAPHS_PER_LINE = 4;
const GRAPH_HEIGHT = 6;
const HEADER_HEIGHT = 1;
/** Alarm and graph periods, in seconds. */
export const MINUTE = 60;
export const FIVE_MINUTES = 300;
const BYTES_PER_GIB = 1024 ** 3;
/** KMS waits this long before deleting a key, so a mistaken delete can be undone. */
const KEY_DELETION_WINDOW_DAYS = 7;
const CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com";

/** A metric exactly as an AWS service (or the app) publishes it. */
export interface Metric {
  namespace: string;
  name: string;
  /** Dimension names as the service publishes them, with the resource's real identifiers. */
  dimensions: Record<string, pulumi.Input<string>>;
  /** `Sum`, `Average`, `Minimum`, `Maximum` or a percentile such as `p99`. */
  stat: string;
  /** The line's legend on the dashboard. */
  label?: pulumi.Input<string>;
}

/** A line computed with CloudWatch metric math from named metrics (names are the ids in `expression`). */
export interface MetricMath {
  expression: string;
  metrics: Record<string, Metric>;
  label: string;
}

export type MetricLine = Metric | MetricMath;

/** One graph on a dashboard. */
export interface Graph {
  title: string;
  lines: MetricLine[];
}

/** A row of the dashboard: a header and the tier's graphs. */
export interface DashboardRow {
  title: string;
  graphs: Graph[];
}

/** An alarm as data: what it watches, when it fires and what the person paged should look at. */
export interface AlarmSpec {
  /** The alarm's logical name is `${component}-${role}`. */
  role: string;
  /** What is wrong, in a sentence (the alarm's description starts with it). */
  what: string;
  /** Where the person paged starts looking; the description ends with it and the dashboard's link. */
  lookAt: string;
  line: MetricLine;
  comparison: "GreaterThanThreshold" | "LessThanThreshold";
  threshold: number;
  periodSeconds: number;
  evaluationPeriods: number;
  /** How many of `evaluationPeriods` must breach; all of them when unset. */
  datapointsToAlarm?: number;
  /** What a period without data means for this metric (the specs say why for each). */
  treatMissingData: "breaching" | "notBreaching" | "missing" | "ignore";
}

/** Per-child hooks shared by both observability components. */
export interface ObservabilityTransforms {
  topic?: Transform<aws.sns.TopicArgs>;
  dashboard?: Transform<aws.cloudwatch.DashboardArgs>;
  alarm?: Transform<aws.cloudwatch.MetricAlarmArgs>;
}

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

export interface ObservabilityArgs {
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
  database: {
    writerIdentifier?: pulumi.Input<string>;
    replicaIdentifiers: pulumi.Input<string>[];
  };
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
   * The app's embedded-metric-format namespace (docs/CONTRACT.md; dimension `Service` = web|worker).
   * @example "ZeroToMillions"
   */
  appMetricsNamespace: string;
  /** Change the arguments of a child resource before it is created. */
  transform?: ObservabilityTransforms;
}

/** Problems with an optional alarm email, shared by both observability components. */
export function alarmEmailProblems(alarmEmail: string | undefined): string[] {
  if (alarmEmail === undefined || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) return [];
  return [
    `alarmEmail: "${alarmEmail}" is not an email address; pass one such as ops@example.com, or leave it unset`,
  ];
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateObservabilityArgs(args: ObservabilityArgs): string[] {
  const problems = alarmEmailProblems(args.alarmEmail);
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

/** A metric with its dimensions; the shorthand the tier tables below are written in. */
export function metric(
  namespace: string,
  name: string,
  dimensions: Record<string, pulumi.Input<string>>,
  stat: string,
  label?: pulumi.Input<string>,
): Metric {
  return { namespace, name, dimensions, stat, ...(label === undefined ? {} : { label }) };
}

/** The dashboard's name: unique per project, stack and component, since dashboards are account-wide. */
function dashboardName(component: string): string {
  return physicalName(
    [pulumi.getProject(), pulumi.getStack(), component],
    MAX_DASHBOARD_NAME_LENGTH,
  );
}

/** The console link of a dashboard. */
function dashboardUrl(region: string, name: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${name}`;
}

/**
 * The dashboard's JSON: per row a full-width markdown header, then its graphs (up to four per
 * line). Every graph reads from `region`.
 */
function dashboardBody(region: string, rows: DashboardRow[]): pulumi.Output<string> {
  const widgets: unknown[] = [];
  let y = 0;
  for (const row of rows) {
    widgets.push({
      type: "text",
      x: 0,
      y,
      width: GRID_WIDTH,
      height: HEADER_HEIGHT,
      properties: { markdown: `## ${row.title}` },
    });
    y += HEADER_HEIGHT;
    const perLine = Math.min(row.graphs.length, MAX_GRAPHS_PER_LINE);
    const width = Math.floor(GRID_WIDTH / perLine);
    row.graphs.forEach((graph, index) => {
      widgets.push({
        type: "metric",
        x: (index % perLine) * width,
        y: y + Math.floor(index / perLine) * GRAPH_HEIGHT,
        width,
        height: GRAPH_HEIGHT,
        properties: {
          title: graph.title,
          region,
          view: "timeSeries",
          stacked: false,
          period: MINUTE,
          metrics: graph.lines.flatMap(graphLines),
        },
      });
    });
    y += Math.ceil(row.graphs.length / perLine) * GRAPH_HEIGHT;
  }
  return pulumi.jsonStringify({ widgets });
}

/** A dashboard graph's `metrics` entries for one line: `[namespace, name, dim, value, ..., options]`. */
function graphLines(line: MetricLine): unknown[][] {
  const entry = (m: Metric, options: Record<string, unknown>) => [
    m.namespace,
    m.name,
    ...Object.entries(m.dimensions).flat(),
    { stat: m.stat, ...(m.label === undefined ? {} : { label: m.label }), ...options },
  ];
  if (!("expression" in line)) return [entry(line, {})];
  return [
    ...Object.entries(line.metrics).map(([id, m]) => entry(m, { id, visible: false })),
    [{ expression: line.expression, label: line.label, id: "result" }],
  ];
}

/** The MetricAlarm arguments that describe what the alarm watches. */
function alarmMetricArgs(
  line: MetricLine,
  period: number,
): Partial<aws.cloudwatch.MetricAlarmArgs> {
  if ("expression" in line) {
    return {
      metricQueries: [
        ...Object.entries(line.metrics).map(([id, m]) => ({
          id,
          returnData: false,
          metric: {
            namespace: m.namespace,
            metricName: m.name,
            dimensions: m.dimensions,
            stat: m.stat,
            period,
          },
        })),
        { id: "result", expression: line.expression, label: line.label, returnData: true },
      ],
    };
  }
  const percentile = /^p\d/.test(line.stat);
  return {
    namespace: line.namespace,
    metricName: line.name,
    dimensions: line.dimensions,
    period,
    // Percentiles over a handful of requests are noise: keep the alarm's state until there are enough.
    ...(percentile
      ? { extendedStatistic: line.stat, evaluateLowSampleCountPercentiles: "ignore" }
      : { statistic: line.stat }),
  };
}

/** Creates one alarm per spec, each notifying `topicArn` when it fires and when it recovers. */
function createAlarms(
  parent: pulumi.Resource,
  name: string,
  specs: AlarmSpec[],
  {
    topicArn,
    dashboardUrl,
  }: { topicArn: pulumi.Input<string>; dashboardUrl: pulumi.Input<string> },
  tags: Tags,
  hook: Transform<aws.cloudwatch.MetricAlarmArgs> | undefined,
): aws.cloudwatch.MetricAlarm[] {
  return specs.map(
    (spec) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.role}`,
        transform(hook, {
          alarmDescription: pulumi.interpolate`${spec.what} Look at ${spec.lookAt}. Dashboard: ${dashboardUrl}`,
          comparisonOperator: spec.comparison,
          threshold: spec.threshold,
          evaluationPeriods: spec.evaluationPeriods,
          datapointsToAlarm: spec.datapointsToAlarm ?? spec.evaluationPeriods,
          treatMissingData: spec.treatMissingData,
          ...alarmMetricArgs(spec.line, spec.periodSeconds),
          alarmActions: [topicArn],
          okActions: [topicArn],
          tags,
        }),
        { parent },
      ),
  );
}

/**
 * The provider's region, checked against the one the component was told (a dashboard reading
 * another region's metrics shows nothing, and alarms only see metrics of their own region).
 */
function providerRegion(
  parent: pulumi.Resource,
  expected: string,
  why: string,
): pulumi.Output<string> {
  return aws.getRegionOutput({}, { parent }).region.apply((region) => {
    if (region !== expected)
      throw new Error(`the provider's region is ${region}, but ${why} (${expected})`);
    return region;
  });
}

/**
 * An SNS topic CloudWatch alarms in this account and region may publish to, encrypted at rest,
 * with an email subscription when `alarmEmail` is set.
 *
 * The key is customer-managed on purpose: CloudWatch calls KMS itself when it publishes, and the
 * AWS-managed `alias/aws/sns` key's policy cannot grant it, so alarms on such a topic fail with
 * KMS AccessDenied and nobody is told.
 */
function createAlarmTopic(
  parent: pulumi.Resource,
  name: string,
  args: {
    region: pulumi.Input<string>;
    alarmEmail?: string;
    tags: Tags;
    hook?: Transform<aws.sns.TopicArgs>;
  },
): aws.sns.Topic {
  const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
  const partition = aws.getPartitionOutput({}, { parent }).partition;
  const alarmsHere = pulumi.interpolate`arn:${partition}:cloudwatch:${args.region}:${account}:alarm:*`;
  const fromOurAlarms = {
    StringEquals: { "aws:SourceAccount": account },
    ArnLike: { "aws:SourceArn": alarmsHere },
  };

  const key = new aws.kms.Key(
    `${name}-alarms-key`,
    {
      description: `Encrypts the alarm notifications of ${name}`,
      enableKeyRotation: true,
      deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            // The default key policy: the account's IAM policies decide who else may use the key.
            Sid: "AccountAdministersKey",
            Effect: "Allow",
            Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${account}:root` },
            Action: "kms:*",
            Resource: "*",
          },
          {
            Sid: "CloudWatchAlarmsEncryptNotifications",
            Effect: "Allow",
            Principal: { Service: CLOUDWATCH_PRINCIPAL },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
            Condition: fromOurAlarms,
          },
        ],
      }),
      tags: args.tags,
    },
    { parent },
  );
  const topic = new aws.sns.Topic(
    `${name}-alarms`,
    transform(args.hook, { displayName: "Alarms", kmsMasterKeyId: key.arn, tags: args.tags }),
    { parent },
  );
  new aws.sns.TopicPolicy(
    `${name}-alarms`,
    {
      arn: topic.arn,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "CloudWatchAlarmsPublish",
            Effect: "Allow",
            Principal: { Service: CLOUDWATCH_PRINCIPAL },
            Action: "sns:Publish",
            Resource: topic.arn,
            Condition: fromOurAlarms,
          },
        ],
      }),
    },
    { parent },
  );
  if (args.alarmEmail !== undefined) {
    new aws.sns.TopicSubscription(
      `${name}-alarms-email`,
      { topic: topic.arn, protocol: "email", endpoint: args.alarmEmail },
      { parent },
    );
  }
  return topic;
}

/** What a monitoring component watches: its dashboard's rows and its alarms. */
export interface MonitoringArgs {
  /** The region the graphs read and the alarms live in; the provider's region must be this one. */
  region: string;
  /** Why the provider must be in `region`, for the error when it is not. */
  whyRegion: string;
  alarmEmail: string | undefined;
  rows: DashboardRow[];
  alarms: AlarmSpec[];
  transform: ObservabilityTransforms | undefined;
}

/**
 * What both observability components are: an alarm topic (with the email subscription when
 * set), a dashboard, and alarms notifying the topic on alarm and OK. Subclasses validate their
 * arguments and describe the rows and alarms as data.
 */
export abstract class MonitoringComponent extends pulumi.ComponentResource {
  readonly dashboardName: pulumi.Output<string>;
  readonly dashboardUrl: pulumi.Output<string>;
  readonly alarmTopicArn: pulumi.Output<string>;

  private readonly topic: aws.sns.Topic;
  private readonly dashboard: aws.cloudwatch.Dashboard;
  private readonly alarms: aws.cloudwatch.MetricAlarm[];

  protected constructor(
    type: string,
    name: string,
    args: MonitoringArgs,
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(type, name, {}, opts);
    const tags = tierTags("observability");

    this.topic = createAlarmTopic(this, name, {
      region: providerRegion(this, args.region, args.whyRegion),
      alarmEmail: args.alarmEmail,
      tags,
      hook: args.transform?.topic,
    });
    this.dashboard = this.createDashboard(name, args);
    this.dashboardName = this.dashboard.dashboardName;
    this.dashboardUrl = dashboardUrl(args.region, this.dashboardName);
    this.alarms = createAlarms(
      this,
      name,
      args.alarms,
      { topicArn: this.topic.arn, dashboardUrl: this.dashboardUrl },
      tags,
      args.transform?.alarm,
    );

    this.alarmTopicArn = this.topic.arn;
    this.registerOutputs({
      dashboardName: this.dashboardName,
      dashboardUrl: this.dashboardUrl,
      alarmTopicArn: this.alarmTopicArn,
    });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return { topic: this.topic, dashboard: this.dashboard, alarms: this.alarms };
  }

  private createDashboard(name: string, args: MonitoringArgs): aws.cloudwatch.Dashboard {
    return new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      transform(args.transform?.dashboard, {
        dashboardName: dashboardName(name),
        dashboardBody: dashboardBody(args.region, args.rows),
      }),
      { parent: this },
    );
  }
}

/** Throws, before any resource exists, when validation found problems. */
export function throwIfInvalid(component: string, name: string, problems: string[]): void {
  if (problems.length > 0) {
    throw new Error(`${component} "${name}": invalid arguments:\n  - ${problems.join("\n  - ")}`);
  }
}

/** A database instance as the dashboard and alarms name it. */
interface DatabaseInstance {
  role: string;
  label: string;
  identifier: pulumi.Input<string>;
}

function databaseInstances(database: ObservabilityArgs["database"]): {
  all: DatabaseInstance[];
  writer: DatabaseInstance | undefined;
  replicas: DatabaseInstance[];
} {
  const writer =
    database.writerIdentifier === undefined
      ? undefined
      : { role: "writer", label: "writer", identifier: database.writerIdentifier };
  const replicas = database.replicaIdentifiers.map((identifier, index) => ({
    role: `replica-${index}`,
    label: `replica ${index + 1}`,
    identifier,
  }));
  return { all: [...(writer ? [writer] : []), ...replicas], writer, replicas };
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
  const db = databaseInstances(args.database);
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
  ];
}

/** The alarms of one region, thresholds from `args.thresholds`. */
function regionAlarmSpecs(args: ObservabilityArgs): AlarmSpec[] {
  const { thresholds: t, web, workers } = args;
  const alb = (name: string, stat: string) =>
    metric("AWS/ApplicationELB", name, { LoadBalancer: web.albArnSuffix }, stat);
  const db = databaseInstances(args.database);
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
    ...(db.writer
      ? [
          {
            role: "db-free-storage",
            what: `The database writer has under ${t.databaseFreeStorageGb} GiB free.`,
            lookAt:
              "its allocated storage: at database.maxAllocatedStorageGb autoscaling stops, so raise it",
            line: rds(db.writer, "FreeStorageSpace", "Minimum"),
            comparison: "LessThanThreshold",
            threshold: t.databaseFreeStorageGb * BYTES_PER_GIB,
            periodSeconds: FIVE_MINUTES,
            evaluationPeriods: 1,
            treatMissingData: "missing", // a gap means the instance is restarting, not that its disk filled
          } satisfies AlarmSpec,
        ]
      : []),
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
      },
      opts,
    );
  }
}
