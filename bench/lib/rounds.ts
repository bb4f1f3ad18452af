/**
 * The shared runner: one warm-up per contender, then N rounds in which each contender runs once,
 * one after another, the order reversed every other round so that neither always goes first.
 * The contenders' processes are started before and stopped after by the caller.
 */
import type { LoadResult } from "./loadgen";
import { summarize, type Summary } from "./stats";

export type Phase = "warm-up" | "round";

export interface Contender<R> {
  name: string;
  /** One run; `phase` says whether it is measured. Throws if the contender's process died. */
  run(phase: Phase): Promise<R>;
  /** One line for the progress log. */
  describe(result: R): string;
}

export async function runRounds<R>(
  contenders: readonly Contender<R>[],
  rounds: number,
  log: (message: string) => void,
): Promise<Record<string, R[]>> {
  for (const contender of contenders) {
    log(`  warm-up: ${contender.name}`);
    await contender.run("warm-up");
  }
  const results: Record<string, R[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const contender of order) {
      const result = await contender.run("round");
      results[contender.name]!.push(result);
      log(`  round ${round + 1}/${rounds}: ${contender.name}: ${contender.describe(result)}`);
    }
  }
  return results;
}

export function describeLoad(result: LoadResult): string {
  const { requestsPerSecond, latencyMs } = result;
  // A short warm-up on a loaded machine may complete no request at all (then no latency).
  const ms = (value: number | null) => (value === null ? "n/a" : `${value.toFixed(2)} ms`);
  return `${Math.round(requestsPerSecond)}/s, p50 ${ms(latencyMs.p50)}, p99 ${ms(latencyMs.p99)}`;
}

/** A contender's rounds of HTTP load, summarised. */
export interface LoadSummary {
  requestsPerSecond: Summary;
  p50Ms: Summary;
  p99Ms: Summary;
  /** Non-2xx responses, connection errors and timeouts over all measured rounds. */
  failures: number;
  /** Near 100 %: the server used its core fully, so the rate is what it can do. */
  serverCpuPercent: Summary | undefined;
  /** Near 100 %: the load generator may have been the limit instead. */
  loadGeneratorCpuPercent: Summary;
  rounds: LoadResult[];
}

/** The summary of the values that were measured; undefined when none were (no /proc). */
export function summarizeKnown(values: (number | undefined)[]): Summary | undefined {
  const known = values.filter((value) => value !== undefined);
  return known.length === 0 ? undefined : summarize(known);
}

export function summarizeLoad(rounds: LoadResult[]): LoadSummary {
  return {
    requestsPerSecond: summarize(rounds.map((r) => r.requestsPerSecond)),
    p50Ms: summarize(rounds.map((r) => r.latencyMs.p50)),
    p99Ms: summarize(rounds.map((r) => r.latencyMs.p99)),
    failures: rounds.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
    serverCpuPercent: summarizeKnown(rounds.map((r) => r.serverCpuPercent)),
    loadGeneratorCpuPercent: summarize(rounds.map((r) => r.loadGeneratorCpuPercent)),
    rounds,
  };
}
