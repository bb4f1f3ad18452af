/** Builds every tier from the validated environment: embedded defaults or full-stack services. */
import type { Logger } from "pino";
import type { Config, PhysicalShardTarget, QueueRef, SecretRef } from "../config";
import {
  createMemoryFenceStore,
  createRedisFenceStore,
  type FenceStore,
} from "../replication/fences";
import { InvalidationPublisher } from "../replication/invalidation";
import { createMemoryCache, createRedisCache, type Cache } from "./cache";
import type { Database } from "./database";
import { RotatingPassword } from "./databasePassword";
import { DynamoSessionStore } from "./dynamoSessions";
import { LocalFileStore, type FileStore } from "./files";
import { iamTokenPassword } from "./iamAuth";
import { openPGlite } from "./pglite";
import { createNearCache, redisInvalidationBus } from "./nearCache";
import { openPostgres } from "./postgres";
import { MemoryJobQueue, type JobQueue } from "./queue";
import { closeRedis, connectRedis, waitForRedis } from "./redis";
import { elastiCacheTokenSource } from "./redisIamAuth";
import { S3FileStore } from "./s3Files";
import { secretsManagerPassword } from "./secretsManager";
import { createMemorySessionStore, createRedisSessionStore, type SessionStore } from "./sessions";
import { SqsJobQueue } from "./sqsQueue";
import { Shards } from "../sharding/router";

/** Cross-region cache invalidation: this region's queue, and the sender to every region's. */
export interface InvalidationTier {
  inbox: JobQueue;
  publisher: InvalidationPublisher;
}

export interface Tiers {
  /** Physical shard 0: the directory (emails, live shard map); user data goes through `shards`. */
  database: Database;
  /** Every physical shard and the map that routes a user id to one. */
  shards: Shards;
  cache: Cache;
  sessions: SessionStore;
  queue: JobQueue;
  files: FileStore;
  /** The region's invalidation fences, next to its cache; in process memory when unset. */
  fences?: FenceStore;
  /** Unset: invalidations stay in this region (one region, or embedded). */
  invalidations?: InvalidationTier;
  /** Closes every tier, the database last (the others may still be finishing work that uses it). */
  close(): Promise<void>;
}

/** `shards` defaults to one physical shard: `database`. */
export type TierParts = Omit<Tiers, "close" | "shards"> & { shards?: Shards };

/** Tiers whose close() closes each part, then whatever `alsoClose` holds (shared connections). */
export function assembleTiers(parts: TierParts, alsoClose: (() => Promise<void>)[] = []): Tiers {
  const shards = parts.shards ?? new Shards({ physical: [parts.database] });
  if (shards.directory !== parts.database) {
    throw new Error("tiers: physical shard 0 of `shards` must be `database` (the directory)");
  }
  return {
    ...parts,
    shards,
    close: async () => {
      await parts.queue.close();
      await parts.invalidations?.inbox.close();
      await parts.invalidations?.publisher.close();
      await parts.files.close();
      await parts.cache.close();
      await parts.sessions.close?.();
      for (const close of alsoClose) await close();
      await shards.close();
      await parts.database.close();
    },
  };
}

/**
 * The rotating master password when DATABASE_SECRET_ARN is set, read once now. If that read fails
 * the pools start on DATABASE_PASSWORD (logged), and the first refused connection reads again.
 */
export async function loadDatabasePassword(
  config: Config,
  logger: Logger,
): Promise<RotatingPassword | undefined> {
  if (config.database.kind !== "postgres" || config.database.passwordSecret === undefined) {
    return undefined;
  }
  return loadRotatingPassword(config.database.passwordSecret, config, logger);
}

/** A master secret's password, read once now and again after a rotation. */
export async function loadRotatingPassword(
  secret: SecretRef,
  config: Config,
  logger: Logger,
): Promise<RotatingPassword> {
  const password = new RotatingPassword({
    source: secretsManagerPassword({ secret, endpoint: config.aws.endpoint }),
    logger,
  });
  await password.load();
  return password;
}

/**
 * Every physical shard, 0 (the directory) first: PGlite (one embedded shard), or PostgreSQL
 * authenticated by password (DATABASE_PASSWORD, DATABASE_SECRET_ARN) or by an IAM token per
 * connection (DATABASE_AUTH=iam), the same way on every shard. The migrate command opens the
 * writers alone (`readers: false`).
 */
export async function openShardDatabases(
  config: Config,
  logger: Logger,
  options: { readers: boolean } = { readers: true },
): Promise<[Database, ...Database[]]> {
  if (config.database.kind === "pglite") return [await openPGlite(config.database.dataDir)];
  const { database } = config;
  const iam = database.auth === "iam";
  // Each shard's writer has its own master secret (DATABASE_SHARDS' secretArn); without one, a
  // shard shares shard 0's password.
  const password = iam ? undefined : await loadDatabasePassword(config, logger);
  const open = async (target: PhysicalShardTarget) =>
    openPostgres({
      writer: target.writer,
      readers: options.readers ? target.readers : [],
      logger,
      ...(iam
        ? {
            passwordFor: (server) =>
              iamTokenPassword(server, { fallbackRegion: config.aws.region }),
          }
        : {
            password:
              target.passwordSecret === undefined
                ? password
                : await loadRotatingPassword(target.passwordSecret, config, logger),
          }),
    });
  // Shard 0's own secret (DATABASE_SECRET_ARN) is `password`, already read.
  const shard0 = { writer: database.writer, readers: database.readers };
  return [await open(shard0), ...(await Promise.all(database.shards.map(open)))];
}

/** An SQS queue in its own region (the other region's invalidation queue is in that region). */
function sqsQueueFor(queue: QueueRef, config: Config): SqsJobQueue {
  return new SqsJobQueue({
    queueUrl: queue.url,
    region: queue.region,
    endpoint: config.aws.endpoint,
  });
}

export async function createTiers(config: Config, logger: Logger): Promise<Tiers> {
  const physical = await openShardDatabases(config, logger);
  const database = physical[0];
  const shards = new Shards({
    physical,
    seedMap: config.shardMap,
    logger,
  });

  const redis =
    config.redis === undefined
      ? undefined
      : connectRedis({
          url: config.redis.url,
          authToken: config.redis.authToken,
          ...(config.redis.iam ? { tokens: elastiCacheTokenSource(config.redis.iam) } : {}),
          logger,
        });
  if (redis !== undefined && !(await waitForRedis(redis, 5_000))) {
    logger.warn({ degraded: "cache" }, "redis is not reachable yet; starting degraded");
  }

  const queue: JobQueue =
    config.queueUrl === undefined
      ? new MemoryJobQueue()
      : new SqsJobQueue({
          queueUrl: config.queueUrl,
          region: config.aws.region,
          endpoint: config.aws.endpoint,
        });

  const files: FileStore =
    config.files.kind === "local"
      ? new LocalFileStore({ dir: config.files.dir })
      : new S3FileStore({
          bucket: config.files.bucket,
          cdnDomain: config.files.cdnDomain,
          region: config.files.region,
          endpoint: config.aws.endpoint,
        });

  const sessions: SessionStore =
    config.sessionsTable !== undefined && config.aws.region !== undefined
      ? new DynamoSessionStore({
          table: config.sessionsTable,
          region: config.aws.region,
          endpoint: config.aws.endpoint,
        })
      : redis === undefined
        ? createMemorySessionStore()
        : createRedisSessionStore(redis);

  if (config.database.kind === "postgres" && sessions.kind === "memory") {
    // Sessions in process memory work for one instance only; behind a load balancer a user would
    // be signed in on one task and not on the next.
    logger.warn(
      "DATABASE_URL is set but neither SESSIONS_TABLE nor REDIS_URL: sessions stay in this process's memory",
    );
  }

  const invalidations: InvalidationTier | undefined =
    config.invalidation === undefined
      ? undefined
      : {
          inbox: sqsQueueFor(config.invalidation.queue, config),
          publisher: new InvalidationPublisher({
            queues: config.invalidation.publishTo.map((queue) => sqsQueueFor(queue, config)),
            origin: config.region,
            logger,
          }),
        };

  return assembleTiers(
    {
      database,
      shards,
      // Hot keys are read from process memory; pub/sub keeps every instance's copies coherent.
      cache:
        redis === undefined
          ? createMemoryCache()
          : createNearCache(createRedisCache(redis), redisInvalidationBus(redis)),
      sessions,
      queue,
      files,
      fences: redis === undefined ? createMemoryFenceStore() : createRedisFenceStore(redis),
      ...(invalidations === undefined ? {} : { invalidations }),
    },
    redis === undefined ? [] : [() => closeRedis(redis)],
  );
}
