// The photo flow on the embedded tiers: upload ticket, PUT to the app, job, thumbnail, link.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import {
  newThumbnailJob,
  processThumbnailJob,
  thumbnailKeyFor,
} from "../../app/src/jobs/thumbnail";
import { QueueUnavailableError } from "../../app/src/tiers/queue";
import { startEmbeddedApp, type EmbeddedApp } from "./support/embedded";
import { CookieJar, eventually, makePng, signInTo } from "./support/helpers";

interface Upload {
  key: string;
  upload: { method: "PUT"; url: string; headers: Record<string, string> };
}

describe("photos (embedded)", () => {
  let t: EmbeddedApp;
  let userId: string;
  const jar = new CookieJar();
  let png: Buffer;

  before(async () => {
    t = await startEmbeddedApp({ queue: { maxReceiveCount: 2, visibilityTimeoutSeconds: 1 } });
    png = await makePng();
    const user = { name: "Grace", email: "grace@example.com", password: "compilers!" };
    const created = await t.app.inject({ method: "POST", url: "/users", payload: user });
    userId = created.json().id;
    const session = await t.app.inject({
      method: "POST",
      url: "/sessions",
      payload: { email: user.email, password: user.password },
    });
    jar.store(session.headers["set-cookie"]);
  });
  after(async () => {
    await t.close();
  });

  async function startUpload(payload: object = { contentType: "image/png", size: png.length }) {
    return jar.send(t.app, { method: "POST", url: `/users/${userId}/photo`, payload });
  }

  async function put(upload: Upload["upload"], body: Buffer) {
    return t.app.inject({
      method: upload.method,
      url: upload.url,
      headers: upload.headers,
      payload: body,
    });
  }

  async function complete(key: string) {
    return jar.send(t.app, {
      method: "POST",
      url: `/users/${userId}/photo/complete`,
      payload: { key },
    });
  }

  /** What the worker hands a thumbnail job, for tests that run jobs directly. */
  function jobContext() {
    return {
      shards: t.app.services.tiers.shards,
      files: t.files,
      cache: t.app.services.cache,
      logger: t.logs.logger,
      maxUploadBytes: 5 * 1024 * 1024,
    };
  }

  async function photoOf(id: string): Promise<string | undefined> {
    const response = await t.app.inject({ method: "GET", url: `/users/${id}` });
    return response.json().photo?.thumbnailUrl;
  }

  it("GIVEN a real PNG WHEN it is uploaded and completed THEN the worker makes a 128px webp thumbnail served under /files", async () => {
    const started = await startUpload();
    assert.equal(started.statusCode, 201, started.body);
    const { key, upload } = started.json<Upload>();
    assert.match(key, new RegExp(`^uploads/${userId}/[0-9a-f-]{36}\\.${png.length}\\.png$`));
    assert.equal(upload.method, "PUT");
    assert.match(upload.url, /^\/uploads\//);
    assert.deepEqual(upload.headers, { "content-type": "image/png" });

    const stored = await put(upload, png);
    assert.equal(stored.statusCode, 204, stored.body);

    const completed = await complete(key);
    assert.equal(completed.statusCode, 202, completed.body);
    const { jobId } = completed.json();

    const url = await eventually(() => photoOf(userId), "the thumbnail link");
    assert.equal(url, `/files/thumbnails/${userId}/${jobId}.webp`);
    const image = await t.app.inject({ method: "GET", url });
    assert.equal(image.statusCode, 200);
    assert.equal(image.headers["content-type"], "image/webp");
    const metadata = await sharp(image.rawPayload).metadata();
    assert.equal(metadata.format, "webp");
    assert.equal(metadata.width, 128);
    assert.equal(metadata.height, 128);
    assert.equal(t.queue.depth, 0, "the job was deleted after it succeeded");
  });

  it("GIVEN an upload WHEN someone GETs the original under /files THEN 404: originals are private", async () => {
    const { key, upload } = (await startUpload()).json<Upload>();
    await put(upload, png);
    const response = await t.app.inject({ method: "GET", url: `/files/${key}` });
    assert.equal(response.statusCode, 404);
  });

  it("GIVEN bad upload requests THEN each is refused with a 4xx naming the problem", async () => {
    const tooBig = await startUpload({ contentType: "image/png", size: 50 * 1024 * 1024 });
    assert.equal(tooBig.statusCode, 400);
    assert.equal(tooBig.json().field, "size");

    const wrongType = await startUpload({ contentType: "image/gif", size: 10 });
    assert.equal(wrongType.statusCode, 400);
    assert.equal(wrongType.json().field, "contentType");

    const { key, upload } = (await startUpload()).json<Upload>();
    const tampered = await put({ ...upload, url: upload.url.replace(/size=\d+/, "size=999") }, png);
    assert.equal(tampered.statusCode, 403);

    const shortBody = await put(upload, png.subarray(0, 10));
    assert.equal(shortBody.statusCode, 400);
    assert.equal(shortBody.json().field, "size");

    const notUploaded = await complete(key);
    assert.equal(notUploaded.statusCode, 400);
    assert.equal(notUploaded.json().field, "key");

    const foreignKey = await complete(
      "uploads/00000000-0000-4000-8000-000000000000/00000000-0000-0000-0000-000000000000.10.png",
    );
    assert.equal(foreignKey.statusCode, 400);
    assert.equal(foreignKey.json().field, "key");

    const anonymous = await t.app.inject({
      method: "POST",
      url: `/users/${userId}/photo`,
      payload: { contentType: "image/png", size: 10 },
    });
    assert.equal(anonymous.statusCode, 401);
  });

  it("GIVEN an upload body over the limit WHEN PUT THEN 413", async () => {
    const small = await startEmbeddedApp({ settings: { maxUploadBytes: 1024 } });
    try {
      const user = { name: "Small", email: "small@example.com", password: "12345678" };
      const id = (await small.app.inject({ method: "POST", url: "/users", payload: user })).json()
        .id;
      const session = await signInTo(small.app, user);
      const started = await session.send(small.app, {
        method: "POST",
        url: `/users/${id}/photo`,
        payload: { contentType: "image/png", size: 1024 },
      });
      const { upload } = started.json<Upload>();
      const response = await small.app.inject({
        method: "PUT",
        url: upload.url,
        headers: upload.headers,
        payload: Buffer.alloc(4096),
      });
      assert.equal(response.statusCode, 413);
    } finally {
      await small.close();
    }
  });

  it("GIVEN a job delivered twice (a crash before its delete) THEN it takes effect once", async () => {
    const { key, upload } = (await startUpload()).json<Upload>();
    await put(upload, png);
    const job = newThumbnailJob(userId, key);
    const context = jobContext();
    const first = await processThumbnailJob(job, context);
    const second = await processThumbnailJob(job, context);
    assert.equal(first, "processed");
    assert.equal(second, "duplicate");
    const rows = await t.database.writer("SELECT count(*)::int AS n FROM jobs WHERE id = $1", [
      job.id,
    ]);
    assert.deepEqual(rows, [{ n: 1 }]);
    assert.equal(await photoOf(userId), `/files/${thumbnailKeyFor(job)}`);
  });

  it("GIVEN the same job body on the queue twice WHEN the worker runs THEN JobsProcessed counts it once", async () => {
    t.app.services.metrics.worker.flush();
    const { key, upload } = (await startUpload()).json<Upload>();
    await put(upload, png);
    const body = JSON.stringify(newThumbnailJob(userId, key));
    await t.queue.send(body);
    await t.queue.send(body);
    await eventually(async () => (t.queue.depth === 0 ? true : undefined), "the queue to drain");
    const [document] = t.app.services.metrics.worker.flush();
    assert.equal(document?.JobsProcessed, 1);
  });

  it("GIVEN an older job that runs after a newer one THEN the newer photo stays", async () => {
    const uploads = [];
    for (let i = 0; i < 2; i += 1) {
      const { key, upload } = (await startUpload()).json<Upload>();
      await put(upload, png);
      uploads.push(key);
    }
    const older = {
      ...newThumbnailJob(userId, uploads[0]!),
      requestedAt: "2020-01-01T00:00:00.000Z",
    };
    const newer = newThumbnailJob(userId, uploads[1]!);
    const context = jobContext();
    assert.equal(await processThumbnailJob(newer, context), "processed");
    assert.equal(await processThumbnailJob(older, context), "processed");
    assert.equal(await photoOf(userId), `/files/${thumbnailKeyFor(newer)}`);
  });

  it("GIVEN jobs that can never succeed WHEN the worker takes them THEN they go to the dead letters at once, not after every retry", async () => {
    t.app.services.metrics.worker.flush();
    const job = newThumbnailJob(
      userId,
      `uploads/${userId}/00000000-0000-0000-0000-000000000000.png`,
    );
    await t.queue.send(JSON.stringify(job));
    await t.queue.send("not json at all");
    await eventually(
      async () => (t.queue.deadLetters.length >= 2 ? true : undefined),
      "both jobs in the dead letters",
    );
    assert.deepEqual(
      t.queue.deadLetters.map((message) => message.body).sort(),
      [JSON.stringify(job), "not json at all"].sort(),
    );
    const [document] = t.app.services.metrics.worker.flush();
    assert.equal(document?.JobsFailed, 2, "two jobs, each tried once");
    assert.equal(await photoOf("999999"), undefined);
  });

  // Retrying belongs to the queue (SQS: the AWS SDK's strategy, test/app/sqsQueue.test.ts); the
  // route sends once and maps what the queue reports.
  describe("queue outages at submission", () => {
    /** Completes the upload while every send to the queue fails with `error`, then restores it. */
    async function completeWhileQueueFails(key: string, error: Error) {
      const realSend = t.queue.send.bind(t.queue);
      let sends = 0;
      t.queue.send = async () => {
        sends += 1;
        throw error;
      };
      try {
        const response = await complete(key);
        return { response, sends };
      } finally {
        t.queue.send = realSend;
      }
    }

    it("GIVEN the queue gives up WHEN completing an upload THEN 503 with a clear message, nothing queued, and the same upload completes once it is back", async () => {
      const { key, upload } = (await startUpload()).json<Upload>();
      await put(upload, png);
      const { response, sends } = await completeWhileQueueFails(
        key,
        new QueueUnavailableError(5, new Error("queue down")),
      );
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().error, "queue_unavailable");
      assert.match(response.json().message, /nothing was queued/);
      assert.equal(response.headers["retry-after"], "5");
      assert.equal(sends, 1, "the route leaves retrying to the queue");
      const retried = await complete(key);
      assert.equal(
        retried.statusCode,
        202,
        "the same upload can be completed once the queue is back",
      );
    });

    it("GIVEN the queue refuses for good (AccessDenied) WHEN completing an upload THEN 500, sent once", async () => {
      const { key, upload } = (await startUpload()).json<Upload>();
      await put(upload, png);
      const { response, sends } = await completeWhileQueueFails(
        key,
        Object.assign(new Error("not allowed"), { name: "AccessDenied" }),
      );
      assert.equal(response.statusCode, 500);
      assert.equal(sends, 1);
    });
  });
});
