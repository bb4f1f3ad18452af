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
import { summarize, type Summary } from "./lib/stats";
import type { CacheEffectData } from "./benchmarks/cacheEffect";
import type { CachedReadData } from "./benchmarks/cachedRead";
import { backlogPerTaskTarget, jobsPerSecondPerTask } from "../components/queueWorkers";
import { WORKER_CONCURRENCY } from "../contract";
import { NEAR_CACHE_DEFAULTS } from "../app/src/tiers/nearCache";
import { parseConfig, rawConfigFromPulumi } from "../stacks/config";
import { stackConfig } from "../harness/synth";
import { APP_POOL_SIZE, type CapacityData, type Throughput } from "./benchmarks/capacity";
import type { ShardingData } from "./benchmarks/sharding";
import { SYNTHESIS_GOAL, type ProgramSummary, type SynthesisData } from "./benchmarks/synthesis";
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

/** CPU microseconds per response, round by round; undefined when a round's CPU use is unknown. */
function cpuPerResponseUs(load: LoadSummary): number[] | undefined {
  const values = load.rounds.map((round) =>
    round.serverCpuPercent === undefined || round.requestsPerSecond <= 0
      ? undefined
      : (round.serverCpuPercent / 100 / round.requestsPerSecond) * 1e6,
  );
  return values.every((value) => value !== undefined) ? (values as number[]) : undefined;
}

/**
 * On a machine so loaded that no server gets its core, the rate measures the neighbours; the CPU
 * each response cost measures the server. Limit's µs over the app's, round by round.
 */
function cpuEfficiency(app: LoadSummary, limit: LoadSummary): string {
  const a = cpuPerResponseUs(app);
  const b = cpuPerResponseUs(limit);
  if (a === undefined || b === undefined) return "n/a (CPU use unknown)";
  const ratio = summarize(b.map((value, index) => value / a[index]!));
  return `${spread(summarize(a), 0, " µs")} vs ${spread(summarize(b), 0, " µs")} per response: **${spread(ratio, 2)}**`;
}

/** A caution when the server under test got so little of its core that the rate measures the neighbours. */
function starved(load: LoadSummary): string {
  const share = load.serverCpuPercent?.median;
  if (share === undefined || share >= 50) return "";
  return `
- **Read these rates with care**: the servers got about ${num(share)} % of their core (CPU column), the rest went to the
  machine's other work, so each rate, its latencies and the rate ratios (note their min–max) say more about what the
  neighbours did in that round than about the server; a "met" or "not met" above is within that noise. The CPU each
  response cost is the steadier comparison.`;
}

function cachedReadSection(record: BenchmarkRecord<CachedReadData> | undefined): string {
  if (record === undefined) return missing(1, "Cached read", "cached-read");
  const d = record.data;
  return `## 1. Cached read

\`GET ${d.path}\` (one user, ${d.bodyBytes}-byte JSON body, ${num(d.headerBytes)} bytes of headers) with ${d.connections} connections.
Two app processes: **full stack**, Redis as the cache with the near cache in front of it (app/src/tiers/nearCache.ts: a
hot key is answered from process memory, and Redis pub/sub drops every instance's copy on a write, so another
instance sees a write within the bound test/app/services/redis.test.ts measures); **embedded**, \`REDIS_URL\` unset, the
cache in process memory. Both answer \`x-cache: hit\`. The limit is a bare \`node:http\` server (bench/servers/bareHttp.ts)
answering every request with the app's own response, headers and body alike (the security headers, \`x-request-id\`,
\`x-cache\`): no routing, schema, cache or logging, the most one Node process serves here for the same bytes. A
second bare server sends the body with only \`content-type\` and \`content-length\`, for reference: what the app's
headers cost on the wire.
${header(record)}

${LOAD_TABLE_HEAD}
${loadRow("app, full stack (near cache + Redis)", d.app)}
${loadRow("app, embedded (in-process cache)", d.embedded)}
${loadRow("bare node:http, same response (limit)", d.bare)}
${loadRow("bare node:http, body only", d.bareBody)}

- Ratio full stack / limit: **${spread(d.ratio, 2)}**; target ${d.targets.ratio.goal}: ${met(d.targets.ratio)}.
- Ratio embedded / limit: **${spread(d.embeddedRatio, 2)}**; target ${d.targets.embeddedRatio.goal}: ${met(d.targets.embeddedRatio)}.
- Ratio full stack / body-only server: ${spread(d.bodyOnlyRatio, 2)}.
- CPU per response, limit / app (the same comparison by the CPU each response cost, which the neighbours disturb
  less than the rate when the servers get a small share of their core): full stack ${cpuEfficiency(d.app, d.bare)};
  embedded ${cpuEfficiency(d.embedded, d.bare)}.
- p99 of the full-stack app: **${spread(d.app.p99Ms, 2, " ms")}**; target ${d.targets.p99.goal}: ${met(d.targets.p99)}.${starved(d.app)}
- The apps' own counters over their lives (warm-up included): full stack ${hitRatio(d.appCounts.CacheHit, d.appCounts.CacheMiss)};
  embedded ${hitRatio(d.embeddedCounts.CacheHit, d.embeddedCounts.CacheMiss)}.
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
\`REDIS_URL\`: **on** uses Redis (and its near cache); **off** points at a closed port, so every cache call fails at once
and the read goes to the Postgres replica (the app's degraded mode: the way this app runs without a cache; unsetting
\`REDIS_URL\` would give it an in-process cache instead). Many users, not one: with one hot key the app's single-flight
loading would let one database read answer many concurrent requests.

The replica is reached through a delay proxy (bench/lib/delayProxy.ts) that adds a round trip of
**${num(d.replica.addedRoundTripMs)} ms**, what a replica in another availability zone costs: AWS describes its AZs as close enough for
synchronous replication "with single-digit millisecond latency" (whitepaper _AWS Fault Isolation Boundaries_,
Availability Zones), and James Hamilton put them "<2 ms apart, usually <1 ms" (AWS re:Invent 2014, SPOT301); 1 ms is
the low end, so the speed-up below is the least a real deployment would see. Measured on one connection: \`SELECT 1\`
took ${num(d.replica.directQueryMs, 2)} ms direct and ${num(d.replica.proxiedQueryMs, 2)} ms through the proxy (timers on a busy machine fire late).
${header(record)}

${LOAD_TABLE_HEAD}
${loadRow("cache on (Redis)", d.on)}
${loadRow("cache off (replica)", d.off)}

- Speed-up with the cache: **${spread(d.speedUp, 1, "×")}**; target ${d.target.goal}: ${met(d.target)}.${waiting}
- Why the two differ: cache off, a read waits a round trip on the replica, and one process has a pool of ${APP_POOL_SIZE}
  connections to it, so at ${num(d.replica.proxiedQueryMs, 2)} ms a query it reads at most about
  ${num((APP_POOL_SIZE * 1000) / d.replica.proxiedQueryMs)} rows per second however idle its CPU; cache on, a read is
  process memory or one Redis GET, bound by the CPU. The further the replica (a busier one, a larger row, another
  region) the larger the speed-up; the more CPU the app gets, too.
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
entry, delete the message. One app process in the \`worker\` role drains its queue, ${WORKER_CONCURRENCY} messages per receive and
${WORKER_CONCURRENCY} jobs at once (\`WORKER_CONCURRENCY\`, contract/process.ts). The limit is a bare loop on a queue of its own
(bench/servers/thumbnailLoop.ts) doing the same job with the AWS SDK and pg alone: receive ${WORKER_CONCURRENCY}, run their jobs at once
(the same queries, the app's own sharp resize), \`DeleteMessageBatch\`; it leaves out what the app adds around the job
(message validation, logs, metrics, the cache invalidation after the write). A third loop
(bench/servers/receiveDeleteLoop.ts) receives and deletes without any job: the queue's own floor. Each round
queues ${d.jobsPerRound} messages with \`DelaySeconds\`, so none is visible until all are queued, then times the queue
(visible + in flight + delayed) down to empty. SQS, S3 and the polling are all moto, on the same two cores.
${header(record)}

| contender | jobs/s | consumer CPU % |
| --- | ---: | ---: |
| app worker (one process) | ${spread(d.app.jobsPerSecond, 1)} | ${cpu(d.app.cpuPercent)} |
| bare loop, same job (limit) | ${spread(d.bare.jobsPerSecond, 1)} | ${cpu(d.bare.cpuPercent)} |
| receive(10) / delete-batch loop, no job | ${spread(d.queueOnly.jobsPerSecond, 1)} | ${cpu(d.queueOnly.cpuPercent)} |

- Ratio app / limit: **${spread(d.ratio, 2)}**; target ${d.target.goal}: ${met(d.target)}.
- The app's counters: ${num(d.appCounts.JobsProcessed)} jobs processed, ${num(d.appCounts.JobsFailed)} failed, of ${num(d.jobsSentToApp)} queued (warm-up included).
- What the app does on top of the limit's job: it validates each message (zod), logs, counts metrics, asks the writer for
  its WAL position and invalidates the user's cache entry (Redis: delete, fence, publish) after the transaction. It
  deletes finished jobs together, as the limit does, but without waiting for the slowest of a receive: one
  \`DeleteMessageBatch\` for the jobs that finish within 50 ms of each other (app/src/jobs/worker.ts). Where the ratio falls
  short, those are what to look at; the invalidation is what keeps reads correct and stays.
- moto is not SQS: it scans a queue's messages on every call (so it slows down as a queue grows) and answers in
  milliseconds where SQS and S3 take tens of them. Read the ratio, not the absolute rate.
`;
}

function programRow(name: string, program: ProgramSummary): string {
  return `| ${name} | ${spread(program.wallMs)} | ${spread(program.maxRssMiB)} | ${spread(program.cpuMs)} | ${program.resources} (${program.customResources} with an id) |`;
}

function synthesisSection(record: BenchmarkRecord<SynthesisData> | undefined): string {
  if (record === undefined) return missing(5, "Synthesis", "synthesis");
  const { prod, empty, replay } = record.data;
  const replayed =
    replay === undefined
      ? ""
      : `
- Ratio prod / its own resources replayed, wall time: **${num(prod.wallMs.median / replay.wallMs.median, 2)}×**
  (CPU time ${num(prod.cpuMs.median / replay.cpuMs.median, 2)}×): what the program adds to what Pulumi costs for the very resources it
  registers (no target set; the issue's target is against trivial resources, above).`;
  return `## 5. Synthesis

The \`prod\` program evaluated under Pulumi's mocks by the synth harness (\`node --import tsx harness/cli.ts --stack
prod --out FILE\`, a process per run), against two programs under the same \`RecordingMocks\` and prod config:
**empty** registers as many trivial resources, one input each (bench/servers/emptyProgram.ts \`--resources N\`), the
issue's baseline; **replay** registers prod's own resources again from its synth record, each of its own SDK class
(\`aws:ec2/subnet:Subnet\` is @pulumi/aws's \`ec2.Subnet\`) with the same inputs under the same parent, so the same
URNs, and none of the program's work (bench/servers/replayProgram.ts \`--from SYNTH.json\`): what Pulumi itself costs
for these resources. Wall time from spawn to exit; peak RSS and CPU time from \`process.resourceUsage()\`
at exit (bench/servers/usageHook.ts). All include starting Node and tsx (TypeScript compiled on the fly, cached
after the warm-up).
${header(record)}

| program | wall ms | peak RSS MiB | CPU ms | resources |
| --- | ---: | ---: | ---: | ---: |
${programRow("prod", prod)}
${programRow("empty", empty)}
${replay === undefined ? "" : programRow("replay", replay)}

- Ratio prod / empty, wall time: **${num(prod.wallMs.median / empty.wallMs.median, 2)}×**; target ≤ ${SYNTHESIS_GOAL}×: ${prod.wallMs.median / empty.wallMs.median <= SYNTHESIS_GOAL ? "met" : "**not met**"}.
- Ratio prod / empty, CPU time: ${num(prod.cpuMs.median / empty.cpuMs.median, 2)}× (wall time on this machine is mostly waiting for a core).${replayed}
- Where prod's time goes, and what would close the gap: the synthesis profile under "Where the time goes".
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
  // The near cache answers a key a task read less than its TTL ago; at most maxEntries keys at once.
  const nearKeysPerTask = NEAR_CACHE_DEFAULTS.maxEntries;
  const nearTtlSeconds = NEAR_CACHE_DEFAULTS.ttlMs / 1000;
  const hotGetsPerRegion = (p.webMaxTasks * nearKeysPerTask) / nearTtlSeconds;
  const cacheBinds =
    getsPerRegion > NODE_GETS_PER_SECOND
      ? `: the node binds before the web tier when reads are spread that wide, unless they are spread over the
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
2. **The cache's primary node.** \`REDIS_URL\` is the replication group's primary endpoint, so every GET of a region
   goes to one ${p.cacheNodeType} node (its replicas serve no reads). The near cache in front of it
   (app/src/tiers/nearCache.ts: up to ${num(nearKeysPerTask)} keys per task, each kept ${num(nearTtlSeconds)} s) answers a key its task read
   within the last second, so a hot key costs the node one GET per task per second: at most ${num(hotGetsPerRegion)} GET/s for
   a region's ${p.webMaxTasks} tasks while each reads no more than ${num(nearKeysPerTask)} distinct keys a second. Reads spread over more keys
   than that reach the node, up to every read when none repeats within a second: ${num(getsPerRegion)} GET/s at the CPU
   target. One Redis/Valkey node serves in the order of ${num(NODE_GETS_PER_SECOND)} simple GETs per second${cacheBinds}.
3. **The database, for misses and writes.** Every write of both regions goes to the one writer (${p.databaseInstanceClass}) in
   the primary region. Sign-ups are bound by scrypt on the web tasks first:${d.signUps === undefined ? " (benchmark 3 not run)" : ` about ${num(d.signUps.perRegionAtFullCpu)} per second per region at 100 % CPU (benchmark 3, run ${d.signUps.runId})`}.
   Connections at \`maxTasks\` (pools of ${APP_POOL_SIZE} per task and database, opened on demand): up to ${num(d.connections.writer)} on
   the writer (web tasks' pools plus about one per worker, ${p.workersMaxTasks} workers per region), up to
   ${num(d.connections.primaryReplica)} on each of the primary's ${p.readReplicas} replicas and ${num(d.connections.secondaryReplica)} on the secondary's.
   RDS's default \`max_connections\` for PostgreSQL is LEAST(DBInstanceClassMemory / 9531392, 5000): about 1,700
   for a 16 GiB class such as db.r6g.large.
4. **The load balancer.** An ALB has no fixed request ceiling but scales out by itself over minutes; a sudden step to
   the figures above would see errors first unless capacity is reserved ahead (ALB LCU reservation).
5. ${workersItem(d)}

${sizingSection(d)}`;
}

/**
 * The workers' scaling arithmetic, from Pulumi.prod.yaml (read with parseConfig when the report is
 * written), the contract's worker concurrency and benchmark 4's measured rate: what backlog-per-task
 * scaling asks for, with the configured job time and with the measured one.
 */
function workersItem(d: CapacityData): string {
  const { workers } = parseConfig(rawConfigFromPulumi(stackConfig("prod")));
  const configured = jobsPerSecondPerTask(workers);
  const backlog = backlogPerTaskTarget(workers);
  const measured = d.workerJobs;
  const measuredLine =
    measured === undefined
      ? "Benchmark 4 has not run, so there is no measured rate to compare."
      : (() => {
          // The job time that the measured rate implies, at the contract's concurrency.
          const impliedJobSeconds = WORKER_CONCURRENCY / measured.perTask;
          const measuredBacklog = backlogPerTaskTarget({
            latencyGoalSeconds: workers.latencyGoalSeconds,
            averageJobSeconds: impliedJobSeconds,
          });
          return `Measured (benchmark 4, run ${measured.runId}): one worker process did ${num(measured.measuredPerProcess, 1)} jobs/s${measured.cpuPercent === undefined ? "" : ` at ${num(measured.cpuPercent)} % of a core`}, that is
   **${num(measured.perTask, 1)} jobs/s per task** at the prod task size (${measured.workerCpuUnits} CPU units; rate ÷ CPU share × vCPU, never above
   the rate measured), as if a job took ${num(impliedJobSeconds, 2)} s at ${WORKER_CONCURRENCY} at once: backlog-per-task from that figure would be
   **${num(measuredBacklog)}**. The stack keeps the configured ${num(workers.averageJobSeconds)} s: moto answers in milliseconds where S3 and SQS take tens of
   them, so the measured job time is a floor, not what prod sees; set \`workers.averageJobSeconds\` from the
   \`JobDuration\` metric once prod runs.`;
        })();
  return `**The workers.** A worker task runs ${WORKER_CONCURRENCY} jobs at once (\`WORKER_CONCURRENCY\`, contract/process.ts), so
   at \`workers.averageJobSeconds\` ${num(workers.averageJobSeconds)} s it gets through ${num(configured, Number.isInteger(configured) ? 0 : 1)} jobs per second (\`jobsPerSecondPerTask\`,
   components/queueWorkers.ts). Backlog-per-task scaling keeps (waiting + in-flight jobs) / tasks at
   ${num(workers.latencyGoalSeconds)} s × ${num(configured, Number.isInteger(configured) ? 0 : 1)} jobs/s = **${num(backlog)} jobs per task** (\`backlogPerTaskTarget\`, the same functions the stack calls).
   ${measuredLine}`;
}

function sizingSection(d: CapacityData): string {
  const { demand, serviceLimits: limits, sizing } = d;
  const perSecond = (value: number) => num(value, value < 10 ? 1 : 0);
  const first = sizing.limits[0]!;
  return `### 1,000,000 daily active users

What the busier region needs at the chapter's scale, from the figures above and these assumptions (bench/benchmarks/capacity.ts,
\`DEMAND\` and \`SERVICE_LIMITS\`):
- ${num(demand.dailyActiveUsers)} daily active users; per user and day ${num(demand.readsPerUserPerDay)} reads, ${num(demand.writesPerUserPerDay)} writes and ${num(demand.jobsPerUserPerDay, 1)} photo
  uploads (worker jobs); peak = ${num(demand.peakToAverage)} × average (the chapter's rule of thumb); the busier region serves
  ${num(100 * demand.busiestRegionShare)} % of the users; the cache answers ${num(100 * demand.cacheHitRatio)} % of reads.
- Orders of magnitude, not measured here: one Redis/Valkey node ${num(limits.cacheNodeGetsPerSecond)} GET/s; one db.r6g.large-class replica
  ${num(limits.replicaReadsPerSecond)} indexed single-row reads/s; one such writer ${num(limits.writerWritesPerSecond)} small write transactions/s.
- Web tasks carry reads and writes at the per-task rate of the CPU target above (writes cost more; sign-ups far more,
  see benchmark 3, and are rare).

Peak in the busier region: ${perSecond(sizing.peak.reads)} reads/s (${perSecond(sizing.peak.cacheMisses)} of them misses), ${perSecond(sizing.peak.writes)} writes/s, ${perSecond(sizing.peak.jobs)} jobs/s.

| per region | needed for the load | prod config |
| --- | ---: | ---: |
| web tasks | ${num(sizing.webTasks.needed)} (the minimum; the load needs fewer) | ${sizing.webTasks.configuredMin}–${sizing.webTasks.configuredMax} |
| worker tasks | ${num(sizing.workerTasks.needed)} | up to ${sizing.workerTasks.configuredMax} |
| cache nodes | ${num(sizing.cacheNodes.neededForThroughput)} for throughput | ${sizing.cacheNodes.configured} (primary + replicas, for failover) |
| read replicas | ${num(sizing.replicas.neededForThroughput)} for throughput | ${sizing.replicas.configured} |
| write shards (both regions' writes, one writer) | ${num(sizing.shards.needed)} | 1 |

At 1,000,000 daily active users nothing is near a limit: the configured minimums (three web tasks across AZs, a
replicated cache, two replicas) are for availability, not load. Daily active users at which each limit is reached, as
traffic grows with these assumptions:

| limit | reached at daily active users |
| --- | ---: |
${sizing.limits.map((limit) => `| ${limit.limit} | ${num(limit.dailyActiveUsers)} |`).join("\n")}

**${first.limit}** binds first, at about ${num(first.dailyActiveUsers)} daily active users. The near cache takes hot keys off Redis
(each instance asks Redis for a hot key about once per its TTL, not once per read), so the cache node's figure is a floor;
past it, read from the replicas (the reader endpoint) or shard the keys (cluster mode).
`;
}

/**
 * Where a cached read's CPU goes: a profile taken by hand, not by `npm run bench` (a profiler would
 * slow the measured process). Command and date are printed with it; rerun it after changing the
 * read path.
 */
const CACHED_READ_PROFILE = {
  taken: "2026-11-29",
  command:
    "both apps of benchmark 1 (full stack and embedded) run by `npm run bench -- --only cached-read` under node --cpu-prof, 50 connections, start-up and idle left out, the two profiles together",
  rows: [
    [
      "socket writes (libuv's writev and Node's stream plumbing; the bare server makes the same calls)",
      43,
    ],
    ["Node's HTTP parser and outgoing headers (the bare server's too, for the same headers)", 17],
    ["Fastify: routing, hooks, schema validation, reply headers", 15],
    ["the VM's own work (no JavaScript frame)", 8],
    ["Node's event loop: ticks, timers, listeners", 6],
    ["the app's own code (near-cache hit, readUser, shard heat, headers, metrics)", 3],
    ["lru-cache (the near cache and the parsed values)", 2],
    ["garbage collection", 2],
    ["pino: the request's logger, made only when the request logs", 0],
  ] as const,
  /** helmet's share of busy CPU before security headers were worked out once (same command). */
  helmetBeforeFixPercent: 12,
  /** pino's share before the request's logger was made lazily (same command). */
  pinoBeforeFixPercent: 5,
};

const sum = (values: readonly number[]): number =>
  values.reduce((total, value) => total + value, 0);

/**
 * Where `npm run synth -- --stack prod` spends its CPU, next to the two baselines of benchmark 5:
 * profiles taken by hand, like the one above, classified by the stack of each sample.
 */
const SYNTHESIS_PROFILE = {
  taken: "2026-11-29",
  command:
    "node --cpu-prof --import tsx harness/cli.ts --stack prod, and the replay and empty programs likewise, two runs each averaged (tsx's cache warm); idle left out",
  /** [where, prod ms, replay ms, empty ms] */
  rows: [
    [
      "Pulumi: a stack trace captured for every promise it makes (`debuggablePromise`: one per declared property of every resource, and per Output), source-mapped",
      1400,
      1232,
      330,
    ],
    ["loading modules: resolving, reading and compiling them (tsx and Node)", 1176, 1182, 1209],
    ["native: the VM's own work", 546, 191, 103],
    ["Pulumi runtime: Outputs, registration, serialisation, the mocks", 407, 222, 110],
    ["other packages (@pulumi/aws, zod, yaml, grpc ...)", 386, 260, 219],
    ["garbage collection", 385, 312, 147],
    ["Node internals: events, promises, streams", 328, 191, 160],
    ["the program's own code (stacks/, components/, harness/)", 137, 17, 12],
    ["Pulumi: a stack trace per resource (Resource.callsites), source-mapped", 120, 56, 27],
  ] as const,
};

function profileSection(): string {
  const p = CACHED_READ_PROFILE;
  return `## Where the time goes

A cached read, profiled by hand on ${p.taken} (${p.command}):

| where | share of busy CPU |
| --- | ---: |
${p.rows.map(([where, share]) => `| ${where} | ${share} % |`).join("\n")}

- Before this profile, @fastify/helmet rebuilt helmet's middleware on every request (it parsed the Content-Security-Policy
  each time): ${p.helmetBeforeFixPercent} % of busy CPU. The app now has helmet work out its headers once at start-up
  (app/src/http/security.ts).
- Also since the previous profile: the request's child logger is made only when the request logs (pino was ${p.pinoBeforeFixPercent} % of busy CPU);
  a user held in process memory (the near cache, the in-process cache) is answered by the route's handler with no
  promise at all (\`CacheAside.peek\` over \`Cache.get.now\`; a session cookie or a recent write still goes through
  \`readUser\`); the security, served-by and request-id headers are set by one hook instead of two; cookies are parsed
  only when a route reads them (one hook fewer per request); the shard a read counts is read from the id without a
  BigInt, and request ids are a per-process prefix and a counter rather than a UUID each (about 1 % each before).
- Three quarters of what is left is Node writing and parsing HTTP and running its event loop, which the bare server
  pays too; what the app adds is Fastify's lifecycle (about a seventh: routing, three hook steps, the params schema,
  seventeen reply headers copied one by one, each lower-cased, before Node checks them again: Fastify's
  \`Reply.header\` alone is about 4.5 %) and its own code (about a thirtieth). Closing the rest means less work in
  Fastify per request, or answering hot keys before Fastify's lifecycle, which would bypass the schema, the security
  headers and the error handling that every route relies on. The last is not worth it.
- A full-stack read costs no Redis round trip for a hot key: the near cache answers it from process memory, and a
  Redis GET happens about once per key per second (its TTL) or after an invalidation.

Prod synthesis, profiled by hand on ${SYNTHESIS_PROFILE.taken} (${SYNTHESIS_PROFILE.command}), CPU ms by what each sample was doing:

| where | prod | replay | empty |
| --- | ---: | ---: | ---: |
${SYNTHESIS_PROFILE.rows.map(([where, prod, replay, empty]) => `| ${where} | ${num(prod)} | ${num(replay)} | ${num(empty)} |`).join("\n")}
| all | ${num(sum(SYNTHESIS_PROFILE.rows.map((row) => row[1])))} | ${num(sum(SYNTHESIS_PROFILE.rows.map((row) => row[2])))} | ${num(sum(SYNTHESIS_PROFILE.rows.map((row) => row[3])))} |

- Most of prod's cost over the empty program is Pulumi's own work for real resources, which the replay pays as well:
  @pulumi/pulumi captures a formatted stack trace (\`new Error().stack\`, source-mapped under tsx, and under
  \`pulumi preview\` by the source-map-support it registers) for every promise it makes, and it makes one for every
  declared property of every resource: a subnet, an alarm or a task definition declares 24 to 28, a trivial resource one.
  That alone is about a quarter of prod's CPU, and it does not depend on the program.
- What the program itself adds over the replay is its Outputs and applies (the Pulumi runtime row), the VM's work for
  its larger heap, and its own code (about 3 %). Until the Fargate services took a plain \`dependsOn\` (they now start
  once their grants exist), Pulumi walked the Resources inside an Output-valued \`dependsOn\` and everything they
  reference (\`containsUnknowns\`): about a tenth of prod's CPU, gone.
- What would close the gap to the issue's baseline is upstream: Pulumi capturing those stacks only when promise-leak
  debugging is on (\`PULUMI_DEBUG_PROMISE_LEAKS\`, the only reader of them in @pulumi/pulumi's runtime/debuggable.js).
  Turning source maps off for node_modules (\`module.setSourceMapsSupport(true, { nodeModules: false })\`) was tried and
  saved under a third of that row; the compiled, bundled program (branch \`synth\`) sped the empty program up more
  than prod.
`;
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
      benchmark: "1. Cached read, full stack / bare node:http",
      result: `${spread(d.ratio, 2)} (${num(d.app.requestsPerSecond.median)} vs ${num(d.bare.requestsPerSecond.median)} req/s)`,
      target: `${d.targets.ratio.goal}: ${met(d.targets.ratio)}`,
    });
    rows.push({
      benchmark: "1. Cached read, embedded / bare node:http",
      result: `${spread(d.embeddedRatio, 2)} (${num(d.embedded.requestsPerSecond.median)} vs ${num(d.bare.requestsPerSecond.median)} req/s)`,
      target: `${d.targets.embeddedRatio.goal}: ${met(d.targets.embeddedRatio)}`,
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
      benchmark: "2. Cache effect, on / off (replica 1 ms away)",
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
      benchmark: "4. Workers, app / bare loop doing the same job",
      result: `${spread(d.ratio, 2)} (${num(d.app.jobsPerSecond.median, 1)} vs ${num(d.bare.jobsPerSecond.median, 1)} jobs/s)`,
      target: `${d.target.goal}: ${met(d.target)}`,
    });
  }
  if (synthesis !== undefined) {
    const { prod, empty, replay } = synthesis.data;
    rows.push({
      benchmark: "5. Synthesis, prod / empty program (wall time)",
      result: `${num(prod.wallMs.median / empty.wallMs.median, 2)}× (${num(prod.wallMs.median)} vs ${num(empty.wallMs.median)} ms, ${num(prod.maxRssMiB.median)} vs ${num(empty.maxRssMiB.median)} MiB, ${prod.resources} resources)`,
      target: `≤ ${SYNTHESIS_GOAL}×: ${prod.wallMs.median / empty.wallMs.median <= SYNTHESIS_GOAL ? "met" : "**not met**"}`,
    });
    if (replay !== undefined) {
      rows.push({
        benchmark: "5. Synthesis, prod / its own resources replayed (wall time)",
        result: `${num(prod.wallMs.median / replay.wallMs.median, 2)}× (${num(prod.wallMs.median)} vs ${num(replay.wallMs.median)} ms)`,
        target: "none set (what the program adds to Pulumi's cost for its resources)",
      });
    }
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
  const maxLoad = Math.max(
    ...present.flatMap((record) => [record.loadAverage.before, record.loadAverage.after]),
  );
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
from that (issues 7 and 17). Written by bench/report.ts from bench/results/*.json; do not edit by hand.${lastRun}
${mixed}
## Machine

- ${machine.cpus} CPUs (\`nproc\`), ${machine.cpuModel}, ${machine.memoryGiB} GiB memory, Node ${machine.node}, ${machine.os}.
- ${loadNote(maxLoad, machine.cpus)} Each benchmark lists the 1-minute load average before and after it; a load
  above ${machine.cpus} means work queued for the CPUs. Other runs will differ by tens of percent; the round-by-round ratios
  hold better than the absolute numbers, but a contender that drew a busier moment still loses its round.
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
  cache (unset for the embedded contender of benchmark 1) and the Postgres primary and replica, in a scratch schema and
  Redis database of the run's own.
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
${profileSection()}
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

/** How loaded the machine was, from the highest 1-minute load average any benchmark saw. */
function loadNote(maxLoad: number, cpus: number): string {
  const seen = `the 1-minute load average reached ${num(maxLoad, 1)} on ${cpus} cores during this run, counting the benchmark's own server, load generator and services`;
  return maxLoad > cpus
    ? `**A shared machine, loaded at times**: ${seen}.`
    : `**A shared machine, quiet during this run**: ${seen}.`;
}
