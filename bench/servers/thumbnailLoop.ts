/**
 * The limit for the worker (benchmark 4): the app's thumbnail job done by a bare loop, with the AWS
 * SDK and pg and nothing of the app around it. Receive up to WORKER_CONCURRENCY messages (long
 * poll, lib/drainQueue.ts), run their jobs at once (the user's id from the directory, check the `jobs` table, HeadObject, GetObject, the app's own sharp
 * resize, PutObject, the same transaction), delete them in one batch, repeat until SIGTERM. What it
 * leaves out of the app's job: validating the message, logging, metrics and the cache invalidation
 * after the write, and retry or dead-letter handling (no job fails here).
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import pg from "pg";
import { makeThumbnail, thumbnailKeyFor, type ThumbnailJob } from "../../app/src/jobs/thumbnail";
import { WORKER_CONCURRENCY } from "../../contract";
import { drainQueue } from "../lib/drainQueue";

/** The app's pool size per database (tiers/postgres.ts). */
const POOL_SIZE = 10;

const Bucket = process.env.BUCKET ?? "";
const aws = {
  region: process.env.AWS_REGION,
  ...(process.env.AWS_ENDPOINT_URL === undefined
    ? {}
    : { endpoint: process.env.AWS_ENDPOINT_URL, forcePathStyle: true }),
};
const s3 = new S3Client(aws);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: POOL_SIZE });

async function runJob(job: ThumbnailJob): Promise<void> {
  // The job names the user by public id; the directory (one shard here) gives the internal id.
  const found = await pool.query<{ user_id: string }>(
    "SELECT user_id::text AS user_id FROM user_public_ids WHERE public_id = $1",
    [job.userId],
  );
  const userId = found.rows[0]?.user_id;
  if (userId === undefined) return;
  const done = await pool.query("SELECT 1 FROM jobs WHERE id = $1", [job.id]);
  if (done.rows.length > 0) return;
  await s3.send(new HeadObjectCommand({ Bucket, Key: job.uploadKey }));
  const original = await s3.send(new GetObjectCommand({ Bucket, Key: job.uploadKey }));
  const thumbnail = await makeThumbnail(Buffer.from(await original.Body!.transformToByteArray()));
  const thumbnailKey = thumbnailKeyFor(job);
  await s3.send(
    new PutObjectCommand({ Bucket, Key: thumbnailKey, Body: thumbnail, ContentType: "image/webp" }),
  );
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const claimed = await client.query(
      "INSERT INTO jobs (id, kind, user_id) VALUES ($1, 'thumbnail', $2) ON CONFLICT (id) DO NOTHING RETURNING id",
      [job.id, userId],
    );
    if (claimed.rows.length > 0) {
      await client.query(
        `UPDATE users SET photo_key = $2, photo_requested_at = $3, updated_at = now()
          WHERE id = $1 AND (photo_requested_at IS NULL OR photo_requested_at < $3)`,
        [userId, thumbnailKey, job.requestedAt],
      );
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

drainQueue({
  name: "thumbnail loop",
  queueUrl: process.env.QUEUE_URL ?? "",
  batch: WORKER_CONCURRENCY,
  handle: async (messages) => {
    await Promise.all(messages.map((message) => runJob(JSON.parse(message.Body!) as ThumbnailJob)));
  },
  close: () => pool.end(),
});
