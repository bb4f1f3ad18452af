/**
 * The contract between the app and the infrastructure, as a specification over the synth: every
 * task definition of every stack (dev, prod, localstack, and prod after a regional failover) is
 * fed, environment and secrets, to the app's own config loader (app/src/config.ts), in the role
 * its command names. Adding a variable on one side only fails here: a task variable the app does
 * not read, a variable the app reads that the contract does not declare, or one the contract says
 * a role gets that its task lacks. The deadlines, health paths and URL the stack derives from the
 * contract are checked against the synthesized values too.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { checkRole, loadConfig, loadMigrateConfig, parseRole } from "../../app/src/config";
import {
  HEALTH_CHECKERS,
  MAX_STOP_TIMEOUT_SECONDS,
  MIGRATE_COMMAND,
  MIGRATE_SECRETS,
  MIGRATE_VARIABLES,
  OPTIONAL_TIER_VARIABLES,
  SHARD_VARIABLES,
  TASK_ROLES,
  TASK_SECRETS,
  TASK_VARIABLES,
  type TaskRole,
  type Variable,
  VARIABLES,
} from "../../contract";
import { synth, type Synth, type SynthResource } from "../../harness";

const T = {
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  service: "aws:ecs/service:Service",
  targetGroup: "aws:lb/targetGroup:TargetGroup",
  healthCheck: "aws:route53/healthCheck:HealthCheck",
  cacheGroup: "aws:elasticache/replicationGroup:ReplicationGroup",
  vpc: "aws:ec2/vpc:Vpc",
} as const;

const STACKS = [
  { label: "dev", stack: "dev", overrides: {} },
  { label: "prod", stack: "prod", overrides: {} },
  { label: "localstack", stack: "localstack", overrides: {} },
  {
    label: "prod with the writer in the secondary",
    stack: "prod",
    overrides: { database: { writerRegion: "secondary" } },
  },
  {
    label: "prod with 3 shards",
    stack: "prod",
    overrides: { database: { shards: 3, shardMap: "0-2730:0,2731-5461:1,5462-8191:2" } },
  },
] as const;

interface Container {
  command: string[];
  environment: Array<{ name: string; value: string }>;
  secrets: Array<{ name: string; valueFrom: string }>;
  stopTimeout: number;
}

const containerOf = (task: SynthResource) =>
  (JSON.parse(String(task.inputs.containerDefinitions)) as Container[])[0]!;

const isMigrate = (task: SynthResource) => containerOf(task).command[0] === MIGRATE_COMMAND[0];
/** The web and worker tasks; the migrate step has its own spec below. */
const roleTasks = (s: Synth) => s.ofType(T.taskDefinition).filter((task) => !isMigrate(task));

const roleOf = (task: SynthResource): TaskRole => {
  const role = containerOf(task).command[0];
  assert.ok((TASK_ROLES as readonly string[]).includes(role ?? ""), `${task.name}: role ${role}`);
  return role as TaskRole;
};

/**
 * The environment a task starts with: its plain variables, and for each secret (a `valueFrom`
 * ARN that only ECS resolves) the contract's example value for that variable.
 */
function taskEnvironment(task: SynthResource): Record<string, string> {
  const container = containerOf(task);
  const env = Object.fromEntries(container.environment.map(({ name, value }) => [name, value]));
  for (const { name } of container.secrets) {
    const variable = (VARIABLES as Record<string, Variable<unknown> | undefined>)[name];
    assert.ok(variable, `${task.name}: secret ${name} is not a variable of the contract`);
    env[name] = variable.example;
  }
  return env;
}

/** `env` as a loader sees it, and the names of the variables it has read so far. */
function watchReads(env: Record<string, string>) {
  const read = new Set<string>();
  const watched = new Proxy(env, {
    get(target, key) {
      if (typeof key === "string") read.add(key);
      return target[key as string];
    },
  });
  return { read, watched };
}

/** Loads `env` with the app's loader and returns what it read. */
function loadAsTheApp(task: SynthResource) {
  const env = taskEnvironment(task);
  const { read, watched } = watchReads(env);
  const role = parseRole(roleOf(task));
  const config = loadConfig(watched, "/srv");
  checkRole(role, config);
  return { env, read, config };
}

const synths = new Map<string, Synth>();
before(async () => {
  const results = await Promise.all(STACKS.map(({ stack, overrides }) => synth(stack, overrides)));
  STACKS.forEach(({ label }, index) => {
    const result = results[index]!;
    assert.equal(result.error, undefined, `synth of ${label} failed: ${result.error}`);
    synths.set(label, result);
  });
});

for (const { label, overrides } of STACKS) {
  const shards =
    "database" in overrides && "shards" in overrides.database ? overrides.database.shards : 1;
  describe(`contract: ${label}`, () => {
    const tasks = () => roleTasks(synths.get(label)!);
    // A region without a cache (the emulator cannot host one) leaves the cache's variables out.
    const hasCache = (task: SynthResource) =>
      synths
        .get(label)!
        .ofType(T.cacheGroup)
        .some((group) => group.region === task.region);
    // The shards' variables are set exactly when there is more than one physical shard.
    const expected = (names: readonly string[], task: SynthResource) =>
      names
        .filter(
          (name) =>
            hasCache(task) || !(OPTIONAL_TIER_VARIABLES as readonly string[]).includes(name),
        )
        .filter((name) => shards > 1 || !(SHARD_VARIABLES as readonly string[]).includes(name))
        .sort();

    it("GIVEN the synth THEN it runs a web and a worker task per region", () => {
      const roles = tasks().map(roleOf);
      for (const role of TASK_ROLES) assert.ok(roles.includes(role), `no ${role} task`);
    });

    it("GIVEN every task's environment and secrets THEN the app's loader accepts them in the task's role, every tier out of the embedded mode", () => {
      for (const task of tasks()) {
        const { config } = loadAsTheApp(task);
        assert.deepEqual(
          [config.database.kind, config.redis !== undefined, config.queueUrl !== undefined],
          ["postgres", hasCache(task), true],
          task.name,
        );
        assert.equal(config.files.kind, "s3", task.name);
        // Every physical shard reaches the app: shards 1..N-1 beside DATABASE_URL, and the map.
        assert.equal(
          config.database.kind === "postgres" ? config.database.shards.length + 1 : 0,
          shards,
          `${task.name}: physical shards`,
        );
        if (shards > 1) {
          assert.equal(config.shardMap?.length, 8192, `${task.name}: the shard map`);
          assert.equal(
            new Set(config.shardMap).size,
            shards,
            `${task.name}: the map uses each shard`,
          );
        }
      }
    });

    it("GIVEN every task THEN it gets exactly its role's variables and secrets, and the app reads each of them", () => {
      for (const task of tasks()) {
        const role = roleOf(task);
        const container = containerOf(task);
        const { read } = loadAsTheApp(task);
        assert.deepEqual(
          container.environment.map(({ name }) => name).sort(),
          expected(TASK_VARIABLES[role], task),
          `${task.name}: plain variables`,
        );
        assert.deepEqual(
          container.secrets.map(({ name }) => name).sort(),
          expected(TASK_SECRETS, task),
          `${task.name}: secrets`,
        );
        const unread = Object.keys(taskEnvironment(task)).filter((name) => !read.has(name));
        assert.deepEqual(unread, [], `${task.name}: variables the app never reads`);
      }
    });

    it("GIVEN the web tasks THEN only their own VPC (the load balancer) may forward client addresses, and the cookie key is a secret of their own region", () => {
      const s = synths.get(label)!;
      for (const task of tasks().filter((candidate) => roleOf(candidate) === "web")) {
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
        if (roleOf(task) !== "web") continue;
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
      assert.equal(s.ofType(T.targetGroup).length, 2, "one target group per region");
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
  for (const { label, overrides } of STACKS) {
    const shards =
      "database" in overrides && "shards" in overrides.database ? overrides.database.shards : 1;
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
