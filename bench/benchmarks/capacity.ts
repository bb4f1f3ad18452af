/**
 * 6. Capacity: what the prod config can carry, from the cached-read rate of one app process on
 * one core (benchmark 1 of the same run), the worker's jobs per second (benchmark 4) and the prod
 * stack's own config, read with the same parseConfig the program uses; then what 1,000,000 daily
 * active users need per region, and which limit binds first as they grow. Arithmetic only; the
 * assumptions travel with the numbers (DEMAND, SERVICE_LIMITS).
 */
import { parseConfig, rawConfigFromPulumi } from "../../stacks/config";
import { stackConfig } from "../../harness/synth";
import type { Benchmark } from "../lib/context";
import type { LoadResult } from "../lib/load";
import { readRecord } from "../lib/record";
import { summarize } from "../lib/stats";
import { WORKER_CONCURRENCY } from "../../contract";
import type { CachedReadData } from "./cachedRead";
import type { WorkersData } from "./workers";
import type { WritePathData } from "./writePath";

/** Fargate CPU units in one vCPU. */
const UNITS_PER_VCPU = 1024;
/** The app's per-pool connection limit (the default in app/src/tiers/postgres.ts). */
export const APP_POOL_SIZE = 10;

/**
 * The demand side at the chapter's scale: every figure an assumption, printed with the result.
 * Back-of-the-envelope in the chapter's way: per-day counts over 86,400 s, then peak = 2 × average.
 */
export const DEMAND = {
  dailyActiveUsers: 1_000_000,
  /** API reads per active user per day (profiles and pages through GET /users/:id, /me). */
  readsPerUserPerDay: 100,
  /** Writes per active user per day (sign-ins, profile edits, upload steps). */
  writesPerUserPerDay: 5,
  /** Photos uploaded (one worker job each) per active user per day. */
  jobsPerUserPerDay: 0.5,
  /** Peak over average, the chapter's rule of thumb. */
  peakToAverage: 2,
  /** Reads the cache answers (benchmark 2 saw more than 99 % over 1,000 users; real keys spread wider). */
  cacheHitRatio: 0.95,
  /** Users of the busier region: geolocation routing splits by continent, not in half. */
  busiestRegionShare: 0.6,
} as const;

/** Orders of magnitude for the managed services, not measured here (the report says so). */
export const SERVICE_LIMITS = {
  /** Simple GETs per second one Redis/Valkey node serves. */
  cacheNodeGetsPerSecond: 100_000,
  /** Indexed single-row reads per second one db.r6g.large-class replica serves. */
  replicaReadsPerSecond: 10_000,
  /** Small single-row write transactions per second one db.r6g.large-class writer commits. */
  writerWritesPerSecond: 5_000,
} as const;

const SECONDS_PER_DAY = 86_400;

export interface Sizing {
  /** Peak per second in the busier region. */
  peak: { reads: number; cacheMisses: number; writes: number; jobs: number };
  /** What the busier region needs, and what the prod config gives it. */
  webTasks: { needed: number; configuredMin: number; configuredMax: number };
  workerTasks: { needed: number; configuredMax: number };
  cacheNodes: { neededForThroughput: number; configured: number };
  replicas: { neededForThroughput: number; configured: number };
  /** Write shards (writers) for both regions' writes. */
  shards: { needed: number };
  /** Daily active users at which each limit is reached, lowest first: the first binds. */
  limits: { limit: string; dailyActiveUsers: number }[];
}

export interface Throughput {
  /** From the median round. */
  median: number;
  /** From the slowest round: the cautious figure. */
  low: number;
}

export interface CapacityData {
  basisRunId: string;
  /** Cached reads per second of one app process on one core here (benchmark 1), as measured. */
  measuredPerProcess: Throughput;
  /** The CPU share of its core the app process got meanwhile (median), when known. */
  serverCpuPercent: number | undefined;
  /**
   * Cached reads per CPU-second of the app (rate ÷ CPU share, round by round): what it does with
   * a whole core, which a task has and a process on this shared machine may not.
   */
  perCpuSecond: Throughput;
  prod: {
    regions: string[];
    webCpuUnits: number;
    webMaxTasks: number;
    webMinTasks: number;
    cpuTargetPercent: number;
    requestsPerTargetPerMinute: number;
    workersMaxTasks: number;
    databaseInstanceClass: string;
    readReplicas: number;
    cacheNodeType: string;
  };
  /** One JavaScript thread uses at most one vCPU, so a bigger task does not scale the rate. */
  vcpuFactor: number;
  perTask: { atFullCpu: Throughput; atCpuTarget: Throughput };
  perRegion: { atFullCpu: Throughput; atCpuTarget: Throughput };
  total: { atFullCpu: Throughput; atCpuTarget: Throughput };
  /** Where the request-count scaling policy puts a region's fleet at maxTasks. */
  requestTargetPerRegion: number;
  /** Peak connections the web and worker pools may open, per database. */
  connections: { writer: number; primaryReplica: number; secondaryReplica: number };
  /** Sign-ups per second per region, same arithmetic, from benchmark 3 when it has run. */
  signUps: { perRegionAtFullCpu: number; runId: string } | undefined;
  /**
   * Jobs per second per worker task at the prod task size, from benchmark 4's app worker (rate ÷
   * its CPU share × the task's vCPU, at most 1: its JavaScript runs on one thread).
   */
  workerJobs:
    | {
        runId: string;
        measuredPerProcess: number;
        cpuPercent: number | undefined;
        perTask: number;
        workerCpuUnits: number;
      }
    | undefined;
  demand: typeof DEMAND;
  serviceLimits: typeof SERVICE_LIMITS;
  sizing: Sizing;
}

/** What the busier region needs for DEMAND, and the DAU at which each limit is reached. */
function size(
  perTaskAtTarget: number,
  jobsPerTask: number,
  config: {
    webMinTasks: number;
    webMaxTasks: number;
    workersMaxTasks: number;
    cacheNodes: number;
    replicas: number;
  },
): Sizing {
  const perDay = (count: number) =>
    (count * DEMAND.dailyActiveUsers * DEMAND.peakToAverage) / SECONDS_PER_DAY;
  const share = DEMAND.busiestRegionShare;
  const reads = perDay(DEMAND.readsPerUserPerDay) * share;
  const cacheMisses = reads * (1 - DEMAND.cacheHitRatio);
  const writes = perDay(DEMAND.writesPerUserPerDay) * share;
  const jobs = perDay(DEMAND.jobsPerUserPerDay) * share;
  // Every write of every region goes to the one writer in the primary region.
  const allWrites = perDay(DEMAND.writesPerUserPerDay);
  const users = (capacity: number, load: number) => (DEMAND.dailyActiveUsers * capacity) / load;
  const limits = [
    {
      limit: `web tasks at maxTasks (${config.webMaxTasks}) and the CPU target`,
      dailyActiveUsers: users(perTaskAtTarget * config.webMaxTasks, reads + writes),
    },
    {
      limit: "the cache's primary node (every cached read is a GET on it)",
      dailyActiveUsers: users(SERVICE_LIMITS.cacheNodeGetsPerSecond, reads),
    },
    {
      limit: `the region's ${config.replicas} read replicas (cache misses)`,
      dailyActiveUsers: users(
        SERVICE_LIMITS.replicaReadsPerSecond * Math.max(1, config.replicas),
        cacheMisses,
      ),
    },
    {
      limit: "the one writer (both regions' writes)",
      dailyActiveUsers: users(SERVICE_LIMITS.writerWritesPerSecond, allWrites),
    },
    {
      limit: `worker tasks at maxTasks (${config.workersMaxTasks})`,
      dailyActiveUsers: users(jobsPerTask * config.workersMaxTasks, jobs),
    },
  ].sort((a, b) => a.dailyActiveUsers - b.dailyActiveUsers);
  return {
    peak: { reads, cacheMisses, writes, jobs },
    webTasks: {
      needed: Math.max(config.webMinTasks, Math.ceil((reads + writes) / perTaskAtTarget)),
      configuredMin: config.webMinTasks,
      configuredMax: config.webMaxTasks,
    },
    workerTasks: {
      needed: Math.max(1, Math.ceil(jobs / jobsPerTask)),
      configuredMax: config.workersMaxTasks,
    },
    cacheNodes: {
      neededForThroughput: Math.ceil(reads / SERVICE_LIMITS.cacheNodeGetsPerSecond),
      configured: config.cacheNodes,
    },
    replicas: {
      neededForThroughput: Math.ceil(cacheMisses / SERVICE_LIMITS.replicaReadsPerSecond),
      configured: config.replicas,
    },
    shards: { needed: Math.ceil(allWrites / SERVICE_LIMITS.writerWritesPerSecond) },
    limits,
  };
}

/** Rate ÷ CPU share per round; undefined if a round's CPU share is unknown. */
function throughputPerCpuSecond(rounds: LoadResult[]): Throughput | undefined {
  const rates = rounds.map((round) =>
    round.serverCpuPercent === undefined || round.serverCpuPercent <= 0
      ? undefined
      : (round.requestsPerSecond * 100) / round.serverCpuPercent,
  );
  const known = rates.filter((rate) => rate !== undefined);
  if (known.length < rates.length) return undefined;
  const summary = summarize(known);
  return { median: summary.median, low: summary.min };
}

function scale(value: Throughput, factor: number): Throughput {
  return { median: value.median * factor, low: value.low * factor };
}

export const capacity: Benchmark<CapacityData> = {
  id: "capacity",
  title: "Capacity: what the prod config can carry, from benchmark 1",
  usesServices: false,
  async run() {
    const basis = readRecord<CachedReadData>("cached-read");
    if (basis === undefined) {
      throw new Error(
        "capacity needs bench/results/cached-read.json: run the cached-read benchmark first",
      );
    }
    const config = parseConfig(rawConfigFromPulumi(stackConfig("prod")));
    const { web, workers, database, cache, regions } = config;
    const app = basis.data.app;
    const perProcess = { median: app.requestsPerSecond.median, low: app.requestsPerSecond.min };
    const perCpuSecond = throughputPerCpuSecond(app.rounds) ?? perProcess;
    const vcpuFactor = Math.min(web.cpu / UNITS_PER_VCPU, 1);
    const regionCount = regions.count;
    const perTask = scale(perCpuSecond, vcpuFactor);
    const atTarget = web.cpuTargetPercent / 100;
    const perRegion = scale(perTask, web.maxTasks);

    // Each task opens up to one pool per database it uses. Web tasks fill theirs under load;
    // a worker runs one job at a time, so it holds about one writer connection.
    const webWriter = web.maxTasks * APP_POOL_SIZE;
    const writePath = readRecord<WritePathData>("write-path");
    const workersRecord = readRecord<WorkersData>("workers");
    const workerVcpu = Math.min(workers.cpu / UNITS_PER_VCPU, 1);
    const workerJobs =
      workersRecord === undefined
        ? undefined
        : (() => {
            const measured = workersRecord.data.app.jobsPerSecond.median;
            const cpuPercent = workersRecord.data.app.cpuPercent?.median;
            return {
              runId: workersRecord.runId,
              measuredPerProcess: measured,
              cpuPercent,
              // A worker that waited on its calls more than it used its core gets no credit for
              // the idle part: its rate is counted as is, only scaled down for a smaller task.
              perTask:
                cpuPercent === undefined || cpuPercent <= 0
                  ? measured * workerVcpu
                  : Math.min(measured, (measured * 100 * workerVcpu) / cpuPercent),
              workerCpuUnits: workers.cpu,
            };
          })();
    const perTaskAtTarget = perTask.median * atTarget;
    const sizing = size(
      perTaskAtTarget,
      workerJobs?.perTask ?? WORKER_CONCURRENCY / workers.averageJobSeconds,
      {
        webMinTasks: web.minTasks,
        webMaxTasks: web.maxTasks,
        workersMaxTasks: workers.maxTasks,
        cacheNodes: 1 + cache.replicas,
        replicas: database.readReplicas,
      },
    );
    return {
      basisRunId: basis.runId,
      measuredPerProcess: perProcess,
      serverCpuPercent: app.serverCpuPercent?.median,
      perCpuSecond,
      prod: {
        regions: [regions.primary, regions.secondary].slice(0, regions.count),
        webCpuUnits: web.cpu,
        webMaxTasks: web.maxTasks,
        webMinTasks: web.minTasks,
        cpuTargetPercent: web.cpuTargetPercent,
        requestsPerTargetPerMinute: web.requestsPerTargetPerMinute,
        workersMaxTasks: workers.maxTasks,
        databaseInstanceClass: database.instanceClass,
        readReplicas: database.readReplicas,
        cacheNodeType: cache.nodeType,
      },
      vcpuFactor,
      perTask: { atFullCpu: perTask, atCpuTarget: scale(perTask, atTarget) },
      perRegion: { atFullCpu: perRegion, atCpuTarget: scale(perRegion, atTarget) },
      total: {
        atFullCpu: scale(perRegion, regionCount),
        atCpuTarget: scale(perRegion, atTarget * regionCount),
      },
      requestTargetPerRegion: (web.requestsPerTargetPerMinute / 60) * web.maxTasks,
      connections: {
        writer: regionCount * (webWriter + workers.maxTasks),
        primaryReplica: webWriter,
        secondaryReplica: webWriter,
      },
      signUps:
        writePath === undefined
          ? undefined
          : {
              perRegionAtFullCpu:
                writePath.data.app.requestsPerSecond.median * vcpuFactor * web.maxTasks,
              runId: writePath.runId,
            },
      workerJobs,
      demand: DEMAND,
      serviceLimits: SERVICE_LIMITS,
      sizing,
    };
  },
};
