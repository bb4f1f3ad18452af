/**
 * SQS's limits that the queue components share, and the dead-letter queue each of them owns.
 */
import * as aws from "./aws";
import type * as pulumi from "@pulumi/pulumi";
import type { Tags } from "./tags";
import { type Transform, transform } from "./transform";

export const SECONDS_PER_DAY = 86_400;
/** SQS keeps a message at most 14 days. */
export const MAX_RETENTION_DAYS = 14;
/** Failed messages stay in the dead-letter queue as long as SQS allows, for inspection and redrive. */
export const DEAD_LETTER_RETENTION_SECONDS = MAX_RETENTION_DAYS * SECONDS_PER_DAY;
/** Long polling: a receive waits up to 20 s (SQS's limit) for a message instead of returning empty. */
export const RECEIVE_WAIT_TIME_SECONDS = 20;
/** SQS's upper limit for a redrive policy's maxReceiveCount. */
export const MAX_RECEIVE_COUNT = 1000;

/** `${name}-dlq`: encrypted with SQS-managed keys, keeping what failed as long as SQS allows. */
export function createDeadLetterQueue(
  owner: pulumi.ComponentResource,
  name: string,
  transformArgs: Transform<aws.sqs.QueueArgs> | undefined,
  tags: Tags,
): aws.sqs.Queue {
  return new aws.sqs.Queue(
    `${name}-dlq`,
    transform(transformArgs, {
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
      tags,
    }),
    { parent: owner },
  );
}
