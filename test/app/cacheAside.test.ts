// Unit tests of the cache-aside layer: jitter, single flight, the cross-instance lock, degradation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CacheAside } from "../../app/src/cacheAside";
import { createMemoryCache, type Cache } from "../../app/src/tiers/cache";
import { captureLogs, sleep } from "./support/helpers";

function brokenCache(): Cache {
  const fail = async (): Promise<never> => {
    throw new Error("connection refused");
  };
  return {
    kind: "redis",
    get: fail,
    set: fail,
    delete: fail,
    tryLock: fail,
    unlock: fail,
    increment: fail,
    count: fail,
    decrement: fail,
    ping: fail,
    close: async () => undefined,
  };
}

describe("CacheAside", () => {
  it("GIVEN a TTL and a jitter ratio THEN each TTL lies between the base and base*(1+ratio)", () => {
    const logs = captureLogs();
    const low = new CacheAside(createMemoryCache(), logs.logger, {
      ttlMs: 1000,
      jitterRatio: 0.2,
      random: () => 0,
    });
    const high = new CacheAside(createMemoryCache(), logs.logger, {
      ttlMs: 1000,
      jitterRatio: 0.2,
      random: () => 0.999,
    });
    assert.equal(low.ttlWithJitter(), 1000);
    assert.equal(high.ttlWithJitter(), 1200);
  });

  it("GIVEN concurrent misses on one key THEN the loader runs once and all get the value", async () => {
    const cache = new CacheAside(createMemoryCache(), captureLogs().logger);
    let loads = 0;
    const load = async () => {
      loads += 1;
      await sleep(50);
      return { name: "hot" };
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.read("user:1", load)));
    assert.equal(loads, 1);
    assert.ok(results.every((result) => result.value?.name === "hot"));
    const again = await cache.read("user:1", load);
    assert.equal(again.cache, "hit");
  });

  it("GIVEN another instance holds the key's lock THEN this one waits for its value instead of loading", async () => {
    const shared = createMemoryCache();
    const first = new CacheAside(shared, captureLogs().logger);
    const second = new CacheAside(shared, captureLogs().logger, { lockPollMs: 5 });
    let loads = 0;
    const load = async () => {
      loads += 1;
      await sleep(100);
      return 42;
    };
    const [a, b] = await Promise.all([
      first.read("k", load),
      sleep(10).then(() => second.read("k", load)),
    ]);
    assert.equal(loads, 1);
    assert.equal(a.value, 42);
    assert.deepEqual(b, { value: 42, cache: "hit" });
  });

  it("GIVEN the lock holder never fills the cache THEN the waiter loads itself after lockWaitMs", async () => {
    const shared = createMemoryCache();
    await shared.tryLock("k", 10_000);
    const cache = new CacheAside(shared, captureLogs().logger, { lockWaitMs: 50, lockPollMs: 5 });
    const result = await cache.read("k", async () => "loaded");
    assert.deepEqual(result, { value: "loaded", cache: "miss" });
  });

  it("GIVEN a value that does not exist THEN 'not found' is cached for negativeTtlMs, then loaded again", async () => {
    const cache = new CacheAside(createMemoryCache(), captureLogs().logger, { negativeTtlMs: 50 });
    let loads = 0;
    const load = async () => {
      loads += 1;
      return undefined;
    };
    assert.deepEqual(await cache.read("missing", load), { value: undefined, cache: "miss" });
    assert.deepEqual(await cache.read("missing", load), { value: undefined, cache: "hit" });
    assert.equal(loads, 1);
    await sleep(80);
    await cache.read("missing", load);
    assert.equal(loads, 2);
  });

  it("GIVEN another instance is loading a missing key WHEN this one asks THEN it takes the cached 'not found' instead of waiting out the lock", async () => {
    const shared = createMemoryCache();
    const logger = captureLogs().logger;
    const first = new CacheAside(shared, logger, { lockWaitMs: 60_000, lockPollMs: 5 });
    const second = new CacheAside(shared, logger, { lockWaitMs: 60_000, lockPollMs: 5 });
    let loads = 0;
    const slowMissing = async () => {
      loads += 1;
      await sleep(30);
      return undefined;
    };
    const [a, b] = await Promise.all([
      first.read("gone", slowMissing),
      sleep(5).then(() => second.read("gone", slowMissing)),
    ]);
    assert.equal(a.value, undefined);
    assert.deepEqual(b, { value: undefined, cache: "hit" }, "served by the first one's result");
    assert.equal(loads, 1);
  });

  it("GIVEN a cached value WHEN invalidated THEN the next read loads again, and a second delete follows later", async () => {
    const memory = createMemoryCache();
    const cache = new CacheAside(memory, captureLogs().logger, { secondDeleteAfterMs: 30 });
    await cache.read("k", async () => "v1");
    await cache.invalidate("k");
    assert.equal((await cache.read("k", async () => "v2")).value, "v2");
    // A racing reader puts a stale value back; the delayed second delete removes it.
    await memory.set("k", JSON.stringify("stale"), 60_000);
    await sleep(80);
    assert.equal(await memory.get("k"), undefined);
    cache.close();
  });

  it("GIVEN the cache is down THEN reads and invalidations still succeed from the loader, logged as degraded once", async () => {
    const logs = captureLogs();
    const cache = new CacheAside(brokenCache(), logs.logger);
    const first = await cache.read("k", async () => "from-db");
    const second = await cache.read("k", async () => "from-db");
    await cache.invalidate("k");
    cache.close();
    assert.deepEqual(first, { value: "from-db", cache: "miss" });
    assert.deepEqual(second, { value: "from-db", cache: "miss" });
    const degraded = logs.lines().filter((line) => line.degraded === "cache");
    assert.equal(degraded.length, 1, "one line per outage, not one per request");
    assert.equal(degraded[0]!.level, "warn");
  });

  it("GIVEN the cache comes back THEN recovery is logged", async () => {
    const logs = captureLogs();
    let down = true;
    const memory = createMemoryCache();
    const flaky: Cache = {
      ...memory,
      get: async (key) => {
        if (down) throw new Error("down");
        return memory.get(key);
      },
    };
    const cache = new CacheAside(flaky, logs.logger);
    await cache.read("k", async () => 1);
    down = false;
    await cache.read("k", async () => 1);
    assert.ok(logs.lines().some((line) => line.recovered === "cache"));
  });

  it("GIVEN a cached value read twice THEN both readers get one frozen object, and a new one once the entry changes", async () => {
    const logs = captureLogs();
    const memory = createMemoryCache();
    const cache = new CacheAside(memory, logs.logger);
    await memory.set("k", JSON.stringify({ name: "Ada", photo: { url: "a" } }), 60_000);
    const first = await cache.read("k", async () => undefined);
    const second = await cache.read("k", async () => undefined);
    assert.equal(first.cache, "hit");
    assert.equal(second.value, first.value, "one parse per cached string");
    assert.ok(Object.isFrozen(first.value), "shared, so nobody may change it");
    assert.ok(
      Object.isFrozen((first.value as unknown as { photo: object }).photo),
      "all the way down",
    );
    await memory.set("k", JSON.stringify({ name: "Grace", photo: null }), 60_000);
    const third = await cache.read("k", async () => undefined);
    assert.deepEqual(third.value, { name: "Grace", photo: null });
    cache.close();
  });

  it("GIVEN an entry held in process memory THEN peek answers, without a promise, what read answers", async () => {
    const logs = captureLogs();
    const memory = createMemoryCache();
    const cache = new CacheAside(memory, logs.logger);
    assert.equal(cache.peek("k"), undefined, "nothing held: read must ask the cache");
    await memory.set("k", JSON.stringify({ name: "Ada" }), 60_000);
    const peeked = cache.peek("k");
    const read = await cache.read("k", async () => undefined);
    assert.deepEqual(peeked, { value: { name: "Ada" }, cache: "hit" });
    assert.equal(peeked?.value, read.value, "the same frozen object");
    await memory.set("absent", "null", 60_000);
    assert.deepEqual(
      cache.peek("absent"),
      { value: undefined, cache: "hit" },
      "a cached 'not found'",
    );
    await cache.invalidate("k");
    assert.equal(cache.peek("k"), undefined, "an invalidated entry is not held");
    cache.close();
  });

  it("GIVEN a cache whose get is replaced (a wrapper, a faulty cache) THEN peek never goes around it", async () => {
    const logs = captureLogs();
    const memory = createMemoryCache();
    const wrapped: Cache = { ...memory, get: async () => undefined };
    const cache = new CacheAside(wrapped, logs.logger);
    await memory.set("k", JSON.stringify({ name: "Ada" }), 60_000);
    assert.equal(cache.peek("k"), undefined);
    assert.deepEqual(await cache.read("k", async () => "loaded"), {
      value: "loaded",
      cache: "miss",
    });
    cache.close();
  });
});
