/**
 * AWS's own limits that components and the stack config both check against, in one place.
 */

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Fargate's valid memory sizes (MiB) for each CPU size (CPU units). */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
};

/** SQS's upper limit for a queue's visibility timeout. */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** Slack on top of the job timeout before SQS hands the message to another worker. */
export const VISIBILITY_MARGIN_SECONDS = 30;

/** The queue's visibility timeout: the job's timeout plus a margin, so no job is handed out twice while it runs. */
export function visibilityTimeoutSeconds(jobTimeoutSeconds: number): number {
  return jobTimeoutSeconds + VISIBILITY_MARGIN_SECONDS;
}

function range(from: number, to: number, step: number): number[] {
  return Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);
}
