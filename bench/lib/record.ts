/** What each benchmark writes to bench/results/<id>.json, and the machine it ran on. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem, type } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./processes";

export const RESULTS_DIR = join(REPO_ROOT, "bench", "results");

export interface BenchSettings {
  /** Measured rounds per contender (after one warm-up). */
  rounds: number;
  /** Length of one measured load run. */
  roundSeconds: number;
  /** Length of the unmeasured load run before the rounds. */
  warmupSeconds: number;
  /** Unmeasured lead-in at the start of each round, while the first requests queue up. */
  settleSeconds: number;
  /** Concurrent HTTP connections (and loops, for the write-path limit). */
  connections: number;
}

export const DEFAULT_SETTINGS: BenchSettings = {
  rounds: 5,
  roundSeconds: 5,
  warmupSeconds: 3,
  settleSeconds: 1,
  connections: 50,
};

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  os: string;
  /** How servers and load generator were placed on the CPUs. */
  pinning: string;
  services: Record<string, string>;
}

export function describeMachine(pinning: string, services: Record<string, string>): Machine {
  const cpuInfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuInfo)?.[1] ?? cpus()[0]?.model ?? "unknown";
  return {
    cpus: availableParallelism(),
    cpuModel: model.trim(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${type()} ${release()}`,
    pinning,
    services,
  };
}

/** The 1-minute load average: how busy the shared machine was around a benchmark. */
export function loadAverage(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

export interface BenchmarkRecord<D = unknown> {
  id: string;
  title: string;
  /** The `npm run bench` invocation that produced it; BENCHMARKS.md says if records differ. */
  runId: string;
  startedAt: string;
  seconds: number;
  machine: Machine;
  settings: BenchSettings;
  loadAverage: { before: number; after: number };
  data: D;
}

/** Three decimals are more than any of these measurements can tell apart. */
function roundNumbers(_key: string, value: unknown): unknown {
  return typeof value === "number" ? Math.round(value * 1000) / 1000 : value;
}

export function writeRecord(record: BenchmarkRecord): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${record.id}.json`);
  writeFileSync(file, `${JSON.stringify(record, roundNumbers, 2)}\n`);
  return file;
}

export function readRecord<D>(id: string): BenchmarkRecord<D> | undefined {
  const file = join(RESULTS_DIR, `${id}.json`);
  return existsSync(file)
    ? (JSON.parse(readFileSync(file, "utf8")) as BenchmarkRecord<D>)
    : undefined;
}

/** The `npm run bench` invocation as a whole: bench/results/run.json. */
export interface RunRecord {
  runId: string;
  benchmarks: string[];
  seconds: number;
  command: string;
}

const RUN_FILE = "run";

export function writeRunRecord(run: RunRecord): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${RUN_FILE}.json`), `${JSON.stringify(run, null, 2)}\n`);
}

export function readRunRecord(): RunRecord | undefined {
  const file = join(RESULTS_DIR, `${RUN_FILE}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as RunRecord) : undefined;
}
