/**
 * The limit for draining the queue with the AWS SDK: receive up to 10 messages (long poll), delete
 * them in one batch, repeat, until SIGTERM. No job is run; this is what the queue itself allows.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";

/** SQS's limits: 10 messages per receive and per batch delete, 20 s long poll. */
const BATCH = 10;
const WAIT_SECONDS = 20;

const QueueUrl = process.env.QUEUE_URL ?? "";
const sqs = new SQSClient({
  region: process.env.AWS_REGION,
  ...(process.env.AWS_ENDPOINT_URL === undefined ? {} : { endpoint: process.env.AWS_ENDPOINT_URL }),
});
const stopping = new AbortController();
process.on("SIGTERM", () => stopping.abort());

async function drain(): Promise<void> {
  while (!stopping.signal.aborted) {
    let received;
    try {
      received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: BATCH,
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
}

drain().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`receive/delete loop failed: ${String(error)}\n`);
    process.exit(1);
  },
);
