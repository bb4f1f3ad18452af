import assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import { describe, it } from "node:test";
import {
  APP_USER_ACCESS_STRING,
  Cache,
  type CacheArgs,
  cacheParameterGroupFamily,
  validateCacheArgs,
} from "../../components/cache";
import { render, resolve } from "../../harness/component";
import { admittedSources, assertNoAccess } from "./support/dataTier";
import { T } from "./support/types";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";

const ISOLATED_SUBNETS = ["subnet-isolated-a", "subnet-isolated-b"];
const GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";

/** A small, valid cache; each test states what it changes. */
function baseArgs(overrides: Partial<CacheArgs> = {}): CacheArgs {
  return {
    vpcId: "vpc-123",
    subnetIds: ISOLATED_SUBNETS,
    engine: "valkey",
    engineVersion: "7.2",
    nodeType: "cache.t4g.micro",
    replicas: 0,
    snapshotRetentionDays: 0,
    ...overrides,
  };
}

describe("Cache: argument validation", () => {
  const cases: Array<[string, Partial<CacheArgs>, RegExp | null]> = [
    ["the dev shape", {}, null],
    [
      "the prod shape",
      { nodeType: "cache.r7g.large", replicas: 2, snapshotRetentionDays: 7 },
      null,
    ],
    ["redis 7.1", { engine: "redis", engineVersion: "7.1" }, null],
    [
      "redis 6.x (no IAM authentication)",
      { engine: "redis", engineVersion: "6.x" },
      /engineVersion: "6.x": the app signs in with IAM authentication, which needs Redis OSS 7.0 or later/,
    ],
    ["valkey 8.0", { engineVersion: "8.0" }, null],
    ["six replicas", { replicas: 6 }, /replicas: 6 must be a whole number from 0 to 5/],
    ["a negative replica count", { replicas: -1 }, /replicas: -1/],
    [
      "valkey with a redis-only version",
      { engineVersion: "6.2" },
      /engineVersion: "6.2" is not a version of valkey; use 7.2 or 8.x/,
    ],
    [
      "redis with a valkey-only version",
      { engine: "redis", engineVersion: "7.2" },
      /engineVersion: "7.2" is not a version of redis/,
    ],
    ["a version that is no version", { engineVersion: "latest" }, /engineVersion: "latest"/],
    ["a node type without the cache. prefix", { nodeType: "t4g.micro" }, /nodeType: "t4g.micro"/],
    [
      "snapshots kept longer than ElastiCache allows",
      { snapshotRetentionDays: 36 },
      /snapshotRetentionDays: 36/,
    ],
    [
      "an unknown eviction policy",
      { maxmemoryPolicy: "lru" },
      /maxmemoryPolicy: "lru" must be one of allkeys-lru/,
    ],
    ["no subnets", { subnetIds: [] }, /subnetIds: empty/],
  ];
  itValidatesEachCase((overrides) => validateCacheArgs(baseArgs(overrides)), cases);

  const families: Array<[CacheArgs["engine"], string, string | undefined]> = [
    ["valkey", "7.2", "valkey7"],
    ["valkey", "8.1", "valkey8"],
    ["redis", "7.1", "redis7"],
    ["redis", "7.0", "redis7"],
    ["redis", "6.2", "redis6.x"],
    ["redis", "5.0", undefined],
    ["valkey", "7.0", undefined],
  ];
  for (const [engine, version, family] of families) {
    it(`GIVEN ${engine} ${version} THEN the parameter group family is ${family ?? "none"}`, () => {
      assert.equal(cacheParameterGroupFamily(engine, version), family);
    });
  }

  itThrowsBeforeAnyChild(
    ({ provider }) => new Cache("bad", baseArgs({ replicas: 9 }), { provider }),
    /Cache "bad": invalid arguments/,
  );

  itThrowsBeforeAnyChild(
    ({ provider }) => new Cache("Primary-Cache", baseArgs(), { provider }),
    /name: "Primary-Cache" must be lowercase/,
    "a name with capitals",
  );

  it("GIVEN a project, stack and name longer than a group id's 40 characters THEN the id keeps project and stack and ends in a hash of the whole", async () => {
    // One render at a time: renders share Pulumi's process-wide runtime.
    const ids: string[] = [];
    for (const name of [
      "a-very-long-secondary-region-cache",
      "a-very-long-secondary-region-cache-2",
    ]) {
      const { value: cache } = await render(
        ({ provider }) => new Cache(name, baseArgs(), { provider }),
        { stack: "localstack-experiment" },
      );
      ids.push(await resolve(cache.replicationGroupId));
    }
    for (const id of ids) {
      assert.ok(id.length <= 40, id);
      assert.match(id, /^zero-to-millions-localstack-[a-z0-9-]*-[0-9a-f]{8}$/);
    }
    assert.notEqual(ids[0], ids[1], "two long names never shorten to the same id");
  });
});

describe("Cache: the replication group", () => {
  it("GIVEN any shape THEN data is encrypted at rest with the component's key and in transit, in the isolated subnets", async () => {
    const { value: cache, ofType } = await render(
      ({ provider }) => new Cache("cache", baseArgs(), { provider }),
    );
    const group = ofType(GROUP)[0]!;
    const key = ofType("aws:kms/key:Key")[0]!;
    assert.equal(key.inputs.enableKeyRotation, true);
    assert.equal(group.inputs.atRestEncryptionEnabled, true);
    assert.equal(group.inputs.kmsKeyId, key.state.arn);
    assert.equal(group.inputs.transitEncryptionEnabled, true);
    assert.equal(group.inputs.port, 6379);
    assert.deepEqual(
      ofType("aws:elasticache/subnetGroup:SubnetGroup")[0]!.inputs.subnetIds,
      ISOLATED_SUBNETS,
    );
    assert.equal(await resolve(cache.kmsKeyArn), key.state.arn);
    assert.match(
      await resolve(cache.primaryEndpoint),
      /^master\.zero-to-millions-test-cache\..*\.cache\.amazonaws\.com$/,
    );
    assert.match(await resolve(cache.readerEndpoint), /^replica\.zero-to-millions-test-cache\./);
  });

  it("GIVEN IAM authentication THEN the group signs in through a user group only: no AUTH token, no password anywhere", async () => {
    const { ofType } = await render(({ provider }) => new Cache("cache", baseArgs(), { provider }));
    const group = ofType(GROUP)[0]!;
    const userGroup = ofType("aws:elasticache/userGroup:UserGroup")[0]!;
    assert.equal(group.inputs.authToken, undefined);
    assert.equal(group.inputs.transitEncryptionEnabled, true);
    // Removes the AUTH token of a group created before, in place (replication_group.go).
    assert.equal(group.inputs.authTokenUpdateStrategy, "DELETE");
    assert.deepEqual(group.inputs.userGroupIds, [userGroup.state.userGroupId]);
    assert.equal(ofType("random:index/randomPassword:RandomPassword").length, 0);
    assert.equal(ofType("aws:secretsmanager/secret:Secret").length, 0);
  });

  it("GIVEN the users THEN the app's user is IAM-authenticated with id equal to name, and the group's default user is switched off", async () => {
    const { value: cache, ofType } = await render(
      ({ provider }) => new Cache("cache", baseArgs(), { provider }),
    );
    const users = ofType("aws:elasticache/user:User");
    const app = users.find((user) => user.name === "cache-app-user")!;
    const fallback = users.find((user) => user.name === "cache-default-user")!;
    assert.deepEqual(app.inputs.authenticationMode, { type: "iam" });
    assert.equal(app.inputs.userId, app.inputs.userName);
    assert.match(app.inputs.userId as string, /^[a-z][a-z0-9-]{0,39}$/);
    assert.equal(app.inputs.accessString, APP_USER_ACCESS_STRING);
    assert.equal(app.inputs.passwords, undefined);
    assert.equal(fallback.inputs.userName, "default");
    assert.match(fallback.inputs.accessString as string, /^off /);
    assert.deepEqual(fallback.inputs.authenticationMode, { type: "no-password-required" });
    const userGroup = ofType("aws:elasticache/userGroup:UserGroup")[0]!;
    assert.deepEqual(userGroup.inputs.userIds, [fallback.state.userId, app.state.userId]);
    for (const resource of [app, fallback, userGroup]) {
      assert.equal(resource.inputs.engine, "valkey");
    }
    assert.equal(await resolve(cache.appUserId), app.state.userId);
  });

  it("GIVEN a group moved from its AUTH token to the user group THEN the change applies during the deploy, and whatever uses appUserId waits for the group's update", async () => {
    const { ofType } = await render(({ provider }) => {
      const cache = new Cache("cache", baseArgs(), { provider });
      // A stand-in for a task definition that gets the user in its environment.
      new aws.ssm.Parameter("consumer", { type: "String", value: cache.appUserId }, { provider });
      return cache;
    });
    const group = ofType(GROUP)[0]!;
    assert.equal(group.inputs.applyImmediately, true);
    assert.equal(group.inputs.authTokenUpdateStrategy, "DELETE");
    const consumer = ofType("aws:ssm/parameter:Parameter")[0]!;
    assert.ok(
      consumer.dependsOn.includes(group.urn),
      "a resource given appUserId does not wait for the replication group",
    );
  });

  it("GIVEN grantConnect THEN the role may elasticache:Connect to this group as the app's user, nothing else", async () => {
    const { ofType } = await render(({ provider }) => {
      const cache = new Cache("cache", baseArgs(), { provider });
      cache.grantConnect("web", "web-task-role");
      return cache;
    });
    const policy = ofType("aws:iam/rolePolicy:RolePolicy")[0]!;
    assert.equal(policy.name, "cache-connect-web");
    assert.equal(policy.inputs.role, "web-task-role");
    const document = JSON.parse(policy.inputs.policy as string) as {
      Statement: Array<{ Action: string; Resource: string[] }>;
    };
    assert.deepEqual(
      document.Statement.map((statement) => statement.Action),
      ["elasticache:Connect"],
    );
    assert.deepEqual(document.Statement[0]!.Resource, [
      ofType(GROUP)[0]!.state.arn,
      ofType("aws:elasticache/user:User").find((user) => user.name === "cache-app-user")!.state.arn,
    ]);
  });

  const availability: Array<[number, boolean, number]> = [
    [0, false, 1],
    [1, true, 2],
    [2, true, 3],
  ];
  for (const [replicas, highlyAvailable, nodes] of availability) {
    it(`GIVEN ${replicas} replicas THEN failover and multi-AZ are ${highlyAvailable ? "on" : "off"} over ${nodes} node(s), each named for dashboards`, async () => {
      const { value: cache, ofType } = await render(
        ({ provider }) => new Cache("cache", baseArgs({ replicas }), { provider }),
        {
          stack: "prod",
        },
      );
      const group = ofType(GROUP)[0]!;
      assert.equal(group.inputs.numCacheClusters, nodes);
      assert.equal(group.inputs.automaticFailoverEnabled, highlyAvailable);
      assert.equal(group.inputs.multiAzEnabled, highlyAvailable);
      assert.equal(await resolve(cache.replicationGroupId), "zero-to-millions-prod-cache");
      const ids = await Promise.all(cache.memberClusterIds.map((id) => resolve(id)));
      assert.deepEqual(
        ids,
        Array.from({ length: nodes }, (_, i) => `zero-to-millions-prod-cache-00${i + 1}`),
      );
      assert.deepEqual(ids, group.state.memberClusters);
    });
  }

  it("GIVEN no eviction policy THEN the parameter group of the engine's family evicts allkeys-lru", async () => {
    const { ofType } = await render(({ provider }) => new Cache("cache", baseArgs(), { provider }));
    const parameterGroup = ofType("aws:elasticache/parameterGroup:ParameterGroup")[0]!;
    assert.equal(parameterGroup.inputs.family, "valkey7");
    assert.deepEqual(parameterGroup.inputs.parameters, [
      { name: "maxmemory-policy", value: "allkeys-lru" },
    ]);
    assert.equal(ofType(GROUP)[0]!.inputs.parameterGroupName, parameterGroup.state.name);
  });

  it("GIVEN redis 7.1 with volatile-lfu THEN the family is redis7 and the policy is the one asked for", async () => {
    const { ofType } = await render(
      ({ provider }) =>
        new Cache(
          "cache",
          baseArgs({ engine: "redis", engineVersion: "7.1", maxmemoryPolicy: "volatile-lfu" }),
          { provider },
        ),
    );
    const parameterGroup = ofType("aws:elasticache/parameterGroup:ParameterGroup")[0]!;
    assert.equal(parameterGroup.inputs.family, "redis7");
    assert.deepEqual(parameterGroup.inputs.parameters, [
      { name: "maxmemory-policy", value: "volatile-lfu" },
    ]);
    assert.equal(ofType(GROUP)[0]!.inputs.engine, "redis");
  });

  const snapshots: Array<[string, number]> = [
    ["dev (no snapshots)", 0],
    ["prod (a week of snapshots)", 7],
  ];
  for (const [label, days] of snapshots) {
    it(`GIVEN ${label} THEN the group keeps ${days} days of snapshots`, async () => {
      const { ofType } = await render(
        ({ provider }) =>
          new Cache("cache", baseArgs({ snapshotRetentionDays: days }), { provider }),
      );
      assert.equal(ofType(GROUP)[0]!.inputs.snapshotRetentionLimit, days);
    });
  }
});

describe("Cache: network access", () => {
  it("GIVEN no allowFrom THEN the security group has no rules at all", async () => {
    const { ofType } = await render(({ provider }) => new Cache("cache", baseArgs(), { provider }));
    assertNoAccess(ofType);
  });

  it("GIVEN allowFrom for the web and worker groups THEN exactly those two rules open 6379", async () => {
    const { value: cache, ofType } = await render(({ provider }) => {
      const c = new Cache("cache", baseArgs(), { provider });
      c.allowFrom("web", { securityGroupId: "sg-web" }, "web tasks");
      c.allowFrom("workers", { securityGroupId: "sg-workers" }, "worker tasks");
      return c;
    });
    const rules = ofType(T.ingress);
    assert.equal(rules.length, 2);
    const groupId = await resolve(cache.securityGroupId);
    assert.deepEqual(admittedSources(rules, groupId, 6379), ["sg-web", "sg-workers"]);
  });

  it("GIVEN allowFrom with 0.0.0.0/0 THEN it throws and creates no rule", async () => {
    const { ofType } = await render(({ provider }) => {
      const c = new Cache("cache", baseArgs(), { provider });
      assert.throws(
        () => c.allowFrom("anyone", { cidrBlocks: ["0.0.0.0/0"] }, "anyone"),
        /would open the cache to every address/,
      );
      return c;
    });
    assert.deepEqual(ofType(T.ingress), []);
  });
});
