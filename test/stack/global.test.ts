/**
 * The two regions as one service to the world, on the synth of both stacks: GeoDNS with health
 * checks and failover, the CDN in front of the private assets bucket and its replica, and the
 * stack outputs users read.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Synth, SynthResource } from "../../harness";
import { loadStacksBefore } from "./support/stacks";

const RECORD = "aws:route53/record:Record";
const HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck";
const ALB = "aws:lb/loadBalancer:LoadBalancer";
const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";
const BUCKET = "aws:s3/bucket:Bucket";
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";

type Alias = { name: string; zoneId: string; evaluateTargetHealth: boolean };
const aliasOf = (record: SynthResource) => (record.inputs.aliases as Alias[] | undefined)?.[0];

const stacks = loadStacksBefore(["dev", "prod"]);

describe("prod (with a domain): GeoDNS sends each user to a healthy region", () => {
  const appName = () => `${stacks.prod!.config.dns.recordName}.${stacks.prod!.config.dns.domain}`;
  const albDns = (region: string) =>
    String(stacks.prod!.synth.ofType(ALB, region)[0]!.state.dnsName);

  it("GIVEN the configured locations THEN each has a geolocation alias to its own region's ALB with that region's health check", () => {
    const { synth: s, config } = stacks.prod!;
    const geo = s
      .ofType(RECORD)
      .filter((r) => r.inputs.name === appName() && r.inputs.geolocationRoutingPolicies);
    for (const role of ["primary", "secondary"] as const) {
      const region = config.regions[role];
      const healthCheck = s.ofType(HEALTH_CHECK).find((h) => h.inputs.fqdn === albDns(region))!;
      assert.ok(healthCheck, `no health check on the ${role} ALB`);
      for (const code of config.dns.locations[role]) {
        const record = geo.find((r) =>
          (r.inputs.geolocationRoutingPolicies as Array<Record<string, string>>).some(
            (p) => p.continent === code || p.country === code,
          ),
        );
        assert.ok(record, `no record for ${code}`);
        assert.equal(aliasOf(record)!.name, albDns(region));
        assert.equal(aliasOf(record)!.evaluateTargetHealth, true);
        assert.equal(record.inputs.healthCheckId, healthCheck.id);
      }
    }
  });

  it("GIVEN a region down THEN the default record (*) still answers: it aliases a failover pair, primary first, secondary second", () => {
    const { synth: s, config } = stacks.prod!;
    const records = s.ofType(RECORD);
    const fallback = records.find((r) =>
      (r.inputs.geolocationRoutingPolicies as Array<Record<string, string>> | undefined)?.some(
        (p) => p.country === "*",
      ),
    )!;
    assert.ok(fallback, "no default (*) geolocation record");
    assert.equal(aliasOf(fallback)!.evaluateTargetHealth, true);
    const pair = records.filter((r) => r.inputs.name === aliasOf(fallback)!.name);
    const byRole = Object.fromEntries(
      pair.map((r) => [
        (r.inputs.failoverRoutingPolicies as Array<{ type: string }>)[0]!.type,
        aliasOf(r)!.name,
      ]),
    );
    assert.deepEqual(byRole, {
      PRIMARY: albDns(config.regions.primary),
      SECONDARY: albDns(config.regions.secondary),
    });
    for (const record of pair)
      assert.ok(record.inputs.healthCheckId, `${record.name} has no health check`);
  });

  it("GIVEN health checks THEN they probe each ALB over HTTPS on the configured path", () => {
    const { synth: s, config } = stacks.prod!;
    const checks = s.ofType(HEALTH_CHECK);
    assert.equal(checks.length, 2);
    for (const check of checks) {
      assert.deepEqual(
        [check.inputs.type, check.inputs.resourcePath, check.inputs.port],
        ["HTTPS", config.dns.healthCheckPath, 443],
      );
    }
  });

  it("GIVEN the app's name THEN each region's ALB serves HTTPS with a certificate of its own region, validated in the zone", () => {
    const { synth: s, config } = stacks.prod!;
    for (const region of [config.regions.primary, config.regions.secondary]) {
      const certificates = s
        .ofType("aws:acm/certificate:Certificate", region)
        .filter((c) => c.inputs.domainName === appName());
      assert.equal(certificates.length, 1, `no certificate for ${appName()} in ${region}`);
      const https = s
        .ofType("aws:lb/listener:Listener", region)
        .find((l) => l.inputs.protocol === "HTTPS");
      assert.match(String(https?.inputs.certificateArn), new RegExp(`^arn:aws:acm:${region}:`));
    }
  });

  it("GIVEN the outputs THEN the public URL is the GeoDNS name and DNS is reported enabled", () => {
    const { synth: s } = stacks.prod!;
    assert.equal(s.outputs.publicUrl, `https://${appName()}`);
    assert.equal((s.outputs.dns as { status: string }).status, "enabled");
  });
});

describe("dev (no domain): DNS is skipped cleanly and said so", () => {
  it("GIVEN no dns.domain THEN there is no zone, record, health check or certificate, and the outputs say why", () => {
    const { synth: s } = stacks.dev!;
    for (const type of [
      "aws:route53/zone:Zone",
      RECORD,
      HEALTH_CHECK,
      "aws:acm/certificate:Certificate",
    ]) {
      assert.deepEqual(s.ofType(type), [], `${type} exists without a domain`);
    }
    assert.match(String((s.outputs.dns as { status: string }).status), /^disabled: no dns\.domain/);
    assert.match(String(s.outputs.publicUrl), /^http:\/\/.*\.elb\.amazonaws\.com$/);
  });
});

/** Resources of a type that the CDN component ("assets") holds. */
const ofCdn = (s: Synth, type: string) =>
  s.descendantsOf("assets").filter((resource) => resource.type === type);

for (const stack of ["dev", "prod"]) {
  describe(`${stack}: the CDN reaches the private assets bucket only through OAC and fails over to the replica`, () => {
    it("GIVEN the buckets THEN the assets bucket is in the primary region and its replica in the secondary", () => {
      const { synth: s, config } = stacks[stack]!;
      // The CDN's own buckets (prod's load balancers log to buckets of their own).
      const assets = (region: string) => ofCdn(s, BUCKET).filter((b) => b.region === region);
      assert.equal(assets(config.regions.primary).length, 1);
      assert.equal(assets(config.regions.secondary).length, 1);
    });

    it("GIVEN the distribution THEN both origins use OAC, the default behaviour uses the failover group, and viewers are sent to HTTPS", () => {
      const { synth: s } = stacks[stack]!;
      const [distribution] = s.ofType(DISTRIBUTION);
      assert.ok(distribution);
      const origins = distribution.inputs.origins as Array<{
        originId: string;
        originAccessControlId?: string;
        s3OriginConfig?: unknown;
      }>;
      assert.equal(origins.length, 2);
      for (const origin of origins) {
        assert.ok(origin.originAccessControlId, `${origin.originId} has no OAC`);
        assert.equal(origin.s3OriginConfig, undefined);
      }
      const [group] = distribution.inputs.originGroups as Array<{
        originId: string;
        members: Array<{ originId: string }>;
      }>;
      assert.deepEqual(
        group!.members.map((m) => m.originId),
        origins.map((o) => o.originId),
      );
      const behaviour = distribution.inputs.defaultCacheBehavior as {
        targetOriginId: string;
        viewerProtocolPolicy: string;
      };
      assert.equal(behaviour.targetOriginId, group!.originId);
      assert.equal(behaviour.viewerProtocolPolicy, "redirect-to-https");
    });

    it("GIVEN the bucket policies THEN only this distribution may read, by its ARN", () => {
      const { synth: s } = stacks[stack]!;
      const distributionArn = String(s.ofType(DISTRIBUTION)[0]!.state.arn);
      const policies = ofCdn(s, BUCKET_POLICY);
      assert.equal(policies.length, 2);
      for (const policy of policies) {
        const document = JSON.parse(String(policy.inputs.policy)) as {
          Statement: Array<{
            Effect: string;
            Principal?: { Service?: string };
            Condition?: Record<string, Record<string, string>>;
          }>;
        };
        const allows = document.Statement.filter((statement) => statement.Effect === "Allow");
        assert.ok(allows.length > 0);
        for (const allow of allows) {
          assert.equal(allow.Principal?.Service, "cloudfront.amazonaws.com");
          assert.equal(allow.Condition?.StringEquals?.["AWS:SourceArn"], distributionArn);
        }
      }
    });
  });
}
