/**
 * The edge, as a specification over the synth: every public load balancer sits behind its own
 * region's web ACL, the CDN behind a us-east-1 CLOUDFRONT one, prod blocks and dev counts, the
 * sign-in routes are rate-limited with config's limit, the ACLs log where AWS WAF can write, and
 * the dashboards graph and alarm on what they block. The emulator stack builds none of it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CREDENTIAL_ROUTES } from "../../contract";
import { WAF_LOG_GROUP_PREFIX } from "../../components/webAcl";
import type { Synth, SynthResource } from "../../harness";
import { loadStacksBefore } from "./support/stacks";

const T = {
  alb: "aws:lb/loadBalancer:LoadBalancer",
  distribution: "aws:cloudfront/distribution:Distribution",
  webAcl: "aws:wafv2/webAcl:WebAcl",
  association: "aws:wafv2/webAclAssociation:WebAclAssociation",
  logging: "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
} as const;

const STACKS = ["dev", "prod"] as const;
const loaded = loadStacksBefore([...STACKS, "localstack"]);

const stateArn = (resource: SynthResource) => String(resource.state.arn);
const publicAlbs = (s: Synth) => s.ofType(T.alb).filter((alb) => alb.inputs.internal === false);
const aclsOfScope = (s: Synth, scope: string) =>
  s.ofType(T.webAcl).filter((acl) => acl.inputs.scope === scope);
type Rule = {
  name: string;
  action?: Record<string, unknown>;
  overrideAction?: Record<string, unknown>;
  statement: {
    rateBasedStatement?: {
      limit: number;
      evaluationWindowSec: number;
      scopeDownStatement: unknown;
    };
  };
};
const rulesOf = (acl: SynthResource) => acl.inputs.rules as Rule[];
/** Every value a web ACL's rule statements match on, as text. */
const searchStrings = (statement: unknown): string[] =>
  JSON.stringify(statement)
    .match(/"searchString":"[^"]*"/g)!
    .map((match) => match.slice('"searchString":"'.length, -1));

for (const stack of STACKS) {
  describe(`${stack}: the edge`, () => {
    it("puts each public load balancer behind exactly one association, with the REGIONAL web ACL of its own region", () => {
      const { synth: s, config } = loaded[stack]!;
      const albs = publicAlbs(s);
      assert.equal(albs.length, 2);
      for (const alb of albs) {
        const associations = s
          .ofType(T.association)
          .filter((association) => association.inputs.resourceArn === stateArn(alb));
        assert.equal(associations.length, 1, `${alb.name}: one association`);
        const [association] = associations;
        assert.equal(association!.region, alb.region);
        const acl = s
          .ofType(T.webAcl)
          .find((candidate) => stateArn(candidate) === association!.inputs.webAclArn);
        assert.ok(acl, `${alb.name}: its association names a web ACL of the stack`);
        assert.deepEqual([acl.inputs.scope, acl.region], ["REGIONAL", alb.region]);
      }
      assert.deepEqual(
        albs.map((alb) => alb.region).sort(),
        [config.regions.primary, config.regions.secondary].sort(),
      );
    });

    it("gives the distribution the us-east-1 CLOUDFRONT web ACL's ARN as its webAclId", () => {
      const { synth: s } = loaded[stack]!;
      const [cloudfrontAcl, ...more] = aclsOfScope(s, "CLOUDFRONT");
      assert.equal(more.length, 0);
      assert.equal(cloudfrontAcl!.region, "us-east-1");
      assert.match(stateArn(cloudfrontAcl!), /^arn:aws:wafv2:us-east-1:\d{12}:global\/webacl\//);
      for (const distribution of s.ofType(T.distribution)) {
        assert.equal(distribution.inputs.webAclId, stateArn(cloudfrontAcl!));
      }
    });

    it(`${stack === "prod" ? "blocks" : "counts"}: waf.mode ${stack === "prod" ? "block" : "count"} reaches every rule of every web ACL`, () => {
      const { synth: s, config } = loaded[stack]!;
      assert.equal(config.waf.mode, stack === "prod" ? "block" : "count");
      const acls = s.ofType(T.webAcl);
      assert.equal(acls.length, 3);
      for (const acl of acls) {
        for (const rule of rulesOf(acl)) {
          const acting = rule.statement.rateBasedStatement ? rule.action : rule.overrideAction;
          const expected = config.waf.mode === "block" ? ["block", "none"] : ["count"];
          assert.ok(
            expected.includes(Object.keys(acting ?? {})[0] ?? ""),
            `${acl.name} ${rule.name}: ${JSON.stringify(acting)}`,
          );
        }
      }
    });

    it("rate-limits the contract's sign-in and sign-up routes at the load balancers with config's limit, and nowhere else", () => {
      const { synth: s, config } = loaded[stack]!;
      for (const acl of aclsOfScope(s, "REGIONAL")) {
        const rate = rulesOf(acl).filter((rule) => rule.statement.rateBasedStatement);
        assert.equal(rate.length, 1, acl.name);
        const statement = rate[0]!.statement.rateBasedStatement!;
        assert.equal(statement.limit, config.waf.signInRequestsPerWindow);
        assert.equal(statement.evaluationWindowSec, config.waf.rateWindowSeconds);
        assert.deepEqual(
          searchStrings(statement.scopeDownStatement),
          [CREDENTIAL_ROUTES.signIn, CREDENTIAL_ROUTES.signUp].flatMap((route) => [
            route.method,
            route.path,
          ]),
        );
      }
      // The CDN serves static files only: no credential route to count there.
      for (const acl of aclsOfScope(s, "CLOUDFRONT")) {
        assert.deepEqual(
          rulesOf(acl).filter((rule) => rule.statement.rateBasedStatement),
          [],
        );
      }
    });

    it("logs each web ACL to an aws-waf-logs- group in the ACL's own region, kept logs.retentionDays", () => {
      const { synth: s, config } = loaded[stack]!;
      const acls = s.ofType(T.webAcl);
      const loggings = s.ofType(T.logging);
      assert.equal(loggings.length, acls.length);
      for (const acl of acls) {
        const logging = loggings.find(
          (candidate) => candidate.inputs.resourceArn === stateArn(acl),
        );
        assert.ok(logging, `${acl.name} has a logging configuration`);
        assert.equal(logging.region, acl.region);
        const destinations = logging.inputs.logDestinationConfigs as string[];
        assert.equal(destinations.length, 1);
        const group = s
          .ofType(T.logGroup)
          .find((candidate) => stateArn(candidate) === destinations[0]);
        assert.ok(group, `${acl.name} logs to a log group of the stack`);
        assert.ok(
          String(group.inputs.name).startsWith(WAF_LOG_GROUP_PREFIX),
          String(group.inputs.name),
        );
        assert.equal(group.region, acl.region);
        assert.equal(group.inputs.retentionInDays, config.logs.retentionDays);
      }
    });

    it("graphs each web ACL on its region's dashboard (the CDN's on the global one) and alarms on a spike with config's threshold", () => {
      const { synth: s, config } = loaded[stack]!;
      for (const acl of s.ofType(T.webAcl)) {
        const metricName = (acl.inputs.visibilityConfig as { metricName: string }).metricName;
        const cloudfront = acl.inputs.scope === "CLOUDFRONT";
        const alarms = s
          .ofType(T.alarm, acl.region!)
          .filter(
            (alarm) =>
              alarm.name.endsWith("-waf-blocked-spike") &&
              JSON.stringify(alarm.inputs.metricQueries ?? alarm.inputs.dimensions).includes(
                metricName,
              ),
          );
        assert.equal(alarms.length, 1, `${acl.name}: one spike alarm`);
        const alarm = alarms[0]!;
        assert.equal(alarm.inputs.threshold, config.alarms.wafBlockedRequestsPerMinute);
        assert.equal(
          alarm.inputs.metricName,
          config.waf.mode === "block" ? "BlockedRequests" : "CountedRequests",
        );
        assert.equal(alarm.inputs.namespace, "AWS/WAFV2");
        assert.deepEqual(
          alarm.inputs.dimensions,
          cloudfront
            ? { WebACL: metricName, Rule: "ALL" }
            : { WebACL: metricName, Rule: "ALL", Region: acl.region },
        );
        assert.match(String(alarm.inputs.alarmDescription), /aws-waf-logs-/);
        const dashboards = s
          .ofType(T.dashboard, acl.region!)
          .filter((dashboard) => String(dashboard.inputs.dashboardBody).includes(metricName));
        assert.equal(dashboards.length, 1, `${acl.name}: on one dashboard`);
        assert.match(
          String(dashboards[0]!.name),
          cloudfront ? /^global-observability/ : /^(primary|secondary)-observability/,
        );
      }
    });
  });
}

describe("localstack: no edge firewall on the emulator", () => {
  it("builds no web ACL, association or WAF log (emulator.flavor serves no web ACLs) and leaves the distribution without one", () => {
    const { synth: s } = loaded.localstack!;
    assert.deepEqual(
      s.resources.filter((resource) => resource.type.startsWith("aws:wafv2/")).map((r) => r.name),
      [],
    );
    assert.deepEqual(
      s
        .ofType(T.logGroup)
        .filter((group) => String(group.inputs.name ?? "").startsWith(WAF_LOG_GROUP_PREFIX)),
      [],
    );
    for (const distribution of s.ofType(T.distribution)) {
      assert.equal(distribution.inputs.webAclId, undefined);
    }
  });
});
