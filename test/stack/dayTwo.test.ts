/**
 * Day two, as a specification over the synth: the changes an operator makes every week (a new
 * image, a scaling limit, an alarm threshold) never change an input that makes the provider
 * replace a stateful resource: an RDS instance, an ElastiCache group, an S3 bucket, a KMS key
 * (components/replacementInputs.ts lists those inputs, with the provider source they come from).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  REPLACEMENT_INPUTS,
  replacingChanges,
  STATEFUL_TYPES,
} from "../../components/replacementInputs";
import { synth, type Synth } from "../../harness";
import { parsedStackConfig } from "./support/stacks";

const STACKS = ["dev", "prod"] as const;
const digest = (fill: string) => `sha256:${fill.repeat(64)}`;

for (const stack of STACKS) {
  const config = parsedStackConfig(stack);
  const image = (fill: string) => ({
    image: {
      uri: `123456789012.dkr.ecr.${config.regions.primary}.amazonaws.com/zero-to-millions@${digest(fill)}`,
    },
  });
  const everyday: Array<[string, Record<string, unknown>]> = [
    ["only the image", image("b")],
    ["only web.maxTasks", { ...image("a"), web: { maxTasks: config.web.maxTasks + 1 } }],
    [
      "only an alarm threshold",
      { ...image("a"), alarms: { http5xxPercent: config.alarms.http5xxPercent / 2 } },
    ],
  ];

  describe(`${stack}: day two, GIVEN the stack as deployed`, () => {
    let deployed: Synth;
    before(async () => {
      deployed = await synth(stack, image("a"));
      assert.equal(deployed.error, undefined, deployed.error);
    });

    it("THEN it holds every kind of stateful resource the spec guards (the spec is not vacuous)", () => {
      for (const type of STATEFUL_TYPES.filter((t) => t !== "aws:dynamodb/table:Table")) {
        assert.ok(deployed.ofType(type).length > 0, `no ${REPLACEMENT_INPUTS[type]!.what}`);
      }
    });

    for (const [label, overrides] of everyday) {
      it(`WHEN ${label} changes THEN no stateful resource changes an input that forces its replacement`, async () => {
        const changed = await synth(stack, overrides);
        assert.equal(changed.error, undefined, changed.error);
        assert.deepEqual(replacingChanges(deployed.resources, changed.resources), []);
      });
    }

    it(`THEN its cache groups are ${stack === "prod" ? "protected: the engine refuses a replacement (an outage) unless cache.allowReplacement" : "not protected (a dev cache may be replaced and destroyed)"}`, () => {
      const groups = deployed.ofType("aws:elasticache/replicationGroup:ReplicationGroup");
      assert.ok(groups.length > 0);
      for (const group of groups) assert.equal(group.protect, stack === "prod", group.name);
      for (const instance of deployed.ofType("aws:rds/instance:Instance"))
        assert.equal(instance.protect, false, `${instance.name}: deletion protection guards it`);
    });

    it("THEN every S3 bucket a delete could not empty (forceDestroy off) is retained on delete or protected: a destroy or step down never stops half done on BucketNotEmpty", () => {
      const kept = deployed
        .ofType("aws:s3/bucket:Bucket")
        .concat(deployed.ofType("aws:s3/bucketV2:BucketV2"))
        .filter((bucket) => bucket.inputs.forceDestroy !== true);
      // prod keeps its asset buckets' objects (cdn.forceDestroy false); dev's are force-destroyed.
      assert.deepEqual(
        kept.map((bucket) => bucket.name).filter((name) => name.startsWith("assets-")),
        stack === "prod" ? ["assets-bucket", "assets-replica"] : [],
      );
      for (const bucket of kept) {
        assert.ok(bucket.retainOnDelete === true || bucket.protect, bucket.name);
      }
    });

    it("GIVEN cache groups created with an AUTH token (before IAM authentication) WHEN this program deploys them THEN the move to the user group replaces none", () => {
      const groups = deployed.ofType("aws:elasticache/replicationGroup:ReplicationGroup");
      assert.ok(groups.length > 0);
      const withToken = groups.map((group) => {
        const {
          userGroupIds: _groups,
          authTokenUpdateStrategy: _strategy,
          ...inputs
        } = group.inputs;
        return { ...group, inputs: { ...inputs, authToken: "the-old-token" } };
      });
      for (const group of groups) {
        // In place: ModifyReplicationGroup with UserGroupIdsToAdd and AuthTokenUpdateStrategy DELETE.
        assert.equal(group.inputs.authTokenUpdateStrategy, "DELETE");
        assert.equal(group.inputs.authToken, undefined);
        assert.equal(group.inputs.transitEncryptionEnabled, true);
      }
      assert.deepEqual(replacingChanges(withToken, groups), []);
    });

    it("WHEN the image changes THEN the task definitions do change (the spec sees what it compares)", async () => {
      const changed = await synth(stack, image("b"));
      const tasks = (s: Synth) =>
        s.ofType("aws:ecs/taskDefinition:TaskDefinition").map((t) => t.inputs.containerDefinitions);
      assert.notDeepEqual(tasks(changed), tasks(deployed));
    });
  });
}

describe("day two: the replacement check itself", () => {
  const cacheGroup = (inputs: Record<string, unknown>) => ({
    urn: "urn:pulumi:prod::zero-to-millions::aws:elasticache/replicationGroup:ReplicationGroup::cache",
    type: "aws:elasticache/replicationGroup:ReplicationGroup",
    inputs,
  });

  it("GIVEN a cache group whose id changes THEN it is reported, with both values", () => {
    assert.deepEqual(
      replacingChanges(
        [cacheGroup({ replicationGroupId: "prod-cache" })],
        [cacheGroup({ replicationGroupId: "zero-to-millions-prod-cache" })],
      ),
      [
        {
          urn: cacheGroup({}).urn,
          input: "replicationGroupId",
          before: "prod-cache",
          after: "zero-to-millions-prod-cache",
        },
      ],
    );
  });

  it("GIVEN a cache group whose node type changes THEN nothing is reported (it resizes in place)", () => {
    assert.deepEqual(
      replacingChanges(
        [cacheGroup({ nodeType: "cache.t4g.micro" })],
        [cacheGroup({ nodeType: "cache.r7g.large" })],
      ),
      [],
    );
  });

  it("GIVEN a stateful resource that disappears THEN it is reported as deleted", () => {
    assert.equal(replacingChanges([cacheGroup({})], [])[0]!.input, "(deleted)");
  });
});
