// Unit tests of the in-process queue's SQS semantics and of the retrying submission.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MemoryJobQueue,
  QueueUnavailableError,
  submitWithRetry,
  type JobQueue,
} from "../../app/src/tiers/queue";

describe("MemoryJobQueue", () => {
  it("GIVEN a message WHEN received and deleted THEN it is gone", async () => {
    const queue = new MemoryJobQueue();
    await queue.send("a");
    const [message] = await queue.receive({ waitSeconds: 0 });
    assert.equal(message?.body, "a");
    assert.equal(message?.receiveCount, 1);
    await queue.delete(message!);
    assert.equal(queue.depth, 0);
  });

  it("GIVEN an empty queue WHEN a long poll is waiting THEN a send wakes it", async () => {
    const queue = new MemoryJobQueue();
    const waiting = queue.receive({ waitSeconds: 5 });
    await queue.send("late");
    const [message] = await waiting;
    assert.equal(message?.body, "late");
  });

  it("GIVEN a long poll WHEN its signal aborts THEN it returns empty at once", async () => {
    const queue = new MemoryJobQueue();
    const controller = new AbortController();
    const waiting = queue.receive({ waitSeconds: 20, signal: controller.signal });
    controller.abort();
    assert.deepEqual(await waiting, []);
  });

  it("GIVEN a received message not deleted WHEN retryLater(0) THEN it is delivered again with a higher count", async () => {
    const queue = new MemoryJobQueue({ visibilityTimeoutSeconds: 30 });
    await queue.send("a");
    const [first] = await queue.receive({ waitSeconds: 0 });
    assert.deepEqual(await queue.receive({ waitSeconds: 0 }), [], "invisible while in flight");
    await queue.retryLater(first!, 0);
    const [second] = await queue.receive({ waitSeconds: 1 });
    assert.equal(second?.receiveCount, 2);
    await queue.delete(first!);
    assert.equal(queue.depth, 1, "a stale receipt handle deletes nothing");
  });

  it("GIVEN maxReceiveCount WHEN exceeded THEN the message moves to the dead letters", async () => {
    const queue = new MemoryJobQueue({ maxReceiveCount: 2 });
    await queue.send("poison");
    for (let i = 0; i < 2; i += 1) {
      const [message] = await queue.receive({ waitSeconds: 0 });
      await queue.retryLater(message!, 0);
    }
    assert.deepEqual(await queue.receive({ waitSeconds: 0 }), []);
    assert.deepEqual(
      queue.deadLetters.map((message) => message.body),
      ["poison"],
    );
  });
});

function flakyQueue(failures: number): JobQueue & { sent: string[]; attempts: number } {
  const queue = new MemoryJobQueue();
  const flaky = Object.assign(queue, { sent: [] as string[], attempts: 0 });
  flaky.send = async (body: string) => {
    flaky.attempts += 1;
    if (flaky.attempts <= failures) throw new Error("queue down");
    flaky.sent.push(body);
  };
  return flaky;
}

describe("submitWithRetry", () => {
  it("GIVEN a queue that fails twice THEN the third attempt delivers, after growing delays", async () => {
    const queue = flakyQueue(2);
    const delays: number[] = [];
    await submitWithRetry(queue, "job", {
      baseDelayMs: 10,
      random: () => 1,
      onRetry: (_attempt, _error, delayMs) => delays.push(delayMs),
    });
    assert.deepEqual(queue.sent, ["job"]);
    assert.deepEqual(delays, [20, 40]);
  });

  it("GIVEN a queue that stays down THEN it gives up after the attempts with QueueUnavailableError", async () => {
    const queue = flakyQueue(Infinity);
    await assert.rejects(
      submitWithRetry(queue, "job", { attempts: 3, baseDelayMs: 1 }),
      (error: unknown) => error instanceof QueueUnavailableError && error.attempts === 3,
    );
    assert.equal(queue.attempts, 3);
    assert.deepEqual(queue.sent, []);
  });

  it("GIVEN a max delay THEN no backoff exceeds it", async () => {
    const queue = flakyQueue(5);
    const delays: number[] = [];
    await submitWithRetry(queue, "job", {
      attempts: 6,
      baseDelayMs: 5,
      maxDelayMs: 20,
      random: () => 1,
      onRetry: (_attempt, _error, delayMs) => delays.push(delayMs),
    });
    assert.ok(delays.every((delay) => delay <= 20));
  });
});
