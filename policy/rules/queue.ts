/**
 * SQS: every queue encrypted at rest, and every queue either hands failing messages to a
 * dead-letter queue or is one.
 */
import * as aws from "@pulumi/aws";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { resourceRule } from "../resourceRule";
import {
  type Link,
  UNKNOWN,
  anyLink,
  nonEmptyString,
  parseJson,
  read,
  readSetting,
  refersTo,
  violation,
} from "../values";

export const sqsEncryptedAtRest = resourceRule({
  name: "sqs-encrypted-at-rest",
  description: "SQS queues encrypt messages at rest, with SQS-managed keys or a KMS key.",
  resource: aws.sqs.Queue,
  check: (queue) => {
    const managed = read(() => queue.sqsManagedSseEnabled);
    const key = read(() => queue.kmsMasterKeyId);
    if (managed === true || managed === UNKNOWN || key === UNKNOWN) return undefined;
    if (nonEmptyString(key) !== undefined) return undefined;
    return {
      problem: "its messages are not encrypted at rest",
      fix: "set sqsManagedSseEnabled: true (free), or kmsMasterKeyId for a customer-managed key",
    };
  },
});

/** The dead-letter target named by a redrive policy (JSON text or object). */
export function deadLetterTargetOf(redrivePolicy: unknown): unknown[] {
  const parsed = parseJson(redrivePolicy);
  if (typeof parsed !== "object" || parsed === null) return [];
  return [(parsed as { deadLetterTargetArn?: unknown }).deadLetterTargetArn];
}

/** Whether `queue` sends failing messages on: its own redrivePolicy or a separate RedrivePolicy. */
function hasDeadLetterQueue(queue: PolicyResource, resources: PolicyResource[]): Link {
  const own = readSetting(queue, "redrivePolicy");
  if (own === UNKNOWN) return "unknown";
  if (deadLetterTargetOf(own).some((target) => nonEmptyString(target) !== undefined)) return "yes";
  return anyLink(
    resources
      .filter((resource) => resource.isType(aws.sqs.RedrivePolicy))
      .map((policy) => refersTo(policy, "queueUrl", queue, ["url", "id"])),
  );
}

/** Whether `queue` is itself a dead-letter queue: allowed as one, or named as one by another queue. */
function isDeadLetterQueue(queue: PolicyResource, resources: PolicyResource[]): Link {
  const allow = readSetting(queue, "redriveAllowPolicy");
  if (allow === UNKNOWN) return "unknown";
  if (nonEmptyString(allow) !== undefined) return "yes";
  return anyLink(
    resources.flatMap((other) => {
      if (other.urn === queue.urn) return [];
      if (other.isType(aws.sqs.RedriveAllowPolicy)) {
        return [refersTo(other, "queueUrl", queue, ["url", "id"])];
      }
      if (other.isType(aws.sqs.Queue) || other.isType(aws.sqs.RedrivePolicy)) {
        return [refersTo(other, "redrivePolicy", queue, ["arn"], deadLetterTargetOf)];
      }
      return [];
    }),
  );
}

export const sqsDeadLetterQueue: StackValidationPolicy = {
  name: "sqs-dead-letter-queue",
  description:
    "Every SQS queue has a dead-letter queue (or is one), so a message that keeps failing is set aside instead of retried until it expires.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const queues = args.resources.filter((resource) => resource.isType(aws.sqs.Queue));
    for (const queue of queues) {
      const handled = anyLink([
        hasDeadLetterQueue(queue, args.resources),
        isDeadLetterQueue(queue, args.resources),
      ]);
      if (handled !== "no") continue;
      reportViolation(
        violation(
          queue,
          "it has no dead-letter queue and is no queue's dead-letter queue",
          "give it a redrivePolicy { deadLetterTargetArn, maxReceiveCount } naming a queue of its own, and let that queue accept it with redriveAllowPolicy",
        ),
        queue.urn,
      );
    }
  },
};
