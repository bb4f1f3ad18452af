/**
 * The compliance baseline (issue 16), as a specification over the prod synth: every way in is
 * logged, every byte is under a key the account controls with an explicit key policy, the static
 * page carries security headers, and the zone is signed with an alarm on its DNSSEC errors.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { synth, type Synth, type SynthResource } from "../../harness";
import { PROJECT_ROOT } from "../../harness/synth";
import { policies } from "../../policy/policies";
import { describeViolations, fromSynth, runPolicies } from "../policy/runner";

const T = {
  key: "aws:kms/key:Key",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  bucket: "aws:s3/bucket:Bucket",
  encryption:
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketLogging: "aws:s3/bucketLogging:BucketLogging",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
  distribution: "aws:cloudfront/distribution:Distribution",
  headers: "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
  deliverySource: "aws:cloudwatch/logDeliverySource:LogDeliverySource",
  deliveryDestination: "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination",
  delivery: "aws:cloudwatch/logDelivery:LogDelivery",
  logPolicy: "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
  queryLog: "aws:route53/queryLog:QueryLog",
  zone: "aws:route53/zone:Zone",
  ksk: "aws:route53/keySigningKey:KeySigningKey",
  zoneSigning: "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  repository: "aws:ecr/repository:Repository",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
} as const;

interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Principal?: { AWS?: string; Service?: string } | string;
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
const statements = (document: unknown): PolicyStatement[] =>
  (JSON.parse(String(document)) as { Statement: PolicyStatement[] }).Statement;
const actions = (statement: PolicyStatement) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

let prod: Synth;
before(async () => {
  prod = await synth("prod");
  assert.equal(prod.error, undefined, `synth of prod failed: ${prod.error}`);
});

const keyNamed = (name: string) => prod.named(`${name}-key`, T.key);
const byArn = (arn: unknown): SynthResource => {
  const found = prod.ofType(T.key).find((key) => key.state.arn === arn);
  assert.ok(found, `no key with ARN ${String(arn)}`);
  return found;
};

describe("prod: every way in is logged", () => {
  it("GIVEN the distribution THEN its access logs are delivered (standard logging v2) to a us-east-1 log group CloudWatch's log delivery may write", () => {
    const distribution = prod.ofType(T.distribution)[0]!;
    const [source] = prod.ofType(T.deliverySource);
    assert.ok(source, "no delivery source");
    assert.equal(source.region, "us-east-1");
    assert.equal(source.inputs.logType, "ACCESS_LOGS");
    assert.equal(source.inputs.resourceArn, distribution.state.arn);
    const delivery = prod.ofType(T.delivery)[0]!;
    const destination = prod.ofType(T.deliveryDestination)[0]!;
    assert.equal(delivery.inputs.deliverySourceName, source.state.name);
    assert.equal(delivery.inputs.deliveryDestinationArn, destination.state.arn);
    const group = prod.ofType(T.logGroup, "us-east-1").find(
      (g) =>
        g.state.arn ===
        (
          destination.inputs.deliveryDestinationConfiguration as {
            destinationResourceArn: string;
          }
        ).destinationResourceArn,
    );
    assert.ok(group, "the destination is not one of the stack's log groups");
    assert.match(String(group.inputs.name), /^\/aws\/vendedlogs\//);
    const policy = statements(prod.ofType(T.logPolicy)[0]!.inputs.policyDocument);
    assert.ok(
      policy.some(
        (s) =>
          typeof s.Principal === "object" &&
          s.Principal.Service === "delivery.logs.amazonaws.com" &&
          s.Condition?.StringEquals?.["aws:SourceAccount"] !== undefined,
      ),
    );
  });

  it("GIVEN the hosted zone THEN its queries are logged to a log group in us-east-1 that route53.amazonaws.com may write for this zone only", () => {
    const zone = prod.ofType(T.zone)[0]!;
    const queryLog = prod.ofType(T.queryLog)[0]!;
    assert.equal(queryLog.inputs.zoneId, zone.state.zoneId);
    const group = prod
      .ofType(T.logGroup)
      .find((g) => g.state.arn === queryLog.inputs.cloudwatchLogGroupArn);
    assert.equal(group?.region, "us-east-1");
    const route53 = statements(prod.ofType(T.logPolicy)[0]!.inputs.policyDocument).find(
      (s) => typeof s.Principal === "object" && s.Principal.Service === "route53.amazonaws.com",
    );
    assert.ok(route53);
    assert.equal(
      route53.Condition?.ArnLike?.["aws:SourceArn"],
      `arn:aws:route53:::hostedzone/${String(zone.state.zoneId)}`,
    );
  });

  it("GIVEN each assets bucket THEN it logs server access into its own region's log bucket, which logs nowhere, expires its logs and lets S3's log delivery write", () => {
    for (const [bucketName, region] of [
      ["assets-bucket", "us-east-1"],
      ["assets-replica", "eu-west-1"],
    ] as const) {
      const bucket = prod.named(bucketName, T.bucket);
      const logging = prod.ofType(T.bucketLogging).find((l) => l.inputs.bucket === bucket.id);
      assert.ok(logging, `${bucketName} has no server access logging`);
      assert.equal(logging.region, region);
      const target = prod
        .ofType(T.bucket, region)
        .find((b) => b.id === logging.inputs.targetBucket);
      assert.ok(target, `${bucketName} logs to no bucket of its region`);
      assert.ok(
        !prod.ofType(T.bucketLogging).some((l) => l.inputs.bucket === target.id),
        "the log bucket logs into a bucket",
      );
      const expiry = prod.ofType(T.lifecycle).find((l) => l.inputs.bucket === target.id);
      const rules = expiry?.inputs.rules as Array<{ expiration?: { days: number } }>;
      assert.equal(rules[0]?.expiration?.days, 90);
      const delivery = prod.ofType(T.bucketPolicy).find((p) => p.inputs.bucket === target.id);
      assert.ok(
        statements(delivery?.inputs.policy).some(
          (s) =>
            typeof s.Principal === "object" && s.Principal.Service === "logging.s3.amazonaws.com",
        ),
      );
    }
  });
});

describe("prod: every byte under a key the account controls", () => {
  it("GIVEN every KMS key THEN its policy is explicit: the account's administrators, then services each pinned by a condition; symmetric keys rotate", () => {
    const keys = prod.ofType(T.key);
    assert.ok(keys.length > 0);
    for (const key of keys) {
      const policy = statements(key.inputs.policy);
      assert.equal(policy[0]?.Sid, "AccountAdministersKey", key.name);
      assert.deepEqual(policy[0]?.Principal, { AWS: "arn:aws:iam::123456789012:root" });
      for (const statement of policy.slice(1)) {
        assert.notEqual(statement.Principal, "*", key.name);
        assert.ok(statement.Condition, `${key.name}: ${statement.Sid} has no condition`);
      }
      const symmetric = key.inputs.customerMasterKeySpec === undefined;
      assert.equal(key.inputs.enableKeyRotation, symmetric, key.name);
    }
  });

  it("GIVEN every log group THEN it is encrypted with its region's logs key, whose policy lets that region's CloudWatch Logs use it for this account's log groups", () => {
    for (const group of prod.ofType(T.logGroup)) {
      const key = byArn(group.inputs.kmsKeyId);
      assert.equal(key.region, group.region, group.name);
      const logs = statements(key.inputs.policy).find(
        (s) =>
          typeof s.Principal === "object" &&
          s.Principal.Service === `logs.${String(group.region)}.amazonaws.com`,
      );
      assert.ok(logs, `${group.name}: its key does not let CloudWatch Logs use it`);
      assert.equal(
        logs.Condition?.ArnLike?.["kms:EncryptionContext:aws:logs:arn"],
        `arn:aws:logs:${String(group.region)}:123456789012:log-group:*`,
      );
    }
  });

  it("GIVEN the log groups AWS's log delivery writes (web ACLs, CloudFront) THEN their key lets delivery.logs.amazonaws.com use it for this account's deliveries in that region only", () => {
    const delivered = prod
      .ofType(T.logGroup)
      .filter((group) => /^(aws-waf-logs-|\/aws\/vendedlogs\/)/.test(String(group.inputs.name)));
    assert.ok(
      delivered.length >= 3,
      "the regional and CloudFront web ACLs' groups and CloudFront's",
    );
    for (const group of delivered) {
      const delivery = statements(byArn(group.inputs.kmsKeyId).inputs.policy).find(
        (s) =>
          typeof s.Principal === "object" && s.Principal.Service === "delivery.logs.amazonaws.com",
      );
      assert.ok(delivery, `${group.name}: its key does not let log delivery use it`);
      assert.equal(delivery.Condition?.StringEquals?.["aws:SourceAccount"], "123456789012");
      assert.equal(
        delivery.Condition?.ArnLike?.["aws:SourceArn"],
        `arn:aws:logs:${String(group.region)}:123456789012:*`,
      );
    }
  });

  it("GIVEN every secret the program keeps (the cookie-signing key per region) THEN it is encrypted with a customer-managed key of its own region", () => {
    const secrets = prod.ofType("aws:secretsmanager/secret:Secret");
    assert.ok(secrets.length > 0);
    for (const secret of secrets) {
      assert.ok(secret.inputs.kmsKeyId, `${secret.name} is under the account's default key`);
      assert.equal(byArn(secret.inputs.kmsKeyId).region, secret.region, secret.name);
    }
  });

  it("GIVEN the assets buckets THEN they use SSE-KMS with bucket keys under a key of their region that CloudFront may use for this distribution only, and replication re-encrypts under the replica's key", () => {
    const distribution = prod.ofType(T.distribution)[0]!;
    for (const name of ["assets-bucket", "assets-replica"]) {
      const bucket = prod.named(name, T.bucket);
      const encryption = prod.ofType(T.encryption).find((e) => e.inputs.bucket === bucket.id)!;
      const [rule] = encryption.inputs.rules as Array<{
        applyServerSideEncryptionByDefault: { sseAlgorithm: string; kmsMasterKeyId: string };
        bucketKeyEnabled: boolean;
      }>;
      assert.equal(rule?.applyServerSideEncryptionByDefault.sseAlgorithm, "aws:kms");
      assert.equal(rule?.bucketKeyEnabled, true);
      const key = byArn(rule?.applyServerSideEncryptionByDefault.kmsMasterKeyId);
      assert.equal(key.region, bucket.region);
      const cloudfront = statements(key.inputs.policy).find(
        (s) =>
          typeof s.Principal === "object" && s.Principal.Service === "cloudfront.amazonaws.com",
      );
      assert.deepEqual(actions(cloudfront!), ["kms:Decrypt"]);
      assert.equal(cloudfront?.Condition?.StringEquals?.["aws:SourceArn"], distribution.state.arn);
    }
    const [rule] = prod.ofType(T.replication)[0]!.inputs.rules as Array<{
      sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: string } };
      destination: { encryptionConfiguration: { replicaKmsKeyId: string } };
    }>;
    assert.equal(rule?.sourceSelectionCriteria.sseKmsEncryptedObjects.status, "Enabled");
    assert.equal(
      byArn(rule?.destination.encryptionConfiguration.replicaKmsKeyId).region,
      "eu-west-1",
    );
  });

  it("GIVEN the app's roles THEN they may use the assets keys only through S3, for the assets bucket and its replica (where uploads go after a failover)", () => {
    const keys = [keyNamed("assets-bucket"), keyNamed("assets-replica")];
    const grants = prod
      .ofType(T.rolePolicy)
      .filter((p) => p.name.endsWith("-assets"))
      .map((p) => statements(p.inputs.policy).find((s) => s.Sid === "AppFilesKey"));
    assert.equal(grants.length, 4);
    for (const grant of grants) {
      assert.deepEqual(actions(grant!), ["kms:Decrypt", "kms:GenerateDataKey"]);
      assert.deepEqual(
        (grant as unknown as { Resource: string[] }).Resource,
        keys.map((key) => key.state.arn),
      );
      assert.equal(grant?.Condition?.StringLike?.["kms:ViaService"], "s3.*.amazonaws.com");
    }
  });

  it("GIVEN the image repositories THEN each is encrypted under a key of its own region", () => {
    const repositories = prod.ofType(T.repository);
    assert.equal(repositories.length, 2);
    for (const repository of repositories) {
      const [setting] = repository.inputs.encryptionConfigurations as Array<{
        encryptionType: string;
        kmsKey: string;
      }>;
      assert.equal(setting?.encryptionType, "KMS");
      assert.equal(byArn(setting?.kmsKey).region, repository.region);
    }
  });
});

describe("prod: the static page carries security headers", () => {
  it("GIVEN the distribution THEN every response gets HSTS, nosniff, DENY, no-referrer and the app's CSP, overriding the origin", () => {
    const distribution = prod.ofType(T.distribution)[0]!;
    const headers = prod.ofType(T.headers)[0]!;
    const behavior = distribution.inputs.defaultCacheBehavior as {
      responseHeadersPolicyId: string;
    };
    assert.equal(behavior.responseHeadersPolicyId, headers.id);
    const config = headers.inputs.securityHeadersConfig as Record<string, Record<string, unknown>>;
    assert.deepEqual(config.strictTransportSecurity, {
      accessControlMaxAgeSec: 31536000,
      includeSubdomains: true,
      override: true,
    });
    assert.deepEqual(config.contentTypeOptions, { override: true });
    assert.deepEqual(config.frameOptions, { frameOption: "DENY", override: true });
    assert.deepEqual(config.referrerPolicy, { referrerPolicy: "no-referrer", override: true });
    const csp = String(config.contentSecurityPolicy?.contentSecurityPolicy);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /connect-src 'self' https:\/\/\S+\.s3\.us-east-1\.amazonaws\.com/);
  });
});

describe("prod: the zone is signed", () => {
  it("GIVEN the hosted zone THEN a key-signing key on an ECC_NIST_P256 signing key in us-east-1 signs it, and Route53's DNSSEC service may use the key for this account's zones only", () => {
    const zone = prod.ofType(T.zone)[0]!;
    const ksk = prod.ofType(T.ksk)[0]!;
    assert.equal(ksk.region, "us-east-1");
    assert.equal(ksk.inputs.hostedZoneId, zone.state.zoneId);
    assert.equal(ksk.inputs.status, "ACTIVE");
    const key = byArn(ksk.inputs.keyManagementServiceArn);
    assert.equal(key.region, "us-east-1");
    assert.equal(key.inputs.customerMasterKeySpec, "ECC_NIST_P256");
    assert.equal(key.inputs.keyUsage, "SIGN_VERIFY");
    assert.equal(key.inputs.enableKeyRotation, false);
    const dnssec = statements(key.inputs.policy).filter(
      (s) =>
        typeof s.Principal === "object" && s.Principal.Service === "dnssec-route53.amazonaws.com",
    );
    assert.deepEqual(dnssec.flatMap(actions).sort(), [
      "kms:CreateGrant",
      "kms:DescribeKey",
      "kms:GetPublicKey",
      "kms:Sign",
    ]);
    const signing = prod.ofType(T.zoneSigning)[0]!;
    assert.equal(signing.inputs.hostedZoneId, zone.state.zoneId);
    assert.equal(signing.inputs.signingStatus, "SIGNING");
  });

  it("GIVEN the key-signing key THEN its name carries its KMS key's id, so a new key brings a new name instead of a clash (the name forces replacement, created before the old one is deleted)", () => {
    const ksk = prod.ofType(T.ksk)[0]!;
    const key = byArn(ksk.inputs.keyManagementServiceArn);
    const name = String(ksk.inputs.name);
    assert.match(name, /^[A-Za-z0-9_]{3,128}$/);
    assert.ok(
      name.endsWith(`_${String(key.state.keyId).replace(/-/g, "")}`),
      `${name} does not end with the key id ${String(key.state.keyId)}`,
    );
  });

  it("GIVEN the zone is signed THEN Route53's DNSSEC errors raise alarms in us-east-1 that notify the global topic", () => {
    const zone = prod.ofType(T.zone)[0]!;
    for (const metric of ["DNSSECInternalFailure", "DNSSECKeySigningKeysNeedingAction"]) {
      const alarm = prod.ofType(T.alarm).find((a) => a.inputs.metricName === metric);
      assert.ok(alarm, `no alarm on ${metric}`);
      assert.equal(alarm.region, "us-east-1");
      assert.equal(alarm.inputs.namespace, "AWS/Route53");
      assert.deepEqual(alarm.inputs.dimensions, { HostedZoneId: zone.state.zoneId });
      assert.equal((alarm.inputs.alarmActions as string[]).length, 1);
    }
  });
});

describe("prod with an existing zone (dns.zoneId): the zone is its owner's", () => {
  it("GIVEN dns.zoneId names an existing zone THEN the stack neither logs its queries (Route53 allows one query-logging configuration per zone) nor signs it", async () => {
    const s = await synth("prod", { dns: { zoneId: "Z0123456789ABC" } });
    assert.equal(s.error, undefined, `synth failed: ${s.error}`);
    assert.deepEqual(s.ofType(T.zone), []);
    assert.deepEqual(s.ofType(T.queryLog), []);
    assert.deepEqual(s.ofType(T.ksk), []);
    assert.deepEqual(s.ofType(T.zoneSigning), []);
    const delivery = s.named("edge-logs-delivery", T.logPolicy);
    assert.deepEqual(
      statements(delivery.inputs.policyDocument).map((statement) => statement.Sid),
      ["CloudFrontAccessLogs"],
    );
  });
});

describe("prod with dns.dnssec off: the zone is unsigned on purpose", () => {
  let unsigned: Synth;
  before(async () => {
    unsigned = await synth("prod", { dns: { dnssec: "off" } });
    assert.equal(unsigned.error, undefined, `synth failed: ${unsigned.error}`);
  });

  it("GIVEN dns.dnssec off THEN no key-signing key, no signing and no DNSSEC alarms, and the zone says so in its tags", () => {
    assert.deepEqual(unsigned.ofType(T.ksk), []);
    assert.deepEqual(unsigned.ofType(T.zoneSigning), []);
    assert.deepEqual(
      unsigned
        .ofType(T.alarm)
        .filter((alarm) => String(alarm.inputs.metricName).startsWith("DNSSEC")),
      [],
    );
    const zone = unsigned.ofType(T.zone)[0]!;
    assert.equal((zone.inputs.tags as Record<string, string>).dnssec, "off");
    // The zone's queries are still logged.
    assert.equal(unsigned.ofType(T.queryLog).length, 1);
  });

  it("GIVEN dns.dnssec off WHEN the pack runs with policy/config.prod.json THEN route53-zone-dnssec accepts the declared intent", async () => {
    const config = JSON.parse(
      readFileSync(join(PROJECT_ROOT, "policy", "config.prod.json"), "utf8"),
    ) as PolicyPackConfig;
    const found = await runPolicies(
      policies.filter((policy) => policy.name === "route53-zone-dnssec"),
      fromSynth(unsigned),
      { config },
    );
    assert.deepEqual(found, [], describeViolations(found));
  });

  it("GIVEN the default (signing) THEN the zone carries no dnssec tag", () => {
    const zone = prod.ofType(T.zone)[0]!;
    assert.equal((zone.inputs.tags as Record<string, string>).dnssec, undefined);
  });
});
