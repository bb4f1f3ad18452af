/** The full-stack queue: Amazon SQS (or an emulator at AWS_ENDPOINT_URL). */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { JobQueue, QueueMessage, ReceiveOptions } from "./queue";

export interface SqsQueueOptions {
  queueUrl: string;
  region: string | undefined;
  endpoint: string | undefined;
  /** A send that takes longer is abandoned and retried by submitWithRetry. */
  sendTimeoutMs?: number;
}

export class SqsJobQueue implements JobQueue {
  readonly kind = "sqs";
  // Sends get exactly one attempt each: submitWithRetry owns the retry policy, so a request's
  // worst-case wait is known. Worker calls keep the SDK's own retries.
  private readonly sendClient: SQSClient;
  private readonly workerClient: SQSClient;
  private readonly sendTimeoutMs: number;

  constructor(private readonly options: SqsQueueOptions) {
    const common = {
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    };
    this.sendClient = new SQSClient({ ...common, maxAttempts: 1 });
    this.workerClient = new SQSClient(common);
    this.sendTimeoutMs = options.sendTimeoutMs ?? 5_000;
  }

  async send(body: string): Promise<void> {
    await this.sendClient.send(
      new SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: body }),
      { abortSignal: AbortSignal.timeout(this.sendTimeoutMs) },
    );
  }

  async receive(options: ReceiveOptions): Promise<QueueMessage[]> {
    // The long poll itself may take waitSeconds; a reply later than that plus a margin is lost.
    const timeout = AbortSignal.timeout((options.waitSeconds + 10) * 1000);
    const signal =
      options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    try {
      const result = await this.workerClient.send(
        new ReceiveMessageCommand({
          QueueUrl: this.options.queueUrl,
          WaitTimeSeconds: options.waitSeconds,
          MaxNumberOfMessages: options.maxMessages ?? 1,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
        { abortSignal: signal },
      );
      return (result.Messages ?? []).flatMap((message) =>
        message.MessageId === undefined ||
        message.ReceiptHandle === undefined ||
        message.Body === undefined
          ? []
          : [
              {
                messageId: message.MessageId,
                body: message.Body,
                receiptHandle: message.ReceiptHandle,
                receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? "1"),
              },
            ],
      );
    } catch (error) {
      // Stopping the worker aborts the long poll: that is an empty receive, not a failure.
      if (options.signal?.aborted) return [];
      throw error;
    }
  }

  async delete(message: QueueMessage): Promise<void> {
    await this.workerClient.send(
      new DeleteMessageCommand({
        QueueUrl: this.options.queueUrl,
        ReceiptHandle: message.receiptHandle,
      }),
    );
  }

  async retryLater(message: QueueMessage, delaySeconds: number): Promise<void> {
    await this.workerClient.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.options.queueUrl,
        ReceiptHandle: message.receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(delaySeconds))),
      }),
    );
  }

  async close(): Promise<void> {
    this.sendClient.destroy();
    this.workerClient.destroy();
  }
}
