/**
 * buildApp: the Fastify app for one process, from tiers it is handed (tests inject their own).
 * `role` decides what runs: the HTTP routes (`web`), the queue worker (`worker`) or both (`all`).
 * The app owns the tiers: ready() applies the migrations, close() stops taking requests, lets
 * in-flight ones finish, stops the worker after its current job, flushes metrics, closes the tiers.
 */
import { randomBytes } from "node:crypto";
import { maxHeaderSize } from "node:http";
import fastifySwagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { CacheAside, type CacheAsideOptions } from "./cacheAside";
import type { MigrationsMode, Role } from "./config";
import type { RouteContext, WebSettings } from "./http/context";
import { registerErrorHandling } from "./http/errors";
import { DEFAULT_RATE_LIMITS, registerRateLimits, type RateLimitSettings } from "./http/rateLimits";
import {
  registerCookies,
  registerResponseHeaders,
  requestIds,
  trackAllowedMethods,
} from "./http/security";
import { createJobHandler } from "./jobs/handler";
import { lazyRequestLogger } from "./logger";
import { Worker, type WorkerOptions } from "./jobs/worker";
import { Metrics } from "./metrics";
import { createMemoryFenceStore } from "./replication/fences";
import { createInvalidationHandler, type InvalidationTiming } from "./replication/invalidation";
import { migrate, verifySchema } from "./migrations";
import { PasswordHasher, type PasswordHashingOptions } from "./passwords";
import { migrationsDir, publicDistDir } from "./paths";
import { photoRoutes } from "./routes/photos";
import { sessionRoutes } from "./routes/sessions";
import { systemRoutes, type Identity } from "./routes/system";
import { userRoutes } from "./routes/users";
import type { Tiers } from "./tiers";

export interface AppSettings extends WebSettings {
  /** JSON request bodies larger than this get a 413. */
  bodyLimitBytes: number;
  cache: CacheAsideOptions;
  worker: Pick<WorkerOptions, "waitSeconds" | "retryDelaySeconds" | "errorBackoffMs">;
  metricsNamespace: string;
  metricsFlushIntervalMs: number;
  /** The built page; undefined serves a hint to build it. */
  publicDir: string | undefined;
  migrationsDir: string;
  /**
   * The peers allowed to set X-Forwarded-For/-Proto: the load balancer only, as addresses or CIDR
   * ranges (the VPC's, where only the ALB reaches the tasks). None by default (empty): a client's
   * own X-Forwarded-* headers never change its address or the cookies' Secure flag.
   */
  trustedProxies: string[];
  /**
   * Cookie-signing secrets: the first signs, all verify (rotate by putting the new one first).
   * Every instance must share them; undefined makes a random one for this process, which is
   * right for one embedded process and logged as a warning on the full stack.
   */
  cookieSecrets: string[] | undefined;
  passwordHashing: PasswordHashingOptions;
  /**
   * `on-start` applies pending migrations when the app starts (embedded, tests); `verify` only
   * checks, on a reader, that none are pending: the full stack's tasks run as a role without DDL,
   * and the migrate command applies migrations with the master credential beforehand.
   */
  migrations: MigrationsMode;
  /** Cross-region invalidation timings (replication/invalidation.ts has the defaults). */
  invalidation: Partial<InvalidationTiming>;
}

/** What a caller may override: any setting, and any single rate limit. */
export type AppSettingsOverrides = Partial<Omit<AppSettings, "rateLimits">> & {
  rateLimits?: Partial<RateLimitSettings>;
};

export interface AppOptions {
  tiers: Tiers;
  logger: Logger;
  role?: Role;
  identity: Identity;
  settings?: AppSettingsOverrides;
  /** Where EMF lines go (stdout by default). */
  writeMetrics?: (line: string) => void;
}

/** What tests and main.ts may reach on a built app. */
export interface Services {
  tiers: Tiers;
  cache: CacheAside;
  metrics: { web: Metrics; worker: Metrics };
  worker: Worker | undefined;
  settings: AppSettings;
}

declare module "fastify" {
  interface FastifyInstance {
    services: Services;
  }
}

export function defaultSettings(): AppSettings {
  return {
    readYourWritesMs: 5_000,
    sessionTtlMs: 7 * 24 * 60 * 60 * 1000,
    maxUploadBytes: 5 * 1024 * 1024,
    bodyLimitBytes: 16 * 1024,
    rateLimits: DEFAULT_RATE_LIMITS,
    trustedProxies: [],
    cookieSecrets: undefined,
    passwordHashing: {},
    cache: {},
    worker: {},
    metricsNamespace: "ZeroToMillions",
    metricsFlushIntervalMs: 60_000,
    publicDir: publicDistDir(),
    migrationsDir: migrationsDir(),
    migrations: "on-start",
    invalidation: {},
  };
}

/** Paths that are polled by machines, kept out of the latency metric. */
const HEALTH_PATHS = new Set(["/healthz", "/readyz"]);

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const role = options.role ?? "all";
  const defaults = defaultSettings();
  const settings: AppSettings = {
    ...defaults,
    ...options.settings,
    rateLimits: { ...defaults.rateLimits, ...options.settings?.rateLimits },
  };
  const { tiers, logger, identity } = options;

  const fastifyLogger: FastifyBaseLogger = logger;
  if (settings.cookieSecrets?.length === 0) {
    throw new Error("cookieSecrets: give at least one secret to sign cookies with");
  }
  const cookieSecrets = settings.cookieSecrets ?? [randomBytes(32).toString("base64url")];
  const app = Fastify({
    loggerInstance: fastifyLogger,
    childLoggerFactory: lazyRequestLogger,
    // Protocol (for Secure cookies) and client address come from X-Forwarded-* only when the
    // peer is a trusted proxy (the load balancer); see AppSettings.trustedProxies.
    trustProxy: settings.trustedProxies.length === 0 ? false : settings.trustedProxies,
    bodyLimit: settings.bodyLimitBytes,
    // Any path parameter Node's parser lets through reaches the route's schema and gets its 400
    // naming the parameter, instead of the router's undocumented 414 past 100 characters.
    routerOptions: { maxParamLength: maxHeaderSize },
    requestIdHeader: false,
    genReqId: requestIds(),
    ajv: {
      // "wrong types" are errors, not something to coerce; unknown fields are refused, not dropped.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
  });

  const metricsFor = (service: "web" | "worker") =>
    new Metrics({
      namespace: settings.metricsNamespace,
      service,
      flushIntervalMs: settings.metricsFlushIntervalMs,
      ...(options.writeMetrics === undefined ? {} : { write: options.writeMetrics }),
    });
  const metrics = { web: metricsFor("web"), worker: metricsFor("worker") };
  tiers.invalidations?.publisher.countFailuresIn(role === "worker" ? metrics.worker : metrics.web);
  const fences = tiers.fences ?? createMemoryFenceStore();
  const cache = new CacheAside(tiers.cache, logger, {
    secondDeleteAfterMs: settings.readYourWritesMs,
    fences,
    ...(tiers.invalidations === undefined ? {} : { publisher: tiers.invalidations.publisher }),
    ...settings.cache,
  });

  // The web tasks hold the region's cache in use, so they apply its invalidations.
  const invalidationLogger = logger.child({ service: "invalidations" });
  const invalidations =
    role === "worker" || tiers.invalidations === undefined
      ? undefined
      : new Worker({
          queue: tiers.invalidations.inbox,
          handle: createInvalidationHandler({
            shards: tiers.shards.physical,
            cache: tiers.cache,
            fences,
            logger: invalidationLogger,
            metrics: metrics.web,
            timing: settings.invalidation,
          }),
          logger: invalidationLogger,
          metrics: metrics.web,
          ...settings.worker,
        });

  const workerLogger = logger.child({ service: "worker" });
  const worker =
    role === "web"
      ? undefined
      : new Worker({
          queue: tiers.queue,
          handle: createJobHandler({
            shards: tiers.shards,
            files: tiers.files,
            cache,
            logger: workerLogger,
            maxUploadBytes: settings.maxUploadBytes,
          }),
          logger: workerLogger,
          metrics: metrics.worker,
          ...settings.worker,
        });

  app.decorate("services", { tiers, cache, metrics, worker, settings });

  // Lifecycle. onReady hooks run in order; the single onClose hook runs after the server has
  // stopped accepting connections and the in-flight requests have finished.
  app.addHook("onReady", async () => {
    // Every physical shard has the same schema: migrated (or checked) one after the other.
    for (const [physicalShard, database] of tiers.shards.physical.entries()) {
      if (settings.migrations === "on-start") {
        const applied = await migrate(database, settings.migrationsDir, logger);
        logger.info({ applied, physicalShard }, "database schema up to date");
      } else {
        await verifySchema(database, settings.migrationsDir);
        logger.info({ physicalShard }, "database schema verified: no migration pending");
      }
    }
    await tiers.shards.start();
    logger.info({ shardMap: tiers.shards.describe() }, "shard map loaded");
    if (role !== "worker") metrics.web.start();
    invalidations?.start();
    if (worker !== undefined) {
      metrics.worker.start();
      worker.start();
    }
  });
  app.addHook("onClose", async () => {
    await worker?.stop();
    await invalidations?.stop();
    cache.close();
    // Only the services this process ran report: a worker's zero ActiveUsers would skew averages.
    if (role !== "worker") metrics.web.stop();
    if (worker !== undefined) metrics.worker.stop();
    await tiers.close();
    logger.info("closed");
  });

  if (role === "worker") return app;

  if (settings.cookieSecrets === undefined && tiers.database.kind === "postgres") {
    logger.warn(
      "COOKIE_SECRET is not set: cookies are signed with this process's own secret, so another instance will not honour them (read-your-writes holds per instance only)",
    );
  }

  const allowedMethods = trackAllowedMethods(app);
  registerErrorHandling(app, allowedMethods);
  await registerResponseHeaders(app, await tiers.files.browserOrigins(), {
    "x-served-by-region": identity.region,
    "x-served-by-instance": identity.instance,
  });
  await registerCookies(app, cookieSecrets);
  const refundRateLimit = await registerRateLimits(app, tiers.cache, logger);
  // A callback hook, not an async one: it runs on every request, and an async hook costs a
  // promise and its continuation each time (issue 17).
  app.addHook("onResponse", (request, reply, done) => {
    if (!HEALTH_PATHS.has(request.url)) metrics.web.latency(reply.elapsedTime);
    done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: "zero-to-millions",
        version: "1.0.0",
        description:
          "Users, sessions and profile photos. Errors are {error, message, field}. Responses carry x-served-by-region and x-served-by-instance; GET /users/:id also x-cache (hit|miss). User ids are random UUIDs; a user's email and createdAt are answered only to that user (User), everyone else sees the public view (PublicUser). Sign-in and sign-up are rate limited (429 with Retry-After); a tier outage answers 503 with Retry-After.",
      },
    },
  });

  const context: RouteContext = {
    tiers,
    cache,
    metrics: metrics.web,
    settings,
    passwords: new PasswordHasher(settings.passwordHashing),
    refundRateLimit,
  };
  await app.register(userRoutes, context);
  await app.register(sessionRoutes, context);
  await app.register(photoRoutes, context);
  await app.register(systemRoutes, { context, identity, publicDir: settings.publicDir });
  return app;
}
