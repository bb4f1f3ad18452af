/**
 * Observability over the synth of both stacks: every dashboard graph and every alarm names
 * metrics of resources that exist in the stack, in the region the graph or alarm reads; every
 * alarm acts in its own region, and each notifying alarm tells its topic when it fires and when
 * it recovers (scaling alarms, such as the workers' wake-up, drive a scaling policy instead).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { synth, type Synth, type SynthResource } from "../../harness";

const T = {
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  alb: "aws:lb/loadBalancer:LoadBalancer",
  targetGroup: "aws:lb/targetGroup:TargetGroup",
  cluster: "aws:ecs/cluster:Cluster",
  service: "aws:ecs/service:Service",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  db: "aws:rds/instance:Instance",
  cache: "aws:elasticache/replicationGroup:ReplicationGroup",
  queue: "aws:sqs/queue:Queue",
  healthCheck: "aws:route53/healthCheck:HealthCheck",
  distribution: "aws:cloudfront/distribution:Distribution",
  scalingPolicy: "aws:appautoscaling/policy:Policy",
  webAcl: "aws:wafv2/webAcl:WebAcl",
} as const;

/** Route53 (health checks, DNSSEC) and CloudFront metrics exist only in us-east-1, whichever region holds the resource. */
const GLOBAL_NAMESPACES = new Set(["AWS/Route53", "AWS/CloudFront"]);
const GLOBAL_METRICS_REGION = "us-east-1";
/** The dimensions each AWS namespace publishes the metrics under (the app's namespace uses `Service`). */
const DIMENSIONS: Record<string, string[]> = {
  "AWS/ApplicationELB": ["LoadBalancer", "TargetGroup"],
  "AWS/ECS": ["ClusterName", "ServiceName"],
  "ECS/ContainerInsights": ["ClusterName", "ServiceName"],
  "AWS/RDS": ["DBInstanceIdentifier"],
  "AWS/ElastiCache": ["CacheClusterId"],
  "AWS/SQS": ["QueueName"],
  // Health checks by HealthCheckId; a zone's DNSSEC metrics by HostedZoneId (Route53 Developer Guide).
  "AWS/Route53": ["HealthCheckId", "HostedZoneId"],
  "AWS/CloudFront": ["DistributionId", "Region"],
};

/** One metric a graph or an alarm reads. */
interface MetricRef {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  /** The region it is read in: the graph's `region`, or the alarm's own. */
  region: string;
  where: string;
}

const STACKS = ["dev", "prod"] as const;
const loaded: Record<string, Synth> = {};

before(async () => {
  for (const stack of STACKS) {
    const result = await synth(stack);
    assert.equal(result.error, undefined, `synth of ${stack} failed: ${result.error}`);
    loaded[stack] = result;
  }
});

/** The last part of an ARN (`.../healthcheck/<id>`): the resource's id, which the mocks keep only there. */
const idFromArn = (resource: SynthResource) => String(resource.state.arn).split("/").pop()!;

/** The values each dimension may take for metrics read in `region`: identifiers of the stack's resources there. */
function knownValues(s: Synth, region: string): Record<string, Set<string>> {
  const values = (
    type: string,
    pick: (r: SynthResource) => unknown,
    inRegion: string | undefined = region,
  ) => new Set(s.ofType(type, inRegion).flatMap((r) => [pick(r)].flat().map(String)));
  return {
    LoadBalancer: values(T.alb, (r) => r.state.arnSuffix),
    TargetGroup: values(T.targetGroup, (r) => r.state.arnSuffix),
    ClusterName: values(T.cluster, (r) => r.state.name),
    ServiceName: values(T.service, (r) => r.state.name),
    DBInstanceIdentifier: values(T.db, (r) => r.state.identifier),
    CacheClusterId: values(T.cache, (r) => r.state.memberClusters),
    QueueName: values(T.queue, (r) => r.state.name),
    // Global services: the resource may be created with any region's provider (problemsOf checks
    // that their metrics are read in us-east-1).
    HealthCheckId: values(T.healthCheck, idFromArn, undefined),
    DistributionId: values(T.distribution, idFromArn, undefined),
    HostedZoneId: values("aws:route53/zone:Zone", (r) => r.state.zoneId, undefined),
    Region: new Set(["Global"]),
  };
}

/** `namespace/Service` pairs the app's tasks in `region` publish (METRICS_NAMESPACE env, command web|worker). */
function appMetricSources(s: Synth, region: string): Set<string> {
  const sources = new Set<string>();
  for (const task of s.ofType(T.taskDefinition, region)) {
    const containers = JSON.parse(String(task.inputs.containerDefinitions)) as Array<{
      command?: string[];
      environment?: Array<{ name: string; value: string }>;
    }>;
    for (const container of containers) {
      const namespace = container.environment?.find((e) => e.name === "METRICS_NAMESPACE")?.value;
      const role = container.command?.[0];
      if (namespace && role) sources.add(`${namespace}/${role}`);
    }
  }
  return sources;
}

function dashboardMetrics(dashboard: SynthResource): MetricRef[] {
  type Widget = {
    type: string;
    properties: { title?: string; region?: string; metrics?: unknown[][] };
  };
  const { widgets } = JSON.parse(String(dashboard.inputs.dashboardBody)) as { widgets: Widget[] };
  return widgets
    .filter((widget) => widget.type === "metric")
    .flatMap((widget) =>
      (widget.properties.metrics ?? [])
        .filter((line) => typeof line[0] === "string")
        .map((line) => {
          const [namespace, name, ...rest] = line.filter(
            (part): part is string => typeof part === "string",
          );
          const dimensions = Object.fromEntries(
            rest.flatMap((key, i) => (i % 2 === 0 ? [[key, rest[i + 1]!]] : [])),
          );
          const where = `${dashboard.name} "${widget.properties.title}"`;
          return {
            namespace: namespace!,
            name: name!,
            dimensions,
            region: String(widget.properties.region),
            where,
          };
        }),
    );
}

function alarmMetrics(alarm: SynthResource): MetricRef[] {
  type Query = {
    metric?: { namespace: string; metricName: string; dimensions?: Record<string, string> };
  };
  const single =
    alarm.inputs.namespace === undefined
      ? []
      : [
          {
            namespace: alarm.inputs.namespace,
            metricName: alarm.inputs.metricName,
            dimensions: alarm.inputs.dimensions,
          },
        ];
  const queried = ((alarm.inputs.metricQueries as Query[] | undefined) ?? []).flatMap((query) =>
    query.metric ? [query.metric] : [],
  );
  return [...single, ...queried].map((m) => ({
    namespace: String(m.namespace),
    name: String(m.metricName),
    dimensions: (m.dimensions ?? {}) as Record<string, string>,
    region: alarm.region!,
    where: alarm.name,
  }));
}

/**
 * AWS WAF's metrics: `WebACL` is an ACL's metric name in the region read, `Rule` ALL or one of its
 * rules, and `Region` the region for a REGIONAL ACL, absent for a CLOUDFRONT one (us-east-1).
 */
function webAclProblems(s: Synth, metric: MetricRef, label: string): string[] {
  const { WebACL: webAcl, Rule: rule, Region: region, ...others } = metric.dimensions;
  const acl = s
    .ofType(T.webAcl, metric.region)
    .find(
      (candidate) =>
        (candidate.inputs.visibilityConfig as { metricName: string }).metricName === webAcl,
    );
  if (!acl) return [`${label}: no web ACL in ${metric.region} has the metric name ${webAcl}`];
  const rules = ["ALL", ...(acl.inputs.rules as Array<{ name: string }>).map((r) => r.name)];
  const wantedRegion = acl.inputs.scope === "REGIONAL" ? metric.region : undefined;
  return [
    ...(rules.includes(String(rule)) ? [] : [`${label}: ${acl.name} has no rule ${rule}`]),
    ...(region === wantedRegion ? [] : [`${label}: Region should be ${wantedRegion ?? "absent"}`]),
    ...Object.keys(others).map((dimension) => `${label}: AWS/WAFV2 has no ${dimension} dimension`),
  ];
}

/** The problems of one metric reference: a dimension the namespace does not publish, or a value no resource has. */
function problemsOf(s: Synth, metric: MetricRef): string[] {
  const label = `${metric.where}: ${metric.namespace} ${metric.name} ${JSON.stringify(metric.dimensions)}`;
  if (metric.namespace === "AWS/WAFV2") return webAclProblems(s, metric, label);
  if (GLOBAL_NAMESPACES.has(metric.namespace) && metric.region !== GLOBAL_METRICS_REGION) {
    return [
      `${label} is read in ${metric.region}; these metrics exist only in ${GLOBAL_METRICS_REGION}`,
    ];
  }
  if (!(metric.namespace in DIMENSIONS)) {
    const sources = appMetricSources(s, metric.region);
    const service = metric.dimensions.Service;
    const ok =
      Object.keys(metric.dimensions).join() === "Service" &&
      sources.has(`${metric.namespace}/${service}`);
    return ok
      ? []
      : [`${label}: no app task in ${metric.region} publishes it (${[...sources].join(", ")})`];
  }
  const known = knownValues(s, metric.region);
  return Object.entries(metric.dimensions).flatMap(([dimension, value]) => {
    if (!DIMENSIONS[metric.namespace]!.includes(dimension))
      return [`${label}: ${metric.namespace} has no ${dimension} dimension`];
    return known[dimension]?.has(value)
      ? []
      : [`${label}: no resource in ${metric.region} has ${dimension} ${value}`];
  });
}

for (const stack of STACKS) {
  describe(`${stack}: observability names what exists`, () => {
    it("GIVEN the stack THEN there is a dashboard in each region and one global, and every graph's metrics exist where the graph reads them", () => {
      const s = loaded[stack]!;
      const dashboards = s.ofType(T.dashboard);
      assert.equal(dashboards.length, 3, dashboards.map((d) => d.name).join(", "));
      const metrics = dashboards.flatMap(dashboardMetrics);
      assert.ok(metrics.length > 0);
      assert.deepEqual(
        metrics.flatMap((metric) => problemsOf(s, metric)),
        [],
      );
    });

    it("GIVEN each dashboard THEN its graphs read the region of its own provider (us-east-1 for the global one)", () => {
      const s = loaded[stack]!;
      for (const dashboard of s.ofType(T.dashboard)) {
        const regions = new Set(dashboardMetrics(dashboard).map((metric) => metric.region));
        assert.deepEqual([...regions], [dashboard.region], dashboard.name);
      }
    });

    it("GIVEN running-task graphs THEN the clusters they name have Container Insights on", () => {
      const s = loaded[stack]!;
      const insights = s
        .ofType(T.dashboard)
        .flatMap(dashboardMetrics)
        .filter((m) => m.namespace === "ECS/ContainerInsights");
      assert.ok(insights.length > 0);
      for (const metric of insights) {
        const cluster = s
          .ofType(T.cluster, metric.region)
          .find((c) => c.state.name === metric.dimensions.ClusterName)!;
        const settings = (cluster.inputs.settings ?? []) as Array<{ name: string; value: string }>;
        assert.ok(
          settings.some((x) => x.name === "containerInsights" && x.value !== "disabled"),
          cluster.name,
        );
      }
    });

    it("GIVEN each region THEN its load balancer, database instances, cache nodes and queues all appear on its dashboard", () => {
      const s = loaded[stack]!;
      for (const region of new Set(s.ofType(T.alb).map((alb) => alb.region!))) {
        const plotted = new Set(
          s
            .ofType(T.dashboard, region)
            .flatMap(dashboardMetrics)
            .filter((m) => m.region === region)
            .flatMap((m) => Object.values(m.dimensions)),
        );
        const known = knownValues(s, region);
        for (const dimension of [
          "LoadBalancer",
          "TargetGroup",
          "DBInstanceIdentifier",
          "CacheClusterId",
          "QueueName",
          "ServiceName",
        ]) {
          const missing = [...known[dimension]!].filter((value) => !plotted.has(value));
          assert.deepEqual(missing, [], `${region}: ${dimension} not on the dashboard`);
        }
      }
    });

    it("GIVEN every alarm THEN it acts on a topic or scaling policy of its own region, and watches metrics that exist there", () => {
      const s = loaded[stack]!;
      const alarms = s.ofType(T.alarm);
      assert.ok(alarms.length > 0);
      for (const alarm of alarms) {
        const inRegion = (type: string) =>
          new Set(s.ofType(type, alarm.region!).map((r) => String(r.state.arn)));
        const [topics, policies] = [inRegion(T.topic), inRegion(T.scalingPolicy)];
        const actions = (alarm.inputs.alarmActions ?? []) as string[];
        assert.ok(actions.length > 0, `${alarm.name} has no alarmActions`);
        assert.deepEqual(
          actions.filter((arn) => !topics.has(arn) && !policies.has(arn)),
          [],
          `${alarm.name}: actions outside ${alarm.region}`,
        );
      }
      assert.deepEqual(
        alarms.flatMap(alarmMetrics).flatMap((metric) => problemsOf(s, metric)),
        [],
      );
    });

    it("GIVEN every notifying alarm THEN it also notifies on OK; only scaling alarms (whose OK would scale again) have no OK action", () => {
      const s = loaded[stack]!;
      const policies = new Set(s.ofType(T.scalingPolicy).map((r) => String(r.state.arn)));
      const alarms = s.ofType(T.alarm);
      const scaling = alarms.filter((alarm) =>
        (alarm.inputs.alarmActions as string[]).every((arn) => policies.has(arn)),
      );
      const notifying = alarms.filter((alarm) => !scaling.includes(alarm));
      assert.ok(notifying.length >= 10);
      for (const alarm of notifying) {
        assert.deepEqual(
          alarm.inputs.okActions,
          alarm.inputs.alarmActions,
          `${alarm.name} okActions`,
        );
      }
      for (const alarm of scaling)
        assert.deepEqual(alarm.inputs.okActions ?? [], [], `${alarm.name} would scale on OK`);
    });

    it("GIVEN the database instances and the cache nodes THEN each has its own alarms", () => {
      const s = loaded[stack]!;
      const watched = new Set(
        s
          .ofType(T.alarm)
          .flatMap(alarmMetrics)
          .flatMap((m) => Object.values(m.dimensions)),
      );
      const instances = s.ofType(T.db).map((db) => String(db.state.identifier));
      const nodes = s
        .ofType(T.cache)
        .flatMap((group) => (group.state.memberClusters as string[]).map(String));
      assert.deepEqual(
        [...instances, ...nodes].filter((id) => !watched.has(id)),
        [],
      );
    });
  });
}
