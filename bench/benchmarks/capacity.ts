/**
 * 6. Capacity: what the prod config can carry, from the cached-read rate of one app process on
 * one core (benchmark 1 of the same run) and the prod stack's own config, read with the same
 * parseConfig the program uses. Arithmetic only; the assumptions travel with the numbers.
 */
import { parseConfig, rawConfigFromPulumi } from "../../stacks/config";
import { stackConfig } from "../../harness/synth";
import type { Benchmark } from "../lib/context";
import type { LoadResult } from "../lib/load";
import { readRecord } from "../lib/record";
import { summarize } from "../lib/stats";
import type { CachedReadData } from "./cachedRead";
import type { WritePathData } from "./writePath";

/** Fargate CPU units in one vCPU. */
const UNITS_PER_VCPU = 1024;
/** The app's per-pool connection limit (the default in app/src/tiers/postgres.ts). */
export const APP_POOL_SIZE = 10;

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
    };
  },
};
