/**
 * Cache-aside reads over the cache tier:
 * - TTL with jitter, so entries written together do not all expire (and reload) together;
 * - delete on write, plus a second delete a little later: a read that raced the write could have
 *   put back the old row it had just read from a lagging replica;
 * - with the write's LSN, exact instead: the key is fenced at that LSN (in every region, through the
 *   invalidation queues), a loader tells whether its row was read past the fence (else it is served
 *   but not cached), and a store that an invalidation overtook is deleted again;
 * - stampede protection for a hot key: one load per key per process (single flight), and across
 *   processes a short lock in the cache so one instance loads while the others wait for its result;
 * - negative caching: "there is no such key" is cached too, briefly, so a miss for a missing row
 *   does not make every other instance wait out the lock and then ask the database again;
 * - degradation: any cache error is logged (`degraded: cache`) and the read goes to the database;
 * - one parse per cached value: a hot key's entry is the same string read after read (near cache,
 *   in-process cache), so its parsed value is kept, frozen, and handed to every reader of that
 *   string; callers may key per-value work (a serialized body) on its identity (issue 17).
 */
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import { DegradedReporter } from "./degraded";
import type { FenceStore } from "./replication/fences";
import {
  DEFAULT_INVALIDATION_TIMING,
  type InvalidationPublisher,
} from "./replication/invalidation";
import type { Lsn } from "./replication/lsn";
import type { Cache } from "./tiers/cache";

export type CacheOutcome = "hit" | "miss";

export interface CacheAsideOptions {
  ttlMs?: number;
  /** Up to this fraction of the TTL is added at random. */
  jitterRatio?: number;
  /** How long one loader holds the lock; it expires by itself if that loader dies. */
  lockTtlMs?: number;
  /** How long a request waits for another instance's load before loading itself. */
  lockWaitMs?: number;
  lockPollMs?: number;
  /**
   * How long "not found" is cached. Short: a write invalidates the key anyway, this only bounds
   * how long a missing row costs nothing.
   * @default 5000
   */
  negativeTtlMs?: number;
  /** When the second delete after a write runs; about the replication lag. */
  secondDeleteAfterMs?: number;
  random?: () => number;
  /**
   * Most keys whose parsed value is kept (see the module comment); the least recently read go first.
   * @default 1000
   */
  parsedEntries?: number;
  /** Invalidation fences of this region (replication/fences.ts); without them, no fence applies. */
  fences?: FenceStore;
  /** Sends each write's invalidation to every region's queue; without it, this region only. */
  publisher?: InvalidationPublisher;
}

/** What a loader returns when its value may be served but not cached (read behind the fence). */
export class Uncached<T> {
  constructor(readonly value: T | undefined) {}
}

/** Loads a key's value, given the key's fence (the LSN the source must have replayed to cache). */
export type Loader<T> = (fence: Lsn | undefined) => Promise<T | undefined | Uncached<T>>;

export interface CachedRead<T> {
  value: T | undefined;
  cache: CacheOutcome;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the cache holds for "loaded, and there is nothing": JSON null, never a stored value. */
const ABSENT = "null";

/** Freezes a parsed JSON value all the way down: it is shared by every reader of its string. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export class CacheAside {
  private readonly inFlight = new Map<string, Promise<CachedRead<unknown>>>();
  /** The last string read per key and its parsed value. */
  private readonly parsed: LRUCache<string, { raw: string; value: unknown }>;
  private readonly pendingSecondDeletes = new Set<NodeJS.Timeout>();
  private readonly degraded: DegradedReporter;
  private readonly ttlMs: number;
  private readonly jitterRatio: number;
  private readonly lockTtlMs: number;
  private readonly lockWaitMs: number;
  private readonly lockPollMs: number;
  private readonly negativeTtlMs: number;
  private readonly secondDeleteAfterMs: number;
  private readonly random: () => number;
  private readonly fences: FenceStore | undefined;
  private readonly publisher: InvalidationPublisher | undefined;

  constructor(
    private readonly cache: Cache,
    logger: Logger,
    options: CacheAsideOptions = {},
  ) {
    this.degraded = new DegradedReporter(logger, "cache");
    this.ttlMs = options.ttlMs ?? 60_000;
    this.jitterRatio = options.jitterRatio ?? 0.2;
    this.lockTtlMs = options.lockTtlMs ?? 3_000;
    this.lockWaitMs = options.lockWaitMs ?? 1_000;
    this.lockPollMs = options.lockPollMs ?? 25;
    this.negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.secondDeleteAfterMs = options.secondDeleteAfterMs ?? 3_000;
    this.random = options.random ?? Math.random;
    this.fences = options.fences;
    this.publisher = options.publisher;
    this.parsed = new LRUCache({ max: options.parsedEntries ?? 1_000 });
  }

  /** The TTL for one entry: the base plus up to `jitterRatio` of it. */
  ttlWithJitter(): number {
    return Math.round(this.ttlMs * (1 + this.random() * this.jitterRatio));
  }

  /** Reads `key` from the cache, or loads it (once, however many ask at the same time) and stores it. */
  async read<T>(key: string, load: Loader<T>): Promise<CachedRead<T>> {
    const cached = await this.get<T>(key);
    if (cached !== undefined) return { value: cached ?? undefined, cache: "hit" };

    // Requests that join a load in progress share its result, outcome included.
    const running = this.inFlight.get(key) as Promise<CachedRead<T>> | undefined;
    if (running !== undefined) return running;

    const loading = this.loadUnderLock(key, load);
    this.inFlight.set(key, loading);
    try {
      return await loading;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /**
   * The key's entry when process memory holds it (near cache, in-process cache), without a
   * promise: what `read` would answer as a hit, synchronously (issue 17). Undefined when the
   * entry is not held in memory: then `read` asks the cache tier, and loads on a miss.
   */
  peek<T>(key: string): CachedRead<T> | undefined {
    const raw = this.cache.get.now?.(key);
    if (raw === undefined) return undefined;
    return { value: this.parse<T>(key, raw) ?? undefined, cache: "hit" };
  }

  /** Stores a value just read from the writer (fresher than anything a reader could have). */
  async store<T>(key: string, value: T): Promise<void> {
    await this.attempt(() => this.cache.set(key, JSON.stringify(value), this.ttlWithJitter()));
  }

  /** The key's fence in this region: the LSN a source must have replayed for its row to be cached. */
  async fence(key: string): Promise<Lsn | undefined> {
    const fences = this.fences;
    return fences === undefined ? undefined : this.attempt(() => fences.get(key));
  }

  /**
   * Deletes `key` now and once more after the replication lag has passed. Given the write's LSN
   * (on physical shard `shard`, whose writer took the write), also fences the key here and sends
   * the invalidation to every region (this one included), whose consumers delete it once their
   * replicas of that shard have replayed the write.
   */
  async invalidate(key: string, lsn?: Lsn, shard = 0): Promise<void> {
    await this.attempt(() => this.cache.delete(key));
    const fences = this.fences;
    if (lsn !== undefined && fences !== undefined) {
      await this.attempt(() => fences.raise(key, lsn, DEFAULT_INVALIDATION_TIMING.fenceTtlMs));
    }
    if (lsn !== undefined) this.publisher?.publish(key, lsn, shard);
    const timer = setTimeout(() => {
      this.pendingSecondDeletes.delete(timer);
      void this.attempt(() => this.cache.delete(key));
    }, this.secondDeleteAfterMs);
    timer.unref();
    this.pendingSecondDeletes.add(timer);
  }

  close(): void {
    for (const timer of this.pendingSecondDeletes) clearTimeout(timer);
    this.pendingSecondDeletes.clear();
    this.parsed.clear();
  }

  private async loadUnderLock<T>(key: string, load: Loader<T>): Promise<CachedRead<T>> {
    const token = await this.attempt(() => this.cache.tryLock(key, this.lockTtlMs));
    if (token === undefined && !this.degraded.isDegraded) {
      // Another instance is loading this key: its result lands in the cache shortly.
      const deadline = Date.now() + this.lockWaitMs;
      while (Date.now() < deadline) {
        await sleep(this.lockPollMs);
        const cached = await this.get<T>(key);
        if (cached !== undefined) return { value: cached ?? undefined, cache: "hit" };
        if (this.degraded.isDegraded) break;
      }
    }
    try {
      const fence = await this.fence(key);
      const loaded = await load(fence);
      if (loaded instanceof Uncached) return { value: loaded.value, cache: "miss" };
      // A row is stored; "not found" is stored briefly too (negative caching).
      if (loaded !== undefined) await this.store(key, loaded);
      else await this.attempt(() => this.cache.set(key, ABSENT, this.negativeTtlMs));
      // An invalidation that fenced the key while we loaded may have deleted before our store:
      // whatever we stored may predate it, so it goes (the next read loads behind the new fence).
      if ((await this.fence(key)) !== fence) await this.attempt(() => this.cache.delete(key));
      return { value: loaded, cache: "miss" };
    } finally {
      if (token !== undefined) await this.attempt(() => this.cache.unlock(key, token));
    }
  }

  /** The cached value, null for a cached "not found", undefined when the cache has nothing. */
  private async get<T>(key: string): Promise<T | null | undefined> {
    const raw = await this.attempt(() => this.cache.get(key));
    return raw === undefined ? undefined : this.parse<T>(key, raw);
  }

  /** The value of the entry `raw` read at `key`: parsed once per string, frozen, shared. */
  private parse<T>(key: string, raw: string): T | null {
    const last = this.parsed.get(key);
    // The same string (usually the very same instance) parses to the same value.
    if (last?.raw === raw) return last.value as T | null;
    const value = deepFreeze(JSON.parse(raw) as T | null);
    this.parsed.set(key, { raw, value });
    return value;
  }

  /** Runs one cache operation; on failure logs the degradation and returns undefined. */
  private async attempt<T>(operation: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await operation();
      this.degraded.succeeded();
      return result;
    } catch (error) {
      this.degraded.failed(error, "cache unavailable; serving from the database");
      return undefined;
    }
  }
}
