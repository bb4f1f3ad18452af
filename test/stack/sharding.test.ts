/**
 * Sharding, as a specification over the synth (README: Sharding): `database.shards` physical
 * shards, each a database of today's shape in each region (a writer with its in-region replicas in
 * the writer's region, a cross-region replica in the other), each with its own alarms; going from
 * one shard to three is an in-place update that leaves shard 0 (its writer above all) exactly as it
 * was; and the config refuses to drop a shard the shard map still places logical shards on.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { replacingChanges } from "../../components/replacementInputs";
import { synth, type Synth, type SynthResource } from "../../harness";
import { MIGRATE_COMMAND } from "../../contract";
import { parseConfig, shardMapProblem } from "../../stacks/config";
import { assertProblemMatch } from "../infra/support/validation";
import { configProblems } from "./support/config";

const INSTANCE = "aws:rds/instance:Instance";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const TASK = "aws:ecs/taskDefinition:TaskDefinition";
const POLICY = "aws:iam/rolePolicy:RolePolicy";
const KEY = "aws:kms/key:Key";
const DASHBOARD = "aws:cloudwatch/dashboard:Dashboard";
const THREE = { database: { shards: 3, shardMap: "0-8191:0" } };
const FIRST_WRITER = "primary-database-writer";

const containerOf = (task: SynthResource) =>
  (
    JSON.parse(String(task.inputs.containerDefinitions)) as Array<{
      command?: string[];
    }>
  )[0]!;
const isMigrate = (task: SynthResource) => containerOf(task).command?.[0] === MIGRATE_COMMAND[0];
const statementsOf = (policy: SynthResource) =>
  (
    JSON.parse(String(policy.inputs.policy)) as {
      Statement: Array<{
        Sid: string;
        Action: string | string[];
        Resource: string | string[];
        Condition?: unknown;
      }>;
    }
  ).Statement;

const environmentOf = (task: SynthResource) =>
  Object.fromEntries(
    (
      JSON.parse(String(task.inputs.containerDefinitions)) as Array<{
        environment: Array<{ name: string; value: string }>;
      }>
    )[0]!.environment.map(({ name, value }) => [name, value]),
  );

describe("sharding: GIVEN prod with database.shards 1 WHEN it becomes 3", () => {
  let one: Synth;
  let three: Synth;
  before(async () => {
    [one, three] = await Promise.all([synth("prod"), synth("prod", THREE)]);
    assert.equal(one.error, undefined, one.error);
    assert.equal(three.error, undefined, three.error);
  });

  it("THEN both name the same first writer, with identical inputs (nothing of it changes)", () => {
    const before = one.named(FIRST_WRITER, INSTANCE);
    const after = three.named(FIRST_WRITER, INSTANCE);
    assert.equal(after.urn, before.urn);
    assert.deepEqual(after.inputs, before.inputs);
  });

  it("THEN no stateful resource of shard 0 is replaced or deleted: only new shards' resources appear", () => {
    const changes = replacingChanges(one.resources, three.resources);
    assert.ok(changes.length > 0, "the new shards' resources appear (the check sees them)");
    for (const change of changes) {
      assert.equal(change.input, "(created)", `${change.urn}: ${change.input}`);
      assert.match(change.urn, /-shard[12]/, `${change.urn} belongs to a new shard`);
    }
  });

  it("THEN shard 0's alarms keep their names; each new shard's instances get their own", () => {
    const names = (s: Synth) => new Set(s.ofType(ALARM).map((alarm) => alarm.urn));
    const after = names(three);
    for (const urn of names(one)) assert.ok(after.has(urn), `${urn} kept`);
    for (const shard of [1, 2]) {
      for (const role of [
        "db-cpu-shard%-writer",
        "db-free-storage-shard%",
        "db-lag-shard%-replica-0",
      ]) {
        const name = `primary-observability-${role.replace("%", String(shard))}`;
        assert.ok(three.named(name, ALARM), name);
      }
      assert.ok(three.named(`secondary-observability-db-lag-shard${shard}-replica-0`, ALARM));
    }
  });

  it("THEN every instance of every shard is on its region's dashboard", () => {
    const regional = three.ofType(DASHBOARD).filter((d) => /^(primary|secondary)-/.test(d.name));
    assert.equal(regional.length, 2, "one dashboard per region");
    for (const dashboard of regional) {
      const body = String(dashboard.inputs.dashboardBody);
      const instances = three.ofType(INSTANCE).filter((db) => db.region === dashboard.region);
      assert.equal(
        instances.length,
        3 * one.ofType(INSTANCE).filter((db) => db.region === dashboard.region).length,
      );
      for (const instance of instances) {
        assert.ok(
          body.includes(`"${String(instance.inputs.identifier)}"`),
          `${dashboard.name} shows ${instance.name}`,
        );
      }
    }
    assert.equal(three.ofType(DASHBOARD).length, one.ofType(DASHBOARD).length, "no new dashboard");
  });

  it("THEN each shard is today's shape: a writer with its replicas, and a cross-region replica of that writer", () => {
    const config = parseConfig({ environment: "prod", ...THREE });
    for (const shard of [0, 1, 2]) {
      const prefix = shard === 0 ? "database" : `database-shard${shard}`;
      const writer = three.named(`primary-${prefix}-writer`, INSTANCE);
      for (let replica = 0; replica < config.database.readReplicas; replica += 1) {
        const inRegion = three.named(`primary-${prefix}-replica-${replica}`, INSTANCE);
        assert.equal(inRegion.inputs.replicateSourceDb, writer.inputs.identifier);
      }
      const crossRegion = three.named(`secondary-${prefix}-replica-0`, INSTANCE);
      assert.equal(crossRegion.region, config.regions.secondary);
      assert.match(
        String(crossRegion.inputs.replicateSourceDb),
        new RegExp(`:db:${String(writer.inputs.identifier)}$`),
      );
    }
    assert.equal(
      three.ofType(INSTANCE).length,
      3 * one.ofType(INSTANCE).length,
      "three databases of the same shape",
    );
  });

  it("THEN every web and worker task gets shards 1 and 2 (writer, its region's readers, no secret: IAM tokens) and the map", () => {
    const config = parseConfig({ environment: "prod", ...THREE });
    for (const task of three.ofType(TASK).filter((task) => !isMigrate(task))) {
      const env = environmentOf(task);
      assert.equal(env.DATABASE_AUTH, "iam", task.name);
      const shards = JSON.parse(env.DATABASE_SHARDS ?? "[]") as Array<{
        url: string;
        readUrls: string[];
        secretArn?: string;
      }>;
      assert.equal(shards.length, 2, task.name);
      shards.forEach((shard, index) => {
        // Writes go to the writer's region (primary); reads to the task's own region's replicas.
        assert.match(shard.url, new RegExp(`database-shard${index + 1}-writer\\.`), task.name);
        assert.ok(shard.readUrls.length > 0, task.name);
        for (const url of shard.readUrls) {
          assert.match(
            url,
            new RegExp(`database-shard${index + 1}-replica-\\d\\..*\\.${task.region}\\.`),
          );
        }
        assert.equal(shard.secretArn, undefined, `${task.name}: DATABASE_AUTH=iam refuses one`);
      });
      assert.equal(env.DATABASE_SHARD_MAP, config.database.shardMap, task.name);
    }
    for (const task of one.ofType(TASK)) {
      const env = environmentOf(task);
      assert.equal(env.DATABASE_SHARDS, undefined, `${task.name}: one shard is DATABASE_URL alone`);
      assert.equal(env.DATABASE_SHARD_MAP, undefined, task.name);
    }
  });

  it("THEN the one migrate task migrates every shard: shards 1 and 2 as the master user, each with its own master secret", () => {
    const config = parseConfig({ environment: "prod", ...THREE });
    const [migrate, ...others] = three.ofType(TASK).filter(isMigrate);
    assert.ok(migrate);
    assert.equal(others.length, 0, "one migrate task, in the writer's region");
    const shards = JSON.parse(environmentOf(migrate).DATABASE_SHARDS ?? "[]") as Array<{
      url: string;
      secretArn: string;
    }>;
    assert.equal(shards.length, 2);
    shards.forEach((shard, index) => {
      const writer = three.named(`primary-database-shard${index + 1}-writer`, INSTANCE);
      assert.ok(
        shard.url.startsWith(
          `postgres://${config.database.masterUsername}@${String(writer.state.address)}:`,
        ),
        `${shard.url}: the master user on shard ${index + 1}'s writer`,
      );
      assert.match(shard.secretArn, /^arn:aws:secretsmanager:/);
    });
    assert.equal(new Set(shards.map((shard) => shard.secretArn)).size, 2, "one secret per shard");
  });

  it("THEN only the migrate step, in each region, may read RDS master secrets: shards 1 and 2's with their own keys", () => {
    const readsMasterSecrets = (policy: SynthResource) =>
      statementsOf(policy).some(
        (statement) =>
          [statement.Action].flat().includes("secretsmanager:GetSecretValue") &&
          [statement.Resource].flat().some((arn) => arn.includes(":secret:rds!db-")),
      );
    assert.deepEqual(
      three
        .ofType(POLICY)
        .filter(readsMasterSecrets)
        .map((policy) => policy.name)
        .sort(),
      [
        // shard 0's, injected at task start; shards 1 and 2's, read by the task itself
        "primary-migrate-execution-secrets",
        "primary-migrate-shard-passwords",
        "secondary-migrate-execution-secrets",
        "secondary-migrate-shard-passwords",
      ],
    );
    for (const region of ["primary", "secondary"] as const) {
      const policy = three.named(`${region}-migrate-shard-passwords`, POLICY);
      const read = statementsOf(policy).find((statement) => statement.Sid === "ReadShardPasswords");
      assert.deepEqual(
        [read!.Resource].flat(),
        [
          `arn:aws:secretsmanager:${policy.region}:${String(read!.Resource).split(":")[4]}:secret:rds!db-*`,
        ],
        "the region's RDS master secrets: a promoted writer's is created at failover",
      );
      // …but only this stack's instances' (RDS tags each secret with its instance's ARN): a secret
      // under the account's default key would otherwise be readable by the migrate task.
      assert.deepEqual(read!.Condition, {
        StringLike: {
          "aws:ResourceTag/aws:rds:primaryDBInstanceArn": `arn:aws:rds:${policy.region}:${String(read!.Resource).split(":")[4]}:db:zero-to-millions-prod-*`,
        },
      });
      // The run (in the writer's region; the other holds the grant for a failover) waits for the
      // grant it reads the other shards' passwords with.
      if (region === "primary") {
        assert.ok(
          (three.named(`${region}-migrate-run`).dependsOn ?? []).includes(policy.urn),
          `${region}-migrate-run depends on ${policy.name}`,
        );
      }
      const decrypt = statementsOf(policy).find(
        (statement) => statement.Sid === "DecryptShardPasswords",
      );
      const shardKeys = three
        .ofType(KEY)
        .filter((key) => new RegExp(`^${region}-database-shard[12]\\b`).test(key.name))
        .map((key) => String(key.state.arn));
      assert.equal(shardKeys.length, 2, `${region}: shards 1 and 2 have a key each`);
      assert.deepEqual([decrypt!.Resource].flat().sort(), shardKeys.sort());
    }
    assert.deepEqual(
      one
        .ofType(POLICY)
        .filter((policy) => policy.name.endsWith("-shard-passwords"))
        .map((policy) => policy.name),
      [],
      "one shard: no further secret to read",
    );
  });

  it("THEN the web and worker tasks' database logins are unchanged: one grant per region on the app user covers every shard", () => {
    const connectPolicies = (s: Synth) =>
      s
        .ofType(POLICY)
        .filter((policy) => policy.name.endsWith("-database-connect"))
        .map((policy) => [policy.name, policy.inputs.policy]);
    const before = connectPolicies(one);
    assert.ok(before.length > 0);
    assert.deepEqual(connectPolicies(three), before);
    const { appUsername } = parseConfig({ environment: "prod", ...THREE }).database;
    for (const [, policy] of before) {
      assert.ok(String(policy).includes(`:dbuser:*/${appUsername}"`), String(policy));
    }
  });
});

describe("sharding: GIVEN 2 shards WHEN the primary region is lost (database.writerRegion secondary)", () => {
  let failedOver: Synth;
  before(async () => {
    failedOver = await synth("prod", {
      database: { shards: 2, shardMap: "0-8191:0", writerRegion: "secondary" },
    });
    assert.equal(failedOver.error, undefined, failedOver.error);
  });

  it("THEN each shard's cross-region replica is promoted in place and every task writes to it", () => {
    for (const prefix of ["database", "database-shard1"]) {
      const promoted = failedOver.named(`secondary-${prefix}-replica-0`, INSTANCE);
      assert.equal(promoted.inputs.replicateSourceDb, undefined, `${prefix}: promoted`);
    }
    for (const task of failedOver.ofType(TASK)) {
      const env = environmentOf(task);
      assert.match(env.DATABASE_URL!, /secondary-database-replica-0\./, task.name);
      const [shard1] = JSON.parse(env.DATABASE_SHARDS!) as Array<{ url: string }>;
      assert.match(shard1!.url, /secondary-database-shard1-replica-0\./, task.name);
    }
  });
});

describe("sharding config: database.shards and database.shardMap", () => {
  const table: Array<[string, Record<string, unknown>, RegExp | undefined]> = [
    ["one shard, no map (the default)", {}, undefined],
    ["three shards, all logical shards still on shard 0", THREE.database, undefined],
    [
      "three shards, an even map",
      { shards: 3, shardMap: "0-2730:0,2731-5461:1,5462-8191:2" },
      undefined,
    ],
    ["no shards", { shards: 0 }, /^database\.shards: .*>=1/],
    ["more shards than the program allows", { shards: 17 }, /^database\.shards: .*<=16/],
    [
      "two shards and no map",
      { shards: 2 },
      /^database\.shardMap: required with database\.shards 2: .*npm run shards/,
    ],
    [
      "lowering to 2 while the map still places logical shards on shard 2",
      { shards: 2, shardMap: "0-2730:0,2731-5461:1,5462-8191:2" },
      /^database\.shards: 2 would remove physical shards the map still uses \(logical shards 5462-8191 live on physical shard 2\)\. Fix: .*npm run reshard -- --move <logical shards> --to <physical shard below 2>/,
    ],
    [
      "a map that leaves logical shards nowhere",
      { shards: 2, shardMap: "0-4095:0" },
      /^database\.shardMap: logical shards 4096-8191 are on no physical shard/,
    ],
    [
      "a map that is not ranges",
      { shards: 2, shardMap: "half:0" },
      /^database\.shardMap: "half:0" is not FROM-TO:PHYSICAL/,
    ],
  ];
  for (const [label, database, expected] of table) {
    it(`GIVEN ${label} THEN ${expected === undefined ? "it is valid" : "the problem is named"}`, () => {
      assertProblemMatch(configProblems({ environment: "dev", database }), expected);
    });
  }

  it("GIVEN the rule alone THEN a map within the shards passes, one beyond them is refused", () => {
    assert.equal(shardMapProblem(1, undefined), undefined);
    assert.equal(shardMapProblem(2, "0-4095:0,4096-8191:1"), undefined);
    assert.equal(shardMapProblem(1, "0-4095:0,4096-8191:1")?.key, "shards");
  });
});
