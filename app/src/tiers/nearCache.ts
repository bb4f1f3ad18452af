/**
 * The near cache: a small in-process LRU in front of the shared cache (Redis) for the hot keys, so
 * a hot read costs no network round trip (issue 17). It stays coherent across instances through an
 * invalidation bus (Redis pub/sub): every set and delete publishes its key, and every instance drops
 * its copy when the message arrives.
 *
 * Staleness after a write on another instance is bounded twice:
 * - while subscribed, by the bus's delivery time (a pub/sub message, milliseconds);
 * - if a message were ever lost, by `ttlMs`: no copy is served longer than that.
 * While the bus is not subscribed (connecting, reconnecting) the near cache is emptied and bypassed,
 * so a message missed during a disconnect cannot leave a stale copy behind. The writing instance
 * drops its own copy before its write returns, so read-your-writes holds there without the bus.
 *
 * Only get/set/delete pass through the near cache; locks and counters go to the shared cache.
 */
import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import type { Cache } from "./cache";
import { closeRedis, redisGuard } from "./redis";

/** Tells every instance which keys changed. */
export interface InvalidationBus {
  /** True while this instance receives every message published on the bus. */
  readonly listening: boolean;
  publish(key: string): Promise<void>;
  /**
   * `listener(key)` per message; `listener(undefined)` when messages may have been missed (the
   * subscription dropped or was just made), which drops every copy.
   */
  onInvalidate(listener: (key: string | undefined) => void): void;
  close(): Promise<void>;
}

export interface NearCacheOptions {
  /**
   * Most keys held in process; the least recently read go first. Hot keys are few: the long tail
   * stays in the shared cache only.
   * @default 1000
   */
  maxEntries?: number;
  /**
   * Longest a copy is served, the staleness bound should an invalidation be lost.
   * @default 1000
   */
  ttlMs?: number;
}

export const NEAR_CACHE_DEFAULTS: Required<NearCacheOptions> = {
  maxEntries: 1_000,
  ttlMs: 1_000,
};

/** The shared cache with a near cache in front of it (see the module comment). */
export function createNearCache(
  shared: Cache,
  bus: InvalidationBus,
  options: NearCacheOptions = {},
): Cache {
  const entries = new LRUCache<string, string>({
    max: options.maxEntries ?? NEAR_CACHE_DEFAULTS.maxEntries,
    ttl: options.ttlMs ?? NEAR_CACHE_DEFAULTS.ttlMs,
  });
  // Reads from the shared cache in flight, per key, with how many invalidations they have seen:
  // a read that an invalidation overtook may carry the old value, which must not be kept.
  const reading = new Map<string, { readers: number; invalidations: number }>();
  // Raised when every copy is dropped, so reads in flight across that are not kept either.
  let epoch = 0;

  const drop = (key: string | undefined) => {
    if (key === undefined) {
      entries.clear();
      epoch += 1;
      return;
    }
    entries.delete(key);
    const read = reading.get(key);
    if (read !== undefined) read.invalidations += 1;
  };
  bus.onInvalidate(drop);

  const get = async (key: string): Promise<string | undefined> => {
    if (!bus.listening) return shared.get(key);
    const copy = entries.get(key);
    if (copy !== undefined) return copy;
    let read = reading.get(key);
    if (read === undefined) {
      read = { readers: 0, invalidations: 0 };
      reading.set(key, read);
    }
    read.readers += 1;
    const seen = read.invalidations;
    const startedIn = epoch;
    try {
      const value = await shared.get(key);
      if (
        value !== undefined &&
        read.invalidations === seen &&
        epoch === startedIn &&
        bus.listening
      ) {
        entries.set(key, value);
      }
      return value;
    } finally {
      read.readers -= 1;
      if (read.readers === 0) reading.delete(key);
    }
  };

  return {
    ...shared,
    // A copy is answered synchronously only while the bus is heard, as `get` answers it.
    get: Object.assign(get, {
      now: (key: string) => (bus.listening ? entries.get(key) : undefined),
    }),
    set: async (key, value, ttlMs) => {
      drop(key);
      await shared.set(key, value, ttlMs);
      await bus.publish(key);
    },
    delete: async (key) => {
      drop(key);
      await shared.delete(key);
      await bus.publish(key);
    },
    close: async () => {
      entries.clear();
      await bus.close();
      await shared.close();
    },
  };
}

/**
 * The bus over Redis pub/sub: one channel per Redis database and key prefix, on a connection of
 * its own (a subscribed connection can do nothing else). Publishing uses the shared connection,
 * through its circuit breaker.
 */
export function redisInvalidationBus(redis: Redis, keyPrefix = "cache:"): InvalidationBus {
  const channel = `${keyPrefix}invalidate:${redis.options.db ?? 0}`;
  const guard = redisGuard(redis);
  const subscriber = redis.duplicate();
  const listeners: ((key: string | undefined) => void)[] = [];
  let listening = false;
  const missedSome = () => {
    listening = false;
    for (const listener of listeners) listener(undefined);
  };

  subscriber.on("message", (from: string, key: string) => {
    if (from !== channel) return;
    for (const listener of listeners) listener(key);
  });
  subscriber.on("ready", () => {
    subscriber.subscribe(channel).then(
      () => {
        // Whatever was published before this point may have been missed.
        missedSome();
        listening = true;
      },
      () => undefined,
    );
  });
  subscriber.on("close", missedSome);
  // Errors are the shared connection's to report (tiers/redis.ts); this one retries alike.
  subscriber.on("error", () => undefined);
  subscriber.connect().catch(() => undefined);

  return {
    get listening() {
      return listening;
    },
    publish: async (key) => {
      await guard(() => redis.publish(channel, key));
    },
    onInvalidate: (listener) => {
      listeners.push(listener);
    },
    close: async () => {
      listening = false;
      await closeRedis(subscriber);
    },
  };
}
