/**
 * Writes BENCHMARKS.md from bench/results/*.json: the machine, the method, a summary of the
 * targets, one section per benchmark and the capacity estimate with its assumptions. Run by
 * `npm run bench`; `node --import tsx bench/report.ts` rewrites it from the stored results.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as prettier from "prettier";
import { APP_LOG_LEVEL } from "./lib/app";
import type { Target } from "./lib/context";
import { REPO_ROOT } from "./lib/processes";
import { readRecord, readRunRecord, type BenchmarkRecord } from "./lib/record";
import type { LoadSummary } from "./lib/rounds";
import type { Summary } from "./lib/stats";
import type { CacheEffectData } from "./benchmarks/cacheEffect";
import type { CachedReadData } from "./benchmarks/cachedRead";
import { backlogPerTaskTarget } from "../components/queueWorkers";
import { WORKER_CONCURRENCY } from "../contract";
import { parseConfig, rawConfigFromPulumi } from "../stacks/config";
import { stackConfig } from "../harness/synth";
import { APP_POOL_SIZE, type CapacityData, type Throughput } from "./benchmarks/capacity";
import type { ShardingData } from "./benchmarks/sharding";
import type { ProgramSummary, SynthesisData } from "./benchmarks/synthesis";
import type { WorkersData } from "./benchmarks/workers";
import type { WritePathData } from "./benchmarks/writePath";

const REPORT = join(REPO_ROOT, "BENCHMARKS.md");

function num(value: number, digits = 0): string {
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A process at this CPU use or more counts as having used its whole core. */
const FULL_CORE_PERCENT = 90;

/** "median (min–max)". */
function spread(summary: Summary, digits = 0, unit = ""): string {
  return `${num(summary.median, digits)}${unit} (${num(summary.min, digits)}–${num(summary.max, digits)})`;
}

function met(target: Target): string {
  return target.met ? "met" : "**not met**";
}

function cpu(summary: Summary | undefined): string {
  return summary === undefined ? "n/a" : num(summary.median);
}

function loadRow(name: string, load: LoadSummary): string {
  return `| ${name} | ${spread(load.requestsPerSecond)} | ${spread(load.p50Ms, 2)} | ${spread(load.p99Ms, 2)} | ${load.failures} | ${cpu(load.serverCpuPercent)} | ${cpu(load.loadGeneratorCpuPercent)} |`;
}

function hitRatio(hits: number, misses: number): string {
  const total = hits + misses;
  return total === 0
    ? "no reads counted"
    : `${num(hits)} hits, ${num(misses)} misses (${num((100 * hits) / total, 2)} % hits)`;
}

function header(record: BenchmarkRecord): string {
  return `_${record.seconds} s; 1-minute load average ${record.loadAverage.before} before, ${record.loadAverage.after} after._`;
}

function missing(number: number, title: string, id: string): string {
  return `## ${number}. ${title}\n\nNot run (no bench/results/${id}.json).\n`;
}

const LOAD_TABLE_HEAD =
  "| contender | requests/s | p50 ms | p99 ms | failed | server CPU % | load gen. CPU % |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |";

function cachedReadSection(record: BenchmarkRecord<CachedReadData> | undefined): string {
  if (record === undefined) return missing(1, "Cached read", "cached-read");
  const d = record.data;
  return `## 1. Cached read

\`GET ${d.path}\` (one user, ${d.bodyBytes}-byte JSON body) with ${d.connections} connections. The app reads it from Redis
(cache-aside, \`x-cache: hit\`); the limit is a bare \`node:http\` server (bench/servers/bareHttp.ts) answering every
request with the same body: no routing, schema, cache or logging, the most one Node process serves here.
${header(record)}

${LOAD_TABLE_HEAD}
${loadRow("app (web, Redis cache)", d.app)}
${loadRow("bare node:http (limit)", d.bare)}

- Ratio app / limit: **${spread(d.ratio, 2)}**; target ${d.targets.ratio.goal}: ${met(d.targets.ratio)}.
- p99 of the app: **${spread(d.app.p99Ms, 2, " ms")}**; target ${d.targets.p99.goal}: ${met(d.targets.p99)}.
- The app's own counters over its life (warm-up included): ${hitRatio(d.appCounts.CacheHit, d.appCounts.CacheMiss)}.
`;
}

function cacheEffectSection(record: BenchmarkRecord<CacheEffectData> | undefined): string {
  if (record === undefined) return missing(2, "Cache effect", "cache-effect");
  const d = record.data;
  const busy = (load: LoadSummary) => (load.serverCpuPercent?.median ?? 100) >= FULL_CORE_PERCENT;
  const waiting =
    busy(d.on) && busy(d.off)
      ? ""
      : `\n- Not every app process used its full core (CPU column): it also waited on Redis or Postgres, which share
  the two cores with it and the load generator, so this ratio is of this machine's services as much as of the app.`;
  return `## 2. Cache effect

\`GET /users/:id\` over ${num(d.users)} users in turn, ${d.connections} connections, two app processes alike but for
\`REDIS_URL\`: **on** uses Redis; **off** points at a closed port, so every cache call fails at once and the read goes to
the Postgres replica (the app's degraded mode: the way this app runs without a cache; unsetting \`REDIS_URL\` would
give it an in-process cache instead). Many users, not one: with one hot key the app's single-flight loading would let
one database read answer many concurrent requests.
${header(record)}

${LOAD_TABLE_HEAD}
${loadRow("cache on (Redis)", d.on)}
${loadRow("cache off (replica)", d.off)}

- Speed-up with the cache: **${spread(d.speedUp, 1, "×")}**; target ${d.target.goal}: ${met(d.target)}.${waiting}
- Counters: on: ${hitRatio(d.counts.on.CacheHit, d.counts.on.CacheMiss)}; off: ${hitRatio(d.counts.off.CacheHit, d.counts.off.CacheMiss)}.
`;
}

function writePathSection(record: BenchmarkRecord<WritePathData> | undefined): string {
  if (record === undefined) return missing(3, "Write path", "write-path");
  const d = record.data;
  const reading =
    d.ratioToHashing.median >= 0.8
      ? "Sign-up runs close to the hashing loop: the password hash, not HTTP or the database, sets its pace."
      : "Sign-up stays well below even the hashing loop: more than the hash is in the way.";
  return `## 3. Write path

\`POST /users\` (sign-up: schema validation, scrypt hash, email reservation and \`INSERT ... RETURNING\`, cache invalidation,
cookie) with ${d.concurrency} connections, against ${d.concurrency} loops running the app's own \`createAccount\` through the app's own pool
(\`openPostgres\`, same size and settings) on the primary, without HTTP (bench/servers/insertLoop.ts). The limit uses one
precomputed hash; a third contender also hashes each password with the app's \`hashPassword\`, to show where the time
goes. ${d.concurrency} is the pool's size: more concurrent sign-ups only queue for it.
${header(record)}

| contender | sign-ups/s | p50 ms | p99 ms | failed | server CPU % | load gen. CPU % |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${loadRow("app: POST /users", d.app)}
${loadRow("limit: INSERT loop, same pool", d.insert)}
${loadRow("INSERT loop + scrypt hash per row", d.hashAndInsert)}

- Ratio app / INSERT loop: **${spread(d.ratio, 3)}** (no target set).
- Ratio app / hashing loop: **${spread(d.ratioToHashing, 2)}**. ${reading}
- The app counted ${num(d.appCounts.Signups)} sign-ups over its life (warm-up included).
`;
}

function workersSection(record: BenchmarkRecord<WorkersData> | undefined): string {
  if (record === undefined) return missing(4, "Workers", "workers");
  const d = record.data;
  return `## 4. Workers

A **job** is what the app's worker really does: a thumbnail job (\`newThumbnailJob\`) for a ${num(d.imageBytes)}-byte
320×240 PNG already in the bucket: check the \`jobs\` table, \`HeadObject\` and \`GetObject\` from S3, resize to a 128 px
webp with sharp, \`PutObject\`, one transaction (record the job, point the user at the photo), invalidate the user's cache
entry, delete the message. One app process in the \`worker\` role drains its queue; the limit is a bare loop on a queue of
its own (bench/servers/receiveDeleteLoop.ts): \`ReceiveMessage\` of up to 10, \`DeleteMessageBatch\`, no work. Each round
queues ${d.jobsPerRound} messages with \`DelaySeconds\`, so none is visible until all are queued, then times the queue
(visible + in flight + delayed) down to empty. SQS, S3 and the polling are all moto, on the same two cores.
${header(record)}

| contender | jobs/s | consumer CPU % |
| --- | ---: | ---: |
| app worker (one process) | ${spread(d.app.jobsPerSecond, 1)} | ${cpu(d.app.cpuPercent)} |
| receive(10) / delete-batch loop (limit) | ${spread(d.bare.jobsPerSecond, 1)} | ${cpu(d.bare.cpuPercent)} |

- Ratio app / limit: **${spread(d.ratio, 2)}**; target ${d.target.goal}: ${met(d.target)}.
- The app's counters: ${num(d.appCounts.JobsProcessed)} jobs processed, ${num(d.appCounts.JobsFailed)} failed, of ${num(d.jobsSentToApp)} queued (warm-up included).
- The app's worker used ${cpu(d.app.cpuPercent)} % of its core: it spends most of a job waiting on its calls (receive,
  \`HeadObject\`, \`GetObject\`, \`PutObject\`, delete, and the database), one job at a time.
- The app's worker receives one message per call (\`receive\` without \`maxMessages\`, app/src/jobs/worker.ts), runs
  one job at a time and deletes each message on its own; the limit takes ten per call and deletes them in one.
- moto is not SQS: it scans a queue's messages on every call (so it slows down as a queue grows) and answers in
  milliseconds where SQS and S3 take tens of them. Read the ratio, not the absolute rate.
`;
}

function programRow(name: string, program: ProgramSummary): string {
  return `| ${name} | ${spread(program.wallMs)} | ${spread(program.maxRssMiB)} | ${spread(program.cpuMs)} | ${program.resources} (${program.customResources} with an id) |`;
}

function synthesisSection(record: BenchmarkRecord<SynthesisData> | undefined): string {
  if (record === undefined) return missing(5, "Synthesis", "synthesis");
  const { prod, empty } = record.data;
  return `## 5. Synthesis

The \`prod\` program evaluated under Pulumi's mocks by the synth harness (\`node --import tsx harness/cli.ts --stack
prod --out FILE\`, a process per run), against an empty program under the same \`RecordingMocks\` and prod config
(bench/servers/emptyProgram.ts). Wall time from spawn to exit; peak RSS and CPU time from \`process.resourceUsage()\`
at exit (bench/servers/usageHook.ts). Both include starting Node and tsx (TypeScript compiled on the fly, cached
after the warm-up).
${header(record)}

| program | wall ms | peak RSS MiB | CPU ms | resources |
| --- | ---: | ---: | ---: | ---: |
${programRow("prod", prod)}
${programRow("empty", empty)}

- The prod program itself: **+${num(prod.wallMs.median - empty.wallMs.median)} ms** wall and
  **+${num(prod.maxRssMiB.median - empty.maxRssMiB.median)} MiB** peak RSS (medians) for ${prod.resources} resources.
`;
}

/** An order of magnitude for one Redis/Valkey node's simple GETs per second; not measured here. */
const NODE_GETS_PER_SECOND = 100_000;

function throughputCell(value: Throughput): string {
  return `${num(value.median)} (slowest round: ${num(value.low)})`;
}

function capacitySection(record: BenchmarkRecord<CapacityData> | undefined): string {
  if (record === undefined) return missing(6, "Capacity", "capacity");
  const d = record.data;
  const p = d.prod;
  const regions = p.regions.length;
  const getsPerRegion = d.perRegion.atCpuTarget.median;
  const tasksByCpu = Math.ceil(d.requestTargetPerRegion / d.perTask.atCpuTarget.median);
  const requestTarget = `**The request-count scaling policy.** \`web.requestsPerTargetPerMinute\` ${num(p.requestsPerTargetPerMinute)} (${num(p.requestsPerTargetPerMinute / 60)} req/s per task)
   asks for all ${p.webMaxTasks} tasks of a region once it gets ${num(d.requestTargetPerRegion)} req/s, a load ${tasksByCpu} task${tasksByCpu === 1 ? "" : "s"} could carry at the CPU target.
   It caps no traffic (the tasks keep serving, up to the figures above), but from there on the region runs, and
   pays for, \`maxTasks\` tasks and no policy can add more.`;
  const cacheBinds =
    getsPerRegion > NODE_GETS_PER_SECOND
      ? `,
   so this node, not the web tier, caps a region's cached reads near that figure unless reads are spread over the
   replicas (the reader endpoint) or the keys over shards`
      : "";
  return `## 6. Capacity

From benchmark 1 (run ${d.basisRunId}): one app process served ${throughputCell(d.measuredPerProcess)} cached reads
per second${d.serverCpuPercent === undefined ? "" : ` while it got ${num(d.serverCpuPercent)} % of its core (the rest went to the machine's other work)`},
that is **${throughputCell(d.perCpuSecond)} per CPU-second**. The prod config, read with \`parseConfig\` from
Pulumi.prod.yaml: web tasks of ${p.webCpuUnits} CPU units, ${p.webMinTasks}–${p.webMaxTasks} per region, CPU target
${p.cpuTargetPercent} %, in ${regions} regions (${p.regions.join(", ")}).

Assumptions:
- The rate grows with the CPU the process gets, so per CPU-second is what a task with its vCPU to itself does: true
  of a CPU-bound server, an overestimate to the extent the app was waiting on Redis rather than on the CPU.
- One prod web task (${p.webCpuUnits} units = ${num(p.webCpuUnits / 1024, 2)} vCPU) does what one CPU does here: a Fargate vCPU is
  typically one hyperthread of a server CPU, and each CPU of this machine is a virtual one too. The app's JavaScript
  runs on one thread, so tasks above 1 vCPU are not counted as faster (factor ${num(d.vcpuFactor, 2)}).
- Sustained load per task is the autoscaler's CPU target, ${p.cpuTargetPercent} %: the rest is the headroom that lets it scale
  out before requests queue. The 100 % line is the ceiling, with no headroom left.
- Every request is a cached read of the benchmark's kind: cache misses (see benchmark 2) and sign-ups
  (benchmark 3) cost far more.
- Both regions carry a full share. Geolocation routing sends each region its continents' users, not half of them.

| cached reads/s (from the rate per CPU-second) | per task | per region (× ${p.webMaxTasks} tasks) | total (× ${regions} regions) |
| --- | ---: | ---: | ---: |
| at the CPU target (${p.cpuTargetPercent} %) | ${throughputCell(d.perTask.atCpuTarget)} | ${throughputCell(d.perRegion.atCpuTarget)} | ${throughputCell(d.total.atCpuTarget)} |
| at 100 % CPU | ${throughputCell(d.perTask.atFullCpu)} | ${throughputCell(d.perRegion.atFullCpu)} | ${throughputCell(d.total.atFullCpu)} |

What else decides what the stack carries (estimates, not measured here), roughly in the order it comes into play:
1. ${requestTarget}
2. **The cache's primary node.** \`REDIS_URL\` is the replication group's primary endpoint, so every cached read of a
   region is a GET on one ${p.cacheNodeType} node (its replicas serve no reads): ${num(getsPerRegion)} GET/s at the CPU target.
   One Redis/Valkey node serves in the order of ${num(NODE_GETS_PER_SECOND)} simple GETs per second${cacheBinds}.
3. **The database, for misses and writes.** Every write of both regions goes to the one writer (${p.databaseInstanceClass}) in
   the primary region. Sign-ups are bound by scrypt on the web tasks first:${d.signUps === undefined ? " (benchmark 3 not run)" : ` about ${num(d.signUps.perRegionAtFullCpu)} per second per region at 100 % CPU (benchmark 3, run ${d.signUps.runId})`}.
   Connections at \`maxTasks\` (pools of ${APP_POOL_SIZE} per task and database, opened on demand): up to ${num(d.connections.writer)} on
   the writer (web tasks' pools plus about one per worker, ${p.workersMaxTasks} workers per region), up to
   ${num(d.connections.primaryReplica)} on each of the primary's ${p.readReplicas} replicas and ${num(d.connections.secondaryReplica)} on the secondary's.
   RDS's default \`max_connections\` for PostgreSQL is LEAST(DBInstanceClassMemory / 9531392, 5000): about 1,700
   for a 16 GiB class such as db.r6g.large.
4. **The load balancer.** An ALB has no fixed request ceiling but scales out by itself over minutes; a sudden step to
   the figures above would see errors first unless capacity is reserved ahead (ALB LCU reservation).
5. ${workersItem()}
`;
}

/**
 * The workers' scaling arithmetic, from Pulumi.prod.yaml (read with parseConfig when the report is
 * written) and the contract's worker concurrency: what backlog-per-task scaling asks for.
 */
function workersItem(): string {
  const { workers } = parseConfig(rawConfigFromPulumi(stackConfig("prod")));
  const jobsPerSecondPerTask = WORKER_CONCURRENCY / workers.averageJobSeconds;
  const backlog = backlogPerTaskTarget(workers);
  return `**The workers.** A worker task runs ${WORKER_CONCURRENCY} jobs at once (\`WORKER_CONCURRENCY\`, contract/process.ts), so
   at \`workers.averageJobSeconds\` ${num(workers.averageJobSeconds)} s it gets through ${num(jobsPerSecondPerTask, Number.isInteger(jobsPerSecondPerTask) ? 0 : 1)} jobs per second. Backlog-per-task scaling keeps
   (waiting + in-flight jobs) / tasks at ${num(workers.latencyGoalSeconds)} s × ${WORKER_CONCURRENCY} / ${num(workers.averageJobSeconds)} s = **${num(backlog)} jobs per task**
   (\`workers.latencyGoalSeconds\`; counting one job at a time it would be ${num(backlogPerTaskTarget(workers, 1))}, and scale out about ${WORKER_CONCURRENCY} times too far).
   ${workers.maxTasks} tasks per region then start about ${num(workers.maxTasks * jobsPerSecondPerTask)} jobs per second (from the configured job time, not
   measured: benchmark 4 measures one process on this machine).`;
}

interface SummaryRow {
  benchmark: string;
  result: string;
  target: string;
}

function shardingSection(record: BenchmarkRecord<ShardingData> | undefined): string {
  if (record === undefined) return missing(7, "Sharding", "sharding");
  const d = record.data;
  const row = (name: string, c: { sharded: Summary; direct: Summary; ratio: Summary }) =>
    `| ${name} | ${spread(c.sharded)} | ${spread(c.direct)} | ${spread(c.ratio, 3)} |`;
  return `## 7. Sharding

${d.physicalShards} physical shards (three schemas of the primary), ${d.loops} concurrent loops, no HTTP
(bench/benchmarks/sharding.ts). Routing: the app's own read (\`findUser\` on \`shards.forUser(id)\`) and write
(\`updateUser\` through \`shards.route\`) against the same statement sent straight to the pool of the shard that holds
the user. Both sides pay the shard guard trigger; the difference is the routing alone.
${header(record)}

| operation | sharded ops/s | direct ops/s | ratio |
| --- | ---: | ---: | ---: |
${row("read one user", d.read)}
${row("update one user", d.write)}

- Routing ratio (the lower of the two): **${num(d.targets.routing.value, 3)}**; target ${d.targets.routing.goal}: ${met(d.targets.routing)}.
- Spread: over ${num(d.spread.ids)} ids from \`next_user_id()\`, the busiest logical shard got ${num(d.spread.busiest)} against an even
  ${num(d.spread.even, 1)}: **${num(d.spread.ratio, 3)}×**; target ${d.targets.spread.goal}: ${met(d.targets.spread)}. The busiest
  physical shard holds ${num(100 * d.spread.busiestPhysicalShare, 1)} % of the logical shards.
- Resharding: ${num(d.move.rows)} rows in ${d.move.logicalShards} logical shards moved at **${num(d.move.rowsPerSecond)} rows/s** while
  writers kept updating users in the moving and in other logical shards (${num(d.move.writesDuringMove)} writes during the move).
  The fence held writes to the moving logical shards for **${num(d.move.fenceMs)} ms**; target ${d.targets.pause.goal}: ${met(d.targets.pause)}.
  Longest single write seen by a writer: ${num(d.move.longestWriteMovingMs)} ms on a moving logical shard, ${num(d.move.longestWriteOtherMs)} ms on another.
`;
}

function summaryTable(records: {
  cachedRead?: BenchmarkRecord<CachedReadData>;
  cacheEffect?: BenchmarkRecord<CacheEffectData>;
  writePath?: BenchmarkRecord<WritePathData>;
  workers?: BenchmarkRecord<WorkersData>;
  synthesis?: BenchmarkRecord<SynthesisData>;
  capacity?: BenchmarkRecord<CapacityData>;
  sharding?: BenchmarkRecord<ShardingData>;
}): string {
  const rows: SummaryRow[] = [];
  const { cachedRead, cacheEffect, writePath, workers, synthesis, capacity, sharding } = records;
  if (cachedRead !== undefined) {
    const d = cachedRead.data;
    rows.push({
      benchmark: "1. Cached read, app / bare node:http",
      result: `${spread(d.ratio, 2)} (${num(d.app.requestsPerSecond.median)} vs ${num(d.bare.requestsPerSecond.median)} req/s)`,
      target: `${d.targets.ratio.goal}: ${met(d.targets.ratio)}`,
    });
    rows.push({
      benchmark: "1. Cached read, app p99 at 50 connections",
      result: spread(d.app.p99Ms, 2, " ms"),
      target: `${d.targets.p99.goal}: ${met(d.targets.p99)}`,
    });
  }
  if (cacheEffect !== undefined) {
    const d = cacheEffect.data;
    rows.push({
      benchmark: "2. Cache effect, on / off",
      result: `${spread(d.speedUp, 1, "×")} (${num(d.on.requestsPerSecond.median)} vs ${num(d.off.requestsPerSecond.median)} req/s)`,
      target: `${d.target.goal}: ${met(d.target)}`,
    });
  }
  if (writePath !== undefined) {
    const d = writePath.data;
    rows.push({
      benchmark: "3. Write path, POST /users / INSERT loop",
      result: `${spread(d.ratio, 3)} (${num(d.app.requestsPerSecond.median)} vs ${num(d.insert.requestsPerSecond.median)} sign-ups/s)`,
      target: "none set",
    });
  }
  if (workers !== undefined) {
    const d = workers.data;
    rows.push({
      benchmark: "4. Workers, app / receive-delete loop",
      result: `${spread(d.ratio, 2)} (${num(d.app.jobsPerSecond.median, 1)} vs ${num(d.bare.jobsPerSecond.median, 1)} jobs/s)`,
      target: `${d.target.goal}: ${met(d.target)}`,
    });
  }
  if (synthesis !== undefined) {
    const { prod, empty } = synthesis.data;
    rows.push({
      benchmark: "5. Synthesis, prod vs empty",
      result: `${num(prod.wallMs.median)} vs ${num(empty.wallMs.median)} ms, ${num(prod.maxRssMiB.median)} vs ${num(empty.maxRssMiB.median)} MiB, ${prod.resources} resources`,
      target: "none set",
    });
  }
  if (capacity !== undefined) {
    const d = capacity.data;
    rows.push({
      benchmark: `6. Capacity at the CPU target (${d.prod.cpuTargetPercent} %)`,
      result: `${num(d.perRegion.atCpuTarget.median)} cached reads/s per region, ${num(d.total.atCpuTarget.median)} in total`,
      target: "none set",
    });
  }
  if (sharding !== undefined) {
    const d = sharding.data;
    rows.push({
      benchmark: "7. Sharding, routed / straight to the shard (read, write)",
      result: `${spread(d.read.ratio, 3)}, ${spread(d.write.ratio, 3)}`,
      target: `${d.targets.routing.goal}: ${met(d.targets.routing)}`,
    });
    rows.push({
      benchmark: "7. Sharding, busiest logical shard / even over 1,000,000 ids",
      result: `${num(d.spread.ratio, 3)}×`,
      target: `${d.targets.spread.goal}: ${met(d.targets.spread)}`,
    });
    rows.push({
      benchmark: "7. Sharding, resharding speed and write pause",
      result: `${num(d.move.rowsPerSecond)} rows/s, fence ${num(d.move.fenceMs)} ms`,
      target: `${d.targets.pause.goal}: ${met(d.targets.pause)}`,
    });
  }
  return [
    "| benchmark | median (min–max over rounds) | target |",
    "| --- | --- | --- |",
    ...rows.map((row) => `| ${row.benchmark} | ${row.result} | ${row.target} |`),
  ].join("\n");
}

/** Writes BENCHMARKS.md, formatted as `prettier --check .` (npm run lint) expects it. */
export async function writeReport(): Promise<string> {
  const records = {
    cachedRead: readRecord<CachedReadData>("cached-read"),
    cacheEffect: readRecord<CacheEffectData>("cache-effect"),
    writePath: readRecord<WritePathData>("write-path"),
    workers: readRecord<WorkersData>("workers"),
    synthesis: readRecord<SynthesisData>("synthesis"),
    capacity: readRecord<CapacityData>("capacity"),
    sharding: readRecord<ShardingData>("sharding"),
  };
  const present: BenchmarkRecord[] = Object.values(records).filter((r) => r !== undefined);
  const first = present[0];
  if (first === undefined) throw new Error("no results in bench/results: run npm run bench");
  const run = readRunRecord();
  const runIds = [...new Set(present.map((record) => record.runId))];
  const machine = first.machine;
  const settings = first.settings;
  const mixed =
    runIds.length > 1
      ? `\n> **Mixed runs**: these results come from ${runIds.length} runs (${runIds.join(", ")}); rerun \`npm run bench\` for one.\n`
      : `\nAll results are from one run, ${runIds[0]}.\n`;

  const lastRun =
    run === undefined
      ? ""
      : ` The last invocation, \`${run.command}\`, took ${num(run.seconds)} s.`;
  const text = `# Benchmarks

What one app process does on this machine next to the limit for the same work, and what the prod config can carry
from that (issue 7). Written by bench/report.ts from bench/results/*.json; do not edit by hand.${lastRun}
${mixed}
## Machine

- ${machine.cpus} CPUs (\`nproc\`), ${machine.cpuModel}, ${machine.memoryGiB} GiB memory, Node ${machine.node}, ${machine.os}.
- **A shared, noisy machine**: other people's builds and tests run on the same ${machine.cpus} cores during a run, so
  each benchmark lists the 1-minute load average before and after it; a load above ${machine.cpus} means work queued
  for the CPUs. Expect other runs to differ by tens of percent; the ratios hold better than the absolute numbers.
- Placement: ${machine.pinning}.
- Services (scripts/services.sh, loopback, \`fsync = off\`): PostgreSQL ${machine.services.postgres ?? "?"} primary and
  streaming replica, Redis ${machine.services.redis ?? "?"}, moto ${machine.services.moto ?? "?"} for SQS and S3.

## Method

- Every server under test runs in its own process; the load generator (autocannon, bench/lib/loadgen.ts) in
  another, against 127.0.0.1 only, with a fixed duration and connection count.
- Per benchmark: one warm-up run per contender (${settings.warmupSeconds} s), then ${settings.rounds} rounds of ${settings.roundSeconds} s
  measured after a ${settings.settleSeconds} s lead-in; within a round the contenders run one after another, in reverse
  order every other round. Figures are **medians over the rounds, with the min–max** in brackets; ratios are taken
  round by round (app and limit measured minutes apart would mostly measure the neighbours). Latencies are kept per
  response at full precision; p50 and p99 are per round.
- CPU columns (medians; 100 % is one core): the server's from /proc over the run, the load generator's own. A server
  near 100 % used its core fully; a load generator near 100 % may have capped the rate instead (the insert loops
  are their own load, so theirs reads 0).
- The app runs as its image does: compiled with tsconfig.build.json, \`node main.js web\` (or \`worker\`), one process,
  \`NODE_ENV=production\`, \`--enable-source-maps\`, configured only by the docs/CONTRACT.md variables, with Redis as the
  cache and the Postgres primary and replica, in a scratch schema and Redis database of the run's own.
  \`LOG_LEVEL=${APP_LOG_LEVEL}\`: at the app's default, \`info\`, Fastify logs two lines per request and the worker one per
  job, which would measure the log pipe. The prod task definitions set no \`LOG_LEVEL\`, so prod runs at \`info\`.
- Targets are reported, never asserted: a slow run does not fail.

## Summary

${summaryTable(records)}

${cachedReadSection(records.cachedRead)}
${cacheEffectSection(records.cacheEffect)}
${writePathSection(records.writePath)}
${workersSection(records.workers)}
${synthesisSection(records.synthesis)}
${capacitySection(records.capacity)}
${shardingSection(records.sharding)}
## Reproduce

\`\`\`sh
npm ci
bash scripts/install-services.sh   # once, as root: PostgreSQL, Redis, moto
npm run bench                      # all seven; starts the services it needs and stops them again
npm run bench -- --only cached-read,capacity --rounds 3   # a part (the report then says which runs it mixes)
\`\`\`

\`npm run bench\` is not part of \`npm test\`. It needs \`taskset\` (util-linux) to pin processes and runs unpinned
without it; it exits 2 with the reason when a prerequisite is missing.
`;
  const options = await prettier.resolveConfig(REPORT);
  writeFileSync(REPORT, await prettier.format(text, { ...options, filepath: REPORT }));
  return REPORT;
}

if (require.main === module) {
  writeReport().then(
    (file) => process.stdout.write(`wrote ${file}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
