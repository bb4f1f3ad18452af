// Unit tests of the worker loop: delete on success, leave on failure, clean stop mid-job.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UnprocessableJobError } from "../../app/src/jobs/thumbnail";
import { Worker, defaultRetryDelaySeconds } from "../../app/src/jobs/worker";
import { Metrics } from "../../app/src/metrics";
import {
  MemoryJobQueue,
  type QueueMessage,
  type UndeletedMessage,
} from "../../app/src/tiers/queue";
import { captureLogs, eventually, sleep } from "./support/helpers";

function newWorker(
  queue: MemoryJobQueue,
  handle: (body: string) => Promise<"processed" | "duplicate">,
  batchSize?: number,
) {
  const metricLines: string[] = [];
  const metrics = new Metrics({
    namespace: "Test",
    service: "worker",
    write: (line) => metricLines.push(line),
  });
  const worker = new Worker({
    queue,
    handle,
    logger: captureLogs().logger,
    metrics,
    waitSeconds: 0.1,
    retryDelaySeconds: () => 0,
    errorBackoffMs: 10,
    ...(batchSize === undefined ? {} : { batchSize }),
  });
  return { worker, metrics };
}

const jobsThatNeverRun = async (): Promise<"processed"> => "processed";

/**
 * The in-process queue, recording each batch delete's bodies; its deletes can answer every
 * message as undeleted (`failWith` a reason) or throw (`failWith` an Error).
 */
class BatchRecordingQueue extends MemoryJobQueue {
  readonly batches: string[][] = [];

  constructor(private readonly failWith?: string | Error) {
    super();
  }

  override async deleteBatch(messages: readonly QueueMessage[]): Promise<UndeletedMessage[]> {
    this.batches.push(messages.map((message) => message.body));
    if (this.failWith instanceof Error) throw this.failWith;
    if (this.failWith !== undefined) {
      return messages.map((message) => ({ message, reason: this.failWith as string }));
    }
    return super.deleteBatch(messages);
  }
}

/** Counts jobs running at once; each job waits until `release()` lets them all finish. */
function gatedJobs() {
  let running = 0;
  let mostAtOnce = 0;
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const handle = async () => {
    running += 1;
    mostAtOnce = Math.max(mostAtOnce, running);
    await gate;
    running -= 1;
    return "processed" as const;
  };
  return { handle, release: () => release(), mostAtOnce: () => mostAtOnce, running: () => running };
}

describe("Worker", () => {
  it("GIVEN several queued jobs THEN one receive takes a batch and runs its jobs side by side", async () => {
    const queue = new MemoryJobQueue();
    const jobs = gatedJobs();
    const { worker } = newWorker(queue, jobs.handle);
    for (const body of ["a", "b", "c"]) await queue.send(body);
    worker.start();
    await eventually(
      async () => (jobs.running() === 3 ? true : undefined),
      "three jobs to run at once",
    );
    jobs.release();
    await eventually(async () => (queue.depth === 0 ? true : undefined), "the queue to drain");
    await worker.stop();
    assert.equal(jobs.mostAtOnce(), 3);
  });

  it("GIVEN batchSize 1 THEN jobs run one at a time", async () => {
    const queue = new MemoryJobQueue();
    const jobs = gatedJobs();
    const { worker } = newWorker(queue, jobs.handle, 1);
    for (const body of ["a", "b"]) await queue.send(body);
    worker.start();
    await eventually(async () => (jobs.running() === 1 ? true : undefined), "the first job to run");
    await sleep(50);
    assert.equal(jobs.running(), 1);
    jobs.release();
    await eventually(async () => (queue.depth === 0 ? true : undefined), "the queue to drain");
    await worker.stop();
    assert.equal(jobs.mostAtOnce(), 1);
  });

  for (const batchSize of [0, 11, 2.5]) {
    it(`GIVEN batchSize ${batchSize} THEN the worker refuses it, naming the option`, () => {
      assert.throws(
        () => newWorker(new MemoryJobQueue(), jobsThatNeverRun, batchSize),
        /batchSize: .* from 1 to 10/,
      );
    });
  }

  it("GIVEN jobs that succeed THEN each is handled once and deleted", async () => {
    const queue = new MemoryJobQueue();
    const handled: string[] = [];
    const { worker, metrics } = newWorker(queue, async (body) => {
      handled.push(body);
      return "processed";
    });
    await queue.send("a");
    await queue.send("b");
    worker.start();
    await eventually(async () => (queue.depth === 0 ? true : undefined), "the queue to drain");
    await worker.stop();
    assert.deepEqual(handled, ["a", "b"]);
    assert.equal(metrics.flush()[0]?.JobsProcessed, 2);
  });

  it("GIVEN a batch with a failing job THEN the successes are deleted in one call, and the failure stays", async () => {
    const queue = new BatchRecordingQueue();
    const { worker } = newWorker(queue, async (body) => {
      if (body === "bad") throw new Error("boom");
      return "processed";
    });
    for (const body of ["a", "bad", "b", "c"]) await queue.send(body);
    worker.start();
    await eventually(async () => (queue.batches.length > 0 ? true : undefined), "a delete");
    await worker.stop();
    assert.deepEqual(queue.batches[0], ["a", "b", "c"]);
    assert.ok(queue.batches.every((bodies) => !bodies.includes("bad")));
  });

  it("GIVEN a fast job and a slow one in one batch THEN the fast one is deleted long before the slow one ends", async () => {
    const queue = new BatchRecordingQueue();
    let releaseSlow = () => {};
    const slow = new Promise<void>((resolve) => (releaseSlow = resolve));
    const { worker } = newWorker(queue, async (body) => {
      if (body === "slow") await slow;
      return "processed";
    });
    for (const body of ["fast", "slow"]) await queue.send(body);
    worker.start();
    await eventually(async () => (queue.batches.length > 0 ? true : undefined), "a delete");
    assert.deepEqual(queue.batches, [["fast"]]);
    releaseSlow();
    await eventually(async () => (queue.depth === 0 ? true : undefined), "the queue to drain");
    await worker.stop();
    assert.deepEqual(queue.batches, [["fast"], ["slow"]]);
  });

  for (const failWith of ["ReceiptHandleIsInvalid: expired", new Error("queue gone")]) {
    const how = typeof failWith === "string" ? "answers it could not delete" : "throws";
    it(`GIVEN a queue that ${how} THEN each message is logged with its id and the worker goes on`, async () => {
      const queue = new BatchRecordingQueue(failWith);
      const logs = captureLogs();
      const worker = new Worker({
        queue,
        handle: async () => "processed",
        logger: logs.logger,
        metrics: new Metrics({ namespace: "Test", service: "worker", write: () => {} }),
        waitSeconds: 0.1,
      });
      await queue.send("a");
      await queue.send("b");
      worker.start();
      await eventually(
        async () =>
          logs.lines().filter((line) => line.msg === "could not delete the job").length === 2
            ? true
            : undefined,
        "two warnings",
      );
      await worker.stop();
      const warnings = logs.lines().filter((line) => line.msg === "could not delete the job");
      assert.deepEqual(warnings.map((line) => line.level).sort(), ["warn", "warn"]);
      assert.equal(new Set(warnings.map((line) => line.messageId)).size, 2);
      assert.ok(
        warnings.every((line) =>
          String(line.reason).includes(String(failWith).replace(/^Error: /, "")),
        ),
      );
    });
  }

  it("GIVEN a job that fails once THEN it stays on the queue and succeeds on redelivery", async () => {
    const queue = new MemoryJobQueue();
    let calls = 0;
    const { worker, metrics } = newWorker(queue, async () => {
      calls += 1;
      if (calls === 1) throw new Error("transient");
      return "processed";
    });
    await queue.send("a");
    worker.start();
    await eventually(async () => (queue.depth === 0 ? true : undefined), "the retry to succeed");
    await worker.stop();
    assert.equal(calls, 2);
    const [document] = metrics.flush();
    assert.equal(document?.JobsFailed, 1);
    assert.equal(document?.JobsProcessed, 1);
  });

  it("GIVEN a job that can never succeed (no upload at its key) THEN it is tried once and moved to the dead-letter queue with the reason, not retried", async () => {
    const queue = new MemoryJobQueue();
    let calls = 0;
    const { worker, metrics } = newWorker(queue, async () => {
      calls += 1;
      throw new UnprocessableJobError("no upload at uploads/1/x.png");
    });
    await queue.send("a");
    worker.start();
    await eventually(
      async () => (queue.deadLetters.length === 1 ? true : undefined),
      "the job to be dead-lettered",
    );
    await worker.stop();
    assert.equal(calls, 1);
    assert.equal(queue.depth, 0);
    assert.deepEqual(
      queue.deadLetters.map(({ body, reason }) => ({ body, reason })),
      [{ body: "a", reason: "no upload at uploads/1/x.png" }],
    );
    assert.equal(metrics.flush()[0]?.JobsFailed, 1);
  });

  it("GIVEN a job in progress WHEN stop() is called THEN the job finishes and is deleted before stop resolves", async () => {
    const queue = new MemoryJobQueue();
    let finished = false;
    let started = false;
    const { worker } = newWorker(queue, async () => {
      started = true;
      await sleep(300);
      finished = true;
      return "processed";
    });
    await queue.send("slow");
    worker.start();
    await eventually(async () => (started ? true : undefined), "the job to start");
    await worker.stop();
    assert.ok(finished, "stop waited for the job in hand");
    assert.equal(queue.depth, 0);
  });

  it("GIVEN an idle worker in a long poll WHEN stop() is called THEN it returns without waiting for the poll", async () => {
    const queue = new MemoryJobQueue();
    const worker = new Worker({
      queue,
      handle: async () => "processed",
      logger: captureLogs().logger,
      metrics: new Metrics({ namespace: "Test", service: "worker", write: () => undefined }),
      waitSeconds: 20,
    });
    worker.start();
    await sleep(20);
    const stopped = worker.stop().then(() => "stopped");
    const outcome = await Promise.race([stopped, sleep(5_000).then(() => "still polling")]);
    assert.equal(outcome, "stopped");
  });

  it("GIVEN the default retry policy THEN the delay doubles from 5 s and is capped", () => {
    assert.deepEqual([1, 2, 3].map(defaultRetryDelaySeconds), [5, 10, 20]);
    assert.equal(defaultRetryDelaySeconds(30), 300);
  });
});
