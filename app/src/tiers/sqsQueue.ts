/** The full-stack queue: Amazon SQS (or an emulator at AWS_ENDPOINT_URL). */
import {
  type BatchResultErrorEntry,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import {
  ConfiguredRetryStrategy,
  isRetryableByTrait,
  isServerError,
  isThrottlingError,
  isTransientError,
} from "@smithy/core/retry";
import {
  type JobQueue,
  QueueUnavailableError,
  SQS_BATCH_LIMIT,
  type QueueMessage,
  type ReceiveOptions,
  type UndeletedMessage,
} from "./queue";

/** How a web request's send is retried: bounded, so the request's worst-case wait is known. */
export interface SendRetry {
  /** Tries in all, the first included. */
  attempts: number;
  /** The backoff before retry n is random in [0, min(maxDelayMs, baseDelayMs * 2^n)] (full jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_SEND_RETRY: SendRetry = { attempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 };
/** A send attempt that takes longer is abandoned (and retried, a timeout being transient). */
export const DEFAULT_SEND_TIMEOUT_MS = 5_000;

export interface SqsQueueOptions {
  queueUrl: string;
  region: string | undefined;
  endpoint: string | undefined;
  /** @default DEFAULT_SEND_RETRY */
  sendRetry?: SendRetry;
  /** @default DEFAULT_SEND_TIMEOUT_MS */
  sendTimeoutMs?: number;
}

/**
 * Whether the SDK's standard retry strategy retries an error: throttling, transient (timeouts,
 * connection resets) and server errors. The same classification decides 503 against 500 when
 * the retries run out, so AccessDenied or a missing queue fail at once, as what they are.
 */
export function isRetryableSendError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const sdkError = error as Parameters<typeof isTransientError>[0];
  return (
    isRetryableByTrait(sdkError) ||
    isThrottlingError(sdkError) ||
    isTransientError(sdkError) ||
    isServerError(sdkError)
  );
}

export class SqsJobQueue implements JobQueue {
  readonly kind = "sqs";
  // Sends retry with the SDK's standard strategy (which errors, a retry quota) on our bounded
  // backoff, so a web request's worst-case wait is known. Worker calls keep the SDK's defaults.
  private readonly sendClient: SQSClient;
  private readonly workerClient: SQSClient;
  private readonly sendAttempts: number;
  /** The dead-letter queue's URL, from the queue's own redrive policy, looked up once. */
  private deadLetterQueueUrl: Promise<string> | undefined;

  constructor(private readonly options: SqsQueueOptions) {
    const common = {
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    };
    const retry = options.sendRetry ?? DEFAULT_SEND_RETRY;
    this.sendAttempts = retry.attempts;
    this.sendClient = new SQSClient({
      ...common,
      retryStrategy: new ConfiguredRetryStrategy(retry.attempts, (attempt) =>
        Math.round(Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt)),
      ),
      requestHandler: { requestTimeout: options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS },
    });
    this.workerClient = new SQSClient(common);
  }

  async send(body: string): Promise<void> {
    try {
      await this.sendClient.send(
        new SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: body }),
      );
    } catch (error) {
      if (!isRetryableSendError(error)) throw error;
      const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts;
      throw new QueueUnavailableError(attempts ?? this.sendAttempts, error);
    }
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

  async deleteBatch(messages: readonly QueueMessage[]): Promise<UndeletedMessage[]> {
    const undeleted: UndeletedMessage[] = [];
    for (let start = 0; start < messages.length; start += SQS_BATCH_LIMIT) {
      undeleted.push(...(await this.deleteUpToTen(messages.slice(start, start + SQS_BATCH_LIMIT))));
    }
    return undeleted;
  }

  /**
   * One DeleteMessageBatch. SQS answers a failed entry inside a successful call, which the SDK
   * does not retry, so an entry that failed on SQS's side (not the sender's) is tried once more.
   */
  private async deleteUpToTen(batch: QueueMessage[], retry = true): Promise<UndeletedMessage[]> {
    let failed: BatchResultErrorEntry[];
    try {
      ({ Failed: failed = [] } = await this.workerClient.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          // Entry ids are positions in this call: SQS wants them unique within a call only.
          Entries: batch.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.receiptHandle,
          })),
        }),
      ));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return batch.map((message) => ({ message, reason, error }));
    }
    const undeleted = failed.flatMap((failure) => {
      const message = batch[Number(failure.Id)];
      if (message === undefined) return [];
      return [{ message, reason: `${failure.Code}: ${failure.Message ?? ""}`, failure }];
    });
    const again = undeleted.filter(({ failure }) => retry && failure.SenderFault === false);
    const retried =
      again.length === 0
        ? []
        : await this.deleteUpToTen(
            again.map(({ message }) => message),
            false,
          );
    return [
      ...undeleted
        .filter((entry) => !again.includes(entry))
        .map(({ message, reason }) => ({ message, reason })),
      ...retried,
    ];
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
