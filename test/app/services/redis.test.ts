// Against real Redis (and the Postgres primary): shared sessions and cache, stampede, Redis down.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { createRedisCache } from "../../../app/src/tiers/cache";
import {
  createNearCache,
  NEAR_CACHE_DEFAULTS,
  redisInvalidationBus,
  type NearCacheOptions,
} from "../../../app/src/tiers/nearCache";
import { cacheKeyForUser } from "../../../app/src/users";
import { LocalFileStore } from "../../../app/src/tiers/files";
import { closeRedis, waitForRedis } from "../../../app/src/tiers/redis";
import { createRedisSessionStore } from "../../../app/src/tiers/sessions";
import { captureLogs, eventually, makeTempDir, spyDatabase, signInTo } from "../support/helpers";
import {
  migratedSchema,
  openTestPostgres,
  openTestRedis,
  needServices,
  startServiceApp,
  type ServiceApp,
} from "../support/services";
import { TcpProxy } from "../support/tcpProxy";

const services = needServices("database", "redis");

describe("Redis as the shared cache and session store", { skip: services.skip }, () => {
  let schema: Awaited<ReturnType<typeof migratedSchema>>;
  let writerUrl: string;
  let redisUrl: string;
  let files: { path: string; remove(): Promise<void> };
  const running: (() => Promise<void>)[] = [];

  before(async () => {
    const env = services.env();
    schema = await migratedSchema(env.databaseUrl);
    writerUrl = schema.writerUrl;
    redisUrl = env.redisUrl;
    files = await makeTempDir("redis-files-");
  });
  after(async () => {
    for (const close of running) await close();
    await schema?.drop();
    await files?.remove();
  });

  /**
   * One app instance with its own pools and Redis connection, as a separate task would have, and
   * the near cache in front of Redis as tiers/index.ts builds it.
   */
  async function instance(
    options: { redisUrl?: string; readerDelayMs?: number; near?: NearCacheOptions } = {},
  ) {
    const logs = captureLogs();
    const redis: Redis = await openTestRedis({
      url: options.redisUrl ?? redisUrl,
      logger: logs.logger,
    });
    const bus = redisInvalidationBus(redis);
    if (options.redisUrl === undefined) {
      await eventually(
        async () => (bus.listening ? true : undefined),
        "the invalidation bus",
        5_000,
      );
    }
    const database = spyDatabase(openTestPostgres(writerUrl, [], logs.logger), {
      ...(options.readerDelayMs === undefined ? {} : { readerDelayMs: options.readerDelayMs }),
    });
    const t: ServiceApp = await startServiceApp(
      {
        database,
        cache: createNearCache(createRedisCache(redis), bus, options.near),
        sessions: createRedisSessionStore(redis),
        files: new LocalFileStore({ dir: files.path }),
      },
      // A generous lock wait: on a slow machine the waiting instance must still not give up early.
      { logs, alsoClose: [() => closeRedis(redis)], settings: { cache: { lockWaitMs: 5_000 } } },
    );
    running.push(() => t.app.close());
    return { ...t, database, redis };
  }

  let emailCounter = 0;
  async function signUp(t: ServiceApp) {
    emailCounter += 1;
    const input = {
      name: `R${emailCounter}`,
      email: `r${emailCounter}-${Date.now()}@example.com`,
      password: "12345678",
    };
    const response = await t.app.inject({ method: "POST", url: "/users", payload: input });
    assert.equal(response.statusCode, 201, response.body);
    return { id: response.json().id as string, input };
  }

  /** Signs the user in on `t` and renames them there. */
  async function rename(
    t: ServiceApp,
    id: string,
    input: { email: string; password: string },
    name: string,
  ) {
    const jar = await signInTo(t.app, input);
    return jar.send(t.app, { method: "PATCH", url: `/users/${id}`, payload: { name } });
  }

  it("GIVEN a sign-in on instance A WHEN instance B gets the cookie THEN B knows the session", async () => {
    const a = await instance();
    const b = await instance();
    const { input } = await signUp(a);
    const jar = await signInTo(a.app, input);
    const me = await jar.send(b.app, { method: "GET", url: "/me" });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().user.email, input.email);
    const signOut = await jar.send(b.app, { method: "DELETE", url: "/sessions" });
    assert.equal(signOut.statusCode, 204);
    const meOnA = await jar.send(a.app, { method: "GET", url: "/me" });
    assert.equal(meOnA.statusCode, 401, "signed out everywhere");
  });

  it("GIVEN A cached a user WHEN B reads it THEN B hits; after B's write A misses and sees the change", async () => {
    const a = await instance();
    const b = await instance();
    const { id, input } = await signUp(a);
    assert.equal(
      (await a.app.inject({ method: "GET", url: `/users/${id}` })).headers["x-cache"],
      "miss",
    );
    assert.equal(
      (await b.app.inject({ method: "GET", url: `/users/${id}` })).headers["x-cache"],
      "hit",
    );

    const patch = await rename(b, id, input, "Changed on B");
    assert.equal(patch.statusCode, 200);
    const onA = await a.app.inject({ method: "GET", url: `/users/${id}` });
    assert.equal(onA.headers["x-cache"], "miss");
    assert.equal(onA.json().name, "Changed on B");
  });

  it("GIVEN B serves a user from its near cache WHEN the user renames themself on A THEN B serves the new name within the near cache's bound", async () => {
    // Copies that live a minute: only the invalidation message can make B see the write in time.
    const near = { ttlMs: 60_000 };
    const a = await instance({ near });
    const b = await instance({ near });
    const { id, input } = await signUp(a);
    const read = () => b.app.inject({ method: "GET", url: `/users/${id}` });
    await eventually(
      async () => ((await read()).headers["x-cache"] === "hit" ? true : undefined),
      "B to hold the user",
    );
    // Behind every instance's back: the shared copy goes, B's near copy stays and answers.
    await a.redis.del(`cache:${cacheKeyForUser(id)}`);
    const fromNear = await read();
    assert.equal(fromNear.headers["x-cache"], "hit");
    assert.equal(fromNear.json().name, input.name);

    const patch = await rename(a, id, input, "Renamed on A");
    assert.equal(patch.statusCode, 200);
    const written = Date.now();
    const staleForMs = await eventually(
      async () =>
        (await read()).json().name === "Renamed on A" ? Date.now() - written : undefined,
      "B to serve the new name",
      10_000,
      5,
    );
    assert.ok(
      staleForMs <= NEAR_CACHE_DEFAULTS.ttlMs,
      `B served the old name ${staleForMs} ms after the write; the bound is ${NEAR_CACHE_DEFAULTS.ttlMs} ms`,
    );
  });

  it("GIVEN a hot uncached key WHEN two instances get 20 concurrent reads each THEN the database is read once", async () => {
    const a = await instance({ readerDelayMs: 200 });
    const b = await instance({ readerDelayMs: 200 });
    const { id } = await signUp(a);
    a.database.reset();
    b.database.reset();
    const responses = await Promise.all(
      [a, b].flatMap((t) =>
        Array.from({ length: 20 }, () => t.app.inject({ method: "GET", url: `/users/${id}` })),
      ),
    );
    assert.ok(responses.every((response) => response.statusCode === 200));
    const reads = [...a.database.queries, ...b.database.queries].filter((query) =>
      query.sql.includes("FROM users"),
    );
    assert.equal(reads.length, 1, "one instance loaded; the other waited on the Redis lock");
  });

  describe("Redis down", () => {
    let proxy: TcpProxy;
    let t: Awaited<ReturnType<typeof instance>>;

    before(async () => {
      proxy = await TcpProxy.start(redisUrl);
      t = await instance({ redisUrl: proxy.urlFor(redisUrl) });
    });
    after(async () => {
      await proxy?.close();
    });

    it("GIVEN Redis cut off WHEN users are created and read THEN every request succeeds from the database, logged as degraded", async () => {
      const { id } = await signUp(t);
      await t.app.inject({ method: "GET", url: `/users/${id}` });
      proxy.cut();
      try {
        const created = await signUp(t);
        const reads = await Promise.all(
          [id, created.id, id].map((userId) =>
            t.app.inject({ method: "GET", url: `/users/${userId}` }),
          ),
        );
        assert.deepEqual(
          reads.map((read) => [read.statusCode, read.headers["x-cache"]]),
          [
            [200, "miss"],
            [200, "miss"],
            [200, "miss"],
          ],
        );
        assert.ok(
          t.logs.lines().some((line) => line.degraded === "cache" && line.level === "warn"),
        );
        const ready = await t.app.inject({ method: "GET", url: "/readyz" });
        assert.equal(ready.statusCode, 503);
        assert.deepEqual(ready.json().checks, { database: "ok", cache: "unavailable" });
      } finally {
        proxy.restore();
      }
      await eventually(async () => {
        const read = await t.app.inject({ method: "GET", url: `/users/${id}` });
        return read.headers["x-cache"] === "hit" ? true : undefined;
      }, "the cache to serve hits again");
      assert.ok(t.logs.lines().some((line) => line.recovered === "cache"));
    });

    it("GIVEN Redis cut off WHEN signing in THEN 503 with a clear message, never a silent sign-out or a 500", async () => {
      const { input } = await signUp(t);
      await waitForRedis(t.redis, 5_000);
      proxy.cut();
      try {
        const response = await t.app.inject({
          method: "POST",
          url: "/sessions",
          payload: { email: input.email, password: input.password },
        });
        assert.equal(response.statusCode, 503);
        assert.equal(response.json().error, "sessions_unavailable");
      } finally {
        proxy.restore();
      }
    });
  });
});
