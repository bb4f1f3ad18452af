/**
 * The contract between the app and the infrastructure, as a specification over the synth: every
 * task definition of every stack (dev, prod, localstack, prod after a regional failover, and dev
 * at every stage of the path) is fed, environment and secrets, to the app's own config loader
 * (app/src/config.ts), in the role its command names. Adding a variable on one side only fails
 * here: a task variable the app does not read, a variable the app reads that the contract does
 * not declare, or one the contract says a role gets that its task lacks. A tier the synth lacks
 * (a stage below it, or an emulator without it) leaves its variables out, and the app falls back
 * to its in-process implementation. The deadlines, health paths and URL the stack derives from
 * the contract are checked against the synthesized values too.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { loadConfig, loadMigrateConfig } from "../../app/src/config";
import { parseShardMap } from "../../app/src/sharding/shardMap";
import {
  HEALTH_CHECKERS,
  MAX_STOP_TIMEOUT_SECONDS,
  MIGRATE_SECRETS,
  MIGRATE_VARIABLES,
  SHARD_VARIABLES,
  taskSecretsWith,
  taskVariablesWith,
  type Tier,
  VARIABLES,
} from "../../contract";
import { synth, type Synth, type SynthResource } from "../../harness";
import { STAGES } from "../../stacks/stages";
import { parsedStackConfig } from "./support/stacks";
import {
  containerOf,
  isMigrate,
  loadAsTheApp,
  processRoleOf,
  roleTasks,
  taskEnvironment,
  taskRoleOf,
  watchReads,
} from "./tasks";
import { THREE_EVEN_SHARDS, WRITER_IN_SECONDARY } from "./support/variants";

const T = {
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  service: "aws:ecs/service:Service",
  targetGroup: "aws:lb/targetGroup:TargetGroup",
  healthCheck: "aws:route53/healthCheck:HealthCheck",
  cacheGroup: "aws:elasticache/replicationGroup:ReplicationGroup",
  distribution: "aws:cloudfront/distribution:Distribution",
  bucket: "aws:s3/bucket:Bucket",
  vpc: "aws:ec2/vpc:Vpc",
} as const;

const STACKS = [
  { label: "dev", stack: "dev", overrides: {} },
  { label: "prod", stack: "prod", overrides: {} },
  { label: "localstack", stack: "localstack", overrides: {} },
  { label: "prod with the writer in the secondary", stack: "prod", overrides: WRITER_IN_SECONDARY },
  { label: "prod with 3 shards", stack: "prod", overrides: { database: THREE_EVEN_SHARDS } },
  ...STAGES.map(({ stage }) => ({
    label: `dev at stage ${stage}`,
    stack: "dev",
    overrides: { stage },
  })),
] as const;

const synths = new Map<string, Synth>();
before(async () => {
  const results = await Promise.all(STACKS.map(({ stack, overrides }) => synth(stack, overrides)));
  STACKS.forEach(({ label }, index) => {
    const result = results[index]!;
    assert.equal(result.error, undefined, `synth of ${label} failed: ${result.error}`);
    synths.set(label, result);
  });
});

/** The database config of a stack with its overrides (stage 9 has two physical shards). */
const databaseOf = (stack: string, overrides: Record<string, unknown>) =>
  parsedStackConfig(stack, overrides).database;

for (const { label, stack, overrides } of STACKS) {
  const { shards, shardMap } = databaseOf(stack, overrides);
  describe(`contract: ${label}`, () => {
    const tasks = () => roleTasks(synths.get(label)!);
    const inRegionOf = (task: SynthResource, resources: readonly SynthResource[]) =>
      resources.some((resource) => resource.region === task.region);
    // The tiers the synth gives a task beyond the database: the users' files bucket (every stage,
    // never derived from the synth: its absence must fail), a cache group in its region (none on
    // the emulator, nor below the cache's stage), a CDN, a worker service in its region.
    const tiersOf = (task: SynthResource): Tier[] => {
      const s = synths.get(label)!;
      const workers = roleTasks(s).filter((t) => processRoleOf(t) === "worker");
      return [
        "files",
        ...(inRegionOf(task, s.ofType(T.cacheGroup)) ? (["cache"] as const) : []),
        ...(s.ofType(T.distribution).length > 0 ? (["cdn"] as const) : []),
        ...(inRegionOf(task, workers) ? (["queue"] as const) : []),
      ];
    };
    // The shards' variables are set exactly when there is more than one physical shard.
    const withShards = (names: readonly string[]) =>
      names.filter((name) => shards > 1 || !(SHARD_VARIABLES as readonly string[]).includes(name));

    it("GIVEN the synth THEN each region runs a web and a worker task, or (below the queue's stage) one task running both", () => {
      const byRegion = new Map<string | null, string[]>();
      for (const task of tasks()) {
        byRegion.set(task.region, [...(byRegion.get(task.region) ?? []), processRoleOf(task)]);
      }
      assert.ok(byRegion.size > 0, "no task");
      const full = !label.startsWith("dev at stage");
      for (const [region, roles] of byRegion) {
        const expected = full ? [["web", "worker"]] : [["web", "worker"], ["all"]];
        assert.ok(
          expected.some((shape) => shape.join() === roles.sort().join()),
          `${region}: ${roles.join()}`,
        );
      }
    });

    it("GIVEN every task's environment and secrets THEN the app's loader accepts them in the task's role, out of the embedded mode for every tier the synth has", () => {
      for (const task of tasks()) {
        const { config } = loadAsTheApp(task);
        const tiers = tiersOf(task);
        assert.deepEqual(
          [
            config.database.kind,
            config.redis !== undefined,
            config.files.kind,
            config.files.kind === "s3" && config.files.cdnDomain !== undefined,
            config.queueUrl !== undefined,
          ],
          [
            "postgres",
            tiers.includes("cache"),
            tiers.includes("files") ? "s3" : "local",
            tiers.includes("cdn"),
            tiers.includes("queue"),
          ],
          task.name,
        );
        // Every physical shard reaches the app: shards 1..N-1 beside DATABASE_URL, and the map.
        assert.equal(
          config.database.kind === "postgres" ? config.database.shards.length + 1 : 0,
          shards,
          `${task.name}: physical shards`,
        );
        if (shards > 1) {
          assert.deepEqual(
            config.shardMap,
            parseShardMap(shardMap!, shards),
            `${task.name}: the stack's shard map`,
          );
        }
      }
    });

    it("GIVEN every task THEN it gets exactly its role's variables and secrets, and the app reads each of them", () => {
      for (const task of tasks()) {
        const role = taskRoleOf(task);
        const container = containerOf(task);
        const { read } = loadAsTheApp(task);
        assert.deepEqual(
          container.environment.map(({ name }) => name).sort(),
          withShards(taskVariablesWith(role, tiersOf(task))).sort(),
          `${task.name}: plain variables`,
        );
        assert.deepEqual(
          container.secrets.map(({ name }) => name).sort(),
          taskSecretsWith(tiersOf(task)).sort(),
          `${task.name}: secrets`,
        );
        const unread = Object.keys(taskEnvironment(task)).filter((name) => !read.has(name));
        assert.deepEqual(unread, [], `${task.name}: variables the app never reads`);
      }
    });

    it("GIVEN every web and worker task THEN its files live in the stack's files bucket, of the region holding the writer, with or without a CDN", () => {
      const s = synths.get(label)!;
      const { writerRegion } = databaseOf(stack, overrides);
      // After a failover, the replica: the primary's region may be lost.
      const bucket = s.named(
        writerRegion === "secondary" ? "assets-replica" : "assets-bucket",
        T.bucket,
      );
      const webAndWorkers = tasks();
      assert.ok(webAndWorkers.length > 0, "no web or worker task");
      for (const task of webAndWorkers) {
        const { config } = loadAsTheApp(task);
        assert.equal(config.files.kind, "s3", task.name);
        if (config.files.kind !== "s3") continue;
        assert.deepEqual(
          [config.files.bucket, config.files.region],
          [bucket.state.bucket, bucket.region],
          task.name,
        );
      }
    });

    it("GIVEN the web tasks THEN only their own VPC (the load balancer) may forward client addresses, and the cookie key is a secret of their own region", () => {
      const s = synths.get(label)!;
      for (const task of tasks().filter((candidate) => taskRoleOf(candidate) === "web")) {
        const vpc = s.ofType(T.vpc).find((candidate) => candidate.region === task.region);
        assert.ok(vpc, `${task.name}: no VPC in ${task.region}`);
        const container = containerOf(task);
        const plain = Object.fromEntries(container.environment.map((e) => [e.name, e.value]));
        assert.equal(plain.TRUSTED_PROXIES, vpc.inputs.cidrBlock, task.name);
        const cookie = container.secrets.find(({ name }) => name === "COOKIE_SECRET");
        assert.ok(cookie, `${task.name}: no COOKIE_SECRET`);
        assert.match(
          String(cookie.valueFrom),
          new RegExp(`^arn:aws:secretsmanager:${task.region}:`),
        );
      }
    });

    it("GIVEN what the app's loader reads THEN every variable is one the contract declares", () => {
      for (const task of tasks()) {
        const undeclared = [...loadAsTheApp(task).read].filter((name) => !(name in VARIABLES));
        assert.deepEqual(undeclared, [], `${task.name}: read but not in contract/environment.ts`);
      }
    });

    it("GIVEN each task's deadlines THEN the app exits before ECS kills it, and a web task before its load balancer stops draining", () => {
      const s = synths.get(label)!;
      for (const task of tasks()) {
        const container = containerOf(task);
        const appSeconds = Number(taskEnvironment(task).SHUTDOWN_DEADLINE_SECONDS);
        assert.ok(appSeconds > 0, `${task.name}: SHUTDOWN_DEADLINE_SECONDS`);
        assert.ok(
          appSeconds < container.stopTimeout && container.stopTimeout <= MAX_STOP_TIMEOUT_SECONDS,
          `${task.name}: app ${appSeconds} s, stopTimeout ${container.stopTimeout} s`,
        );
        if (taskRoleOf(task) !== "web") continue;
        const service = s
          .ofType(T.service)
          .find((candidate) => candidate.inputs.taskDefinition === task.state.arn);
        assert.ok(service, `${task.name}: no service runs it`);
        const [{ targetGroupArn }] = service.inputs.loadBalancers as [{ targetGroupArn: string }];
        const group = s.ofType(T.targetGroup).find((g) => g.state.arn === targetGroupArn);
        assert.ok(group, `${task.name}: no target group`);
        assert.ok(
          appSeconds < Number(group.inputs.deregistrationDelay),
          `${task.name}: app ${appSeconds} s, deregistration delay ${String(group.inputs.deregistrationDelay)} s`,
        );
      }
    });

    it("GIVEN the health checks THEN the load balancer asks for readiness and Route53 for liveness (contract: HEALTH_CHECKERS)", () => {
      const s = synths.get(label)!;
      assert.equal(
        s.ofType(T.targetGroup).length,
        s.ofType(T.vpc).length,
        "one target group per region",
      );
      if (label.startsWith("prod")) assert.equal(s.ofType(T.healthCheck).length, 2);
      for (const group of s.ofType(T.targetGroup)) {
        const healthCheck = group.inputs.healthCheck as { path: string };
        assert.equal(healthCheck.path, HEALTH_CHECKERS.loadBalancer.path, group.name);
      }
      for (const check of s.ofType(T.healthCheck)) {
        assert.equal(check.inputs.resourcePath, HEALTH_CHECKERS.dnsFailover.path, check.name);
      }
    });
  });
}

describe("contract: the migrate step", () => {
  for (const { label, stack, overrides } of STACKS) {
    const { shards } = databaseOf(stack, overrides);
    it(`GIVEN ${label} THEN one migrate task gets exactly its variables and secrets, and the app's loaders read each`, () => {
      const migrates = synths.get(label)!.ofType(T.taskDefinition).filter(isMigrate);
      assert.equal(migrates.length, 1);
      const task = migrates[0]!;
      const container = containerOf(task);
      // The other shards' variable is set exactly when there is more than one physical shard.
      assert.deepEqual(
        container.environment.map(({ name }) => name).sort(),
        MIGRATE_VARIABLES.filter(
          (name) => shards > 1 || !(SHARD_VARIABLES as readonly string[]).includes(name),
        ).sort(),
      );
      assert.deepEqual(
        container.secrets.map(({ name }) => name).sort(),
        [...MIGRATE_SECRETS].sort(),
      );
      const env = taskEnvironment(task);
      const { read, watched } = watchReads(env);
      const config = loadConfig(watched, "/srv");
      const migrate = loadMigrateConfig(watched);
      assert.equal(config.database.kind, "postgres");
      assert.ok(migrate.appRole, "DATABASE_APP_USER");
      assert.deepEqual(
        Object.keys(env).filter((name) => !read.has(name)),
        [],
        "variables the migrate command never reads",
      );
    });
  }
});

describe("contract: the site's URL", () => {
  it("GIVEN prod with a domain THEN each region's albUrl is https on that domain, a name its certificate covers", () => {
    const s = synths.get("prod")!;
    const outputs = s.outputs as {
      dns: { appDomain: string };
      regions: Record<string, { albUrl: string }>;
    };
    const urls = Object.values(outputs.regions).map((region) => region.albUrl);
    assert.ok(urls.length === 2, JSON.stringify(outputs.regions));
    for (const url of urls) assert.equal(url, `https://${outputs.dns.appDomain}`);
  });

  it("GIVEN dev without a domain THEN albUrl is the load balancer's own name over plain HTTP", () => {
    const outputs = synths.get("dev")!.outputs as { regions: Record<string, { albUrl: string }> };
    for (const region of Object.values(outputs.regions)) {
      assert.match(region.albUrl, /^http:\/\/[\w.-]+\.elb\.amazonaws\.com$/);
    }
  });
});
