/** Health checks, /meta, the OpenAPI document, the page and the public files the app serves itself. */
import { mkdirSync } from "node:fs";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { HEALTH } from "../../../contract";
import type { RouteContext } from "../http/context";
import { HttpError } from "../http/errors";
import { errors, Health, jsonSchema, Meta } from "../http/schemas";
import { publicFilesRateLimit } from "../http/rateLimits";
import {
  isPublicFileKey,
  isPublicFilePath,
  LocalFileStore,
  PUBLIC_FILE_CACHE_CONTROL,
} from "../tiers/files";
import { APP_FILES_PATH, S3FileStore } from "../tiers/s3Files";

export interface Identity {
  region: string;
  instance: string;
}

/** Hashed asset names (app.1a2b3c4d.js) never change content; index.html must stay fresh. */
const HASHED_ASSET = /\.[0-9a-f]{8}\.[a-z0-9]+$/;

const PAGE_NOT_BUILT =
  "<!doctype html><title>zero-to-millions</title><p>The page is not built yet: run <code>npm run build:public</code> (or <code>npm start</code>), then reload.</p>\n";

export async function systemRoutes(
  app: FastifyInstance,
  options: { context: RouteContext; identity: Identity; publicDir: string | undefined },
): Promise<void> {
  const { context, identity, publicDir } = options;
  const { database, cache, queue, files } = context.tiers;

  app.get(
    HEALTH.liveness.path,
    {
      schema: {
        summary: `Liveness: ${HEALTH.liveness.meaning}`,
        tags: ["health"],
        response: { 200: jsonSchema(Health) },
      },
    },
    async () => ({ status: "ok" }),
  );

  app.get(
    HEALTH.readiness.path,
    {
      schema: {
        summary: `Readiness: ${HEALTH.readiness.meaning}`,
        tags: ["health"],
        response: { 200: jsonSchema(Health), 503: jsonSchema(Health) },
      },
    },
    async (request, reply) => {
      const checks: Record<string, string> = {};
      const probes: Promise<void>[] = [
        // The reader, not the writer: a writer outage (or one in the other region) must not take
        // this region's targets out of service or fail its DNS records; reads go on, writes get 503.
        database.reader("SELECT 1").then(
          () => void (checks.database = "ok"),
          (error: unknown) => {
            checks.database = "unavailable";
            request.log.warn({ err: error }, "readiness: database unavailable");
          },
        ),
      ];
      if (cache.kind === "redis") {
        probes.push(
          cache.ping().then(
            () => void (checks.cache = "ok"),
            (error: unknown) => {
              checks.cache = "unavailable";
              request.log.warn({ err: error }, "readiness: cache unavailable");
            },
          ),
        );
      }
      await Promise.all(probes);
      const ready = Object.values(checks).every((check) => check === "ok");
      return reply.status(ready ? 200 : 503).send({ status: ready ? "ok" : "unavailable", checks });
    },
  );

  app.get(
    "/meta",
    {
      schema: {
        summary: "Which region and instance answered, and which tiers it runs",
        tags: ["meta"],
        response: { 200: jsonSchema(Meta) },
      },
    },
    async () => ({
      region: identity.region,
      instance: identity.instance,
      mode: { database: database.kind, cache: cache.kind, queue: queue.kind, files: files.kind },
    }),
  );

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  if (files instanceof LocalFileStore) {
    mkdirSync(files.dir, { recursive: true });
    await app.register(fastifyStatic, {
      root: files.dir,
      prefix: `${APP_FILES_PATH}/`,
      decorateReply: false,
      index: false,
      // Uploaded originals stay private; only the generated thumbnails are public.
      allowedPath: (pathName) => isPublicFilePath(pathName),
      immutable: true,
      maxAge: "365d",
    });
  }
  if (files instanceof S3FileStore) {
    // No CDN in front of the bucket (stages below it): the app serves the thumbnails from S3 at
    // the same path and with the same caching as the local folder's, so the links it hands out
    // never expire (a presigned URL would, in every cached user body), each client rate-limited
    // (each read is an S3 GET). Once the CDN joins, user bodies cached before it still link here
    // until they expire: those get a permanent redirect to the CDN, and S3 is never read.
    app.get<{ Params: { "*": string } }>(
      `${APP_FILES_PATH}/*`,
      {
        schema: {
          summary: "A public file (a thumbnail) from the bucket: the links given out without a CDN",
          tags: ["photos"],
          params: {
            type: "object",
            properties: { "*": { type: "string" } },
            required: ["*"],
          },
          response: errors(404, 429, 503),
        },
        ...(files.servesPublicFiles ? { preHandler: publicFilesRateLimit(app, context) } : {}),
      },
      async (request, reply) => {
        const key = request.params["*"];
        // Uploaded originals stay private, however the path is spelt.
        if (!isPublicFileKey(key)) {
          throw new HttpError(404, "not_found", "There is no such file.");
        }
        if (!files.servesPublicFiles) return reply.redirect(files.publicUrl(key), 301);
        const found = await files.readPublic(key);
        if (found === undefined) {
          throw new HttpError(404, "not_found", "There is no such file.");
        }
        return reply
          .header("cache-control", PUBLIC_FILE_CACHE_CONTROL)
          .type(found.contentType ?? "application/octet-stream")
          .send(found.bytes);
      },
    );
  }

  if (publicDir === undefined) {
    app.get("/", { schema: { hide: true } }, async (_request, reply) =>
      reply.type("text/html; charset=utf-8").send(PAGE_NOT_BUILT),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: publicDir,
    prefix: "/",
    index: "index.html",
    cacheControl: false,
    setHeaders: (response, path) => {
      response.setHeader(
        "cache-control",
        HASHED_ASSET.test(path) ? "public, max-age=31536000, immutable" : "no-cache",
      );
    },
  });
}
