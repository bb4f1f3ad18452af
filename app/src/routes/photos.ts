/**
 * Profile photos in three steps, the same on both file tiers:
 * 1. POST /users/:id/photo: where to PUT the bytes (a presigned S3 URL, or this app's /uploads);
 * 2. the client PUTs the file there;
 * 3. POST /users/:id/photo/complete: queues the thumbnail job (202), retried while the queue blips.
 */
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { requireSelf, type RouteContext } from "../http/context";
import { HttpError } from "../http/errors";
import {
  CompletePhotoBody,
  errors,
  IMAGE_TYPES,
  JobAccepted,
  jsonSchema,
  PhotoUpload,
  StartPhotoBody,
  UserIdParams,
  type ImageType,
} from "../http/schemas";
import { newThumbnailJob } from "../jobs/thumbnail";
import { LocalFileStore } from "../tiers/files";

const EXTENSIONS: Record<ImageType, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
};

const TYPES_BY_EXTENSION: Record<string, ImageType> = Object.fromEntries(
  Object.entries(EXTENSIONS).map(([type, extension]) => [extension, type as ImageType]),
);

/**
 * An upload's key carries what its ticket announced: `uploads/USER/UUID.SIZE.EXT`. Completing
 * checks the stored object against it without keeping the ticket anywhere; a client cannot
 * change it, because the presigned URL (or the local signature) is for exactly that key.
 */
function uploadKey(userId: string, size: number, contentType: ImageType): string {
  return `uploads/${userId}/${randomUUID()}.${size}.${EXTENSIONS[contentType]}`;
}

function parseUploadKey(
  userId: string,
  key: string,
): { size: number; contentType: ImageType } | undefined {
  const match = /^uploads\/([^/]+)\/[0-9a-f-]{36}\.([1-9][0-9]{0,9})\.(png|jpg|webp)$/.exec(key);
  if (match === null || match[1] !== userId) return undefined;
  const contentType = TYPES_BY_EXTENSION[match[3]!];
  return contentType === undefined ? undefined : { size: Number(match[2]), contentType };
}

export async function photoRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { files, queue } = context.tiers;
  const maxBytes = context.settings.maxUploadBytes;

  app.post<{ Params: UserIdParams; Body: StartPhotoBody }>(
    "/users/:id/photo",
    {
      schema: {
        summary: "Start a photo upload: where and how to PUT the file",
        tags: ["photos"],
        params: jsonSchema(UserIdParams),
        body: jsonSchema(StartPhotoBody(maxBytes)),
        response: { 201: jsonSchema(PhotoUpload), ...errors(400, 401, 403, 413, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await requireSelf(request, context, id);
      const { contentType, size } = request.body;
      const key = uploadKey(id, size, contentType);
      const upload = await files.createUpload({ key, contentType, size });
      return reply.status(201).send({ key, upload });
    },
  );

  app.post<{ Params: UserIdParams; Body: CompletePhotoBody }>(
    "/users/:id/photo/complete",
    {
      schema: {
        summary: "Finish a photo upload: queues the thumbnail job",
        tags: ["photos"],
        params: jsonSchema(UserIdParams),
        body: jsonSchema(CompletePhotoBody),
        response: { 202: jsonSchema(JobAccepted), ...errors(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await requireSelf(request, context, id);
      const { key } = request.body;
      const announced = parseUploadKey(id, key);
      if (announced === undefined) {
        throw new HttpError(
          400,
          "invalid_request",
          "key must be the key that POST /users/:id/photo returned",
          "key",
        );
      }
      const stored = await files.head(key);
      if (stored === undefined) {
        throw new HttpError(400, "invalid_request", "key: nothing was uploaded there yet", "key");
      }
      if (stored.size !== announced.size) {
        throw new HttpError(
          400,
          "invalid_request",
          `key: the stored file is ${stored.size} bytes, but the upload was announced as ${announced.size}`,
          "key",
        );
      }
      if (stored.contentType !== undefined && stored.contentType !== announced.contentType) {
        throw new HttpError(
          400,
          "invalid_request",
          `key: the stored file is ${stored.contentType}, but the upload was announced as ${announced.contentType}`,
          "key",
        );
      }
      const job = newThumbnailJob(id, key);
      // The queue retries what is worth retrying; giving up is a 503 (http/errors.ts).
      await queue.send(JSON.stringify(job));
      request.log.info({ jobId: job.id, userId: id }, "thumbnail job queued");
      return reply.status(202).send({ jobId: job.id });
    },
  );

  if (files instanceof LocalFileStore) await localUploadRoute(app, files, maxBytes);
}

/** The embedded stand-in for S3's presigned PUT: same checks (signature, type, exact size). */
async function localUploadRoute(
  app: FastifyInstance,
  files: LocalFileStore,
  maxBytes: number,
): Promise<void> {
  app.addContentTypeParser(
    [...IMAGE_TYPES],
    { parseAs: "buffer", bodyLimit: maxBytes },
    (_request, body, done) => done(null, body),
  );

  app.put<{ Params: { "*": string }; Querystring: Record<string, string | undefined> }>(
    "/uploads/*",
    {
      bodyLimit: maxBytes,
      schema: {
        summary:
          "Embedded mode only: receives the bytes of an upload started with POST /users/:id/photo",
        tags: ["photos"],
        consumes: [...IMAGE_TYPES],
        response: { 204: { type: "null" }, ...errors(400, 403, 413, 415) },
      },
    },
    async (request, reply) => {
      const key = request.params["*"];
      const permit = files.verifyUpload(key, request.query);
      if (typeof permit === "string") throw new HttpError(403, "upload_refused", permit);
      const contentType = request.headers["content-type"]?.split(";")[0]?.trim();
      if (contentType !== permit.contentType) {
        throw new HttpError(
          400,
          "invalid_request",
          `content-type must be ${permit.contentType}, as announced`,
          "content-type",
        );
      }
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length !== permit.size) {
        throw new HttpError(
          400,
          "invalid_request",
          `the body must be exactly ${permit.size} bytes, as announced`,
          "size",
        );
      }
      await files.write(key, body, contentType);
      return reply.status(204).send();
    },
  );
}
