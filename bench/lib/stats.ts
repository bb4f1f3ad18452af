/** Summaries of a few rounds: the median, the range and the quartiles, never a single best run. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Quartiles by linear interpolation; with five rounds they are the 2nd and 4th values. */
  q1: number;
  q3: number;
  rounds: number;
}

/** The value at `fraction` (0..1) of sorted `values`, interpolating between neighbours. */
export function quantile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * fraction;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below]!;
  const high = sorted[above]!;
  return low + (high - low) * (position - below);
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    rounds: sorted.length,
  };
}

/**
 * Round-by-round ratios of `a` to `b`. Contenders run alternately within each round, so pairing
 * the rounds cancels most of the drift a shared machine's other load causes between rounds.
 */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((value, index) => value / b[index]!);
}
