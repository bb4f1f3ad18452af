/** One Redis connection per process, shared by the cache and the session store. */
import { Redis } from "ioredis";
import type { Logger } from "pino";

export interface RedisOptions {
  url: string;
  /** ElastiCache AUTH token; used when the URL carries no password. */
  authToken: string | undefined;
  logger: Logger;
  /** A command unanswered after this fails, so a black-holed Redis cannot hang a request. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/**
 * Connects without waiting for Redis: the app starts (degraded) when Redis is down and picks it up
 * when it comes back. Commands fail at once while disconnected instead of queueing, because every
 * caller has a fallback and a queued command would only make a request wait.
 */
export function connectRedis(options: RedisOptions): Redis {
  const url = new URL(options.url);
  const redis = new Redis(options.url, {
    ...(url.password === "" && options.authToken !== undefined
      ? { password: options.authToken }
      : {}),
    // rediss:// turns TLS on by itself; ElastiCache's certificate verifies with the default CAs.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    lazyConnect: true,
  });
  let lastErrorLoggedAt = 0;
  // ioredis emits an error for every failed reconnect; one line every few seconds says enough.
  redis.on("error", (error: Error) => {
    if (Date.now() - lastErrorLoggedAt < 10_000) return;
    lastErrorLoggedAt = Date.now();
    options.logger.warn({ degraded: "redis", err: error }, "redis connection error");
  });
  redis.connect().catch(() => {
    // Reported by the error listener; retryStrategy keeps trying.
  });
  return redis;
}

/** Waits (bounded) for the connection, so a fresh process does not start degraded for nothing. */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === "ready") return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once("ready", onReady);
  });
}

export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
