import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { INVALIDATION_MAX_REPLAY_WAIT_SECONDS } from "../contract";
import { visibilityTimeoutSeconds } from "./awsLimits";
import { tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import { throwIfInvalid, wholeNumberProblems } from "./validation";
import { rolePolicy } from "./rolePolicy";
import {
  createDeadLetterQueue,
  DEAD_LETTER_RETENTION_SECONDS,
  MAX_RECEIVE_COUNT,
  RECEIVE_WAIT_TIME_SECONDS,
} from "./deadLetterQueue";

/** SQS keeps a message at least 60 s. */
const MIN_RETENTION_SECONDS = 60;

export interface InvalidationQueueTransforms {
  queue?: Transform<aws.sqs.QueueArgs>;
  deadLetterQueue?: Transform<aws.sqs.QueueArgs>;
}

export interface InvalidationQueueArgs {
  /**
   * How long an invalidation may wait in the queue before SQS drops it. Past the cache's TTL a
   * late invalidation is pointless: the entry has expired anyway. Updated in place.
   * @example 3600
   */
  messageRetentionSeconds: number;
  /**
   * Deliveries of one invalidation before it goes to the dead-letter queue (a message the app
   * cannot parse, or a cache that keeps failing). Updated in place.
   * @example 5
   */
  maxReceiveCount: number;
  transform?: InvalidationQueueTransforms;
}

/**
 * Validates the arguments before any resource exists.
 * @returns every problem, each naming the argument and the fix; empty when valid.
 */
export function validateInvalidationQueueArgs(args: InvalidationQueueArgs): string[] {
  return [
    ...wholeNumberProblems(
      "messageRetentionSeconds",
      args.messageRetentionSeconds,
      MIN_RETENTION_SECONDS,
      DEAD_LETTER_RETENTION_SECONDS,
    ),
    ...wholeNumberProblems("maxReceiveCount", args.maxReceiveCount, 1, MAX_RECEIVE_COUNT),
  ];
}

/**
 * One region's cache-invalidation queue: every region's web and worker tasks send an
 * invalidation {key, lsn} here after a write; this region's web tasks consume it and delete the
 * key from this region's cache once its replica has replayed the write (contract/invalidation.ts).
 *
 * - Encrypted with SQS-managed keys (SSE-SQS): the other region's senders need no grant on a KMS
 *   key of this region, and a KMS outage here cannot fail their sends.
 * - The visibility timeout covers the app's longest replay wait plus a margin, so an invalidation
 *   being waited on is not handed to a second task.
 * - A message delivered `maxReceiveCount` times moves to the dead-letter queue (this queue's only).
 * - `grantSend(name, roleName)`: SendMessage on this queue (any region's role: IAM is global);
 *   `grantConsume(name, roleName)`: receive, delete, extend.
 *
 * Cost: $0.40 per million requests after the first million a month; one send per write per
 * region, plus the consumers' long polls (about 130,000 a month per idle task).
 */
export class InvalidationQueue extends pulumi.ComponentResource {
  readonly queueUrl: pulumi.Output<string>;
  readonly queueArn: pulumi.Output<string>;
  /** The `QueueName` dimension of its CloudWatch metrics. */
  readonly queueName: pulumi.Output<string>;
  readonly deadLetterQueueName: pulumi.Output<string>;

  private readonly queue: aws.sqs.Queue;
  private readonly deadLetterQueue: aws.sqs.Queue;

  constructor(
    name: string,
    args: InvalidationQueueArgs,
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    super("zero-to-millions:components:InvalidationQueue", name, {}, opts);
    throwIfInvalid("InvalidationQueue", name, validateInvalidationQueueArgs(args));
    const tags = tierTags("cache");

    this.deadLetterQueue = createDeadLetterQueue(this, name, args.transform?.deadLetterQueue, tags);
    this.queue = new aws.sqs.Queue(
      `${name}-queue`,
      transform(args.transform?.queue, {
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: visibilityTimeoutSeconds(INVALIDATION_MAX_REPLAY_WAIT_SECONDS),
        messageRetentionSeconds: args.messageRetentionSeconds,
        receiveWaitTimeSeconds: RECEIVE_WAIT_TIME_SECONDS,
        redrivePolicy: pulumi.jsonStringify({
          deadLetterTargetArn: this.deadLetterQueue.arn,
          maxReceiveCount: args.maxReceiveCount,
        }),
        tags,
      }),
      { parent: this },
    );
    // Separate: on the dead-letter queue itself it would need this queue's ARN before it exists.
    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-sources`,
      {
        queueUrl: this.deadLetterQueue.url,
        redriveAllowPolicy: pulumi.jsonStringify({
          redrivePermission: "byQueue",
          sourceQueueArns: [this.queue.arn],
        }),
      },
      { parent: this },
    );

    this.queueUrl = this.queue.url;
    this.queueArn = this.queue.arn;
    this.queueName = this.queue.name;
    this.deadLetterQueueName = this.deadLetterQueue.name;
    this.registerOutputs({ queueUrl: this.queueUrl, queueArn: this.queueArn });
  }

  get nodes() {
    return { queue: this.queue, deadLetterQueue: this.deadLetterQueue };
  }

  /** Lets a role (of any region) send invalidations here. */
  grantSend(name: string, roleName: pulumi.Input<string>): aws.iam.RolePolicy {
    return this.grant(name, roleName, "SendInvalidations", ["sqs:SendMessage"]);
  }

  /** Lets a role (this region's web tasks) apply the invalidations. */
  grantConsume(name: string, roleName: pulumi.Input<string>): aws.iam.RolePolicy {
    return this.grant(name, roleName, "ConsumeInvalidations", [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]);
  }

  private grant(
    name: string,
    roleName: pulumi.Input<string>,
    sid: string,
    actions: string[],
  ): aws.iam.RolePolicy {
    return rolePolicy(
      name,
      roleName,
      [{ Sid: sid, Effect: "Allow", Action: actions, Resource: this.queueArn }],
      { parent: this },
    );
  }
}
