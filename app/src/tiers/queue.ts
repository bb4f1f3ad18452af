/**
 * The queue tier: at-least-once delivery of string messages with SQS semantics (visibility
 * timeout, receive count, dead-letter after too many receives). In-process when embedded, SQS on
 * the full stack. Consumers must be idempotent: a message can be delivered more than once.
 */
import { randomUUID } from "node:crypto";

export interface QueueMessage {
  messageId: string;
  body: string;
  /** Opaque handle for delete/retryLater of this delivery. */
  receiptHandle: string;
  /** 1 on the first delivery. */
  receiveCount: number;
}

export interface ReceiveOptions {
  /** Long poll: wait up to this long for a message. */
  waitSeconds: number;
  maxMessages?: number;
  /** Aborting ends the wait early with no messages. */
  signal?: AbortSignal;
}

export interface JobQueue {
  readonly kind: "memory" | "sqs";
  /**
   * Sends one message, retrying what is worth retrying (the SQS queue through the AWS SDK's retry
   * strategy). Throws QueueUnavailableError when the queue did not accept it for a passing reason
   * (throttled, unreachable, server errors); other errors (such as AccessDenied) as they are.
   */
  send(body: string): Promise<void>;
  receive(options: ReceiveOptions): Promise<QueueMessage[]>;
  delete(message: QueueMessage): Promise<void>;
  /**
   * Deletes messages handled together in as few calls as the queue allows (SQS: one
   * DeleteMessageBatch per 10). Never throws: answers the messages it could not delete and why.
   * Those come back after their visibility timeout, and their redelivery finds them done.
   */
  deleteBatch(messages: readonly QueueMessage[]): Promise<UndeletedMessage[]>;
  /** Leaves a failed message on the queue, visible again after `delaySeconds`. */
  retryLater(message: QueueMessage, delaySeconds: number): Promise<void>;
  /**
   * Moves a message that can never succeed to the dead-letter queue now, instead of letting it
   * use up its retries first. Throws when it cannot; the message then stays where it was.
   */
  deadLetter(message: QueueMessage, reason: string): Promise<void>;
  close(): Promise<void>;
}

/** SQS's largest batch: messages per receive, entries per batch delete. */
export const SQS_BATCH_LIMIT = 10;

/** A message `deleteBatch` could not delete. */
export interface UndeletedMessage {
  message: QueueMessage;
  reason: string;
  /** The error, when the whole call failed (not one entry of it). */
  error?: unknown;
}

export class QueueUnavailableError extends Error {
  constructor(
    /** How many times the send was tried. */
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`the job queue did not accept the job after ${attempts} attempts`, { cause });
    this.name = "QueueUnavailableError";
  }
}

interface StoredMessage {
  messageId: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
  receiptHandle: string | undefined;
}

export interface MemoryQueueOptions {
  visibilityTimeoutSeconds?: number;
  /** After this many receives without a delete the message moves to `deadLetters`. */
  maxReceiveCount?: number;
}

/** The in-process queue: SQS's semantics for the single-server step, nothing survives a restart. */
export class MemoryJobQueue implements JobQueue {
  readonly kind = "memory";
  /** Messages that failed `maxReceiveCount` times: the in-process dead-letter queue. */
  readonly deadLetters: { messageId: string; body: string; reason?: string }[] = [];
  private readonly messages: StoredMessage[] = [];
  private readonly wakers = new Set<() => void>();
  private readonly visibilityTimeoutMs: number;
  private readonly maxReceiveCount: number;
  private closed = false;

  constructor(options: MemoryQueueOptions = {}) {
    this.visibilityTimeoutMs = (options.visibilityTimeoutSeconds ?? 30) * 1000;
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
  }

  /** Messages not yet deleted or dead-lettered, in flight or not. */
  get depth(): number {
    return this.messages.length;
  }

  async send(body: string): Promise<void> {
    if (this.closed) throw new Error("the queue is closed");
    this.messages.push({
      messageId: randomUUID(),
      body,
      receiveCount: 0,
      visibleAt: 0,
      receiptHandle: undefined,
    });
    this.wake();
  }

  async receive(options: ReceiveOptions): Promise<QueueMessage[]> {
    const deadline = Date.now() + options.waitSeconds * 1000;
    for (;;) {
      const taken = this.take(options.maxMessages ?? 1);
      if (taken.length > 0 || this.closed || options.signal?.aborted) return taken;
      const now = Date.now();
      if (now >= deadline) return [];
      const nextVisible = Math.min(
        ...this.messages.map((message) => message.visibleAt).filter((at) => at > now),
      );
      await this.waitForChange(Math.min(deadline, nextVisible) - now, options.signal);
    }
  }

  async delete(message: QueueMessage): Promise<void> {
    const index = this.messages.findIndex((m) => m.receiptHandle === message.receiptHandle);
    if (index >= 0) this.messages.splice(index, 1);
  }

  async deleteBatch(messages: readonly QueueMessage[]): Promise<UndeletedMessage[]> {
    for (const message of messages) await this.delete(message);
    return [];
  }

  async retryLater(message: QueueMessage, delaySeconds: number): Promise<void> {
    const stored = this.messages.find((m) => m.receiptHandle === message.receiptHandle);
    if (stored === undefined) return;
    stored.visibleAt = Date.now() + delaySeconds * 1000;
    this.wake();
  }

  async deadLetter(message: QueueMessage, reason: string): Promise<void> {
    const index = this.messages.findIndex((m) => m.receiptHandle === message.receiptHandle);
    if (index < 0)
      throw new Error(`message ${message.messageId} is no longer held by this receipt`);
    const [stored] = this.messages.splice(index, 1);
    this.deadLetters.push({ messageId: stored!.messageId, body: stored!.body, reason });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
  }

  private take(max: number): QueueMessage[] {
    const now = Date.now();
    const taken: QueueMessage[] = [];
    for (const message of [...this.messages]) {
      if (taken.length >= max) break;
      if (message.visibleAt > now) continue;
      if (message.receiveCount >= this.maxReceiveCount) {
        // Like SQS's redrive policy: moved aside on the receive that would exceed the count.
        this.messages.splice(this.messages.indexOf(message), 1);
        this.deadLetters.push({ messageId: message.messageId, body: message.body });
        continue;
      }
      message.receiveCount += 1;
      message.visibleAt = now + this.visibilityTimeoutMs;
      message.receiptHandle = randomUUID();
      taken.push({
        messageId: message.messageId,
        body: message.body,
        receiptHandle: message.receiptHandle,
        receiveCount: message.receiveCount,
      });
    }
    return taken;
  }

  private wake(): void {
    for (const waker of this.wakers) waker();
  }

  private waitForChange(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wakers.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
