/**
 * The worker loop: long-polls the queue for a batch of jobs, runs the batch's jobs side by side,
 * deletes each success soon after it finishes, together with the others that finish about then
 * (one call for up to ten: issue 17), and leaves each failure on the queue (visible again after a
 * backoff), so the queue's redrive policy moves a job that keeps failing to the dead-letter queue;
 * a job that can never succeed (UnprocessableJobError) is dropped at once. stop() ends the poll at
 * once and waits for the jobs in hand and their deletes, which is what ECS's SIGTERM-then-wait
 * expects.
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
  /**
   * How long a finished job's delete waits for others to share its call. Short: a job is deleted
   * well before its batch-mates finish or its visibility timeout ends, and none waits for the
   * slowest of its batch.
   * @default 50
   */
  deleteLingerMs?: number;
}

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
  private readonly deletions: Deletions;

  constructor(private readonly options: WorkerOptions) {
    const batchSize = options.batchSize ?? WORKER_CONCURRENCY;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > SQS_BATCH_LIMIT) {
      throw new Error(
        `batchSize: ${batchSize} must be a whole number from 1 to ${SQS_BATCH_LIMIT}`,
      );
    }
    this.batchSize = batchSize;
    this.waitSeconds = options.waitSeconds ?? 20;
    this.retryDelaySeconds = options.retryDelaySeconds ?? defaultRetryDelaySeconds;
    this.errorBackoffMs = options.errorBackoffMs ?? 1_000;
    this.deletions = new Deletions(
      options.queue,
      options.deleteLingerMs ?? 50,
      (message, failure) =>
        // Its redelivery will find it done (or unprocessable again) and drop it then.
        this.logFor(message).warn(failure, "could not delete the job"),
    );
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
      await Promise.all(messages.map((message) => this.process(message)));
      await this.deletions.settle();
    }
    logger.info("worker stopped");
  }

  /** Runs one job; its message is deleted on success, left on the queue (or dead-lettered) otherwise. */
  private async process(message: QueueMessage): Promise<void> {
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
          return;
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
      return;
    }
    this.deletions.add(message);
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

/**
 * Finished jobs' messages, deleted together: as soon as SQS's batch limit is reached, or
 * `lingerMs` after the first one waits. Never throws: what could not be deleted is reported.
 */
class Deletions {
  private pending: QueueMessage[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly queue: JobQueue,
    private readonly lingerMs: number,
    private readonly report: (
      message: QueueMessage,
      failure: { reason: string; err?: unknown },
    ) => void,
  ) {}

  add(message: QueueMessage): void {
    this.pending.push(message);
    if (this.pending.length >= SQS_BATCH_LIMIT) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
  }

  /** Sends what waits now and resolves once every delete sent so far has been answered. */
  async settle(): Promise<void> {
    this.flush();
    await Promise.all(this.sending);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const sent = this.send(batch).finally(() => this.sending.delete(sent));
    this.sending.add(sent);
  }

  private async send(batch: QueueMessage[]): Promise<void> {
    try {
      for (const { message, reason, error } of await this.queue.deleteBatch(batch)) {
        this.report(message, error === undefined ? { reason } : { reason, err: error });
      }
    } catch (error) {
      // deleteBatch answers failures rather than throwing; a queue that throws anyway is reported too.
      for (const message of batch) this.report(message, { reason: String(error), err: error });
    }
  }
}
