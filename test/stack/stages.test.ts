/**
 * The path from one server to millions (stacks/stages.ts), as a specification: what each stage's
 * config turns on and what config refuses (no synth), then over the synth of every stage of the
 * dev stack, as the README prices it (one synth per stage, shared by every assertion): what exists at each stage, that each
 * task's environment loads in the app's own loader with the tiers that exist, that the policy pack
 * finds no mandatory violation, and that every step up keeps every stateful resource in place.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import type { PolicyPackConfig } from "@pulumi/policy";
import { checkRole, loadConfig, parseRole } from "../../app/src/config";
import {
  type Tier,
  type TaskRole,
  taskSecretsWith,
  taskVariablesWith,
  type Variable,
  VARIABLES,
} from "../../contract";
import { synth, type Synth, type SynthResource } from "../../harness";
import { policies } from "../../policy/policies";
import {
  ConfigError,
  ENVIRONMENT_DEFAULTS,
  ENVIRONMENTS,
  parseConfig,
  type StackConfig,
} from "../../stacks/config";
import { defaultsFor } from "../../stacks/configDefaults";
import { STAGES } from "../../stacks/stages";
import { describeViolations, fromSynth, runPolicies } from "../policy/runner";
import { estimate } from "../../tools/cost/estimate";
import { README, readmeWithStageTable, STAGE_STACK } from "../../tools/readme";
import { replacingChanges } from "../../components/replacementInputs";

const PROJECT_ROOT = join(__dirname, "..", "..");
const STACK = STAGE_STACK;

const T = {
  db: "aws:rds/instance:Instance",
  cache: "aws:elasticache/replicationGroup:ReplicationGroup",
  distribution: "aws:cloudfront/distribution:Distribution",
  queue: "aws:sqs/queue:Queue",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  peering: "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
} as const;

/** What exists at each stage of dev: regions, cache groups, CDNs, job queues, in-region replicas. */
const EXPECTED: Record<number, [number, number, number, number, number, string]> = {
  //  regions, cache groups, distributions, job queues, writer's replicas, web command
  1: [1, 0, 0, 0, 0, "all"],
  2: [1, 0, 0, 0, 1, "all"],
  3: [1, 1, 0, 0, 1, "all"],
  4: [1, 1, 1, 0, 1, "all"],
  5: [1, 1, 1, 0, 1, "all"],
  6: [2, 2, 1, 0, 1, "all"],
  7: [2, 2, 1, 2, 1, "web"],
  8: [2, 2, 1, 2, 1, "web"],
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
    assert.deepEqual(
      Object.keys(EXPECTED).map(Number),
      STAGES.map((row) => row.stage),
    );
  });

  it("GIVEN each environment THEN its top stage is its defaults without a stage (dev and prod walk the whole path)", () => {
    for (const environment of ENVIRONMENTS) {
      assert.deepEqual(
        defaultsFor(environment, STAGES.length),
        ENVIRONMENT_DEFAULTS[environment],
        environment,
      );
    }
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
  });

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      "more than one web task with sessions in memory",
      { stage: 2, web: { maxTasks: 2 }, cdn: { enabled: true } },
      /cache\.enabled: false, but web\.maxTasks is 2.*Fix:/,
    ],
    [
      "more than one web task with uploads on a task's disk",
      { stage: 3, web: { maxTasks: 2 } },
      /cdn\.enabled: false, but web\.maxTasks is 2/,
    ],
    [
      "a second region with sessions in memory",
      { stage: 1, regions: { count: 2 }, cdn: { enabled: true } },
      /cache\.enabled: false, but regions\.count is 2/,
    ],
    [
      "worker tasks without the bucket",
      { stage: 3, workers: { mode: "service" } },
      /workers\.mode: service, but cdn\.enabled is false/,
    ],
    [
      "the writer in a region that does not exist",
      { stage: 5, database: { writerRegion: "secondary" } },
      /database\.writerRegion: secondary, but regions\.count is 1/,
    ],
    [
      "the cache switched off below its stage",
      { stage: 5, web: { maxTasks: 1 }, cache: { enabled: false } },
      /cache\.enabled: switched off below its stage.*allowDataLoss/,
    ],
    [
      "the second region switched off on the full path",
      { regions: { count: 1 } },
      /regions\.count: switched off below its stage/,
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

  it("GIVEN a step down acknowledged with allowDataLoss THEN config accepts it", () => {
    const config = parseConfig({ environment: "dev", regions: { count: 1 }, allowDataLoss: true });
    assert.equal(config.regions.count, 1);
  });
});

const synths = new Map<number, Synth>();
const configs = new Map<number, StackConfig>();
before(async () => {
  const results = await Promise.all(STAGES.map(({ stage }) => synth(STACK, { stage })));
  STAGES.forEach(({ stage }, index) => {
    const result = results[index]!;
    assert.equal(
      result.error,
      undefined,
      `synth of ${STACK} at stage ${stage} failed: ${result.error}`,
    );
    synths.set(stage, result);
    configs.set(stage, parseConfig({ environment: STACK, stage }));
  });
});

interface Container {
  command: string[];
  environment: Array<{ name: string; value: string }>;
  secrets: Array<{ name: string; valueFrom: string }>;
}
const containerOf = (task: SynthResource) =>
  (JSON.parse(String(task.inputs.containerDefinitions)) as Container[])[0]!;

/** The tiers a stage's config gives the app beyond the database. */
function tiersOf(config: StackConfig): Tier[] {
  return [
    ...(config.cache.enabled ? (["cache"] as const) : []),
    ...(config.cdn.enabled ? (["cdn"] as const) : []),
    ...(config.workers.mode === "service" ? (["queue"] as const) : []),
  ];
}

for (const { stage, step } of STAGES) {
  describe(`stage ${stage} (${step}) of ${STACK}`, () => {
    const s = () => synths.get(stage)!;

    it("GIVEN the synth THEN exactly the stage's tiers exist", () => {
      const regions = new Set(
        s()
          .resources.map((r) => r.region)
          .filter((r) => r !== null),
      );
      const queues = s()
        .ofType(T.queue)
        .filter((q) => !String(q.name).includes("dlq"));
      const writers = s()
        .ofType(T.db)
        .filter((db) => db.inputs.replicateSourceDb === undefined);
      const writerReplicas = s()
        .ofType(T.db)
        .filter(
          (db) => db.inputs.replicateSourceDb !== undefined && db.region === writers[0]?.region,
        );
      const commands = new Set(
        s()
          .ofType(T.taskDefinition)
          .map((task) => containerOf(task).command[0])
          .filter((command) => command !== "worker"),
      );
      assert.deepEqual(
        [
          regions.size,
          s().ofType(T.cache).length,
          s().ofType(T.distribution).length,
          queues.length,
          writerReplicas.length,
          [...commands].join(),
        ],
        EXPECTED[stage],
      );
      assert.equal(writers.length, 1, "one writer");
    });

    it("GIVEN one region THEN nothing is peered; two THEN the regions are peered", () => {
      assert.equal(s().ofType(T.peering).length, configs.get(stage)!.regions.count - 1);
    });

    it("GIVEN every task's environment and secrets THEN the app's loader accepts them with the stage's tiers and the in-process fallback for the rest", () => {
      const tiers = tiersOf(configs.get(stage)!);
      for (const task of s().ofType(T.taskDefinition)) {
        const container = containerOf(task);
        const processRole = parseRole(container.command[0]);
        const role: TaskRole = processRole === "worker" ? "worker" : "web";
        assert.deepEqual(
          container.environment.map(({ name }) => name).sort(),
          taskVariablesWith(role, tiers).sort(),
          `${task.name}: plain variables`,
        );
        assert.deepEqual(
          container.secrets.map(({ name }) => name).sort(),
          taskSecretsWith(tiers).sort(),
          `${task.name}: secrets`,
        );
        const env = Object.fromEntries(
          container.environment.map(({ name, value }) => [name, value]),
        );
        for (const { name } of container.secrets) {
          env[name] = (VARIABLES as Record<string, Variable<unknown>>)[name]!.example;
        }
        const config = loadConfig(env, "/srv");
        checkRole(processRole, config);
        assert.deepEqual(
          [
            config.database.kind,
            config.redis !== undefined,
            config.files.kind,
            config.queueUrl !== undefined,
          ],
          [
            "postgres",
            tiers.includes("cache"),
            tiers.includes("cdn") ? "s3" : "local",
            tiers.includes("queue"),
          ],
          task.name,
        );
      }
    });

    it("GIVEN the policy pack with policy/config.dev.json THEN there is no mandatory violation", async () => {
      const config = JSON.parse(
        readFileSync(join(PROJECT_ROOT, "policy", `config.${STACK}.json`), "utf8"),
      ) as PolicyPackConfig;
      const violations = await runPolicies(policies, fromSynth(s()), { config });
      const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
      assert.deepEqual(mandatory, [], describeViolations(mandatory));
    });
  });
}

describe("stages: the README", () => {
  it("GIVEN each stage's synth THEN the README's stage table shows its monthly cost (npm run docs:cost)", async () => {
    const readme = readFileSync(README, "utf8");
    const estimates = STAGES.map(({ stage }) => {
      const s = synths.get(stage)!;
      return estimate({ ...s, resources: [...s.resources] });
    });
    assert.equal(
      readme,
      await readmeWithStageTable(readme, estimates),
      "README.md's stage table is stale: run `npm run docs:cost`",
    );
  });
});

for (const { stage } of STAGES.slice(0, -1)) {
  describe(`stage ${stage} → ${stage + 1}: an in-place update`, () => {
    it("GIVEN both synths THEN every stateful resource of the lower stage exists in the higher one, with no replacement-forcing input changed, and the writer stays", () => {
      const lower = synths.get(stage)!;
      const higher = synths.get(stage + 1)!;
      // A step up adds stateful resources (that is the step); it must not delete or replace one.
      const replaced = replacingChanges(lower.resources, higher.resources).filter(
        (change) => change.input !== "(created)",
      );
      assert.deepEqual(replaced, []);
      const writer = (s: Synth) =>
        s.ofType(T.db).find((db) => db.inputs.replicateSourceDb === undefined)?.urn;
      assert.equal(writer(higher), writer(lower));
    });
  });
}
