/**
 * The path from one server to millions, as config: each stage is a step of the chapter
 * (/work/shared/seeds/003), and a stage only sets the defaults of the tier switches (an explicit
 * switch in the stack file wins). The table lives here once; the README's table of stages and
 * their monthly cost is generated from it (`npm run docs:cost`).
 *
 * Every stage is a real deployment: HTTPS (with `dns.domain`), automated backups, encryption at
 * rest, alarms and the policy pack hold from stage 1. Going up one stage only adds resources
 * (test/stack/stages.test.ts proves it over the synth); going down removes them (README: The path).
 */
import type { DeepPartial, Defaults } from "./configDefaults";
import { MAX_STAGE, type StackConfig, type StatefulSwitchKey } from "./configSchema";

export interface Stage {
  stage: number;
  /** The chapter's step. */
  step: string;
  /** What this stage adds to the one below. */
  adds: string;
  /** The switches as they are below this stage: every lower stage gets these defaults. */
  before: DeepPartial<Defaults>;
}

/** The steps, in order (stage n is the nth row). */
export const STAGES: readonly Stage[] = [
  {
    stage: 1,
    step: "single server, data tier apart",
    adds: "one region; one web task that also runs the jobs (role `all`; a job in hand is lost if the task stops), behind an HTTPS load balancer; a PostgreSQL writer on RDS (backups, encrypted, IAM login, a migrate task); sessions in a DynamoDB table (no replica); a cache-invalidation queue; users' uploads and thumbnails in a private, encrypted, versioned S3 bucket (the app serves the thumbnails); cache and rate limits in the task",
    before: {},
  },
  {
    stage: 2,
    step: "database replication",
    adds: "read replicas next to the writer; the app reads from them",
    before: { database: { readReplicas: 0 } },
  },
  {
    stage: 3,
    step: "cache",
    adds: "an ElastiCache group (TLS, IAM login, encrypted): the shared cache and rate limits out of the task's memory",
    before: { cache: { enabled: false } },
  },
  {
    stage: 4,
    step: "CDN",
    adds: "CloudFront in front of the users' files bucket: the page and the thumbnails from the edge",
    before: { cdn: { enabled: false } },
  },
  {
    stage: 5,
    step: "load balancer + more web servers: a stateless web tier",
    adds: "the web tier scales out (web.minTasks to web.maxTasks) now that no user state lives in a task",
    before: { web: { minTasks: 1, maxTasks: 1 } },
  },
  {
    stage: 6,
    step: "second data center",
    adds: "the secondary region with its own web tier, cache, invalidation queue and cross-region read replica; the sessions table's replica; VPC peering; GeoDNS with health checks",
    before: { regions: { count: 1 } },
  },
  {
    stage: 7,
    step: "message queue + workers",
    adds: "an SQS queue with a dead-letter queue and a worker service that scales on the backlog",
    before: { workers: { mode: "inProcess" } },
  },
  {
    stage: 8,
    step: "logging, metrics, automation",
    adds: "VPC flow logs and Performance Insights (every stage has its alarms and dashboards)",
    before: {
      network: { enableFlowLogs: false },
      database: { enablePerformanceInsights: false },
    },
  },
  {
    stage: 9,
    step: "sharding",
    adds: "a second physical shard (`database.shards` 2) of the same shape in both regions: a writer with its replicas and a cross-region replica; every logical shard stays on shard 0 (`database.shardMap` 0-8191:0) until `npm run reshard` moves some onto the new one (README: Sharding)",
    // No map with one shard: a map says where logical shards live among several (null unsets it).
    before: { database: { shards: 1, shardMap: null } },
  },
];

if (STAGES.length !== MAX_STAGE) {
  throw new Error(`STAGES has ${STAGES.length} rows but MAX_STAGE is ${MAX_STAGE}`);
}

/** The switches stage `stage` leaves off: every later step's `before`, the latest step's last. */
export function stageSwitches(stage: number): DeepPartial<Defaults> {
  return STAGES.filter((row) => row.stage > stage)
    .reverse()
    .reduce<DeepPartial<Defaults>>((merged, row) => mergeSwitches(merged, row.before), {});
}

function mergeSwitches(
  base: DeepPartial<Defaults>,
  override: DeepPartial<Defaults>,
): DeepPartial<Defaults> {
  const merged: Record<string, unknown> = { ...base };
  for (const [area, values] of Object.entries(override)) {
    merged[area] = { ...(merged[area] as object | undefined), ...(values as object) };
  }
  return merged as DeepPartial<Defaults>;
}

/** What the step-down checks read of a config. */
type StatefulConfig = Pick<StackConfig, "cache" | "cdn" | "regions" | "workers" | "database">;

/**
 * The switches whose lowering deletes data: what each keeps, and how much of it a config has (a
 * tier: 1 on, 0 off; `database.shards`: how many). A step down (less than the stage keeps, or
 * than is deployed) needs `allowDataLoss` to name it (or be true).
 */
export const STATEFUL_SWITCHES: readonly {
  key: StatefulSwitchKey;
  holds: string;
  /** How much of what the switch holds a config has; less deletes the difference. */
  amount: (config: StatefulConfig) => number;
  /** A count (told as "a → b"), not a tier that is on or off. */
  counted?: true;
}[] = [
  {
    key: "cache.enabled",
    holds: "the cache groups (shared cache entries, rate limits)",
    amount: (c) => Number(c.cache.enabled),
  },
  {
    key: "cdn.enabled",
    // The users' files buckets exist at every stage: turning the CDN off leaves them in the stack.
    holds:
      "the CloudFront distribution (links to it in cached pages break; the files buckets stay, as at every stage)",
    amount: (c) => Number(c.cdn.enabled),
  },
  {
    key: "regions.count",
    holds:
      "the secondary region's database replica and cache; its files bucket (the replica of users' uploads) is left in AWS, out of the stack, unless cdn.forceDestroy",
    amount: (c) => Number(c.regions.count === 2),
  },
  {
    key: "workers.mode",
    holds: "the job queues (jobs waiting in them)",
    amount: (c) => Number(c.workers.mode === "service"),
  },
  {
    // Lowering it is also refused, allowDataLoss or not, while database.shardMap still places
    // logical shards on a shard it removes (configSchema.ts: shardMapProblem).
    key: "database.shards",
    holds:
      "the databases of the physical shards it drops, in every region (writer, replicas, cross-region replica)",
    amount: (c) => c.database.shards,
    counted: true,
  },
];

/**
 * What a deployment holds of each stateful switch (STATEFUL_SWITCHES' amounts, by key) and its
 * stage: the stack exports it (`statefulTiers`), so a later change is compared with what was
 * deployed, by the code that deployed it, not with a stack file read by newer code.
 */
export interface StatefulTiers {
  stage: number;
  amounts: Record<string, number>;
}

export function statefulTiersOf(
  config: StatefulConfig & Pick<StackConfig, "stage">,
): StatefulTiers {
  return {
    stage: config.stage,
    amounts: Object.fromEntries(STATEFUL_SWITCHES.map((row) => [row.key, row.amount(config)])),
  };
}

/** Whether `value` is a StatefulTiers (from a stack output: any JSON). */
export function isStatefulTiers(value: unknown): value is StatefulTiers {
  if (typeof value !== "object" || value === null) return false;
  const { stage, amounts } = value as Record<string, unknown>;
  return (
    typeof stage === "number" &&
    typeof amounts === "object" &&
    amounts !== null &&
    Object.values(amounts).every((amount) => typeof amount === "number")
  );
}

/** Each stateful switch lower in `next` than in the deployment, by how much. */
function loweredSince(deployed: StatefulTiers, next: StatefulConfig) {
  return STATEFUL_SWITCHES.flatMap((row) => {
    const before = deployed.amounts[row.key];
    const after = row.amount(next);
    return before !== undefined && after < before ? [{ row, before, after }] : [];
  });
}

/**
 * The step-down problems of a change from what is `deployed` to the `next` config: each stateful
 * switch lower in `next`, whether `stage` was lowered or the switch itself, unless
 * `next.allowDataLoss` acknowledges it. Each problem starts with the config path that causes it
 * (`stage` when lowering it lowered the switch). A switch the deployment does not report (deployed
 * by code before it existed) is not compared.
 *
 * Config alone cannot see what is deployed, so this runs where both are at hand: with every
 * pull request's `pulumi preview` and before every `pulumi up`, against the stack's `statefulTiers`
 * output (`tsx tools/stepDown.ts`), so a change that deletes data fails before it merges or runs.
 */
export function changeProblems(
  deployed: StatefulTiers,
  next: StatefulConfig & Pick<StackConfig, "stage" | "allowDataLoss">,
): string[] {
  const stageLowered = next.stage < deployed.stage;
  return loweredSince(deployed, next)
    .filter(({ row }) => !acknowledges(next.allowDataLoss, row.key))
    .map(({ row, before, after }) => {
      const what = row.counted ? `lowers ${row.key} ${before} → ${after}` : `turns ${row.key} off`;
      return stageLowered
        ? `stage: ${deployed.stage} → ${next.stage} ${what}, which deletes ${row.holds}. Fix: keep stage ${deployed.stage} (or set ${row.key} back), or set ${acknowledgement(row.key)} for this deploy to acknowledge the step down`
        : `${row.key}: ${row.counted ? `lowered ${before} → ${after}` : "turned off"}, which deletes ${row.holds}. Fix: set it back, or set ${acknowledgement(row.key)} for this deploy to acknowledge the step down`;
    });
}

/**
 * The `allowDataLoss` entries a change from `deployed` to `next` does not need: no step down now,
 * and no switch kept below its stage. Left in the stack file after their step down, they would
 * let a later change delete data unasked, so a pull request's preview refuses them. `pulumi up`
 * does not: a step down that failed half-way (say, at a deletion-protected database) has already
 * recorded the lower stage, and its retry still needs the acknowledgement.
 */
export function unusedAcknowledgements(
  deployed: StatefulTiers,
  next: StatefulConfig & Pick<StackConfig, "stage" | "allowDataLoss">,
  nextDefaults: StatefulConfig,
): string[] {
  const needed = new Set([
    ...loweredSince(deployed, next).map(({ row }) => row.key),
    ...belowStage(next, nextDefaults).map((row) => row.key),
  ]);
  const allow = next.allowDataLoss;
  const unused =
    allow === true
      ? needed.size === 0
        ? ["true"]
        : []
      : allow === false
        ? []
        : allow.filter((key) => !needed.has(key)).map((key) => `"${key}"`);
  return unused.map(
    (what) =>
      `allowDataLoss: ${what} acknowledges a step down this change does not make (stage ${deployed.stage} → ${next.stage}). Fix: remove it from the stack file; left there, it would let a later change delete data unasked`,
  );
}

/** Whether `allowDataLoss` acknowledges losing what `key` holds. */
function acknowledges(allow: StackConfig["allowDataLoss"], key: StatefulSwitchKey): boolean {
  return allow === true || (Array.isArray(allow) && allow.includes(key));
}

/** How a problem tells the acknowledgement that would allow `key`'s step down. */
const acknowledgement = (key: StatefulSwitchKey) => `allowDataLoss: ["${key}"] (or true)`;

/**
 * The step-down problems of `config` against its stage's defaults: each stateful switch the stack
 * sets lower than its stage does, unless `allowDataLoss` acknowledges it. Config cannot see what
 * is deployed, so a lowered `stage` is changeProblems' (with every preview, before every up).
 */
export function stepDownProblems(
  config: StatefulConfig & Pick<StackConfig, "allowDataLoss">,
  defaults: StatefulConfig,
): string[] {
  return belowStage(config, defaults)
    .filter((row) => !acknowledges(config.allowDataLoss, row.key))
    .map(
      (row) =>
        `${row.key}: ${row.counted ? `${row.amount(config)}, below its stage's ${row.amount(defaults)}` : "switched off below its stage"}, which deletes ${row.holds}. Fix: remove ${row.key} from the stack file, or set ${acknowledgement(row.key)} to acknowledge it`,
    );
}

/** The stateful switches `config` has less of than its stage's `defaults`. */
const belowStage = (config: StatefulConfig, defaults: StatefulConfig) =>
  STATEFUL_SWITCHES.filter(({ amount }) => amount(config) < amount(defaults));
