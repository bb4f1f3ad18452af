/**
 * The worker loop: long-polls the queue for a batch of jobs, runs the batch's jobs side by side,
 * deletes the batch's successes with one call once its jobs are done (one round trip, not one
 * per job: issue 17) and leaves each failure on the queue (visible again after a backoff), so
 * the queue's redrive policy moves a job that keeps failing to the dead-letter queue; a job that
 * can never succeed (UnprocessableJobError) is dropped at once. stop() ends the poll at once and
 * waits for the jobs in hand, which is what ECS's SIGTERM-then-wait expects.
 */
import type { Logger } from "pino";
import { WORKER_CONCURRENCY } from "../../../contract";
import type { Metrics } from "../metrics";
import { SQS_BATCH_LIMIT, type JobQueue, type QueueMessage } from "../tiers/queue";
import { UnprocessableJobError, type JobOutcome } from "./thumbnail";

export type JobHandler = (body: string, message: QueueMessage) => Promise<JobOutcome>;

export interface WorkerOptions {
  queue: JobQueue;
  handle: JobHandler;
  logger: Logger;
  metrics: Metrics;
  /** Long-poll wait; SQS's maximum, 20 s, keeps empty receives (and their cost) rare. */
  waitSeconds?: number;
  /** Seconds before a failed job is tried again, by its receive count (1 after the first try). */
  retryDelaySeconds?: (receiveCount: number) => number;
  /** Pause after the queue itself failed (e.g. unreachable) before polling again. */
  errorBackoffMs?: number;
  /**
   * Jobs taken per receive and run side by side. A job mostly waits on S3 and the database, so
   * one at a time would leave the task's CPU idle; SQS hands out at most 10 per receive. The
   * stack's backlog-per-task scaling counts on the default (the contract's WORKER_CONCURRENCY).
   * @default WORKER_CONCURRENCY
   */
  batchSize?: number;
}

const MAX_BATCH_SIZE = SQS_BATCH_LIMIT;

/** 5 s, 10 s, 20 s ... capped at 5 minutes. */
export function defaultRetryDelaySeconds(receiveCount: number): number {
  return Math.min(300, 5 * 2 ** Math.max(0, receiveCount - 1));
}

export class Worker {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly waitSeconds: number;
  private readonly retryDelaySeconds: (receiveCount: number) => number;
  private readonly errorBackoffMs: number;
  private readonly batchSize: number;

  constructor(private readonly options: WorkerOptions) {
    const batchSize = options.batchSize ?? WORKER_CONCURRENCY;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw new Error(`batchSize: ${batchSize} must be a whole number from 1 to ${MAX_BATCH_SIZE}`);
    }
    this.batchSize = batchSize;
    this.waitSeconds = options.waitSeconds ?? 20;
    this.retryDelaySeconds = options.retryDelaySeconds ?? defaultRetryDelaySeconds;
    this.errorBackoffMs = options.errorBackoffMs ?? 1_000;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops polling now; resolves once the jobs in hand (if any) have finished. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { queue, logger } = this.options;
    const signal = this.stopping.signal;
    logger.info({ queue: queue.kind, waitSeconds: this.waitSeconds }, "worker started");
    while (!signal.aborted) {
      let messages: QueueMessage[];
      try {
        messages = await queue.receive({
          waitSeconds: this.waitSeconds,
          maxMessages: this.batchSize,
          signal,
        });
      } catch (error) {
        logger.warn({ err: error, degraded: "queue" }, "receiving from the queue failed");
        await this.pause(this.errorBackoffMs);
        continue;
      }
      // Received messages are processed even when a stop came meanwhile: they are in hand.
      const outcomes = await Promise.all(messages.map((message) => this.process(message)));
      await this.drop(messages.filter((_message, index) => outcomes[index] === "delete"));
    }
    logger.info("worker stopped");
  }

  /** Runs one job: "delete" when its message is to be deleted, "leave" when the queue keeps it (to retry or as dead-lettered). */
  private async process(message: QueueMessage): Promise<"delete" | "leave"> {
    const { queue, metrics } = this.options;
    const log = this.logFor(message);
    try {
      const outcome = await this.options.handle(message.body, message);
      if (outcome === "processed") metrics.count("JobsProcessed");
      else log.info("job already done; dropping the redelivery");
    } catch (error) {
      metrics.count("JobsFailed");
      // A job that can never succeed goes to the dead-letter queue now, not after every retry.
      if (error instanceof UnprocessableJobError) {
        try {
          await queue.deadLetter(message, error.message);
          log.error({ err: error }, "job can never succeed; moved to the dead-letter queue");
          return "leave";
        } catch (deadLetterError) {
          log.warn(
            { err: deadLetterError },
            "could not dead-letter the job; retrying it until the redrive policy does",
          );
        }
      }
      const delaySeconds = this.retryDelaySeconds(message.receiveCount);
      log.error(
        { err: error, retryInSeconds: delaySeconds },
        "job failed; leaving it on the queue",
      );
      await queue.retryLater(message, delaySeconds).catch((retryError: unknown) => {
        // The message still reappears after the queue's own visibility timeout.
        log.warn({ err: retryError }, "could not shorten the failed job's visibility");
      });
      return "leave";
    }
    return "delete";
  }

  /** Deletes the messages of finished jobs, together. */
  private async drop(messages: QueueMessage[]): Promise<void> {
    if (messages.length === 0) return;
    for (const { message, reason } of await this.options.queue.deleteBatch(messages)) {
      // Its redelivery will find it done (or unprocessable again) and drop it then.
      this.logFor(message).warn({ reason }, "could not delete the job");
    }
  }

  private logFor(message: QueueMessage): Logger {
    return this.options.logger.child({
      messageId: message.messageId,
      receiveCount: message.receiveCount,
    });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.stopping.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
