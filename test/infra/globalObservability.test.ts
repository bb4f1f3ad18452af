import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  GlobalObservability,
  type GlobalObservabilityArgs,
  validateGlobalObservabilityArgs,
} from "../../components/globalObservability";
import { render, resolve } from "../../harness/component";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const DISTRIBUTION_ID = "E2QWRUHEXAMPLE";
const HEALTH_CHECKS: GlobalObservabilityArgs["healthChecks"] = [
  { role: "primary", id: "abcdef11-2222-3333-4444-555555555555" },
  { role: "secondary", id: "abcdef66-7777-8888-9999-000000000000" },
];

const args = (overrides: Partial<GlobalObservabilityArgs> = {}): GlobalObservabilityArgs => ({
  distributionId: DISTRIBUTION_ID,
  healthChecks: HEALTH_CHECKS,
  ...overrides,
});

type Widget = {
  type: string;
  properties: { markdown?: string; region?: string; metrics?: unknown[][] };
};
/** The dashboard's widgets and each graph's metrics as `[namespace, name, dim, value, ...]`. */
function dashboard(body: unknown) {
  const widgets = (JSON.parse(String(body)) as { widgets: Widget[] }).widgets;
  const metrics = widgets.flatMap((w) =>
    (w.properties.metrics ?? []).map((line) => line.filter((p) => typeof p === "string")),
  );
  return { widgets, graphs: widgets.filter((w) => w.type === "metric"), metrics };
}

describe("GlobalObservability: argument validation", () => {
  const cases: Array<[string, Partial<GlobalObservabilityArgs>, RegExp | null]> = [
    ["two health checks", {}, null],
    ["no domain (no health checks)", { healthChecks: [] }, null],
    [
      "two checks for one role",
      { healthChecks: [HEALTH_CHECKS[0]!, HEALTH_CHECKS[0]!] },
      /healthChecks: roles primary, primary repeat/,
    ],
    [
      "a 5xx threshold of 0",
      { cdn5xxPercent: 0 },
      /cdn5xxPercent: 0 must be above 0 and at most 100/,
    ],
    ["a malformed alarm email", { alarmEmail: "ops" }, /alarmEmail: "ops" is not an email address/],
  ];
  itValidatesEachCase((overrides) => validateGlobalObservabilityArgs(args(overrides)), cases);

  itThrowsBeforeAnyChild(
    ({ provider }) => new GlobalObservability("bad", args({ cdn5xxPercent: 200 }), { provider }),
    /GlobalObservability "bad": invalid arguments/,
  );
});

describe("GlobalObservability: resources", () => {
  it("GIVEN health checks and a distribution THEN the dashboard reads us-east-1: each health check's status and CloudFront's requests, error rates and cache hit rate", async () => {
    const rendered = await render(
      ({ provider }) => new GlobalObservability("global", args(), { provider }),
    );
    const { widgets, graphs, metrics } = dashboard(
      rendered.ofType("aws:cloudwatch/dashboard:Dashboard")[0]!.inputs.dashboardBody,
    );
    assert.deepEqual(
      widgets.filter((w) => w.type === "text").map((w) => w.properties.markdown),
      ["## Regions (Route53 health checks: 1 healthy, 0 failing)", "## CDN (CloudFront)"],
    );
    assert.deepEqual([...new Set(graphs.map((g) => g.properties.region))], ["us-east-1"]);
    const route53 = metrics.filter((line) => line[0] === "AWS/Route53");
    assert.deepEqual(
      route53,
      HEALTH_CHECKS.map((check) => ["AWS/Route53", "HealthCheckStatus", "HealthCheckId", check.id]),
    );
    const cloudFront = metrics.filter((line) => line[0] === "AWS/CloudFront");
    assert.deepEqual(
      cloudFront.map((line) => line[1]),
      ["Requests", "4xxErrorRate", "5xxErrorRate", "TotalErrorRate", "CacheHitRate"],
    );
    for (const line of cloudFront)
      assert.deepEqual(line.slice(2), ["DistributionId", DISTRIBUTION_ID, "Region", "Global"]);
    assert.equal(metrics.length, route53.length + cloudFront.length);
  });

  it("GIVEN the cache hit rate graph THEN the distribution's additional metrics are subscribed", async () => {
    const rendered = await render(
      ({ provider }) => new GlobalObservability("global", args(), { provider }),
    );
    const subscription = rendered.ofType(
      "aws:cloudfront/monitoringSubscription:MonitoringSubscription",
    )[0]!;
    assert.deepEqual(subscription.inputs, {
      distributionId: DISTRIBUTION_ID,
      monitoringSubscription: {
        realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: "Enabled" },
      },
    });
  });

  it("GIVEN health checks THEN each has an alarm below 1, and CloudFront 5xx has one, all notifying the topic on alarm and OK", async () => {
    const rendered = await render(
      ({ provider }) => new GlobalObservability("global", args({ cdn5xxPercent: 2 }), { provider }),
    );
    const topicArn = await resolve(rendered.value.alarmTopicArn);
    assert.match(topicArn, /^arn:aws:sns:us-east-1:/);
    const alarms = rendered.ofType(ALARM);
    assert.deepEqual(alarms.map((a) => a.name).sort(), [
      "global-cdn-5xx-rate",
      "global-health-check-primary",
      "global-health-check-secondary",
    ]);
    for (const alarm of alarms) {
      assert.deepEqual(
        [alarm.inputs.alarmActions, alarm.inputs.okActions],
        [[topicArn], [topicArn]],
        alarm.name,
      );
      assert.match(
        String(alarm.inputs.alarmDescription),
        /Look at .*\. Dashboard: https:\/\/us-east-1\.console/,
      );
    }
    const primary = rendered.named("global-health-check-primary", ALARM).inputs;
    assert.deepEqual(
      [
        primary.namespace,
        primary.metricName,
        primary.dimensions,
        primary.comparisonOperator,
        primary.threshold,
      ],
      [
        "AWS/Route53",
        "HealthCheckStatus",
        { HealthCheckId: HEALTH_CHECKS[0]!.id },
        "LessThanThreshold",
        1,
      ],
    );
    const cdn = rendered.named("global-cdn-5xx-rate", ALARM).inputs;
    assert.deepEqual(
      [cdn.metricName, cdn.dimensions, cdn.threshold],
      ["5xxErrorRate", { DistributionId: DISTRIBUTION_ID, Region: "Global" }, 2],
    );
  });

  it("GIVEN no domain (no health checks) THEN there is no health-check alarm or graph, only the CDN's", async () => {
    const rendered = await render(
      ({ provider }) => new GlobalObservability("global", args({ healthChecks: [] }), { provider }),
    );
    assert.deepEqual(
      rendered.ofType(ALARM).map((a) => a.name),
      ["global-cdn-5xx-rate"],
    );
    const { widgets, metrics } = dashboard(
      rendered.ofType("aws:cloudwatch/dashboard:Dashboard")[0]!.inputs.dashboardBody,
    );
    assert.deepEqual(
      widgets.filter((w) => w.type === "text").map((w) => w.properties.markdown),
      ["## CDN (CloudFront)"],
    );
    assert.ok(metrics.every((line) => line[0] === "AWS/CloudFront"));
  });

  it("GIVEN an alarm email THEN it is subscribed; without one there is no subscription", async () => {
    const withEmail = await render(
      ({ provider }) =>
        new GlobalObservability("global", args({ alarmEmail: "ops@example.com" }), { provider }),
    );
    const subscriptions = withEmail.ofType("aws:sns/topicSubscription:TopicSubscription");
    assert.deepEqual(
      subscriptions.map((s) => [s.inputs.protocol, s.inputs.endpoint]),
      [["email", "ops@example.com"]],
    );
    const without = await render(
      ({ provider }) => new GlobalObservability("global", args(), { provider }),
    );
    assert.equal(without.ofType("aws:sns/topicSubscription:TopicSubscription").length, 0);
  });

  it("GIVEN a stack THEN the dashboard's name carries project and stack and the URL opens it in us-east-1", async () => {
    const rendered = await render(
      ({ provider }) => new GlobalObservability("global-observability", args(), { provider }),
      { stack: "dev" },
    );
    assert.equal(
      await resolve(rendered.value.dashboardUrl),
      "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=zero-to-millions-dev-global-observability",
    );
  });
});

describe("GlobalObservability: GIVEN no distribution (a stage below the CDN's) and a signed zone", () => {
  const noCdn = () =>
    render(({ provider }) => {
      const { distributionId: _, ...rest } = args({ dnssecZoneId: "Z0EXAMPLE" });
      return new GlobalObservability("global", rest, { provider });
    });

  it("THEN no CloudFront subscription, row or alarm exists, and the DNSSEC alarms do", async () => {
    const r = await noCdn();
    assert.equal(
      r.ofType("aws:cloudfront/monitoringSubscription:MonitoringSubscription").length,
      0,
    );
    const metrics = await Promise.all(
      r.ofType(ALARM).map(async (alarm) => String(await resolve(alarm.inputs.metricName))),
    );
    assert.ok(!metrics.includes("5xxErrorRate"), metrics.join(", "));
    assert.ok(metrics.includes("DNSSECInternalFailure"), metrics.join(", "));
    const body = await resolve(
      r.ofType("aws:cloudwatch/dashboard:Dashboard")[0]!.inputs.dashboardBody,
    );
    assert.ok(!dashboard(body).metrics.some(([namespace]) => namespace === "AWS/CloudFront"));
  });
});
