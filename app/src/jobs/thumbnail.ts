/**
 * The photo-processing job: reads the uploaded original, makes a small webp thumbnail with sharp,
 * stores it and points the user at it. Idempotent, because the queue delivers at least once:
 * - the thumbnail's key is derived from the job id, so storing it again overwrites the same bytes;
 * - the `jobs` row and the user update commit together, and a job whose row exists is skipped;
 * - the update only applies a photo requested after the current one, so a stale job that runs
 *   late (after a newer upload) cannot bring back an older photo.
 */
import { randomUUID } from "node:crypto";
import sharp from "sharp";
import type { Logger } from "pino";
import { z } from "zod";
import type { CacheAside } from "../cacheAside";
import { writerLsn } from "../replication/lsn";
import type { Shards } from "../sharding/router";
import type { FileStore } from "../tiers/files";
import { userIdOf } from "../sharding/accounts";
import { cacheKeyForUser } from "../users";

export const THUMBNAIL_SIZE = 128;

export const ThumbnailJob = z.object({
  type: z.literal("thumbnail"),
  id: z.uuid(),
  /** The user's public id. */
  userId: z.uuid(),
  uploadKey: z.string().min(1),
  requestedAt: z.iso.datetime(),
});
export type ThumbnailJob = z.infer<typeof ThumbnailJob>;

export function newThumbnailJob(userId: string, uploadKey: string): ThumbnailJob {
  return {
    type: "thumbnail",
    id: randomUUID(),
    userId,
    uploadKey,
    requestedAt: new Date().toISOString(),
  };
}

export function thumbnailKeyFor(job: ThumbnailJob): string {
  return `thumbnails/${job.userId}/${job.id}.webp`;
}

export interface ThumbnailContext {
  /** The job's rows go to the user's shard. */
  shards: Shards;
  files: FileStore;
  cache: CacheAside;
  logger: Logger;
  /** Originals larger than this are refused (the upload route already limits them). */
  maxUploadBytes: number;
}

export type JobOutcome = "processed" | "duplicate";

/** Thrown for a job that can never succeed; it still goes the DLQ way, but is logged as such. */
export class UnprocessableJobError extends Error {
  override name = "UnprocessableJobError";
}

/**
 * A message body as `schema` reads it. Throws an UnprocessableJobError, which sends the message to
 * its dead-letter queue, when the body is not JSON (`notJson`) or not of the schema (`notValid`,
 * followed by zod's first issue).
 */
export function parseMessage<T>(
  body: string,
  schema: z.ZodType<T>,
  errors: { notJson: string; notValid: string },
): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new UnprocessableJobError(errors.notJson);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new UnprocessableJobError(`${errors.notValid}: ${result.error.issues[0]?.message ?? ""}`);
  }
  return result.data;
}

export async function makeThumbnail(original: Buffer): Promise<Buffer> {
  try {
    return await sharp(original, { limitInputPixels: 50_000_000 })
      .rotate() // honour EXIF orientation before it is stripped
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "cover" })
      .webp({ quality: 80 })
      .toBuffer();
  } catch (error) {
    throw new UnprocessableJobError(`the upload is not a readable image: ${String(error)}`);
  }
}

export async function processThumbnailJob(
  job: ThumbnailJob,
  context: ThumbnailContext,
): Promise<JobOutcome> {
  const { shards, files } = context;
  // The job names the user by public id; the directory gives the internal id, which names the shard.
  const userId = await userIdOf(shards.directory.writer, job.userId);
  if (userId === undefined) {
    // The account was deleted after the upload: there is no one to point at the photo.
    context.logger.info({ jobId: job.id, userId: job.userId }, "thumbnail skipped: no such user");
    return "processed";
  }
  const done = await shards.forUser(userId).writer("SELECT 1 FROM jobs WHERE id = $1", [job.id]);
  if (done.length > 0) return "duplicate";

  const size = (await files.head(job.uploadKey))?.size;
  if (size === undefined) throw new UnprocessableJobError(`no upload at ${job.uploadKey}`);
  if (size > context.maxUploadBytes) {
    throw new UnprocessableJobError(`the upload is ${size} bytes, over ${context.maxUploadBytes}`);
  }
  const thumbnail = await makeThumbnail(await files.read(job.uploadKey));
  const thumbnailKey = thumbnailKeyFor(job);
  await files.write(thumbnailKey, thumbnail, "image/webp");

  const applied = await shards.route(userId, (db) =>
    db.transaction(async (tx) => {
      // A concurrent delivery of the same job that committed first wins; this one changes nothing.
      const claimed = await tx.query(
        "INSERT INTO jobs (id, kind, user_id) VALUES ($1, 'thumbnail', $2) ON CONFLICT (id) DO NOTHING RETURNING id",
        [job.id, userId],
      );
      if (claimed.length === 0) return false;
      await tx.query(
        `UPDATE users SET photo_key = $2, photo_requested_at = $3, updated_at = now()
          WHERE id = $1 AND (photo_requested_at IS NULL OR photo_requested_at < $3)`,
        [userId, thumbnailKey, job.requestedAt],
      );
      return true;
    }),
  );
  if (!applied) return "duplicate";
  // Every region drops the cached user once its replica of the user's shard shows the new photo
  // (see afterWrite).
  const shard = shards.physicalShardOfUser(userId);
  const lsn = await writerLsn(shards.physical[shard]!.writer).catch(() => undefined);
  await context.cache.invalidate(cacheKeyForUser(job.userId), lsn, shard);
  context.logger.info(
    { jobId: job.id, userId: job.userId, thumbnailKey, bytes: thumbnail.length },
    "thumbnail stored",
  );
  return "processed";
}
