// Unit tests of the in-process queue's SQS semantics (the SQS queue's retries: sqsQueue.test.ts).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryJobQueue } from "../../app/src/tiers/queue";

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
