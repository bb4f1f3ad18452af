/** What every benchmark is handed, and what it is. */
import type { CpuPlan } from "./processes";
import type { BenchSettings } from "./record";
import type { Scratch } from "./services";

/** The app's surroundings in the services: this run's schema, queue and bucket. */
export interface AppStack {
  scratch: Scratch;
  /** The queue the web role sends to (the worker benchmark makes its own). */
  queueUrl: string;
  bucket: string;
}

export interface BenchContext {
  settings: BenchSettings;
  cpus: CpuPlan;
  log: (message: string) => void;
}

/**
 * A benchmark that says it uses the services is handed the app's stack in them (created once,
 * on first use); the others (synthesis, capacity) need no services and get none.
 */
export type Benchmark<D> = { id: string; title: string } & (
  | { usesServices: false; run(context: BenchContext): Promise<D> }
  | { usesServices: true; run(context: BenchContext, stack: AppStack): Promise<D> }
);

/** A goal from the issue and whether the median met it (reported, never asserted). */
export interface Target {
  goal: string;
  value: number;
  met: boolean;
}
