/**
 * The bare consumers' loop (bench/servers): receive up to `batch` messages (long poll), hand them
 * to `handle` (all at once), delete them in one batch, repeat until SIGTERM, then exit 0.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";

/** SQS's longest long poll. */
const WAIT_SECONDS = 20;

export interface DrainOptions {
  name: string;
  queueUrl: string;
  /** Messages per receive and per batch delete (SQS allows up to 10). */
  batch: number;
  handle(messages: Message[]): Promise<void>;
  /** Runs once the loop has stopped, before the process exits. */
  close?(): Promise<void>;
}

export function drainQueue(options: DrainOptions): void {
  const { queueUrl: QueueUrl } = options;
  const sqs = new SQSClient({
    region: process.env.AWS_REGION,
    ...(process.env.AWS_ENDPOINT_URL === undefined
      ? {}
      : { endpoint: process.env.AWS_ENDPOINT_URL }),
  });
  const stopping = new AbortController();
  process.on("SIGTERM", () => stopping.abort());

  const drain = async () => {
    while (!stopping.signal.aborted) {
      let received;
      try {
        received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: options.batch,
            WaitTimeSeconds: WAIT_SECONDS,
          }),
          { abortSignal: stopping.signal },
        );
      } catch (error) {
        if (stopping.signal.aborted) break;
        throw error;
      }
      const messages = received.Messages ?? [];
      if (messages.length === 0) continue;
      await options.handle(messages);
      const deleted = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
      if ((deleted.Failed ?? []).length > 0) {
        throw new Error(`delete failed: ${JSON.stringify(deleted.Failed)}`);
      }
    }
    await options.close?.();
  };

  drain().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${options.name} failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}
