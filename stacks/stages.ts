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
import { MAX_STAGE, type StackConfig } from "./configSchema";

export interface Stage {
  stage: number;
  /** The chapter's step. */
  step: string;
  /** What this stage adds to the one below. */
  adds: string;
  /** The switches as they are below this stage: every lower stage gets these defaults. */
  before: DeepPartial<Defaults>;
}

/** The steps, in order (stage n is the nth row). Sharding joins as a ninth when it lands. */
export const STAGES: readonly Stage[] = [
  {
    stage: 1,
    step: "single server, data tier apart",
    adds: "one region; one web task that also runs the jobs (role `all`; a job in hand is lost if the task stops), behind an HTTPS load balancer; a PostgreSQL writer on RDS (backups, encrypted, IAM login, a migrate task); sessions in a DynamoDB table (no replica); a cache-invalidation queue; cache, rate limits and uploads in the task",
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
    adds: "CloudFront and private S3 buckets: the page from the edge, uploads out of the task's disk",
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

/**
 * The switches whose "off" deletes data: what each keeps, and whether a config has it on. A step
 * down (a switch off that the stage keeps on) needs `allowDataLoss: true`.
 */
export const STATEFUL_SWITCHES: readonly {
  key: string;
  holds: string;
  on: (config: Pick<StackConfig, "cache" | "cdn" | "regions" | "workers">) => boolean;
}[] = [
  // Sharding (#13) joins here: fewer `database.shards` deletes the dropped shards' databases.
  {
    key: "cache.enabled",
    holds: "the cache groups (shared cache entries, rate limits)",
    on: (c) => c.cache.enabled,
  },
  {
    key: "cdn.enabled",
    holds:
      "the distribution; the asset buckets (uploads, thumbnails) are left in AWS, out of the stack, unless cdn.forceDestroy",
    on: (c) => c.cdn.enabled,
  },
  {
    key: "regions.count",
    holds:
      "the secondary region's database replica and cache; its asset bucket is left in AWS, out of the stack, unless cdn.forceDestroy",
    on: (c) => c.regions.count === 2,
  },
  {
    key: "workers.mode",
    holds: "the job queues (jobs waiting in them)",
    on: (c) => c.workers.mode === "service",
  },
];

/**
 * The step-down problems of a change from the `deployed` config to the `next` one (both parsed):
 * each stateful tier on in `deployed` and off in `next`, whether `stage` was lowered or the switch
 * turned off, unless `next.allowDataLoss` acknowledges it. Each problem starts with the config path
 * that causes it (`stage` when lowering it turned the tier off).
 *
 * Config alone cannot see what is deployed, so this runs where both are at hand: the preview
 * workflow parses the base branch's stack file as `deployed` and the pull request's as `next`
 * (`tsx tools/stepDown.ts`), and a pull request that deletes data fails before it merges.
 */
export function changeProblems(
  deployed: Pick<StackConfig, "stage" | "cache" | "cdn" | "regions" | "workers">,
  next: Pick<StackConfig, "stage" | "cache" | "cdn" | "regions" | "workers" | "allowDataLoss">,
): string[] {
  if (next.allowDataLoss) return [];
  // No stage is the full path, the top stage.
  const from = deployed.stage ?? MAX_STAGE;
  const to = next.stage ?? MAX_STAGE;
  const lowered = to < from ? { from, to } : undefined;
  return STATEFUL_SWITCHES.filter(({ on }) => on(deployed) && !on(next)).map(({ key, holds }) =>
    lowered
      ? `stage: ${lowered.from} → ${lowered.to} turns ${key} off, which deletes ${holds}. Fix: keep stage ${lowered.from} (or set ${key} back on), or set allowDataLoss: true for this deploy to acknowledge the step down`
      : `${key}: turned off, which deletes ${holds}. Fix: turn it back on, or set allowDataLoss: true for this deploy to acknowledge the step down`,
  );
}

/**
 * The step-down problems of `config` against its stage's defaults: each stateful switch the stage
 * keeps on that the stack turns off, unless `allowDataLoss` acknowledges it. Config cannot see
 * what is deployed, so a lowered `stage` is changeProblems' (the preview workflow's check).
 */
export function stepDownProblems(
  config: Pick<StackConfig, "cache" | "cdn" | "regions" | "workers" | "allowDataLoss">,
  defaults: Pick<StackConfig, "cache" | "cdn" | "regions" | "workers">,
): string[] {
  if (config.allowDataLoss) return [];
  return STATEFUL_SWITCHES.filter(({ on }) => on(defaults) && !on(config)).map(
    ({ key, holds }) =>
      `${key}: switched off below its stage, which deletes ${holds}. Fix: remove ${key} from the stack file, or set allowDataLoss: true to acknowledge the step down`,
  );
}
