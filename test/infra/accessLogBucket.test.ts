/**
 * The load balancers' access log bucket: private, SSE-S3 (the only encryption ELB access logs
 * support), expiring, writable by ELB's log delivery under the prefix only, and kept on destroy.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AccessLogBucket, validateAccessLogBucketArgs } from "../../components/accessLogBucket";
import { render, resolve } from "../../harness/component";

describe("AccessLogBucket: GIVEN 90 days of retention", () => {
  const build = () =>
    render(({ provider }) => new AccessLogBucket("alb-logs", { retentionDays: 90 }, { provider }));

  it("THEN the bucket is private, ACLs are off and objects are encrypted with S3-managed keys, not KMS", async () => {
    const { ofType } = await build();
    const block = ofType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0]!;
    for (const key of [
      "blockPublicAcls",
      "blockPublicPolicy",
      "ignorePublicAcls",
      "restrictPublicBuckets",
    ])
      assert.equal(block.inputs[key], true, key);
    const ownership = ofType("aws:s3/bucketOwnershipControls:BucketOwnershipControls")[0]!;
    assert.deepEqual(ownership.inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
    const encryption = ofType(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )[0]!;
    assert.deepEqual(encryption.inputs.rules, [
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
    ]);
  });

  it("THEN every log expires after 90 days", async () => {
    const { ofType } = await build();
    const [rule] = ofType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0]!
      .inputs.rules as Array<{ status: string; expiration: { days: number } }>;
    assert.equal(rule!.status, "Enabled");
    assert.equal(rule!.expiration.days, 90);
  });

  it("THEN only ELB's log delivery (under alb/) and S3's server access logging of this account (under s3/) may write, and only over TLS", async () => {
    const { ofType } = await build();
    const policy = JSON.parse(
      String(ofType("aws:s3/bucketPolicy:BucketPolicy")[0]!.inputs.policy),
    ) as {
      Statement: Array<{
        Effect: string;
        Principal: unknown;
        Action: string;
        Resource: unknown;
        Condition?: unknown;
      }>;
    };
    const allows = policy.Statement.filter((statement) => statement.Effect === "Allow");
    assert.deepEqual(
      allows.map((statement) => statement.Principal),
      [
        { AWS: "arn:aws:iam::127311923021:root" },
        { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
        { Service: "logging.s3.amazonaws.com" },
      ],
    );
    for (const statement of allows) assert.equal(statement.Action, "s3:PutObject");
    const [elbAccount, elbService, s3] = allows;
    for (const statement of [elbAccount, elbService]) {
      assert.match(String(statement?.Resource), /\/alb\/AWSLogs\/123456789012\/\*$/);
    }
    assert.match(String(s3?.Resource), /\/s3\/\*$/);
    assert.deepEqual(s3?.Condition, { StringEquals: { "aws:SourceAccount": "123456789012" } });
    assert.ok(policy.Statement.some((statement) => statement.Effect === "Deny"));
  });

  it("THEN the destination names the bucket and the prefix", async () => {
    const { value, ofType } = await build();
    const bucket = ofType("aws:s3/bucket:Bucket")[0]!;
    assert.equal(await resolve(value.destination.bucket), bucket.state.bucket);
    assert.equal(value.destination.prefix, "alb");
  });

  it("GIVEN 0 days THEN validation names the argument", () => {
    assert.match(validateAccessLogBucketArgs({ retentionDays: 0 }).join(), /retentionDays: 0/);
  });
});
