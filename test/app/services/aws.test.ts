// The app's AWS code against moto: SQS send/receive/delete, the DLQ after retries, the queue
// briefly down, S3 presigned uploads and the worker's thumbnails, and the worker's EMF lines.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { removeBucket } from "../../../scripts/removeBucket";
import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import sharp from "sharp";
import { UnprocessableJobError } from "../../../app/src/jobs/thumbnail";
import { Worker } from "../../../app/src/jobs/worker";
import { Metrics } from "../../../app/src/metrics";
import { LocalFileStore } from "../../../app/src/tiers/files";
import { openPGlite } from "../../../app/src/tiers/pglite";
import { QueueUnavailableError } from "../../../app/src/tiers/queue";
import { S3FileStore } from "../../../app/src/tiers/s3Files";
import { SqsJobQueue } from "../../../app/src/tiers/sqsQueue";
import { captureLogs, eventually, makePng, makeTempDir, signInTo, sleep } from "../support/helpers";
import {
  needServices,
  type ServiceApp,
  startServiceApp,
  TEST_AWS_REGION,
  uniqueName,
} from "../support/services";
import { TcpProxy } from "../support/tcpProxy";

const CDN_DOMAIN = "cdn.test.example";

const services = needServices("aws");

describe("AWS tiers against moto", { skip: services.skip }, () => {
  let endpoint: string;
  let sqs: SQSClient;
  let s3: S3Client;
  const queueUrls: string[] = [];
  const buckets: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    endpoint = services.env().awsEndpoint;
    sqs = new SQSClient({ region: TEST_AWS_REGION, endpoint });
    s3 = new S3Client({ region: TEST_AWS_REGION, endpoint, forcePathStyle: true });
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    for (const QueueUrl of queueUrls)
      await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
    for (const Bucket of buckets) await removeBucket(s3, Bucket);
    sqs?.destroy();
    s3?.destroy();
  });

  async function createQueue(
    attributes: Record<string, string> = {},
  ): Promise<{ url: string; arn: string }> {
    const created = await sqs.send(
      new CreateQueueCommand({ QueueName: uniqueName("jobs"), Attributes: attributes }),
    );
    const url = created.QueueUrl!;
    queueUrls.push(url);
    const described = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
    );
    return { url, arn: described.Attributes!.QueueArn! };
  }

  async function createBucket(): Promise<string> {
    const bucket = uniqueName("assets");
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    buckets.push(bucket);
    return bucket;
  }

  /**
   * Signs a user up and in, uploads a photo through its presigned PUT to `bucket`, completes it,
   * and waits for the worker's thumbnail link.
   */
  async function uploadPhoto(
    t: ServiceApp,
    bucket: string,
    input: { name: string; email: string; password: string },
  ): Promise<{ id: string; key: string; jobId: string; thumbnailUrl: string }> {
    const id = (await t.app.inject({ method: "POST", url: "/users", payload: input })).json()
      .id as string;
    const jar = await signInTo(t.app, input);
    const png = await makePng();
    const started = await jar.send(t.app, {
      method: "POST",
      url: `/users/${id}/photo`,
      payload: { contentType: "image/png", size: png.length },
    });
    assert.equal(started.statusCode, 201, started.body);
    const { key, upload } = started.json();
    // Uploads go straight to the bucket, presigned, with or without a CDN.
    assert.ok(upload.url.startsWith(`${endpoint}/${bucket}/${key}?`), upload.url);
    assert.match(upload.url, /X-Amz-Signature=/);
    const put = await fetch(upload.url, {
      method: "PUT",
      headers: upload.headers,
      body: new Uint8Array(png),
    });
    assert.equal(put.status, 200, await put.text());
    const completed = await jar.send(t.app, {
      method: "POST",
      url: `/users/${id}/photo/complete`,
      payload: { key },
    });
    assert.equal(completed.statusCode, 202, completed.body);
    const { jobId } = completed.json();
    const thumbnailUrl = await eventually(async () => {
      const user = await t.app.inject({ method: "GET", url: `/users/${id}` });
      return user.json().photo?.thumbnailUrl as string | undefined;
    }, "the thumbnail link");
    return { id, key, jobId, thumbnailUrl };
  }

  async function drain(queueUrl: string): Promise<string[]> {
    const bodies: string[] = [];
    for (;;) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      if ((received.Messages ?? []).length === 0) return bodies;
      bodies.push(...received.Messages!.map((message) => message.Body!));
    }
  }

  it("GIVEN an SQS queue WHEN a job is sent, received and deleted THEN it is gone", async () => {
    const { url } = await createQueue({ VisibilityTimeout: "30" });
    const queue = new SqsJobQueue({ queueUrl: url, region: TEST_AWS_REGION, endpoint });
    cleanups.push(() => queue.close());
    await queue.send('{"hello":"world"}');
    const [message] = await queue.receive({ waitSeconds: 2 });
    assert.equal(message?.body, '{"hello":"world"}');
    assert.equal(message?.receiveCount, 1);
    await queue.delete(message!);
    assert.deepEqual(await queue.receive({ waitSeconds: 1 }), []);
  });

  it("GIVEN 12 received jobs and a stale receipt WHEN deleted as a batch THEN the 12 are gone and the stale one is answered as not deleted, with the reason", async () => {
    const { url } = await createQueue({ VisibilityTimeout: "30" });
    const queue = new SqsJobQueue({ queueUrl: url, region: TEST_AWS_REGION, endpoint });
    cleanups.push(() => queue.close());
    for (let index = 0; index < 12; index += 1) await queue.send(`{"job":${index}}`);
    const received = [];
    while (received.length < 12) {
      received.push(...(await queue.receive({ waitSeconds: 1, maxMessages: 10 })));
    }
    const stale = { ...received[0]!, receiptHandle: "not-a-receipt-handle" };
    const undeleted = await queue.deleteBatch([...received, stale]);
    assert.deepEqual(
      undeleted.map(({ message }) => message.receiptHandle),
      ["not-a-receipt-handle"],
    );
    assert.match(undeleted[0]!.reason, /ReceiptHandle/i);
    assert.deepEqual(await queue.receive({ waitSeconds: 1 }), []);
  });

  it("GIVEN a long poll WHEN the worker is stopped THEN the poll ends at once", async () => {
    const { url } = await createQueue();
    const queue = new SqsJobQueue({ queueUrl: url, region: TEST_AWS_REGION, endpoint });
    cleanups.push(() => queue.close());
    const controller = new AbortController();
    const polling = queue.receive({ waitSeconds: 20, signal: controller.signal });
    await sleep(100);
    controller.abort();
    const outcome = await Promise.race([
      polling.then(() => "returned"),
      sleep(5_000).then(() => "still polling"),
    ]);
    assert.equal(outcome, "returned");
  });

  /**
   * A job queue whose messages move to a fresh DLQ after `maxReceiveCount` receives, and a worker
   * on it whose every attempt throws `failure()`. The worker runs only inside `whileWorking`.
   */
  async function failingWorkerWithDlq(options: {
    visibilityTimeoutSeconds: number;
    maxReceiveCount: number;
    failure: () => Error;
    retryDelaySeconds: number;
  }) {
    const dlq = await createQueue();
    const { url } = await createQueue({
      VisibilityTimeout: String(options.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: String(options.maxReceiveCount),
      }),
    });
    const queue = new SqsJobQueue({ queueUrl: url, region: TEST_AWS_REGION, endpoint });
    cleanups.push(() => queue.close());
    let attempts = 0;
    const worker = new Worker({
      queue,
      handle: async () => {
        attempts += 1;
        throw options.failure();
      },
      logger: captureLogs().logger,
      metrics: new Metrics({ namespace: "Test", service: "worker", write: () => undefined }),
      waitSeconds: 1,
      retryDelaySeconds: () => options.retryDelaySeconds,
    });
    return {
      url,
      dlq,
      queue,
      attempts: () => attempts,
      /** Starts the worker, runs `during`, and stops the worker whatever happened. */
      async whileWorking<T>(during: () => Promise<T>): Promise<T> {
        worker.start();
        try {
          return await during();
        } finally {
          await worker.stop();
        }
      },
    };
  }

  /** The first message on the DLQ at `url`, once there is one: its body and DeadLetterReason. */
  function deadLetter(url: string) {
    return eventually(async () => {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ["All"],
        }),
      );
      const message = received.Messages?.[0];
      return message === undefined
        ? undefined
        : { body: message.Body, reason: message.MessageAttributes?.DeadLetterReason?.StringValue };
    }, "the job in the DLQ");
  }

  // Two ways to the DLQ: SQS's redrive after maxReceiveCount receives, and the worker's own move
  // of a job that can never succeed (after one attempt, with the reason).
  const deadLettering = [
    {
      given: "a queue with a redrive policy",
      when: "a job keeps failing",
      then: "it moves to the DLQ after maxReceiveCount",
      setup: {
        visibilityTimeoutSeconds: 1,
        maxReceiveCount: 2,
        failure: () => new Error("always fails"),
        retryDelaySeconds: 0,
      },
      attempts: 2,
      reason: undefined,
    },
    {
      given: "a job that can never succeed",
      when: "the worker takes it",
      then: "it is in the DLQ after one attempt, with the reason",
      setup: {
        visibilityTimeoutSeconds: 30,
        maxReceiveCount: 5,
        failure: () => new UnprocessableJobError("not a known job"),
        // A retry would come back only after the test's patience: the DLQ must not wait for it.
        retryDelaySeconds: 300,
      },
      attempts: 1,
      reason: "not a known job",
    },
  ];
  for (const { given, when, then, setup, attempts, reason } of deadLettering) {
    it(`GIVEN ${given} WHEN ${when} THEN ${then}`, async () => {
      const jobs = await failingWorkerWithDlq(setup);
      await jobs.queue.send("doomed");
      const dead = await jobs.whileWorking(() => deadLetter(jobs.dlq.url));
      assert.deepEqual(dead, { body: "doomed", reason });
      assert.equal(jobs.attempts(), attempts);
      assert.deepEqual(await drain(jobs.url), [], "gone from the job queue");
    });
  }

  describe("the queue briefly down during submission", () => {
    let proxy: TcpProxy;
    let queueUrl: string;
    let queue: SqsJobQueue;

    before(async () => {
      proxy = await TcpProxy.start(endpoint);
      queueUrl = (await createQueue()).url;
      queue = new SqsJobQueue({
        queueUrl,
        region: TEST_AWS_REGION,
        endpoint: `http://127.0.0.1:${proxy.port}`,
        sendTimeoutMs: 2_000,
        sendRetry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 100 },
      });
    });
    after(async () => {
      await queue?.close();
      await proxy?.close();
    });

    it("GIVEN the queue cut off WHEN it comes back during the retries THEN the job is accepted and on the queue", async () => {
      const patient = new SqsJobQueue({
        queueUrl,
        region: TEST_AWS_REGION,
        endpoint: `http://127.0.0.1:${proxy.port}`,
        sendTimeoutMs: 2_000,
        sendRetry: { attempts: 20, baseDelayMs: 50, maxDelayMs: 200 },
      });
      const refusedBefore = proxy.refusedConnections;
      proxy.cut();
      const submitted = patient.send("job-during-blip");
      await eventually(
        async () => (proxy.refusedConnections - refusedBefore >= 2 ? true : undefined),
        "a few failed attempts",
      );
      proxy.restore();
      await submitted;
      await patient.close();
      assert.deepEqual(await drain(queueUrl), ["job-during-blip"]);
    });

    it("GIVEN a longer outage WHEN submitting THEN it gives up (→ 503) and nothing accepted is lost", async () => {
      const accepted: string[] = [];
      for (const body of ["accepted-1", "accepted-2"]) {
        await queue.send(body);
        accepted.push(body);
      }
      proxy.cut();
      await assert.rejects(queue.send("refused"), QueueUnavailableError);
      proxy.restore();
      assert.deepEqual((await drain(queueUrl)).sort(), accepted);
    });
  });

  it("GIVEN S3 and SQS WHEN a user uploads through a presigned PUT THEN the worker thumbnails it behind the CDN domain", async () => {
    const bucket = await createBucket();
    const { url: queueUrl } = await createQueue({ VisibilityTimeout: "30" });
    const dataDir = await makeTempDir("aws-flow-");
    cleanups.push(() => dataDir.remove());
    const logs = captureLogs();
    const t = await startServiceApp(
      {
        database: await openPGlite(join(dataDir.path, "pglite")),
        queue: new SqsJobQueue({ queueUrl, region: TEST_AWS_REGION, endpoint }),
        files: new S3FileStore({
          bucket,
          cdnDomain: CDN_DOMAIN,
          region: TEST_AWS_REGION,
          endpoint,
        }),
      },
      { role: "all", logs },
    );
    cleanups.push(() => t.app.close());

    const { id, jobId, thumbnailUrl } = await uploadPhoto(t, bucket, {
      name: "Katherine",
      email: "katherine@example.com",
      password: "trajectories",
    });
    assert.equal(thumbnailUrl, `https://${CDN_DOMAIN}/thumbnails/${id}/${jobId}.webp`);

    const object = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `thumbnails/${id}/${jobId}.webp` }),
    );
    assert.equal(object.ContentType, "image/webp");
    const metadata = await sharp(Buffer.from(await object.Body!.transformToByteArray())).metadata();
    assert.deepEqual([metadata.format, metadata.width, metadata.height], ["webp", 128, 128]);

    const [document] = t.app.services.metrics.worker.flush();
    assert.equal(document?.Service, "worker");
    assert.equal(document?.JobsProcessed, 1);
    assert.deepEqual(document?._aws.CloudWatchMetrics[0]?.Dimensions, [["Service"]]);
    assert.equal(
      await t.app.inject({ method: "GET", url: "/meta" }).then((r) => r.json().mode.files),
      "s3",
    );
  });

  /** An app on an embedded database whose files are in `bucket`, served by `cdnDomain` if given. */
  async function appWithFiles(
    bucket: string,
    cdnDomain: string | undefined,
    options: Parameters<typeof startServiceApp>[1],
  ) {
    const dataDir = await makeTempDir("aws-files-");
    cleanups.push(() => dataDir.remove());
    const files = new S3FileStore({ bucket, cdnDomain, region: TEST_AWS_REGION, endpoint });
    const t = await startServiceApp(
      { database: await openPGlite(join(dataDir.path, "pglite")), files },
      options,
    );
    cleanups.push(() => t.app.close());
    return t;
  }

  describe("S3 without a CDN (stages 1-3)", () => {
    it("GIVEN a bucket and no CDN_DOMAIN WHEN a user uploads through a presigned PUT THEN the thumbnail links to the app, which serves it from S3 with immutable caching; originals and missing files are 404", async () => {
      const bucket = await createBucket();
      const t = await appWithFiles(bucket, undefined, { role: "all" });

      const { id, key, jobId, thumbnailUrl } = await uploadPhoto(t, bucket, {
        name: "Grace",
        email: "grace@example.com",
        password: "compilers-rule",
      });
      // A link of the app's own, which never expires (no presigned URL in cached user bodies).
      assert.equal(thumbnailUrl, `/files/thumbnails/${id}/${jobId}.webp`);

      const served = await t.app.inject({ method: "GET", url: thumbnailUrl });
      assert.equal(served.statusCode, 200, served.body);
      assert.equal(served.headers["content-type"], "image/webp");
      assert.equal(served.headers["cache-control"], "public, max-age=31536000, immutable");
      const metadata = await sharp(served.rawPayload).metadata();
      assert.deepEqual([metadata.format, metadata.width, metadata.height], ["webp", 128, 128]);

      // The uploaded original is in the bucket, but never served, however the path is spelt.
      for (const url of [
        `/files/${key}`,
        `/files/thumbnails/../${key}`,
        `/files/thumbnails/%2e%2e/${key}`,
        `/files/thumbnails/${id}/missing.webp`,
      ]) {
        const refused = await t.app.inject({ method: "GET", url });
        assert.equal(refused.statusCode, 404, `${url}: ${refused.body}`);
      }

      // The page loads images from itself alone and uploads to the bucket's endpoint.
      const page = await t.app.inject({ method: "GET", url: "/healthz" });
      const csp = String(page.headers["content-security-policy"]);
      assert.match(csp, /img-src 'self' data:(;|$)/);
      assert.match(csp, new RegExp(`connect-src 'self' ${new URL(endpoint).origin}`));
    });

    it("GIVEN no CDN WHEN one client keeps asking for files THEN past its limit it gets 429 before the bucket is read", async () => {
      const t = await appWithFiles(await createBucket(), undefined, {
        settings: { rateLimits: { publicFilesPerClient: 2 } },
      });
      const statuses = [];
      for (let index = 0; index < 3; index += 1) {
        const url = `/files/thumbnails/someone/missing-${index}.webp`;
        statuses.push((await t.app.inject({ method: "GET", url })).statusCode);
      }
      assert.deepEqual(statuses, [404, 404, 429]);
    });
  });

  it("GIVEN a CDN WHEN a link of the app's own from before it (a cached user body) is followed THEN a permanent redirect to the CDN, without reading the bucket; originals still 404", async () => {
    // A bucket that does not exist: any read of it would fail, so a redirect proves none happened.
    const t = await appWithFiles("no-such-bucket-for-redirects", "d123.cloudfront.net", {
      settings: { rateLimits: { publicFilesPerClient: 1 } },
    });
    for (let index = 0; index < 3; index += 1) {
      const moved = await t.app.inject({ method: "GET", url: "/files/thumbnails/u/j.webp" });
      assert.equal(moved.statusCode, 301, moved.body);
      assert.equal(moved.headers.location, "https://d123.cloudfront.net/thumbnails/u/j.webp");
    }
    const original = await t.app.inject({ method: "GET", url: "/files/uploads/u/photo.png" });
    assert.equal(original.statusCode, 404);
  });

  it("GIVEN the local file tier and SQS WHEN the queue is unreachable THEN completing an upload answers 503", async () => {
    const dataDir = await makeTempDir("aws-503-");
    cleanups.push(() => dataDir.remove());
    const { url: queueUrl } = await createQueue();
    const proxy = await TcpProxy.start(endpoint);
    cleanups.push(() => proxy.close());
    const t = await startServiceApp({
      database: await openPGlite(join(dataDir.path, "pglite")),
      queue: new SqsJobQueue({
        queueUrl,
        region: TEST_AWS_REGION,
        endpoint: `http://127.0.0.1:${proxy.port}`,
        sendRetry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 50 },
      }),
      files: new LocalFileStore({ dir: join(dataDir.path, "files") }),
    });
    cleanups.push(() => t.app.close());
    const input = { name: "Q", email: "q@example.com", password: "12345678" };
    const id = (await t.app.inject({ method: "POST", url: "/users", payload: input })).json()
      .id as string;
    const jar = await signInTo(t.app, input);
    const png = await makePng();
    const { key, upload } = (
      await jar.send(t.app, {
        method: "POST",
        url: `/users/${id}/photo`,
        payload: { contentType: "image/png", size: png.length },
      })
    ).json();
    await t.app.inject({ method: "PUT", url: upload.url, headers: upload.headers, payload: png });

    const complete = () =>
      jar.send(t.app, { method: "POST", url: `/users/${id}/photo/complete`, payload: { key } });

    proxy.cut();
    const refused = await complete();
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.json().error, "queue_unavailable");
    proxy.restore();
    const accepted = await complete();
    assert.equal(accepted.statusCode, 202);
    const bodies = await drain(queueUrl);
    assert.equal(bodies.length, 1, "only the accepted job is on the queue");
    assert.equal(JSON.parse(bodies[0]!).id, accepted.json().jobId);
  });
});
