/**
 * Invalidation fences: per cache key, the LSN of the latest write that invalidated it, as known in
 * this region. A read-through may cache a row only when it was read from a server that has
 * replayed up to the key's fence; a fence only ever moves forward. Kept in the region's cache
 * store (Redis, shared by the region's tasks) or in process memory when embedded.
 */
import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { laterLsn, parseLsn, type Lsn } from "./lsn";

export interface FenceStore {
  /** Moves the key's fence to `lsn` unless it is already there or further; kept `ttlMs`. */
  raise(key: string, lsn: Lsn, ttlMs: number): Promise<void>;
  get(key: string): Promise<Lsn | undefined>;
}

export function createMemoryFenceStore(maxKeys = 10_000): FenceStore {
  const fences = new LRUCache<string, Lsn>({ max: maxKeys });
  return {
    raise: async (key, lsn, ttlMs) => {
      fences.set(key, laterLsn(fences.get(key), lsn)!, { ttl: ttlMs });
    },
    get: async (key) => fences.get(key),
  };
}

/**
 * Sets the fence to ARGV[1] unless it holds a later LSN, in one step (two regions' messages may
 * arrive together). LSNs compare as (high, low) pairs of hex numbers.
 */
const RAISE_SCRIPT = `
local function parse(lsn)
  local slash = string.find(lsn, "/", 1, true)
  return tonumber(string.sub(lsn, 1, slash - 1), 16), tonumber(string.sub(lsn, slash + 1), 16)
end
local current = redis.call("get", KEYS[1])
if current then
  local ch, cl = parse(current)
  local nh, nl = parse(ARGV[1])
  if ch > nh or (ch == nh and cl >= nl) then
    redis.call("pexpire", KEYS[1], ARGV[2])
    return 0
  end
end
redis.call("set", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1`;

export function createRedisFenceStore(redis: Redis, keyPrefix = "fence:"): FenceStore {
  return {
    raise: async (key, lsn, ttlMs) => {
      await redis.eval(RAISE_SCRIPT, 1, keyPrefix + key, lsn, Math.max(1, Math.round(ttlMs)));
    },
    get: async (key) => parseLsn((await redis.get(keyPrefix + key)) ?? undefined),
  };
}
