/** The full-stack queue: Amazon SQS (or an emulator at AWS_ENDPOINT_URL). */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
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
  /** The dead-letter queue's URL, from the queue's own redrive policy, looked up once. */
  private deadLetterQueueUrl: Promise<string> | undefined;

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

  /**
   * Sends the body to the queue's dead-letter queue (found through its redrive policy), then
   * deletes it here. Needs sqs:GetQueueAttributes on this queue and sqs:SendMessage on the DLQ.
   */
  async deadLetter(message: QueueMessage, reason: string): Promise<void> {
    this.deadLetterQueueUrl ??= this.findDeadLetterQueue();
    const deadLetterQueueUrl = await this.deadLetterQueueUrl.catch((error: unknown) => {
      this.deadLetterQueueUrl = undefined;
      throw error;
    });
    await this.workerClient.send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MessageBody: message.body,
        MessageAttributes: {
          DeadLetterReason: { DataType: "String", StringValue: reason.slice(0, 1_000) },
        },
      }),
    );
    await this.delete(message);
  }

  private async findDeadLetterQueue(): Promise<string> {
    const { Attributes } = await this.workerClient.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.options.queueUrl,
        AttributeNames: ["RedrivePolicy"],
      }),
    );
    const policy = JSON.parse(Attributes?.RedrivePolicy ?? "{}") as {
      deadLetterTargetArn?: string;
    };
    const arn = policy.deadLetterTargetArn;
    if (arn === undefined) throw new Error(`${this.options.queueUrl} has no redrive policy`);
    // arn:aws:sqs:REGION:ACCOUNT:NAME
    const [, , , , account, name] = arn.split(":");
    const { QueueUrl } = await this.workerClient.send(
      new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
    );
    if (QueueUrl === undefined) throw new Error(`no URL for the dead-letter queue ${arn}`);
    return QueueUrl;
  }

  async close(): Promise<void> {
    this.sendClient.destroy();
    this.workerClient.destroy();
  }
}
