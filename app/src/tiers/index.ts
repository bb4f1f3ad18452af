/** Builds every tier from the validated environment: embedded defaults or full-stack services. */
import type { Logger } from "pino";
import type { Config } from "../config";
import { createMemoryCache, createRedisCache, type Cache } from "./cache";
import type { Database } from "./database";
import { RotatingPassword } from "./databasePassword";
import { LocalFileStore, type FileStore } from "./files";
import { openPGlite } from "./pglite";
import { openPostgres } from "./postgres";
import { MemoryJobQueue, type JobQueue } from "./queue";
import { closeRedis, connectRedis, waitForRedis } from "./redis";
import { S3FileStore } from "./s3Files";
import { secretsManagerPassword } from "./secretsManager";
import { createMemorySessionStore, createRedisSessionStore, type SessionStore } from "./sessions";
import { SqsJobQueue } from "./sqsQueue";
import { Shards } from "../sharding/router";

export interface Tiers {
  /** Physical shard 0: the directory (emails, live shard map); user data goes through `shards`. */
  database: Database;
  /** Every physical shard and the map that routes a user id to one. */
  shards: Shards;
  cache: Cache;
  sessions: SessionStore;
  queue: JobQueue;
  files: FileStore;
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
      await parts.files.close();
      await parts.cache.close();
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
  const password = new RotatingPassword({
    source: secretsManagerPassword({
      secret: config.database.passwordSecret,
      endpoint: config.aws.endpoint,
    }),
    logger,
  });
  await password.load();
  return password;
}

export async function createTiers(config: Config, logger: Logger): Promise<Tiers> {
  const password = await loadDatabasePassword(config, logger);
  const database =
    config.database.kind === "pglite"
      ? await openPGlite(config.database.dataDir)
      : openPostgres({
          writer: config.database.writer,
          readers: config.database.readers,
          logger,
          password,
        });
  // Further physical shards share the master password (one secret for now: see README, Sharding).
  const moreShards =
    config.database.kind === "pglite"
      ? []
      : config.database.shards.map((shard) => openPostgres({ ...shard, logger, password }));
  const shards = new Shards({
    physical: [database, ...moreShards],
    seedMap: config.shardMap,
    logger,
  });

  const redis =
    config.redis === undefined
      ? undefined
      : connectRedis({ url: config.redis.url, authToken: config.redis.authToken, logger });
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
          region: config.aws.region,
          endpoint: config.aws.endpoint,
        });

  if (config.database.kind === "postgres" && redis === undefined) {
    // Sessions in process memory work for one instance only; behind a load balancer a user would
    // be signed in on one task and not on the next.
    logger.warn("DATABASE_URL is set but REDIS_URL is not: sessions stay in this process's memory");
  }

  return assembleTiers(
    {
      database,
      shards,
      cache: redis === undefined ? createMemoryCache() : createRedisCache(redis),
      sessions: redis === undefined ? createMemorySessionStore() : createRedisSessionStore(redis),
      queue,
      files,
    },
    redis === undefined ? [] : [() => closeRedis(redis)],
  );
}
