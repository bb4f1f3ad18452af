import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Observability,
  type ObservabilityArgs,
  validateObservabilityArgs,
} from "../../components/observability";
import { KMS_DELETION_WINDOW_DAYS } from "../../components/kmsKey";
import { render, resolve, type Rendered } from "../../harness/component";
import type { RecordedResource } from "../../harness/mocks";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const DASHBOARD = "aws:cloudwatch/dashboard:Dashboard";

const THRESHOLDS: ObservabilityArgs["thresholds"] = {
  http5xxPercent: 1.5,
  p99LatencySeconds: 0.8,
  databaseCpuPercent: 75,
  databaseFreeStorageGb: 12,
  replicaLagSeconds: 45,
  cacheMemoryPercent: 85,
  cacheEvictionsPerMinute: 250,
  oldestMessageSeconds: 600,
};

/** The identifiers the stack passes for a primary region (writer, two replicas, two cache nodes). */
const PRIMARY = {
  albArnSuffix: "app/primary-web/0123456789abcdef",
  targetGroupArnSuffix: "targetgroup/primary-web/fedcba9876543210",
  clusterName: "primary-cluster",
  webService: "primary-web-service",
  workerService: "primary-workers-service",
  queue: "primary-jobs",
  deadLetterQueue: "primary-jobs-dlq",
  writer: "primary-db-writer",
  replicas: ["primary-db-replica-0", "primary-db-replica-1"],
  cacheGroup: "primary-cache",
  cacheMembers: ["primary-cache-001", "primary-cache-002"],
};

function args(overrides: Partial<ObservabilityArgs> = {}): ObservabilityArgs {
  return {
    region: "us-east-1",
    thresholds: THRESHOLDS,
    web: {
      albArnSuffix: PRIMARY.albArnSuffix,
      targetGroupArnSuffix: PRIMARY.targetGroupArnSuffix,
      clusterName: PRIMARY.clusterName,
      serviceName: PRIMARY.webService,
    },
    workers: {
      clusterName: PRIMARY.clusterName,
      serviceName: PRIMARY.workerService,
      queueName: PRIMARY.queue,
      deadLetterQueueName: PRIMARY.deadLetterQueue,
    },
    database: { writerIdentifier: PRIMARY.writer, replicaIdentifiers: PRIMARY.replicas },
    cache: { replicationGroupId: PRIMARY.cacheGroup, memberClusterIds: PRIMARY.cacheMembers },
    appMetricsNamespace: "ZeroToMillions",
    ...overrides,
  };
}

/** The secondary region's shape: no writer, the cross-region replica only, one cache node. */
const SECONDARY_DATA: Partial<ObservabilityArgs> = {
  region: "eu-west-1",
  database: { replicaIdentifiers: ["secondary-db-replica-0"] },
  cache: { replicationGroupId: "secondary-cache", memberClusterIds: ["secondary-cache-001"] },
};

type Widget = {
  type: string;
  y: number;
  properties: { markdown?: string; region?: string; metrics?: unknown[][] };
};
const widgetsOf = (dashboard: RecordedResource) =>
  (JSON.parse(String(dashboard.inputs.dashboardBody)) as { widgets: Widget[] }).widgets;
/** Each plotted metric as `namespace name dim=value ...` (metric-math lines have no metric of their own). */
const metricsOf = (widget: Widget) =>
  (widget.properties.metrics ?? [])
    .filter((line) => typeof line[0] === "string")
    .map((line) => line.filter((part) => typeof part === "string") as string[]);
const dimensionValues = (metricLine: string[]) =>
  metricLine.slice(2).filter((_, index) => index % 2 === 1);

const alarmsOf = (rendered: Rendered<unknown>) => rendered.ofType(ALARM);
const alarmNamed = (rendered: Rendered<unknown>, role: string) =>
  rendered.named(`obs-${role}`, ALARM);

describe("Observability: argument validation", () => {
  const cases: Array<[string, Partial<ObservabilityArgs>, RegExp | null]> = [
    ["the primary region's shape", {}, null],
    ["the secondary region's shape", SECONDARY_DATA, null],
    ["a region that is no region", { region: "useast1" }, /region: "useast1" is not an AWS region/],
    [
      "a malformed alarm email",
      { alarmEmail: "ops-at-example" },
      /alarmEmail: "ops-at-example" is not an email address/,
    ],
    [
      "a 5xx threshold above 100%",
      { thresholds: { ...THRESHOLDS, http5xxPercent: 150 } },
      /thresholds.http5xxPercent: 150 must be a number above 0 and at most 100/,
    ],
    [
      "a zero latency threshold",
      { thresholds: { ...THRESHOLDS, p99LatencySeconds: 0 } },
      /thresholds.p99LatencySeconds: 0 must be a number above 0/,
    ],
    [
      "zero evictions allowed (any eviction alarms)",
      { thresholds: { ...THRESHOLDS, cacheEvictionsPerMinute: 0 } },
      null,
    ],
    [
      "negative evictions",
      { thresholds: { ...THRESHOLDS, cacheEvictionsPerMinute: -1 } },
      /cacheEvictionsPerMinute: -1 must be a number of 0 or more/,
    ],
    [
      "no database instance at all",
      { database: { replicaIdentifiers: [] } },
      /database: no writerIdentifier and no replicaIdentifiers/,
    ],
    [
      "no cache node",
      { cache: { replicationGroupId: "c", memberClusterIds: [] } },
      /cache.memberClusterIds: empty/,
    ],
    [
      "an AWS namespace for the app",
      { appMetricsNamespace: "AWS/App" },
      /appMetricsNamespace: "AWS\/App" is not a custom CloudWatch namespace/,
    ],
  ];
  itValidatesEachCase((overrides) => validateObservabilityArgs(args(overrides)), cases);

  it("GIVEN thresholds from a wider config object (with the alarm email in it) THEN only the thresholds are checked", () => {
    const config = { ...THRESHOLDS, email: "ops@example.com" };
    assert.deepEqual(validateObservabilityArgs(args({ thresholds: config })), []);
  });

  itThrowsBeforeAnyChild(
    ({ provider }) => new Observability("bad", args({ region: "nowhere" }), { provider }),
    /Observability "bad": invalid arguments/,
  );
});

describe("Observability: alarms", () => {
  const primary = () => render(({ provider }) => new Observability("obs", args(), { provider }));

  it("GIVEN the primary region WHEN built THEN every alarm notifies the topic when it fires and when it recovers", async () => {
    const rendered = await primary();
    const topicArn = await resolve(rendered.value.alarmTopicArn);
    assert.match(topicArn, /^arn:aws:sns:us-east-1:123456789012:/);
    const alarms = alarmsOf(rendered);
    // 3 ALB, 3 instance CPU, writer storage, 2 replica lag, 2 x 2 cache, oldest job, DLQ.
    assert.equal(alarms.length, 15);
    for (const alarm of alarms) {
      assert.deepEqual(alarm.inputs.alarmActions, [topicArn], `${alarm.name} alarm actions`);
      assert.deepEqual(alarm.inputs.okActions, [topicArn], `${alarm.name} OK actions`);
      assert.ok(
        ["breaching", "notBreaching", "missing"].includes(String(alarm.inputs.treatMissingData)),
        alarm.name,
      );
      assert.match(
        String(alarm.inputs.alarmDescription),
        /Look at .* Dashboard: https:\/\/us-east-1\.console\.aws\.amazon\.com\//,
      );
    }
  });

  it("GIVEN thresholds WHEN built THEN each alarm compares with its threshold, in the metric's unit", async () => {
    const rendered = await primary();
    const expected: Array<[string, number, string]> = [
      ["alb-5xx-rate", THRESHOLDS.http5xxPercent, "GreaterThanThreshold"],
      ["alb-p99-latency", THRESHOLDS.p99LatencySeconds, "GreaterThanThreshold"],
      ["alb-unhealthy-hosts", 0, "GreaterThanThreshold"],
      ["db-cpu-writer", THRESHOLDS.databaseCpuPercent, "GreaterThanThreshold"],
      ["db-cpu-replica-1", THRESHOLDS.databaseCpuPercent, "GreaterThanThreshold"],
      ["db-free-storage", THRESHOLDS.databaseFreeStorageGb * 1024 ** 3, "LessThanThreshold"],
      ["db-lag-replica-0", THRESHOLDS.replicaLagSeconds, "GreaterThanThreshold"],
      ["cache-evictions-node-1", THRESHOLDS.cacheEvictionsPerMinute, "GreaterThanThreshold"],
      ["cache-memory-node-0", THRESHOLDS.cacheMemoryPercent, "GreaterThanThreshold"],
      ["queue-oldest-job", THRESHOLDS.oldestMessageSeconds, "GreaterThanThreshold"],
      ["dlq-not-empty", 0, "GreaterThanThreshold"],
    ];
    for (const [role, threshold, comparison] of expected) {
      const alarm = alarmNamed(rendered, role);
      assert.deepEqual(
        [alarm.inputs.threshold, alarm.inputs.comparisonOperator],
        [threshold, comparison],
        role,
      );
    }
  });

  it("GIVEN the 5xx alarm THEN it divides target 5xx (filled with 0) by requests on the load balancer", async () => {
    const alarm = alarmNamed(await primary(), "alb-5xx-rate");
    const queries = alarm.inputs.metricQueries as Array<{
      id: string;
      expression?: string;
      returnData?: boolean;
      metric?: {
        metricName: string;
        namespace: string;
        dimensions: Record<string, string>;
        stat: string;
      };
    }>;
    const result = queries.find((query) => query.returnData)!;
    assert.equal(result.expression, "100 * FILL(errors, 0) / requests");
    const sources = Object.fromEntries(
      queries.filter((q) => q.metric).map((q) => [q.id, q.metric!]),
    );
    assert.deepEqual(
      [sources.errors?.metricName, sources.requests?.metricName],
      ["HTTPCode_Target_5XX_Count", "RequestCount"],
    );
    assert.deepEqual(sources.errors?.dimensions, { LoadBalancer: PRIMARY.albArnSuffix });
  });

  const WATCHED: Array<[string, string, string, Record<string, string>, string]> = [
    [
      "alb-p99-latency",
      "AWS/ApplicationELB",
      "TargetResponseTime",
      { LoadBalancer: PRIMARY.albArnSuffix },
      "p99",
    ],
    [
      "alb-unhealthy-hosts",
      "AWS/ApplicationELB",
      "UnHealthyHostCount",
      { TargetGroup: PRIMARY.targetGroupArnSuffix, LoadBalancer: PRIMARY.albArnSuffix },
      "Maximum",
    ],
    [
      "db-cpu-replica-0",
      "AWS/RDS",
      "CPUUtilization",
      { DBInstanceIdentifier: PRIMARY.replicas[0]! },
      "Average",
    ],
    [
      "db-free-storage",
      "AWS/RDS",
      "FreeStorageSpace",
      { DBInstanceIdentifier: PRIMARY.writer },
      "Minimum",
    ],
    [
      "db-lag-replica-1",
      "AWS/RDS",
      "ReplicaLag",
      { DBInstanceIdentifier: PRIMARY.replicas[1]! },
      "Maximum",
    ],
    [
      "cache-evictions-node-1",
      "AWS/ElastiCache",
      "Evictions",
      { CacheClusterId: PRIMARY.cacheMembers[1]! },
      "Sum",
    ],
    [
      "cache-memory-node-0",
      "AWS/ElastiCache",
      "DatabaseMemoryUsagePercentage",
      { CacheClusterId: PRIMARY.cacheMembers[0]! },
      "Average",
    ],
    [
      "queue-oldest-job",
      "AWS/SQS",
      "ApproximateAgeOfOldestMessage",
      { QueueName: PRIMARY.queue },
      "Maximum",
    ],
    [
      "dlq-not-empty",
      "AWS/SQS",
      "ApproximateNumberOfMessagesVisible",
      { QueueName: PRIMARY.deadLetterQueue },
      "Maximum",
    ],
  ];
  for (const [role, namespace, metricName, dimensions, stat] of WATCHED) {
    it(`GIVEN the ${role} alarm THEN it watches ${namespace} ${metricName} (${stat}) of the identifier it was given`, async () => {
      const { inputs } = alarmNamed(await primary(), role);
      assert.deepEqual(
        [
          inputs.namespace,
          inputs.metricName,
          inputs.dimensions,
          inputs.statistic ?? inputs.extendedStatistic,
        ],
        [namespace, metricName, dimensions, stat],
      );
    });
  }

  it("GIVEN the secondary region (no writer, one cross-region replica) THEN there is no writer alarm but a replica-lag alarm", async () => {
    const rendered = await render(
      ({ provider }) => new Observability("obs", args(SECONDARY_DATA), { provider }),
      { region: "eu-west-1" },
    );
    const roles = alarmsOf(rendered).map((alarm) => alarm.name.replace(/^obs-/, ""));
    assert.ok(!roles.includes("db-free-storage"));
    assert.ok(!roles.includes("db-cpu-writer"));
    assert.deepEqual(
      roles.filter((role) => role.startsWith("db-")),
      ["db-cpu-replica-0", "db-lag-replica-0"],
    );
    const lag = alarmNamed(rendered, "db-lag-replica-0");
    assert.deepEqual(lag.inputs.dimensions, { DBInstanceIdentifier: "secondary-db-replica-0" });
    assert.match(await resolve(rendered.value.alarmTopicArn), /^arn:aws:sns:eu-west-1:/);
  });
});

describe("Observability: the alarm topic", () => {
  it("GIVEN no alarm email THEN the topic has no subscription", async () => {
    const { ofType } = await render(
      ({ provider }) => new Observability("obs", args(), { provider }),
    );
    assert.equal(ofType("aws:sns/topicSubscription:TopicSubscription").length, 0);
  });

  it("GIVEN an alarm email THEN exactly that address is subscribed by email", async () => {
    const rendered = await render(
      ({ provider }) =>
        new Observability("obs", args({ alarmEmail: "ops@example.com" }), { provider }),
    );
    const subscriptions = rendered.ofType("aws:sns/topicSubscription:TopicSubscription");
    assert.equal(subscriptions.length, 1);
    assert.deepEqual(
      [
        subscriptions[0]!.inputs.protocol,
        subscriptions[0]!.inputs.endpoint,
        subscriptions[0]!.inputs.topic,
      ],
      ["email", "ops@example.com", await resolve(rendered.value.alarmTopicArn)],
    );
  });

  it("GIVEN the topic THEN it is encrypted with a rotated key CloudWatch alarms of this account and region may use, and only they may publish", async () => {
    const { ofType } = await render(
      ({ provider }) => new Observability("obs", args(), { provider }),
    );
    const key = ofType("aws:kms/key:Key")[0]!;
    const topic = ofType("aws:sns/topic:Topic")[0]!;
    assert.equal(key.inputs.enableKeyRotation, true);
    // The one key factory's window, the same as the data tier's keys.
    assert.equal(key.inputs.deletionWindowInDays, KMS_DELETION_WINDOW_DAYS);
    assert.equal(topic.inputs.kmsMasterKeyId, key.state.arn);
    const condition = {
      StringEquals: { "aws:SourceAccount": "123456789012" },
      ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*" },
    };
    type Statement = {
      Principal: { Service?: string };
      Action: string | string[];
      Condition?: unknown;
      Resource: string;
    };
    const keyStatements = (JSON.parse(String(key.inputs.policy)) as { Statement: Statement[] })
      .Statement;
    const forCloudWatch = keyStatements.find(
      (s) => s.Principal.Service === "cloudwatch.amazonaws.com",
    )!;
    assert.deepEqual(
      [forCloudWatch.Action, forCloudWatch.Condition],
      [["kms:Decrypt", "kms:GenerateDataKey*"], condition],
    );
    const policy = ofType("aws:sns/topicPolicy:TopicPolicy")[0]!;
    const [publish, ...others] = (
      JSON.parse(String(policy.inputs.policy)) as { Statement: Statement[] }
    ).Statement;
    assert.deepEqual(others, []);
    assert.deepEqual(
      [publish!.Principal.Service, publish!.Action, publish!.Resource, publish!.Condition],
      ["cloudwatch.amazonaws.com", "sns:Publish", topic.state.arn, condition],
    );
  });
});

describe("Observability: the dashboard", () => {
  const TIERS = ["Load balancer", "Web and worker tasks", "Database", "Cache", "Queue", "App"];
  const NAMESPACES: Record<string, string[]> = {
    "Load balancer": ["AWS/ApplicationELB"],
    "Web and worker tasks": ["AWS/ECS", "ECS/ContainerInsights"],
    Database: ["AWS/RDS"],
    Cache: ["AWS/ElastiCache"],
    Queue: ["AWS/SQS"],
    App: ["ZeroToMillions"],
  };
  /** The graphs of each row: the widgets below a header, up to the next one. */
  const rows = (widgets: Widget[]) => {
    const headers = widgets.filter((w) => w.type === "text").sort((a, b) => a.y - b.y);
    return headers.map((header, index) => ({
      title: header.properties.markdown!.replace(/^## /, ""),
      graphs: widgets.filter(
        (w) => w.type === "metric" && w.y > header.y && w.y < (headers[index + 1]?.y ?? Infinity),
      ),
    }));
  };

  it("GIVEN the primary region THEN the dashboard has one row per tier, each graph reading this region's metrics of the tier", async () => {
    const rendered = await render(({ provider }) => new Observability("obs", args(), { provider }));
    const widgets = widgetsOf(rendered.ofType(DASHBOARD)[0]!);
    const byRow = rows(widgets);
    assert.deepEqual(
      byRow.map((row) => row.title),
      TIERS,
    );
    for (const row of byRow) {
      assert.ok(row.graphs.length >= 3, `${row.title} has graphs`);
      for (const graph of row.graphs) {
        assert.equal(graph.properties.region, "us-east-1");
        for (const line of metricsOf(graph))
          assert.ok(NAMESPACES[row.title]!.includes(line[0]!), `${row.title}: ${line.join(" ")}`);
      }
    }
  });

  it("GIVEN the identifiers passed in THEN every metric on the dashboard names one of them (no placeholder)", async () => {
    const rendered = await render(({ provider }) => new Observability("obs", args(), { provider }));
    const known = new Set([
      PRIMARY.albArnSuffix,
      PRIMARY.targetGroupArnSuffix,
      PRIMARY.clusterName,
      PRIMARY.webService,
      PRIMARY.workerService,
      PRIMARY.queue,
      PRIMARY.deadLetterQueue,
      PRIMARY.writer,
      ...PRIMARY.replicas,
      ...PRIMARY.cacheMembers,
      "web",
      "worker",
    ]);
    const lines = widgetsOf(rendered.ofType(DASHBOARD)[0]!).flatMap(metricsOf);
    assert.ok(lines.length > 30);
    for (const line of lines) {
      for (const value of dimensionValues(line))
        assert.ok(known.has(value), `${line.join(" ")} names ${value}`);
    }
    const plotted = new Set(lines.flatMap(dimensionValues));
    assert.deepEqual(
      [...known].filter((id) => !plotted.has(id)),
      [],
    );
  });

  it("GIVEN the app's metrics THEN the cache hit ratio is metric math over the app's CacheHit and CacheMiss", async () => {
    const rendered = await render(
      ({ provider }) =>
        new Observability("obs", args({ appMetricsNamespace: "Shop" }), { provider }),
    );
    const ratio = widgetsOf(rendered.ofType(DASHBOARD)[0]!).find(
      (w) => (w.properties as { title?: string }).title === "App cache hit ratio (%)",
    )!;
    assert.deepEqual(ratio.properties.metrics, [
      ["Shop", "CacheHit", "Service", "web", { stat: "Sum", id: "hits", visible: false }],
      ["Shop", "CacheMiss", "Service", "web", { stat: "Sum", id: "misses", visible: false }],
      [{ expression: "100 * hits / (hits + misses)", label: "hit ratio", id: "result" }],
    ]);
  });

  it("GIVEN the secondary region THEN its graphs read eu-west-1 and show the replica but no writer", async () => {
    const rendered = await render(
      ({ provider }) => new Observability("obs", args(SECONDARY_DATA), { provider }),
      { region: "eu-west-1" },
    );
    const widgets = widgetsOf(rendered.ofType(DASHBOARD)[0]!);
    const graphs = widgets.filter((w) => w.type === "metric");
    assert.deepEqual([...new Set(graphs.map((g) => g.properties.region))], ["eu-west-1"]);
    const databaseIds = new Set(
      graphs
        .flatMap(metricsOf)
        .filter((line) => line[0] === "AWS/RDS")
        .flatMap(dimensionValues),
    );
    assert.deepEqual([...databaseIds], ["secondary-db-replica-0"]);
    assert.ok(graphs.some((g) => metricsOf(g).some((line) => line[1] === "ReplicaLag")));
  });

  it("GIVEN a primary without replicas THEN there is no replica-lag graph (it would stay empty)", async () => {
    const rendered = await render(
      ({ provider }) =>
        new Observability(
          "obs",
          args({ database: { writerIdentifier: PRIMARY.writer, replicaIdentifiers: [] } }),
          { provider },
        ),
    );
    const lines = widgetsOf(rendered.ofType(DASHBOARD)[0]!).flatMap(metricsOf);
    assert.ok(!lines.some((line) => line[1] === "ReplicaLag"));
  });

  it("GIVEN a stack WHEN built THEN the dashboard's name is unique per project, stack and component and its URL opens it", async () => {
    const rendered = await render(
      ({ provider }) => new Observability("primary-observability", args(), { provider }),
      { stack: "prod" },
    );
    const name = "zero-to-millions-prod-primary-observability";
    assert.equal(rendered.ofType(DASHBOARD)[0]!.inputs.dashboardName, name);
    assert.equal(await resolve(rendered.value.dashboardName), name);
    assert.equal(
      await resolve(rendered.value.dashboardUrl),
      `https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=${name}`,
    );
  });
});
