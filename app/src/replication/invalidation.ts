/**
 * Cache invalidation across regions. Each region keeps its own cache and reads its own replica, so
 * a write must invalidate the key in every region, and no region may delete it before its replica
 * can serve the new row (a read in between would put the old row back for a whole TTL).
 *
 * The writer side sends an Invalidation {key, lsn} to every region's invalidation queue (SQS, one
 * per region, its own region's included). In each region the web tasks consume their queue with
 * the invalidation handler: raise the key's fence to the LSN at once (from then on no read-through
 * caches the key from a replica behind it), wait until the region's replicas have replayed the LSN,
 * then delete the key. The wait is bounded: past it the key is deleted anyway, and the event is
 * logged and counted (InvalidationWaitExceeded) for an alarm, since the region then runs on a
 * replica lagging more than the bound.
 */
import type { Logger } from "pino";
import { z } from "zod";
import { INVALIDATION_MAX_REPLAY_WAIT_SECONDS } from "../../../contract";
import type { JobHandler } from "../jobs/worker";
import { parseMessage, UnprocessableJobError } from "../jobs/thumbnail";
import type { Metrics } from "../metrics";
import type { Cache } from "../tiers/cache";
import type { Database } from "../tiers/database";
import type { JobQueue } from "../tiers/queue";
import type { FenceStore } from "./fences";
import { parseLsn, regionHasReplayed, type Lsn } from "./lsn";

/** The message on the invalidation queues; `version` changes only with an incompatible shape. */
export const Invalidation = z.object({
  type: z.literal("cache-invalidation"),
  version: z.literal(1),
  /** The cache key, as CacheAside names it (`user:<id>`). */
  key: z.string().min(1).max(512),
  /**
   * The physical shard whose writer took the write (its replicas are the ones to wait for);
   * absent in messages from before sharding, which had shard 0 only.
   */
  shard: z.number().int().min(0).default(0),
  /** That writer's WAL position after the write that made the key stale. */
  lsn: z
    .string()
    .refine((value) => parseLsn(value) !== undefined, "must be an LSN such as 0/3000060"),
  /** The region whose task made the write (for logs). */
  origin: z.string(),
  sentAt: z.iso.datetime(),
});
export type Invalidation = z.infer<typeof Invalidation>;

export interface InvalidationTiming {
  /** How long a region waits for its replicas to replay a write before deleting anyway. */
  maxReplayWaitMs: number;
  replayPollMs: number;
  /** How long a fence is kept: well past the longest replay wait. */
  fenceTtlMs: number;
}

/** The replica-lag alarm fires at 30 s; waiting as long covers every lag short of an incident. */
export const DEFAULT_INVALIDATION_TIMING: InvalidationTiming = {
  maxReplayWaitMs: INVALIDATION_MAX_REPLAY_WAIT_SECONDS * 1000,
  replayPollMs: 100,
  fenceTtlMs: 10 * 60_000,
};

export interface InvalidationPublisherOptions {
  /** Every region's invalidation queue, this region's included. */
  queues: JobQueue[];
  origin: string;
  logger: Logger;
}

/** How long closing waits for sends in flight; the rest are lost (and those regions' TTLs apply). */
export const CLOSE_FLUSH_MS = 5_000;

/** Sends in flight at most; past it an invalidation is dropped (and counted) rather than queued. */
export const MAX_PENDING_SENDS = 10_000;

/**
 * Sends each invalidation to every region's queue, in the background: a write never waits on
 * another region (whose queue may be unreachable, with retries lasting seconds). Failures are
 * logged and counted (InvalidationPublishFailed); that region keeps the old entry until its TTL.
 */
export class InvalidationPublisher {
  private readonly pending = new Set<Promise<void>>();
  private metrics: Metrics | undefined;

  constructor(private readonly options: InvalidationPublisherOptions) {}

  /** Where failures are counted: the metrics of the process that publishes (set by buildApp). */
  countFailuresIn(metrics: Metrics): void {
    this.metrics = metrics;
  }

  publish(key: string, lsn: Lsn, shard = 0): void {
    const message: Invalidation = {
      type: "cache-invalidation",
      version: 1,
      key,
      shard,
      lsn,
      origin: this.options.origin,
      sentAt: new Date().toISOString(),
    };
    const body = JSON.stringify(message);
    this.options.queues.forEach((queue, index) => {
      if (this.pending.size >= MAX_PENDING_SENDS) {
        this.failed(new Error("too many invalidations in flight"), key, lsn, index);
        return;
      }
      const send = queue
        .send(body)
        .catch((error: unknown) => this.failed(error, key, lsn, index))
        .finally(() => this.pending.delete(send));
      this.pending.add(send);
    });
  }

  /** Resolves once every invalidation published so far has been sent (or has failed). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Gives sends in flight a moment (a region that is down would hold shutdown for its retries). */
  async close(flushForMs = CLOSE_FLUSH_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise((resolve) => (timer = setTimeout(resolve, flushForMs))),
    ]);
    clearTimeout(timer);
    await Promise.all(this.options.queues.map((queue) => queue.close()));
  }

  private failed(error: unknown, key: string, lsn: Lsn, queue: number): void {
    this.metrics?.count("InvalidationPublishFailed");
    this.options.logger.error(
      { err: error, key, lsn, queue, degraded: "invalidation" },
      "cache invalidation not sent to a region; it may serve the old row until the TTL",
    );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface InvalidationHandlerOptions {
  /** This region's databases by physical shard number (a message names the shard it waits on). */
  shards: readonly Database[];
  cache: Cache;
  fences: FenceStore;
  logger: Logger;
  metrics: Metrics;
  timing?: Partial<InvalidationTiming>;
}

/** Applies one region's invalidations (run by a Worker on the region's invalidation queue). */
export function createInvalidationHandler(options: InvalidationHandlerOptions): JobHandler {
  const timing = { ...DEFAULT_INVALIDATION_TIMING, ...options.timing };
  return async (body) => {
    const invalidation = parseMessage(body, Invalidation, {
      notJson: "the invalidation is not JSON",
      notValid: "not an invalidation",
    });
    const { key, origin, shard } = invalidation;
    const lsn = parseLsn(invalidation.lsn)!;
    const database = options.shards[shard];
    if (database === undefined) {
      // A region configured with fewer shards than the writer's: nothing here to wait for. The
      // key goes at once (the safe side), and the message is dead-lettered for someone to look.
      await options.cache.delete(key);
      throw new UnprocessableJobError(
        `the invalidation names physical shard ${shard}; this region has ${options.shards.length}`,
      );
    }
    await options.fences.raise(key, lsn, timing.fenceTtlMs);
    const started = Date.now();
    while (!(await regionHasReplayed(database, lsn))) {
      if (Date.now() - started >= timing.maxReplayWaitMs) {
        options.metrics.count("InvalidationWaitExceeded");
        options.logger.warn(
          {
            key,
            lsn,
            origin,
            physicalShard: shard,
            waitedMs: Date.now() - started,
            invalidationWaitExceeded: true,
          },
          "replica has not replayed the write within the bound; deleting the cache key anyway",
        );
        break;
      }
      await sleep(timing.replayPollMs);
    }
    await options.cache.delete(key);
    return "processed";
  };
}
