/**
 * The WebAcl component: its arguments' validation as a table, the rules in each mode, the
 * sign-in rate rule's scope, logging that AWS WAF accepts, and associations.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MIN_RATE_LIMIT,
  validateWebAclArgs,
  WAF_LOG_GROUP_PREFIX,
  WebAcl,
  type WebAclArgs,
  webAclRules,
} from "../../components/webAcl";
import {
  webAclAlarmSpec,
  webAclDashboardRow,
  webAclWatchProblems,
} from "../../components/observability";
import type { Metric } from "../../components/monitoring";
import { render, resolve } from "../../harness/component";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";
import { T } from "./support/types";

const SIGN_IN = { method: "POST", path: "/sessions" } as const;
const SIGN_UP = { method: "POST", path: "/users" } as const;
const REGIONAL: WebAclArgs = {
  scope: "REGIONAL",
  mode: "block",
  rateLimit: { routes: [SIGN_IN, SIGN_UP], requestsPerWindow: 100, windowSeconds: 300 },
  logRetentionDays: 90,
};
const ALB_ARN =
  "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/primary-web/0123";

/** Loosens a value's type for rows that pass what TypeScript would refuse (as config JSON can). */
const unchecked = <T>(value: unknown) => value as T;

describe("WebAcl: argument validation", () => {
  const rows: Array<[string, WebAclArgs, RegExp | null]> = [
    ["the regional shape", REGIONAL, null],
    [
      "a CloudFront ACL without a rate rule",
      { ...REGIONAL, scope: "CLOUDFRONT", rateLimit: undefined },
      null,
    ],
    ["count mode", { ...REGIONAL, mode: "count" }, null],
    [
      "the lowest limit AWS takes",
      { ...REGIONAL, rateLimit: { ...REGIONAL.rateLimit!, requestsPerWindow: MIN_RATE_LIMIT } },
      null,
    ],
    [
      "an unknown scope",
      { ...REGIONAL, scope: unchecked("GLOBAL") },
      /scope: "GLOBAL" must be one of REGIONAL, CLOUDFRONT/,
    ],
    [
      "an unknown mode",
      { ...REGIONAL, mode: unchecked("monitor") },
      /mode: "monitor" must be one of block, count/,
    ],
    [
      "a retention CloudWatch does not offer",
      { ...REGIONAL, logRetentionDays: 10 },
      /logRetentionDays: 10 must be a CloudWatch retention/,
    ],
    [
      "a limit under AWS's minimum",
      { ...REGIONAL, rateLimit: { ...REGIONAL.rateLimit!, requestsPerWindow: 9 } },
      /rateLimit.requestsPerWindow: 9 must be a whole number from 10 to 2000000000/,
    ],
    [
      "a fractional limit",
      { ...REGIONAL, rateLimit: { ...REGIONAL.rateLimit!, requestsPerWindow: 50.5 } },
      /rateLimit.requestsPerWindow: 50.5/,
    ],
    [
      "a window AWS does not offer",
      { ...REGIONAL, rateLimit: { ...REGIONAL.rateLimit!, windowSeconds: unchecked(30) } },
      /rateLimit.windowSeconds: 30 must be one of 60, 120, 300, 600/,
    ],
    [
      "no routes",
      { ...REGIONAL, rateLimit: { ...REGIONAL.rateLimit!, routes: [] } },
      /rateLimit.routes: empty/,
    ],
    [
      "a route without a leading slash",
      {
        ...REGIONAL,
        rateLimit: { ...REGIONAL.rateLimit!, routes: [{ method: "POST", path: "sessions" }] },
      },
      /rateLimit.routes\[0\].path: "sessions" must be a path starting with "\/"/,
    ],
    [
      "a lowercase method",
      {
        ...REGIONAL,
        rateLimit: {
          ...REGIONAL.rateLimit!,
          routes: [SIGN_IN, { method: unchecked("post"), path: "/users" }],
        },
      },
      /rateLimit.routes\[1\].method: "post" must be one of/,
    ],
  ];
  itValidatesEachCase(validateWebAclArgs, rows);

  it("GIVEN several bad arguments THEN every problem is reported at once", () => {
    const problems = validateWebAclArgs({
      ...REGIONAL,
      mode: unchecked("monitor"),
      logRetentionDays: 10,
      rateLimit: { routes: [], requestsPerWindow: 1, windowSeconds: unchecked(30) },
    });
    assert.equal(problems.length, 5, problems.join("\n"));
  });

  itThrowsBeforeAnyChild(
    ({ provider }) => new WebAcl("bad", { ...REGIONAL, logRetentionDays: 10 }, { provider }),
    /WebAcl "bad": invalid arguments:\n {2}- logRetentionDays/,
  );
});

describe("WebAcl: the rules, as data", () => {
  it("GIVEN block mode THEN the managed groups keep their own (blocking) actions and the rate rule answers 429 with Retry-After", () => {
    const rules = webAclRules(REGIONAL);
    assert.deepEqual(
      rules.map((rule) => [rule.priority, rule.name]),
      [
        [0, "ip-reputation"],
        [1, "rate-limit"],
        [2, "known-bad-inputs"],
        [3, "common"],
      ],
    );
    const managed = rules.filter((rule) => rule.name !== "rate-limit");
    assert.deepEqual(
      managed.map((rule) => [rule.overrideAction, rule.statement]),
      [
        ["AWSManagedRulesAmazonIpReputationList"],
        ["AWSManagedRulesKnownBadInputsRuleSet"],
        ["AWSManagedRulesCommonRuleSet"],
      ].map(([group]) => [
        { none: {} },
        { managedRuleGroupStatement: { vendorName: "AWS", name: group } },
      ]),
    );
    const rate = rules.find((rule) => rule.name === "rate-limit")!;
    assert.deepEqual(rate.action, {
      block: {
        customResponse: {
          responseCode: 429,
          responseHeaders: [{ name: "Retry-After", value: "300" }],
        },
      },
    });
  });

  it("GIVEN count mode THEN no rule blocks: the groups are overridden to count and the rate rule counts", () => {
    const rules = webAclRules({ ...REGIONAL, mode: "count" });
    for (const rule of rules) {
      if (rule.name === "rate-limit") assert.deepEqual(rule.action, { count: {} });
      else assert.deepEqual(rule.overrideAction, { count: {} });
    }
    assert.ok(!JSON.stringify(rules).includes('"block"'));
  });

  it("GIVEN the sign-in and sign-up routes THEN the rate rule counts per IP only POSTs to exactly those paths, URL-decoded", () => {
    const rate = webAclRules(REGIONAL).find((rule) => rule.name === "rate-limit")!;
    const statement = rate.statement as {
      rateBasedStatement: {
        aggregateKeyType: string;
        limit: number;
        evaluationWindowSec: number;
        scopeDownStatement: { orStatement: { statements: unknown[] } };
      };
    };
    const { aggregateKeyType, limit, evaluationWindowSec, scopeDownStatement } =
      statement.rateBasedStatement;
    assert.deepEqual([aggregateKeyType, limit, evaluationWindowSec], ["IP", 100, 300]);
    const match = (field: string, value: string, transformation: string) => ({
      byteMatchStatement: {
        fieldToMatch: { [field]: {} },
        positionalConstraint: "EXACTLY",
        searchString: value,
        textTransformations: [{ priority: 0, type: transformation }],
      },
    });
    assert.deepEqual(
      scopeDownStatement.orStatement.statements,
      ["/sessions", "/users"].map((path) => ({
        andStatement: {
          statements: [match("method", "POST", "NONE"), match("uriPath", path, "URL_DECODE")],
        },
      })),
    );
  });

  it("GIVEN one route THEN the scope-down is that route alone (AWS refuses an OR of one)", () => {
    const rate = webAclRules({
      ...REGIONAL,
      rateLimit: { ...REGIONAL.rateLimit!, routes: [SIGN_IN] },
    }).find((rule) => rule.name === "rate-limit")!;
    const scopeDown = (rate.statement as { rateBasedStatement: { scopeDownStatement: object } })
      .rateBasedStatement.scopeDownStatement;
    assert.deepEqual(Object.keys(scopeDown), ["andStatement"]);
  });

  it("GIVEN no rateLimit THEN the ACL has the three managed groups only", () => {
    const rules = webAclRules({ mode: "block" });
    assert.deepEqual(
      rules.map((rule) => rule.name),
      ["ip-reputation", "known-bad-inputs", "common"],
    );
  });
});

describe("WebAcl: the component", () => {
  it("GIVEN a regional ACL THEN its children are named after it, parented to it, and log to an aws-waf-logs- group with the retention", async () => {
    const rendered = await render(
      ({ provider }) => new WebAcl("primary-waf", REGIONAL, { provider }),
      { stack: "prod" },
    );
    const component = rendered.value;
    const children = [T.webAcl, T.logGroup, T.logPolicy, T.logging].map((type) =>
      rendered.ofType(type),
    );
    assert.deepEqual(
      children.map((ofType) => ofType.map((child) => child.name)),
      [
        ["primary-waf-acl"],
        ["primary-waf-logs"],
        ["primary-waf-log-delivery"],
        ["primary-waf-logging"],
      ],
    );
    const urn = await resolve(component.urn);
    for (const [child] of children) assert.equal(child!.parent, urn);

    const acl = rendered.named("primary-waf-acl");
    assert.equal(acl.inputs.name, "zero-to-millions-prod-primary-waf");
    assert.equal(acl.inputs.scope, "REGIONAL");
    assert.deepEqual(acl.inputs.defaultAction, { allow: {} });
    assert.deepEqual(acl.inputs.visibilityConfig, {
      cloudwatchMetricsEnabled: true,
      metricName: "zero-to-millions-prod-primary-waf",
      sampledRequestsEnabled: true,
    });
    const logGroup = rendered.named("primary-waf-logs");
    assert.equal(logGroup.inputs.name, `${WAF_LOG_GROUP_PREFIX}zero-to-millions-prod-primary-waf`);
    assert.equal(logGroup.inputs.retentionInDays, 90);
    assert.equal(await resolve(component.logGroupName), logGroup.inputs.name);
  });

  it("GIVEN the logging THEN it writes to the group (no :* suffix), keeps only blocked and counted requests, and redacts cookies and bearer tokens", async () => {
    const rendered = await render(
      ({ provider }) => new WebAcl("primary-waf", REGIONAL, { provider }),
    );
    const logGroupArn = String(rendered.named("primary-waf-logs").state.arn);
    const logging = rendered.named("primary-waf-logging");
    assert.deepEqual(logging.inputs.logDestinationConfigs, [logGroupArn]);
    assert.ok(!logGroupArn.endsWith(":*"));
    assert.equal(logging.inputs.resourceArn, rendered.named("primary-waf-acl").state.arn);
    assert.deepEqual(logging.inputs.redactedFields, [
      { singleHeader: { name: "cookie" } },
      { singleHeader: { name: "authorization" } },
    ]);
    assert.deepEqual(logging.inputs.loggingFilter, {
      defaultBehavior: "DROP",
      filters: [
        {
          behavior: "KEEP",
          requirement: "MEETS_ANY",
          conditions: [
            { actionCondition: { action: "BLOCK" } },
            { actionCondition: { action: "COUNT" } },
          ],
        },
      ],
    });
  });

  it("GIVEN the log group THEN its own resource policy lets only this account's log delivery write to its streams", async () => {
    const rendered = await render(
      ({ provider }) => new WebAcl("primary-waf", REGIONAL, { provider }),
    );
    const logGroupArn = String(rendered.named("primary-waf-logs").state.arn);
    const policy = rendered.named("primary-waf-log-delivery");
    assert.equal(policy.inputs.resourceArn, logGroupArn);
    assert.equal(
      policy.inputs.policyName,
      undefined,
      "a group's policy, not one of the account's ten",
    );
    const document = JSON.parse(String(policy.inputs.policyDocument)) as {
      Statement: Array<Record<string, unknown>>;
    };
    assert.deepEqual(document.Statement, [
      {
        Sid: "WafLogDelivery",
        Effect: "Allow",
        Principal: { Service: "delivery.logs.amazonaws.com" },
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${logGroupArn}:log-stream:*`,
        Condition: {
          StringEquals: { "aws:SourceAccount": "123456789012" },
          ArnLike: { "aws:SourceArn": "arn:aws:logs:us-east-1:123456789012:*" },
        },
      },
    ]);
  });

  it("GIVEN associate THEN the load balancer gets one delete-first association with this ACL", async () => {
    const rendered = await render(({ provider }) => {
      const waf = new WebAcl("primary-waf", REGIONAL, { provider });
      waf.associate("web", ALB_ARN);
      return waf;
    });
    const [association, ...others] = rendered.ofType(T.association);
    assert.equal(others.length, 0);
    assert.equal(association!.name, "primary-waf-association-web");
    assert.equal(association!.parent, await resolve(rendered.value.urn));
    assert.deepEqual(association!.inputs, {
      resourceArn: ALB_ARN,
      webAclArn: rendered.named("primary-waf-acl").state.arn,
    });
    assert.equal(rendered.value.nodes.associations.length, 1);
  });

  it("GIVEN a CloudFront ACL THEN it cannot be associated (a distribution takes its arn as webAclId)", async () => {
    await render(({ provider }) => {
      const waf = new WebAcl("assets-waf", { ...REGIONAL, scope: "CLOUDFRONT" }, { provider });
      assert.throws(
        () => waf.associate("cdn", "arn:aws:cloudfront::123456789012:distribution/E1"),
        /needs scope REGIONAL; a CloudFront distribution takes this ACL's arn as its webAclId/,
      );
      return waf;
    });
  });

  it("GIVEN the metrics THEN a regional ACL names its region and a CloudFront one none, with one entry per rule", async () => {
    const rendered = await render(({ provider, providerFor }) => ({
      regional: new WebAcl("secondary-waf", REGIONAL, { provider: providerFor("eu-west-1") }),
      cloudfront: new WebAcl(
        "assets-waf",
        { ...REGIONAL, scope: "CLOUDFRONT", rateLimit: undefined },
        { provider },
      ),
    }));
    const { regional, cloudfront } = rendered.value;
    assert.equal(await resolve(regional.metrics.region!), "eu-west-1");
    assert.equal(cloudfront.metrics.region, undefined);
    assert.deepEqual(
      regional.metrics.rules.map((rule) => rule.metricName),
      ["ip-reputation", "rate-limit", "known-bad-inputs", "common"],
    );
    assert.equal(rendered.named("assets-waf-acl").inputs.scope, "CLOUDFRONT");
  });
});

describe("WebAcl on the dashboards: the row and the alarm, as data", () => {
  const metrics = (mode: "block" | "count") => ({
    webAclMetricName: "zero-to-millions-prod-primary-waf",
    region: "us-east-1",
    mode,
    rules: [
      { metricName: "ip-reputation", label: "IP reputation" },
      { metricName: "rate-limit", label: "rate limit" },
    ],
  });

  it("GIVEN block mode THEN the alarm watches BlockedRequests of the whole ACL in its region, 3 of 5 minutes over the threshold", () => {
    const spec = webAclAlarmSpec({ ...metrics("block"), blockedRequestsPerMinute: 300 });
    assert.deepEqual(spec.line, {
      namespace: "AWS/WAFV2",
      name: "BlockedRequests",
      dimensions: { WebACL: "zero-to-millions-prod-primary-waf", Rule: "ALL", Region: "us-east-1" },
      stat: "Sum",
    });
    assert.deepEqual(
      [spec.threshold, spec.periodSeconds, spec.evaluationPeriods, spec.datapointsToAlarm],
      [300, 60, 5, 3],
    );
    assert.equal(spec.treatMissingData, "notBreaching");
    assert.match(spec.lookAt, /aws-waf-logs-/);
  });

  it("GIVEN count mode THEN the alarm and the per-rule graph watch CountedRequests (what would be blocked)", () => {
    const spec = webAclAlarmSpec({ ...metrics("count"), blockedRequestsPerMinute: 100 });
    assert.equal((spec.line as { name: string }).name, "CountedRequests");
    assert.match(spec.what, /count mode/);
    const [byAction, byRule] = webAclDashboardRow(metrics("count")).graphs;
    assert.deepEqual(
      byAction!.lines.map((line) => (line as { name: string }).name),
      ["AllowedRequests", "BlockedRequests", "CountedRequests"],
    );
    assert.deepEqual(
      byRule!.lines.map((line) => {
        const { name, dimensions } = line as Metric;
        return [name, dimensions.Rule];
      }),
      [
        ["CountedRequests", "ip-reputation"],
        ["CountedRequests", "rate-limit"],
      ],
    );
  });

  it("GIVEN a CloudFront ACL's metrics THEN no Region dimension is added", () => {
    const { region: _region, ...cloudfront } = metrics("block");
    const spec = webAclAlarmSpec({ ...cloudfront, blockedRequestsPerMinute: 100 });
    assert.deepEqual(Object.keys((spec.line as { dimensions: object }).dimensions), [
      "WebACL",
      "Rule",
    ]);
  });

  for (const threshold of [0, -1, Number.NaN]) {
    it(`GIVEN a threshold of ${threshold} THEN the problem names webAcl.blockedRequestsPerMinute`, () => {
      assert.match(
        webAclWatchProblems({ ...metrics("block"), blockedRequestsPerMinute: threshold }).join(),
        /^webAcl.blockedRequestsPerMinute: .* must be a number above 0$/,
      );
    });
  }
});
