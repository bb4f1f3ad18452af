/** One Redis connection per process, shared by the cache and the session store. */
import { Redis } from "ioredis";
import CircuitBreaker from "opossum";
import type { Logger } from "pino";
import type { RedisTokenSource } from "./redisIamAuth";

export interface RedisOptions {
  url: string;
  /** A password for a self-hosted Redis; used when the URL carries none and `tokens` is unset. */
  authToken: string | undefined;
  /**
   * Short-lived sign-in tokens (ElastiCache IAM authentication): the first is signed before
   * connecting; each renewal becomes the password of the next reconnect and re-authenticates the
   * live connection, so neither a reconnect nor ElastiCache's 12-hour limit finds it expired.
   */
  tokens?: RedisTokenSource;
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
    ...(url.password === "" && options.tokens === undefined && options.authToken !== undefined
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
  const ready = options.tokens ? renewTokens(redis, options.tokens, options.logger) : undefined;
  void (ready ?? Promise.resolve()).then(() =>
    redis.connect().catch(() => {
      // Reported by the error listener; retryStrategy keeps trying.
    }),
  );
  return redis;
}

/**
 * Signs a token now and every `refreshEveryMs` until the connection ends. A failed signing is
 * logged and tried again at the next tick; the token in use stays valid meanwhile.
 * @returns when the first attempt is over, so the first connection signs in with it.
 */
function renewTokens(redis: Redis, tokens: RedisTokenSource, logger: Logger): Promise<void> {
  redis.options.username = tokens.username;
  const renew = async () => {
    let token: string;
    try {
      token = await tokens.token();
    } catch (error) {
      logger.warn({ degraded: "redis", err: error }, "could not renew the redis sign-in token");
      return;
    }
    redis.options.password = token;
    if (redis.status !== "ready") return;
    try {
      await redis.auth(tokens.username, token);
    } catch (error) {
      // A connection that dropped meanwhile signs in with the new token when it reconnects.
      logger.warn(
        { degraded: "redis", err: error },
        "could not re-authenticate the redis connection",
      );
    }
  };
  // One renewal at a time: a slow signing is not overtaken by the next tick.
  let renewing: Promise<void> | undefined;
  const tick = () => {
    renewing ??= renew().finally(() => (renewing = undefined));
    return renewing;
  };
  const timer = setInterval(() => void tick(), tokens.refreshEveryMs);
  // A timer alone never keeps the process up; closeRedis ends the connection and the timer.
  timer.unref();
  redis.once("end", () => clearInterval(timer));
  return tick();
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

export interface RedisBreakerOptions {
  /**
   * Share of failed calls in the rolling window that opens the breaker.
   * @default 50
   */
  errorThresholdPercentage?: number;
  /**
   * Calls in the window before the share counts, so one early failure does not open it.
   * @default 5
   */
  volumeThreshold?: number;
  /**
   * How long the breaker stays open before one trial call may go through (half-open).
   * @default 5000
   */
  resetTimeoutMs?: number;
}

/** Thrown instead of calling Redis while the breaker is open. */
export class RedisCircuitOpenError extends Error {
  constructor() {
    super("redis circuit breaker is open: not calling a Redis that keeps failing");
    this.name = "RedisCircuitOpenError";
  }
}

export type RedisGuard = <T>(operation: () => Promise<T>) => Promise<T>;

const guards = new WeakMap<Redis, RedisGuard>();

/**
 * The circuit breaker around one connection, shared by everything that uses it (cache, sessions,
 * rate limits). A Redis that hangs fails each command only after commandTimeout; without the
 * breaker every request would wait that long. Once enough calls fail, calls fail at once for
 * `resetTimeoutMs`, then one trial call decides whether Redis is back.
 */
export function redisGuard(redis: Redis, options: RedisBreakerOptions = {}): RedisGuard {
  const existing = guards.get(redis);
  if (existing !== undefined) return existing;
  const breaker = new CircuitBreaker((operation: () => Promise<unknown>) => operation(), {
    // ioredis's commandTimeout already bounds each call.
    timeout: false,
    errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
    volumeThreshold: options.volumeThreshold ?? 5,
    resetTimeout: options.resetTimeoutMs ?? 5_000,
    rollingCountTimeout: 10_000,
  });
  const guard: RedisGuard = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return (await breaker.fire(operation)) as T;
    } catch (error) {
      if (breaker.opened && (error as { code?: unknown }).code === "EOPENBREAKER") {
        throw new RedisCircuitOpenError();
      }
      throw error;
    }
  };
  guards.set(redis, guard);
  return guard;
}
