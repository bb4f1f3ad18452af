/**
 * The app's metrics: CloudWatch embedded metric format lines on stdout, in one namespace, with one
 * dimension set (`Service` = the role that emitted them). The app emits them (app/src/metrics.ts);
 * the stack's dashboards and alarms read them (components/observability.ts).
 */
import type { TaskRole } from "./process";

/** The namespace the stack sets (METRICS_NAMESPACE) and the app's default. */
export const METRICS_NAMESPACE = "ZeroToMillions";

/** Every metric and its unit. */
export const METRIC_UNITS = {
  /** Per request, sampled (at most 1,000 a minute per task). */
  RequestLatency: "Milliseconds",
  CacheHit: "Count",
  CacheMiss: "Count",
  Signups: "Count",
  /** Distinct signed-in users one web task saw in the last minute, emitted each minute. */
  ActiveUsers: "Count",
  JobsProcessed: "Count",
  JobsFailed: "Count",
  /** A region deleted a cache key before its replicas had replayed the write (the wait ran out). */
  InvalidationWaitExceeded: "Count",
  /** A cache invalidation could not be sent to a region's queue: it may serve the old row until the TTL. */
  InvalidationPublishFailed: "Count",
} as const;

export type MetricName = keyof typeof METRIC_UNITS;

/** The one dimension, and its values. */
export const METRIC_DIMENSION = "Service";
export type MetricService = TaskRole;
export const METRIC_DIMENSION_SETS: readonly (readonly string[])[] = [[METRIC_DIMENSION]];
