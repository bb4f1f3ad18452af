/**
 * The path from one server to millions (stacks/stages.ts), as a specification: what each stage's
 * config turns on and what config refuses (no synth), then over the synth of every stage of the
 * dev stack, as the README prices it (one synth per stage, shared by every assertion): what exists
 * at each stage, that once a stage runs more than one web task no user state lives in one task's
 * memory, that the policy pack finds no mandatory violation, and that every step up keeps every
 * stateful resource in place. That each task's environment loads in the app's own loader with the
 * stage's tiers is the contract spec's (test/stack/contract.test.ts runs every stage).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { userStateHomes } from "../../app/src/tiers";
import { synth, type Synth } from "../../harness";
import {
  BASE_DEFAULTS,
  ConfigError,
  ENVIRONMENT_DEFAULTS,
  ENVIRONMENT_OVERRIDES,
  ENVIRONMENTS,
  parseConfig,
} from "../../stacks/config";
import { defaultsFor } from "../../stacks/configDefaults";
import { deepMerge } from "../../stacks/deepMerge";
import {
  changeProblems,
  STAGES,
  STATEFUL_SWITCHES,
  statefulTiersOf,
  unusedAcknowledgements,
} from "../../stacks/stages";
import { describeViolations, runPackOver } from "../policy/runner";
import { estimate } from "../../tools/cost/estimate";
import { README, readmeWithStageTable, STAGE_STACKS } from "../../tools/readme";
import { replacingChanges } from "../../components/replacementInputs";
import { parsedStackConfig } from "./support/stacks";
import { containerOf, loadAsTheApp, roleTasks, taskRoleOf } from "./tasks";

const T = {
  db: "aws:rds/instance:Instance",
  cache: "aws:elasticache/replicationGroup:ReplicationGroup",
  distribution: "aws:cloudfront/distribution:Distribution",
  queue: "aws:sqs/queue:Queue",
  tableReplica: "aws:dynamodb/tableReplica:TableReplica",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  service: "aws:ecs/service:Service",
  scalingTarget: "aws:appautoscaling/target:Target",
  peering: "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
  listener: "aws:lb/listener:Listener",
  record: "aws:route53/record:Record",
  bucket: "aws:s3/bucket:Bucket",
  key: "aws:kms/key:Key",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
} as const;
/** Physical shard 0's writer: the name it had before sharding (stacks/region.ts: shardName). */
const FIRST_WRITER = "primary-database-writer";

/**
 * What exists at each stage of each stack: regions, cache groups, CDNs, job queues, replicas
 * next to the first writer, the web command, the most web tasks the stack runs (every region's at
 * its maximum), the cache-invalidation queues, the sessions table's replicas, and the writers
 * (one per physical shard). The sessions table and an invalidation queue exist from stage 1
 * (sessions never live in a task); the second region (stage 6) adds its own queue and the
 * table's only replica: with one region nothing crosses regions.
 */
type Shape = [number, number, number, number, number, string, number, number, number, number];
const EXPECTED: Record<(typeof STAGE_STACKS)[number], Record<number, Shape>> = {
  dev: {
    //  regions, cache groups, distributions, job queues, first writer's replicas, web command,
    //  web tasks, invalidation queues, sessions table replicas, writers
    1: [1, 0, 0, 0, 0, "all", 1, 1, 0, 1],
    2: [1, 0, 0, 0, 1, "all", 1, 1, 0, 1],
    3: [1, 1, 0, 0, 1, "all", 1, 1, 0, 1],
    4: [1, 1, 1, 0, 1, "all", 1, 1, 0, 1],
    5: [1, 1, 1, 0, 1, "all", 4, 1, 0, 1],
    6: [2, 2, 1, 0, 1, "all", 8, 2, 1, 1],
    7: [2, 2, 1, 2, 1, "web", 8, 2, 1, 1],
    8: [2, 2, 1, 2, 1, "web", 8, 2, 1, 1],
    9: [2, 2, 1, 2, 1, "web", 8, 2, 1, 2],
  },
  prod: {
    1: [1, 0, 0, 0, 0, "all", 1, 1, 0, 1],
    2: [1, 0, 0, 0, 2, "all", 1, 1, 0, 1],
    3: [1, 1, 0, 0, 2, "all", 1, 1, 0, 1],
    4: [1, 1, 1, 0, 2, "all", 1, 1, 0, 1],
    5: [1, 1, 1, 0, 2, "all", 30, 1, 0, 1],
    6: [2, 2, 1, 0, 2, "all", 60, 2, 1, 1],
    7: [2, 2, 1, 2, 2, "web", 60, 2, 1, 1],
    8: [2, 2, 1, 2, 2, "web", 60, 2, 1, 1],
    9: [2, 2, 1, 2, 2, "web", 60, 2, 1, 2],
  },
};

const configAt = (stage: number, raw: Record<string, unknown> = {}) =>
  parseConfig({ environment: "dev", stage, ...raw });

describe("stages: config", () => {
  it("GIVEN the table THEN it has one row per stage, numbered 1 to n, each adding something", () => {
    assert.deepEqual(
      STAGES.map((row) => row.stage),
      STAGES.map((_, index) => index + 1),
    );
    for (const row of STAGES.slice(1)) assert.notDeepEqual(row.before, {}, `stage ${row.stage}`);
    for (const stack of STAGE_STACKS) {
      assert.deepEqual(
        Object.keys(EXPECTED[stack]).map(Number),
        STAGES.map((row) => row.stage),
        stack,
      );
    }
  });

  it("GIVEN no stage THEN each environment stands at stage 8, every step but sharding (a stack takes stage 9 on purpose)", () => {
    for (const environment of ENVIRONMENTS) {
      const defaults = ENVIRONMENT_DEFAULTS[environment];
      assert.equal(defaults.stage, 8, environment);
      assert.deepEqual(defaultsFor(environment, 8), defaults, environment);
      assert.deepEqual(
        [defaults.database.shards, defaults.database.shardMap],
        [1, undefined],
        environment,
      );
    }
  });

  it("GIVEN the top stage THEN it is the base with the environment's overrides: every switch on", () => {
    for (const environment of ENVIRONMENTS) {
      assert.deepEqual(
        defaultsFor(environment, STAGES.length),
        deepMerge(BASE_DEFAULTS, {
          ...ENVIRONMENT_OVERRIDES[environment],
          stage: STAGES.length,
        }),
        environment,
      );
    }
  });

  it("GIVEN stage 9 THEN a second physical shard with every logical shard on shard 0; stage 8: one shard, no map", () => {
    const shape = (stage: number) => {
      const { database } = configAt(stage);
      return [database.shards, database.shardMap];
    };
    assert.deepEqual(shape(9), [2, "0-8191:0"]);
    assert.deepEqual(shape(8), [1, undefined]);
  });

  it("GIVEN stage 1 THEN one region, one web task running the jobs, no cache, CDN, queue or replica", () => {
    const config = configAt(1);
    assert.deepEqual(
      [
        config.regions.count,
        config.web.maxTasks,
        config.workers.mode,
        config.cache.enabled,
        config.cdn.enabled,
        config.database.readReplicas,
      ],
      [1, 1, "inProcess", false, false, 0],
    );
  });

  it("GIVEN a stage and an explicit switch THEN the switch wins (a switch stands alone)", () => {
    assert.equal(configAt(1, { cache: { enabled: true } }).cache.enabled, true);
    assert.equal(configAt(2, { database: { readReplicas: 3 } }).database.readReplicas, 3);
    assert.equal(configAt(7, { web: { maxTasks: 9 } }).web.maxTasks, 9);
    const moved = { shards: 3, shardMap: "0-2730:0,2731-5461:1,5462-8191:2" };
    assert.deepEqual(
      configAt(9, { database: moved }).database.shardMap,
      moved.shardMap,
      "the stack's map, not the stage's",
    );
  });

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      "more than one web task with rate limits in memory",
      { stage: 2, web: { maxTasks: 2 } },
      /cache\.enabled: false, but web\.maxTasks is 2.*Fix:/,
    ],
    [
      "a second region with rate limits in memory",
      { stage: 1, regions: { count: 2 } },
      /cache\.enabled: false, but regions\.count is 2/,
    ],
    [
      "the writer in a region that does not exist",
      { stage: 5, database: { writerRegion: "secondary" } },
      /database\.writerRegion: secondary, but regions\.count is 1/,
    ],
    [
      "more than one physical shard in one region",
      { stage: 5, database: { shards: 2, shardMap: "0-8191:0" } },
      /^database\.shards: 2, but regions\.count is 1: .*cross-region replica.*Fix: set regions\.count 2, or database\.shards 1/,
    ],
    [
      "stage 9 down to one region",
      { stage: 9, regions: { count: 1 }, allowDataLoss: true },
      /^database\.shards: 2, but regions\.count is 1/,
    ],
    [
      "fewer shards while the map still places logical shards on a dropped one, even with allowDataLoss",
      { stage: 9, database: { shards: 1, shardMap: "0-4095:0,4096-8191:1" }, allowDataLoss: true },
      /^database\.shards: 1 would remove physical shards the map still uses .*npm run reshard/,
    ],
    ["a stage off the path", { stage: STAGES.length + 1 }, /stage: /],
  ];
  for (const [what, raw, message] of refused) {
    it(`GIVEN ${what} THEN config validation refuses it, naming the key and the fix`, () => {
      assert.throws(
        () => parseConfig({ environment: "dev", ...raw }),
        (error: ConfigError) =>
          error instanceof ConfigError && error.problems.some((p) => message.test(p)),
      );
    });
  }

  /** Each stateful switch lowered at the first stage that has it on, the rest left consistent. */
  const stepDowns: Array<[string, Record<string, unknown>]> = [
    ["cache.enabled", { stage: 3, cache: { enabled: false } }],
    ["cdn.enabled", { stage: 4, cdn: { enabled: false } }],
    ["regions.count", { stage: 6, regions: { count: 1 } }],
    ["workers.mode", { stage: 7, workers: { mode: "inProcess" } }],
    ["database.shards", { stage: 9, database: { shards: 1 } }],
  ];
  it("GIVEN the step-down table THEN it has a row for every stateful switch", () => {
    assert.deepEqual(
      stepDowns.map(([key]) => key).sort(),
      STATEFUL_SWITCHES.map(({ key }) => key).sort(),
    );
  });
  for (const [key, raw] of stepDowns) {
    const row = () => STATEFUL_SWITCHES.find((candidate) => candidate.key === key)!;
    it(`GIVEN ${key} lowered at stage ${String(raw.stage)} THEN config refuses the step down alone, naming what it deletes and allowDataLoss`, () => {
      assert.throws(
        () => parseConfig({ environment: "dev", ...raw }),
        (error: ConfigError) =>
          error instanceof ConfigError &&
          error.problems.length === 1 &&
          new RegExp(
            `^${key.replace(".", "\\.")}: (switched off below its stage|1, below its stage's 2), which deletes .*Fix: .*allowDataLoss: \\["${key.replace(".", "\\.")}"\\] \\(or true\\)`,
          ).test(error.problems[0]!),
      );
    });
    it(`GIVEN ${key} lowered at stage ${String(raw.stage)} with allowDataLoss naming it (or true) THEN config accepts it, with less than the stage keeps`, () => {
      for (const allowDataLoss of [[key], true]) {
        const config = parseConfig({ environment: "dev", ...raw, allowDataLoss });
        const stage = configAt(Number(raw.stage));
        assert.ok(row().amount(config) < row().amount(stage));
      }
    });
    it(`GIVEN ${key} lowered at stage ${String(raw.stage)} with allowDataLoss naming another switch THEN config still refuses it`, () => {
      const other = STATEFUL_SWITCHES.find((candidate) => candidate.key !== key)!.key;
      assert.throws(
        () => parseConfig({ environment: "dev", ...raw, allowDataLoss: [other] }),
        (error: ConfigError) =>
          error instanceof ConfigError && error.problems[0]!.startsWith(`${key}: `),
      );
    });
    it(`GIVEN ${key} at the stage below ${String(raw.stage)} THEN it is where the step down leaves it (nothing to delete)`, () => {
      const below = parseConfig({ environment: "dev", ...raw, stage: Number(raw.stage) - 1 });
      const lowered = parseConfig({ environment: "dev", ...raw, allowDataLoss: true });
      assert.equal(row().amount(below), row().amount(lowered));
    });
  }

  it("GIVEN the CDN kept off from stage 6 on (acknowledged), with many web tasks and worker tasks THEN config accepts it: users' files are in the bucket at every stage, not on a task's disk", () => {
    for (const stage of [6, 7, 8]) {
      const config = parseConfig({
        environment: "prod",
        stage,
        cdn: { enabled: false },
        allowDataLoss: ["cdn.enabled"],
      });
      assert.equal(config.cdn.enabled, false);
      assert.ok(config.web.maxTasks > 1);
      if (stage >= 7) assert.equal(config.workers.mode, "service");
    }
  });

  it("GIVEN stage 9 and more shards than it has THEN it is no step down", () => {
    const config = configAt(9, { database: { shards: 3 } });
    assert.deepEqual([config.database.shards, config.database.shardMap], [3, "0-8191:0"]);
  });

  it("GIVEN no stage (stage 8) and one region THEN config refuses it", () => {
    assert.throws(
      () => parseConfig({ environment: "dev", regions: { count: 1 } }),
      (error: ConfigError) =>
        error instanceof ConfigError &&
        error.problems.some((p) => p.startsWith("regions.count: switched off below its stage")),
    );
  });
});

describe("stages: a change from what is deployed (the step-down check before every preview and up)", () => {
  const dev = (raw: Record<string, unknown>) => parseConfig({ environment: "dev", ...raw });
  /** What the preview refuses of a change from the deployment `deployed` to the stack file `next`. */
  const change = (deployed: Record<string, unknown>, next: Record<string, unknown>) => {
    const parsed = dev(next);
    const tiers = statefulTiersOf(dev(deployed));
    return [
      ...changeProblems(tiers, parsed),
      ...unusedAcknowledgements(tiers, parsed, defaultsFor("dev", parsed.stage)),
    ];
  };
  /** [what, deployed, next, the problems' starts (empty: allowed)] */
  const changes: Array<[string, Record<string, unknown>, Record<string, unknown>, string[]]> = [
    ["a step up", { stage: 3 }, { stage: 4 }, []],
    ["the same stage", { stage: 6 }, { stage: 6 }, []],
    ["unset stage (stage 8) to stage 8", {}, { stage: 8 }, []],
    ["unset stage to stage 9 (sharding, on purpose)", {}, { stage: 9 }, []],
    ["stage 9 → 8", { stage: 9 }, { stage: 8 }, ["stage: 9 → 8 lowers database.shards 2 → 1"]],
    [
      "fewer shards at the same stage",
      { stage: 9, database: { shards: 3 } },
      { stage: 9 },
      ["database.shards: lowered 3 → 2"],
    ],
    ["a step down that deletes nothing (replicas, flow logs)", { stage: 8 }, { stage: 7 }, []],
    ["stage 2 → 1 (read replicas hold copies only)", { stage: 2 }, { stage: 1 }, []],
    ["stage 3 → 2", { stage: 3 }, { stage: 2 }, ["stage: 3 → 2 turns cache.enabled off"]],
    [
      "stage 7 → 5",
      { stage: 7 },
      { stage: 5 },
      ["stage: 7 → 5 turns regions.count off", "stage: 7 → 5 turns workers.mode off"],
    ],
    [
      "unset stage (stage 8) → stage 1",
      {},
      { stage: 1 },
      [
        "stage: 8 → 1 turns cache.enabled off",
        "stage: 8 → 1 turns cdn.enabled off",
        "stage: 8 → 1 turns regions.count off",
        "stage: 8 → 1 turns workers.mode off",
      ],
    ],
    [
      "a switch turned off at the same stage",
      { stage: 2, cache: { enabled: true } },
      { stage: 2 },
      ["cache.enabled: turned off"],
    ],
    ["a step down with allowDataLoss", { stage: 7 }, { stage: 3, allowDataLoss: true }, []],
    [
      "a step down with allowDataLoss naming every switch it lowers",
      { stage: 4 },
      { stage: 2, allowDataLoss: ["cache.enabled", "cdn.enabled"] },
      [],
    ],
    [
      "a step down with allowDataLoss naming only one of the switches it lowers",
      { stage: 4 },
      { stage: 2, allowDataLoss: ["cache.enabled"] },
      ["stage: 4 → 2 turns cdn.enabled off"],
    ],
    [
      "allowDataLoss left in the stack file after its step down",
      { stage: 3, allowDataLoss: true },
      { stage: 3, allowDataLoss: true },
      ["allowDataLoss: true acknowledges a step down this change does not make"],
    ],
    [
      "allowDataLoss naming a switch this change keeps",
      { stage: 4 },
      { stage: 3, allowDataLoss: ["cdn.enabled", "workers.mode"] },
      ['allowDataLoss: "workers.mode" acknowledges a step down this change does not make'],
    ],
    [
      "allowDataLoss for a switch kept below its stage (deployed so)",
      { stage: 7, workers: { mode: "inProcess" }, allowDataLoss: ["workers.mode"] },
      { stage: 7, workers: { mode: "inProcess" }, allowDataLoss: ["workers.mode"] },
      [],
    ],
    [
      "a later step down past a switch kept below its stage (to a stage that has it off anyway)",
      { stage: 7, workers: { mode: "inProcess" }, allowDataLoss: ["workers.mode"] },
      { stage: 5, workers: { mode: "inProcess" }, allowDataLoss: ["workers.mode"] },
      [
        "stage: 7 → 5 turns regions.count off",
        'allowDataLoss: "workers.mode" acknowledges a step down this change does not make',
      ],
    ],
    [
      "a step down whose tier stays on by its switch",
      { stage: 4 },
      { stage: 3, cdn: { enabled: true } },
      [],
    ],
  ];
  for (const [what, deployed, next, starts] of changes) {
    it(`GIVEN ${what} THEN ${starts.length === 0 ? "it is allowed" : "it is refused, naming the config path, what it deletes and allowDataLoss"}`, () => {
      const problems = change(deployed, next);
      assert.deepEqual(
        problems.map((problem) => starts.find((start) => problem.startsWith(start)) ?? problem),
        starts,
      );
      for (const problem of problems)
        assert.match(
          problem,
          /which deletes .*Fix: .*allowDataLoss: \["[a-z.]+"\] \(or true\)|^allowDataLoss: .*Fix: remove it/,
        );
    });
  }

  it("GIVEN a step down that turns the CDN off THEN its message says it deletes the distribution only: the files buckets stay", () => {
    const [problem, ...rest] = change({ stage: 4 }, { stage: 3 });
    assert.deepEqual(rest, []);
    assert.match(problem!, /turns cdn\.enabled off, which deletes the CloudFront distribution /);
    assert.match(problem!, /the files buckets stay/);
    assert.doesNotMatch(problem!, /left in AWS/);
  });

  it("GIVEN a step down that turns the second region off THEN its message says its files bucket is left in AWS unless cdn.forceDestroy (a bucket holding objects cannot be deleted)", () => {
    const problems = change({ stage: 6 }, { stage: 5 });
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(
      problems[0]!,
      /files bucket .*left in AWS, out of the stack, unless cdn\.forceDestroy/,
    );
  });

  /** A dev stack file `name` in `dir` at `stage`, with `extra` config lines; its path. */
  const devStackFile = (dir: string, name: string, stage: number, extra = "") => {
    const path = join(dir, name);
    writeFileSync(
      path,
      `config:\n  zero-to-millions:environment: dev\n  zero-to-millions:stage: ${stage}\n${extra}`,
    );
    return path;
  };
  /** Runs tools/stepDown.ts with `args`, as the workflows do. */
  const stepDown = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", "tools/stepDown.ts", ...args], {
      encoding: "utf8",
    });

  it("GIVEN two stack files, the next a step down THEN tools/stepDown.ts exits 1 naming the file and the path; allowed: 0", () => {
    const dir = mkdtempSync(join(tmpdir(), "step-down-"));
    const file = (name: string, stage: number, extra = "") => devStackFile(dir, name, stage, extra);
    const refused = stepDown(file("deployed.yaml", 4), file("next.yaml", 3));
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /next\.yaml: stage: 4 → 3 turns cdn\.enabled off/);
    const allowed = stepDown(
      file("deployed.yaml", 4),
      file("next.yaml", 3, "  zero-to-millions:allowDataLoss: true\n"),
    );
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.equal(stepDown(join(dir, "absent.yaml"), file("next.yaml", 1)).status, 0);
  });

  it("GIVEN the deployment's outputs (pulumi stack output --json) THEN tools/stepDown.ts compares with its statefulTiers; outputs without them compare nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "step-down-outputs-"));
    const next = devStackFile(dir, "next.yaml", 5);
    const outputs = (value: Record<string, unknown>) => {
      const path = join(dir, "deployed.json");
      writeFileSync(path, JSON.stringify({ environment: "dev", ...value }));
      return path;
    };
    const run = (deployed: string) => stepDown(deployed, next);
    // Deployed at stage 7 (two regions, a queue): stage 5 turns both off.
    const refused = run(outputs({ statefulTiers: statefulTiersOf(dev({ stage: 7 })) }));
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /next\.yaml: stage: 7 → 5 turns regions\.count off/);
    assert.match(refused.stderr, /next\.yaml: stage: 7 → 5 turns workers\.mode off/);
    const same = run(outputs({ statefulTiers: statefulTiersOf(dev({ stage: 5 })) }));
    assert.equal(same.status, 0, same.stderr);
    const before = run(outputs({ publicUrl: "https://app.example.com" }));
    assert.equal(before.status, 0, before.stderr);
    assert.match(before.stderr, /nothing deployed to compare with/);
  });

  it("GIVEN outputs written before statefulTiers existed and --otherwise the base branch's stack file THEN it compares with that file", () => {
    const dir = mkdtempSync(join(tmpdir(), "step-down-otherwise-"));
    const outputs = join(dir, "deployed.json");
    writeFileSync(outputs, JSON.stringify({ imageUri: "x" }));
    const refused = stepDown(
      "--otherwise",
      devStackFile(dir, "base.yaml", 4),
      outputs,
      devStackFile(dir, "next.yaml", 3),
    );
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /comparing with .*base\.yaml instead/);
    assert.match(refused.stderr, /next\.yaml: stage: 4 → 3 turns cdn\.enabled off/);
  });

  it("GIVEN a step down that failed half-way (the lower stage recorded) and its acknowledgement still set THEN --for up lets the retry run, warning; the preview refuses it", () => {
    const dir = mkdtempSync(join(tmpdir(), "step-down-retry-"));
    const next = devStackFile(
      dir,
      "next.yaml",
      5,
      '  zero-to-millions:allowDataLoss: ["regions.count"]\n',
    );
    const deployed = join(dir, "deployed.json");
    writeFileSync(deployed, JSON.stringify({ statefulTiers: statefulTiersOf(dev({ stage: 5 })) }));
    const run = (...flags: string[]) => stepDown(...flags, deployed, next);
    const up = run("--for", "up");
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stderr, /warning: allowDataLoss: "regions\.count" acknowledges a step down/);
    const preview = run();
    assert.equal(preview.status, 1, preview.stderr);
  });
});

/** Each stack's synth at each stage (one per stage, shared by every assertion), keyed `stack:stage`. */
const synths = new Map<string, Synth>();
const key = (stack: string, stage: number) => `${stack}:${stage}`;
/** Every stage of every stack priced in the README. */
const RUNS = STAGE_STACKS.flatMap((stack) => STAGES.map((row) => ({ stack, ...row })));
before(async () => {
  const results = await Promise.all(RUNS.map(({ stack, stage }) => synth(stack, { stage })));
  RUNS.forEach(({ stack, stage }, index) => {
    const result = results[index]!;
    assert.equal(
      result.error,
      undefined,
      `synth of ${stack} at stage ${stage} failed: ${result.error}`,
    );
    synths.set(key(stack, stage), result);
  });
});

/** The web tasks (role `web` or `all`) and the most of them the stack runs: each service's scaling maximum. */
function webTasks(s: Synth) {
  const tasks = roleTasks(s).filter((task) => taskRoleOf(task) === "web");
  const most = tasks
    .map((task) => {
      const service = s
        .ofType(T.service)
        .find((candidate) => candidate.inputs.taskDefinition === task.state.arn);
      assert.ok(service, `${task.name}: no service runs it`);
      const target = s
        .ofType(T.scalingTarget)
        .find((candidate) =>
          String(candidate.inputs.resourceId).endsWith(`/${service.state.name}`),
        );
      assert.ok(target, `${service.name}: no scaling target`);
      return Number(target.inputs.maxCapacity);
    })
    .reduce((sum, count) => sum + count, 0);
  return { tasks, most };
}

for (const { stack, stage, step } of RUNS) {
  describe(`stage ${stage} (${step}) of ${stack}`, () => {
    const s = () => synths.get(key(stack, stage))!;
    const config = parsedStackConfig(stack, { stage });

    it("GIVEN the synth THEN it exports what it holds (statefulTiers), for the next change's step-down check", () => {
      assert.deepEqual(s().outputs.statefulTiers, statefulTiersOf(config));
      assert.equal((s().outputs.statefulTiers as { stage: number }).stage, stage);
    });

    it("GIVEN the synth THEN exactly the stage's tiers exist", () => {
      const regions = new Set(
        s()
          .resources.map((r) => r.region)
          .filter((r) => r !== null),
      );
      const queues = s()
        .ofType(T.queue)
        .filter((q) => !String(q.name).includes("dlq"));
      const isInvalidations = (q: { name: string }) => q.name.endsWith("-invalidations-queue");
      const writers = s()
        .ofType(T.db)
        .filter((db) => db.inputs.replicateSourceDb === undefined);
      const firstWriter = s().named(FIRST_WRITER, T.db);
      const writerReplicas = s()
        .ofType(T.db)
        .filter((db) => db.inputs.replicateSourceDb === firstWriter.inputs.identifier);
      const commands = new Set(
        roleTasks(s())
          .map((task) => containerOf(task).command[0])
          .filter((command) => command !== "worker"),
      );
      assert.deepEqual(
        [
          regions.size,
          s().ofType(T.cache).length,
          s().ofType(T.distribution).length,
          queues.filter((q) => !isInvalidations(q)).length,
          writerReplicas.length,
          [...commands].join(),
          webTasks(s()).most,
          queues.filter(isInvalidations).length,
          s().ofType(T.tableReplica).length,
          writers.length,
        ],
        EXPECTED[stack][stage],
      );
      assert.equal(writers.length, config.database.shards, "one writer per physical shard");
    });

    it("GIVEN the synth THEN the users' files bucket and its key exist under the URNs deployed stacks hold (the replica's with the second region), with or without the CDN, and every web and worker task may use them", () => {
      const held = (role: "bucket" | "replica") => [
        `urn:pulumi:${stack}::zero-to-millions::zero-to-millions:components:Cdn$aws:s3/bucket:Bucket::assets-${role}`,
        `urn:pulumi:${stack}::zero-to-millions::zero-to-millions:components:Cdn$aws:kms/key:Key::assets-${role}-key`,
      ];
      const filesUrns = s()
        .resources.filter(
          (r) =>
            (r.type === T.bucket || r.type === T.key) &&
            r.parent?.endsWith("zero-to-millions:components:Cdn::assets") === true,
        )
        .map((r) => r.urn)
        .sort();
      assert.deepEqual(
        filesUrns,
        [...held("bucket"), ...(config.regions.count === 2 ? held("replica") : [])].sort(),
      );
      const granted = s()
        .ofType(T.rolePolicy)
        .filter((policy) => /^assets-(primary|secondary)-(web|workers)-assets$/.test(policy.name))
        .map((policy) => policy.inputs.role)
        .sort();
      const roles = roleTasks(s())
        .map((task) => task.inputs.taskRoleArn)
        .map((arn) => String(arn).split("/").pop())
        .sort();
      assert.deepEqual(granted, roles);
    });

    it("GIVEN one region THEN nothing is peered; two THEN the regions are peered", () => {
      assert.equal(s().ofType(T.peering).length, config.regions.count - 1);
    });

    it("GIVEN more than one web task THEN no user state lives in one task's memory: the app's loader puts sessions, rate limits, the cache and uploads in shared tiers, and cookies are signed with the stack's key", () => {
      const { tasks, most } = webTasks(s());
      if (most <= 1) return;
      for (const task of tasks) {
        const homes = userStateHomes(loadAsTheApp(task).config);
        const inTask = Object.entries(homes).filter(([, home]) => home === "process");
        assert.deepEqual(
          inTask,
          [],
          `${task.name}: user state in the task, with ${most} web tasks`,
        );
      }
    });

    it("GIVEN a domain THEN every region serves HTTPS with its certificate and plain HTTP only redirects; without one, plain HTTP on the load balancer's name", () => {
      const expected = config.dns.domain
        ? ["443 HTTPS certificate forward", "80 HTTP redirect"]
        : ["80 HTTP forward"];
      const regions = [
        ...new Set(
          s()
            .ofType(T.listener)
            .map((l) => l.region),
        ),
      ];
      assert.equal(regions.length, config.regions.count);
      for (const region of regions) {
        const listeners = s()
          .ofType(T.listener)
          .filter((l) => l.region === region)
          .map((l) =>
            [
              l.inputs.port,
              l.inputs.protocol,
              ...(l.inputs.certificateArn === undefined ? [] : ["certificate"]),
              ...(l.inputs.defaultActions as Array<{ type: string }>).map((a) => a.type),
            ].join(" "),
          );
        assert.deepEqual(listeners.sort(), expected, String(region));
      }
    });

    it("GIVEN the writers and their replicas THEN each is encrypted, a writer and a cross-region replica with a key of their region, and every writer keeps the environment's backups", () => {
      const instances = s().ofType(T.db);
      const writers = instances.filter((db) => db.inputs.replicateSourceDb === undefined);
      assert.ok(writers.length > 0, "no writer");
      for (const db of instances) {
        // A replica in its writer's region is encrypted with the writer's key (RDS picks it).
        const ownKey = writers.includes(db) || db.region !== writers[0]!.region;
        assert.equal(db.inputs.storageEncrypted, true, db.name);
        if (!ownKey) continue;
        assert.match(String(db.inputs.kmsKeyId), new RegExp(`^arn:aws:kms:${db.region}:`), db.name);
      }
      for (const writer of writers) {
        assert.equal(
          writer.inputs.backupRetentionPeriod,
          config.database.backupRetentionDays,
          writer.name,
        );
      }
    });

    it(`GIVEN the policy pack with policy/config.${stack}.json THEN there is no mandatory violation`, async () => {
      const violations = await runPackOver(s(), stack);
      const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
      assert.deepEqual(mandatory, [], describeViolations(mandatory));
    });
  });
}

describe("stages: the README", () => {
  it("GIVEN each stage's synth of each stack THEN the README's stage table shows its monthly cost (npm run docs:cost)", async () => {
    const readme = readFileSync(README, "utf8");
    const estimates = Object.fromEntries(
      STAGE_STACKS.map((stack) => [
        stack,
        STAGES.map(({ stage }) => {
          const s = synths.get(key(stack, stage))!;
          return estimate({ ...s, resources: [...s.resources], calls: [...s.calls] });
        }),
      ]),
    );
    assert.equal(
      readme,
      await readmeWithStageTable(readme, estimates),
      "README.md's stage table is stale: run `npm run docs:cost`",
    );
  });
});

for (const { stack, stage } of RUNS.filter((run) => run.stage < STAGES.length)) {
  describe(`${stack}, stage ${stage} → ${stage + 1}: an in-place update`, () => {
    it("GIVEN both synths THEN every stateful resource of the lower stage exists in the higher one, with no replacement-forcing input changed, and the writer stays", () => {
      const lower = synths.get(key(stack, stage))!;
      const higher = synths.get(key(stack, stage + 1))!;
      // A step up adds stateful resources (that is the step); it must not delete or replace one.
      const replaced = replacingChanges(lower.resources, higher.resources).filter(
        (change) => change.input !== "(created)",
      );
      assert.deepEqual(replaced, []);
      assert.equal(higher.named(FIRST_WRITER, T.db).urn, lower.named(FIRST_WRITER, T.db).urn);
    });

    it("GIVEN both synths THEN each DNS name and type keeps one routing kind (plain or routed): Route53 refuses a plain record beside routed ones, and Pulumi creates before it deletes", () => {
      const lower = synths.get(key(stack, stage))!;
      const higher = synths.get(key(stack, stage + 1))!;
      const kinds = new Map<string, Set<string>>();
      for (const record of [...lower.ofType(T.record), ...higher.ofType(T.record)]) {
        const { zoneId, name, type, setIdentifier } = record.inputs;
        const at = `${String(zoneId)} ${String(name)} ${String(type)}`;
        const kind = setIdentifier === undefined ? "plain" : "routed";
        kinds.set(at, (kinds.get(at) ?? new Set()).add(kind));
      }
      const { dns } = parsedStackConfig(stack, { stage });
      if (dns.domain) {
        const app = [...kinds.keys()].filter((at) =>
          at.endsWith(` ${dns.recordName}.${dns.domain} A`),
        );
        assert.equal(app.length, 1, "the app's name has no A record in these synths");
      }
      const mixed = [...kinds].filter(([, seen]) => seen.size > 1).map(([at]) => at);
      assert.deepEqual(mixed, []);
    });
  });
}

for (const stack of STAGE_STACKS) {
  describe(`${stack}, stage 8 → 9 (sharding): shard 0 untouched`, () => {
    it("GIVEN both synths THEN the first writer keeps its URN and every input, and each stateful resource created belongs to physical shard 1", () => {
      const lower = synths.get(key(stack, 8))!;
      const higher = synths.get(key(stack, 9))!;
      const [before, after] = [lower, higher].map((s) => s.named(FIRST_WRITER, T.db));
      assert.equal(after!.urn, before!.urn);
      assert.deepEqual(after!.inputs, before!.inputs);
      const created = replacingChanges(lower.resources, higher.resources);
      assert.ok(created.length > 0, "shard 1's resources appear (the check sees them)");
      for (const change of created) {
        assert.equal(change.input, "(created)", `${change.urn}: ${change.input}`);
        assert.match(change.urn, /-shard1/, `${change.urn} belongs to shard 1`);
      }
    });
  });
}
