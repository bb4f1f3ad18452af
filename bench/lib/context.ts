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
  /** Created on first use: the synthesis benchmark needs no services. */
  appStack(): Promise<AppStack>;
}

export interface Benchmark<D> {
  id: string;
  title: string;
  usesServices: boolean;
  run(context: BenchContext): Promise<D>;
}

/** A goal from the issue and whether the median met it (reported, never asserted). */
export interface Target {
  goal: string;
  value: number;
  met: boolean;
}
