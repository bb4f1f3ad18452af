// Unit tests of the near cache (tiers/nearCache.ts) over an in-memory shared cache and bus; the
// cross-instance behaviour against real Redis is in services/redis.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMemoryCache, type Cache } from "../../app/src/tiers/cache";
import { createNearCache, type InvalidationBus } from "../../app/src/tiers/nearCache";

/** A bus within one process: what one instance publishes, every other one hears. */
class LocalBus implements InvalidationBus {
  listening = true;
  readonly published: string[] = [];
  private readonly listeners: ((key: string | undefined) => void)[] = [];
  async publish(key: string): Promise<void> {
    this.published.push(key);
  }
  onInvalidate(listener: (key: string | undefined) => void): void {
    this.listeners.push(listener);
  }
  deliver(key: string | undefined): void {
    for (const listener of this.listeners) listener(key);
  }
  async close(): Promise<void> {}
}

/** The shared cache, counting its reads, with a way to hold the next read until released. */
function sharedCache() {
  const inner = createMemoryCache();
  let reads = 0;
  let hold: Promise<void> | undefined;
  const cache: Cache = {
    ...inner,
    get: async (key) => {
      reads += 1;
      const value = await inner.get(key);
      await hold;
      return value;
    },
  };
  return {
    cache,
    reads: () => reads,
    holdReads(): () => void {
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

/** A near cache over a shared cache that holds `k`. */
async function withKey(value: string) {
  const shared = sharedCache();
  const bus = new LocalBus();
  const near = createNearCache(shared.cache, bus);
  await shared.cache.set("k", value, 60_000);
  return { shared, bus, near };
}

describe("near cache", () => {
  it("GIVEN a key read once THEN the next read is answered in process, without the shared cache", async () => {
    const shared = sharedCache();
    const near = createNearCache(shared.cache, new LocalBus());
    await shared.cache.set("k", "v1", 60_000);
    assert.equal(await near.get("k"), "v1");
    assert.equal(await near.get("k"), "v1");
    assert.equal(shared.reads(), 1);
  });

  it("GIVEN a copy WHEN the bus delivers its key THEN the next read goes to the shared cache", async () => {
    const { shared, bus, near } = await withKey("v1");
    await near.get("k");
    await shared.cache.set("k", "v2", 60_000);
    bus.deliver("k");
    assert.equal(await near.get("k"), "v2");
  });

  it("GIVEN a write through this instance THEN its own copy is gone before the write returns, and the key is published", async () => {
    const shared = sharedCache();
    const bus = new LocalBus();
    const near = createNearCache(shared.cache, bus);
    await near.set("k", "v1", 60_000);
    await near.get("k");
    await near.set("k", "v2", 60_000);
    assert.equal(await near.get("k"), "v2");
    await near.delete("k");
    assert.equal(await near.get("k"), undefined);
    assert.deepEqual(bus.published, ["k", "k", "k"]);
  });

  it("GIVEN a shared read in flight WHEN an invalidation of its key overtakes it THEN its (possibly old) value is not kept", async () => {
    const shared = sharedCache();
    const bus = new LocalBus();
    const near = createNearCache(shared.cache, bus);
    await shared.cache.set("k", "old", 60_000);
    const release = shared.holdReads();
    const reading = near.get("k");
    await shared.cache.set("k", "new", 60_000);
    bus.deliver("k");
    release();
    assert.equal(await reading, "old", "the read itself answers what it got");
    assert.equal(await near.get("k"), "new", "but its value was not kept");
    assert.equal(shared.reads(), 2);
  });

  it("GIVEN the bus not listening (disconnected) THEN every read goes to the shared cache, and copies made before are dropped", async () => {
    const { shared, bus, near } = await withKey("v1");
    await near.get("k");
    bus.listening = false;
    bus.deliver(undefined);
    await near.get("k");
    await near.get("k");
    assert.equal(shared.reads(), 3);
    bus.listening = true;
    await shared.cache.set("k", "v2", 60_000);
    assert.equal(await near.get("k"), "v2");
  });

  it("GIVEN a copy older than ttlMs THEN it is not served (the bound should a message be lost)", async () => {
    const shared = sharedCache();
    const near = createNearCache(shared.cache, new LocalBus(), { ttlMs: 20 });
    await shared.cache.set("k", "v1", 60_000);
    await near.get("k");
    await shared.cache.set("k", "v2", 60_000);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(await near.get("k"), "v2");
  });

  it("GIVEN a copy THEN get.now answers it without a promise; nothing before the first read, after the bus delivers its key, or while the bus is not listening", async () => {
    const { bus, near } = await withKey("v1");
    assert.equal(near.get.now?.("k"), undefined, "no copy yet: ask get");
    await near.get("k");
    assert.equal(near.get.now?.("k"), "v1");
    bus.deliver("k");
    assert.equal(near.get.now?.("k"), undefined, "invalidated");
    await near.get("k");
    bus.listening = false;
    assert.equal(near.get.now?.("k"), undefined, "not listening: a copy could be stale");
  });

  it("GIVEN a write through this instance THEN get.now no longer answers the old copy", async () => {
    const { near } = await withKey("v1");
    await near.get("k");
    await near.set("k", "v2", 60_000);
    assert.equal(near.get.now?.("k"), undefined);
    await near.get("k");
    await near.delete("k");
    assert.equal(near.get.now?.("k"), undefined);
  });
});
