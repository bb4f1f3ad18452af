import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { visibilityTimeoutSeconds } from "../../components/awsLimits";
import {
  InvalidationQueue,
  type InvalidationQueueArgs,
  validateInvalidationQueueArgs,
} from "../../components/invalidationQueue";
import { INVALIDATION_MAX_REPLAY_WAIT_SECONDS } from "../../contract";
import { render } from "../../harness/component";
import type { RecordedResource } from "../../harness/mocks";
import { T } from "./support/types";
import { itValidatesEachCase, type ValidationCase } from "./support/validation";

const ARGS: InvalidationQueueArgs = { messageRetentionSeconds: 3600, maxReceiveCount: 5 };
const OTHER_REGION_ROLE = "secondary-web-task-role";
const OWN_WEB_ROLE = "primary-web-task-role";

async function renderQueue() {
  return render(({ provider }) => {
    const queue = new InvalidationQueue("invalidations", ARGS, { provider });
    queue.grantSend("secondary-web-invalidates-primary", OTHER_REGION_ROLE);
    queue.grantConsume("primary-web-applies-invalidations", OWN_WEB_ROLE);
    return queue;
  });
}

const statementOf = (policy: RecordedResource) =>
  (
    JSON.parse(String(policy.inputs.policy)) as {
      Statement: Array<{ Action: string[]; Resource: string }>;
    }
  ).Statement;

describe("InvalidationQueue: argument validation", () => {
  const cases: ValidationCase<Partial<InvalidationQueueArgs>>[] = [
    ["the defaults", {}, null],
    [
      "a retention under SQS's minute",
      { messageRetentionSeconds: 59 },
      /messageRetentionSeconds: 59/,
    ],
    ["a retention over 14 days", { messageRetentionSeconds: 1_209_601 }, /messageRetentionSeconds/],
    ["no delivery", { maxReceiveCount: 0 }, /maxReceiveCount: 0 must be a whole number from 1/],
  ];
  itValidatesEachCase(
    (overrides) => validateInvalidationQueueArgs({ ...ARGS, ...overrides }),
    cases,
  );
});

describe("InvalidationQueue: GIVEN a region's queue", () => {
  it("THEN it and its dead-letter queue are encrypted with SQS-managed keys (no KMS grant for the other region's senders)", async () => {
    const { ofType } = await renderQueue();
    const queues = ofType(T.queue);
    assert.equal(queues.length, 2);
    for (const queue of queues) {
      assert.equal(queue.inputs.sqsManagedSseEnabled, true, queue.name);
      assert.equal(queue.inputs.kmsMasterKeyId, undefined, queue.name);
    }
  });

  it("THEN an invalidation being waited on is not handed to a second task, and failing ones go to the dead-letter queue", async () => {
    const { named } = await renderQueue();
    const queue = named("invalidations-queue", T.queue);
    const dlq = named("invalidations-dlq", T.queue);
    assert.equal(
      queue.inputs.visibilityTimeoutSeconds,
      visibilityTimeoutSeconds(INVALIDATION_MAX_REPLAY_WAIT_SECONDS),
    );
    assert.ok(Number(queue.inputs.visibilityTimeoutSeconds) > INVALIDATION_MAX_REPLAY_WAIT_SECONDS);
    assert.deepEqual(JSON.parse(String(queue.inputs.redrivePolicy)), {
      deadLetterTargetArn: dlq.state.arn,
      maxReceiveCount: ARGS.maxReceiveCount,
    });
    const allow = named("invalidations-dlq-sources", T.redriveAllow);
    assert.deepEqual(JSON.parse(String(allow.inputs.redriveAllowPolicy)), {
      redrivePermission: "byQueue",
      sourceQueueArns: [queue.state.arn],
    });
  });

  it("THEN senders may only send, the consumer only receive, delete and extend, on this queue alone", async () => {
    const { named } = await renderQueue();
    const queueArn = named("invalidations-queue", T.queue).state.arn;
    const send = named("secondary-web-invalidates-primary", T.rolePolicy);
    const consume = named("primary-web-applies-invalidations", T.rolePolicy);
    assert.equal(send.inputs.role, OTHER_REGION_ROLE);
    assert.deepEqual(statementOf(send), [
      {
        Sid: "SendInvalidations",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: queueArn,
      },
    ]);
    assert.equal(consume.inputs.role, OWN_WEB_ROLE);
    const [statement] = statementOf(consume);
    assert.deepEqual(statement!.Action, [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]);
    assert.equal(statement!.Resource, queueArn);
  });
});
