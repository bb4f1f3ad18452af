/**
 * The cache tier: a string key-value store with TTLs and short locks. In-process LRU when embedded,
 * Redis (shared by every instance) on the full stack. Callers treat it as optional: see cacheAside.
 */
import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Redis } from "ioredis";
import { redisGuard } from "./redis";

/**
 * Reads one key. `now`, where a cache has it, answers from process memory without a promise
 * (issue 17: a hot read costs no await); its undefined means "not held here, ask get", not
 * "absent". It hangs off `get` itself so that a wrapper replacing `get` (a near cache, a test's
 * faulty cache) drops it too, rather than inheriting a shortcut past its own `get`.
 */
export interface CacheGet {
  (key: string): Promise<string | undefined>;
  readonly now?: (key: string) => string | undefined;
}

export interface Cache {
  readonly kind: "memory" | "redis";
  readonly get: CacheGet;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Takes the lock `key` for `ttlMs` unless someone holds it; the token releases it. */
  tryLock(key: string, ttlMs: number): Promise<string | undefined>;
  unlock(key: string, token: string): Promise<void>;
  /**
   * Adds one to the counter `key`, which starts at 1 and lasts `windowMs` from its first increment
   * (a fixed window); returns the count and the time left in the window.
   */
  increment(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }>;
  /** The counter `key` as `increment` left it, without counting: 0 when absent or expired. */
  count(key: string): Promise<{ count: number; ttlMs: number }>;
  /** Takes one back from the counter `key` (never below 0, window unchanged): a refunded reservation. */
  decrement(key: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createMemoryCache(maxEntries = 10_000): Cache {
  const entries = new LRUCache<string, string>({ max: maxEntries });
  // Expiring entries here, not in the LRU, keeps a lock alive even when the LRU is full.
  const locks = new Map<string, { token: string; expiresAt: number }>();
  const counters = new LRUCache<string, { count: number; expiresAt: number }>({ max: maxEntries });
  return {
    kind: "memory",
    get: Object.assign(async (key: string) => entries.get(key), {
      now: (key: string) => entries.get(key),
    }),
    set: async (key, value, ttlMs) => {
      entries.set(key, value, { ttl: ttlMs });
    },
    delete: async (key) => {
      entries.delete(key);
    },
    tryLock: async (key, ttlMs) => {
      const held = locks.get(key);
      if (held !== undefined && held.expiresAt > Date.now()) return undefined;
      const token = randomUUID();
      locks.set(key, { token, expiresAt: Date.now() + ttlMs });
      return token;
    },
    unlock: async (key, token) => {
      if (locks.get(key)?.token === token) locks.delete(key);
    },
    increment: async (key, windowMs) => {
      const now = Date.now();
      const held = counters.get(key);
      const counter =
        held === undefined || held.expiresAt <= now
          ? { count: 0, expiresAt: now + windowMs }
          : held;
      counter.count += 1;
      counters.set(key, counter);
      return { count: counter.count, ttlMs: counter.expiresAt - now };
    },
    count: async (key) => {
      const now = Date.now();
      const held = counters.get(key);
      return held === undefined || held.expiresAt <= now
        ? { count: 0, ttlMs: 0 }
        : { count: held.count, ttlMs: held.expiresAt - now };
    },
    decrement: async (key) => {
      const held = counters.get(key);
      if (held !== undefined && held.count > 0) held.count -= 1;
    },
    ping: async () => undefined,
    close: async () => {
      entries.clear();
      locks.clear();
      counters.clear();
    },
  };
}

/** Deletes the key only if it still holds our token, so an expired lock is never freed for another. */
const UNLOCK_SCRIPT = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/** INCR, starting the window on the first increment; returns the count and the window's time left. */
const INCREMENT_SCRIPT = `local count = redis.call("incr", KEYS[1])
if count == 1 then redis.call("pexpire", KEYS[1], ARGV[1]) end
local ttl = redis.call("pttl", KEYS[1])
if ttl < 0 then redis.call("pexpire", KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

/** The counter and its window's time left, or {0, 0} when there is none. */
const COUNT_SCRIPT = `local count = redis.call("get", KEYS[1])
if not count then return {0, 0} end
return {tonumber(count), math.max(0, redis.call("pttl", KEYS[1]))}`;

/** DECR of a live counter only: a refund never creates a counter without a window, nor goes below 0. */
const DECREMENT_SCRIPT = `local count = tonumber(redis.call("get", KEYS[1]))
if count and count > 0 then redis.call("decr", KEYS[1]) end
return 0`;

/** Invalidations that failed while Redis was unreachable, kept to retry; bounded by memory. */
const MAX_PENDING_DELETES = 10_000;

/** Every call goes through the connection's circuit breaker (tiers/redis.ts). */
export function createRedisCache(redis: Redis, keyPrefix = "cache:"): Cache {
  const guard = redisGuard(redis);
  // A delete that fails leaves a stale entry behind if Redis kept its data; it is retried as
  // soon as Redis answers again, and the TTL bounds the staleness if even that is lost.
  const pendingDeletes = new Set<string>();
  const retryPendingDeletes = () => {
    if (pendingDeletes.size === 0 || redis.status !== "ready") return;
    const keys = [...pendingDeletes];
    pendingDeletes.clear();
    redis.del(...keys).catch(() => keys.forEach((key) => rememberDelete(key)));
  };
  const rememberDelete = (key: string) => {
    if (pendingDeletes.size < MAX_PENDING_DELETES) pendingDeletes.add(key);
  };
  redis.on("ready", retryPendingDeletes);

  const withRetry = async <T>(operation: () => Promise<T>): Promise<T> => {
    const result = await guard(operation);
    retryPendingDeletes();
    return result;
  };

  return {
    kind: "redis",
    get: async (key) => (await withRetry(() => redis.get(keyPrefix + key))) ?? undefined,
    set: async (key, value, ttlMs) => {
      await withRetry(() =>
        redis.set(keyPrefix + key, value, "PX", Math.max(1, Math.round(ttlMs))),
      );
    },
    delete: async (key) => {
      try {
        await guard(() => redis.del(keyPrefix + key));
      } catch (error) {
        rememberDelete(keyPrefix + key);
        throw error;
      }
    },
    tryLock: async (key, ttlMs) => {
      const token = randomUUID();
      const result = await guard(() =>
        redis.set(`lock:${keyPrefix}${key}`, token, "PX", ttlMs, "NX"),
      );
      return result === "OK" ? token : undefined;
    },
    unlock: async (key, token) => {
      await guard(() => redis.eval(UNLOCK_SCRIPT, 1, `lock:${keyPrefix}${key}`, token));
    },
    increment: async (key, windowMs) => {
      const window = Math.max(1, Math.round(windowMs));
      const [count, ttlMs] = (await guard(() =>
        redis.eval(INCREMENT_SCRIPT, 1, `counter:${keyPrefix}${key}`, window),
      )) as [number, number];
      return { count, ttlMs };
    },
    count: async (key) => {
      const [count, ttlMs] = (await guard(() =>
        redis.eval(COUNT_SCRIPT, 1, `counter:${keyPrefix}${key}`),
      )) as [number, number];
      return { count, ttlMs };
    },
    decrement: async (key) => {
      await guard(() => redis.eval(DECREMENT_SCRIPT, 1, `counter:${keyPrefix}${key}`));
    },
    // Not through the breaker: readiness must see Redis itself, not the breaker's opinion of it.
    ping: async () => {
      await redis.ping();
    },
    // The connection is shared with the session store and closed by its owner (tiers/index.ts).
    close: async () => undefined,
  };
}
