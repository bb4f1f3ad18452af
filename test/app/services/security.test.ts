// Issue 12 against the real services: limits shared through Redis, the Redis circuit breaker,
// negative caching across instances, session revocation, and tier outages answered as 503.
import assert from "node:assert/strict";
import { randomInt, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import type { AppSettingsOverrides } from "../../../app/src/app";
import type { RateLimitSettings } from "../../../app/src/http/rateLimits";
import { createMemoryCache, createRedisCache, type Cache } from "../../../app/src/tiers/cache";
import type { Database } from "../../../app/src/tiers/database";
import { LocalFileStore, type FileStore } from "../../../app/src/tiers/files";
import { RedisCircuitOpenError } from "../../../app/src/tiers/redis";
import { S3FileStore } from "../../../app/src/tiers/s3Files";
import {
  createMemorySessionStore,
  createRedisSessionStore,
  SessionStoreUnavailableError,
  type SessionStore,
} from "../../../app/src/tiers/sessions";
import { captureLogs, eventually, makeTempDir, spyDatabase, signInTo } from "../support/helpers";
import {
  migratedSchema,
  openTestPostgres,
  openTestRedis,
  needServices,
  type ServiceEnv,
  startServiceApp,
  TEST_AWS_REGION,
  uniqueName,
  type ServiceApp,
} from "../support/services";
import { TcpProxy } from "../support/tcpProxy";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

const services = needServices("database", "redis", "aws");

describe("security against the real services", { skip: services.skip }, () => {
  let env: ServiceEnv;
  let schema: Awaited<ReturnType<typeof migratedSchema>>;
  let writerUrl: string;
  let files: { path: string; remove(): Promise<void> };
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    env = services.env();
    schema = await migratedSchema(env.databaseUrl);
    writerUrl = schema.writerUrl;
    files = await makeTempDir("security-files-");
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await schema?.drop();
    await files?.remove();
  });

  /** A TCP proxy to `url` that the test can cut or hang, closed after the suite. */
  async function proxyTo(url: string): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(url);
    cleanups.push(() => proxy.close());
    return proxy;
  }

  async function redisConnection(url = env.redisUrl, commandTimeoutMs?: number): Promise<Redis> {
    const redis = await openTestRedis({
      url,
      ...(commandTimeoutMs === undefined ? {} : { commandTimeoutMs }),
    });
    // disconnect, not QUIT: a connection that went through a hung proxy may never see the reply.
    cleanups.push(async () => redis.disconnect());
    return redis;
  }

  /** One app instance with its own connections, as a separate task would have. */
  async function instance(
    options: {
      settings?: AppSettingsOverrides;
      database?: Database;
      files?: FileStore;
      redis?: Redis;
      memory?: boolean;
    } = {},
  ) {
    const logs = captureLogs();
    const redis =
      options.memory === true ? undefined : (options.redis ?? (await redisConnection()));
    const database = spyDatabase(options.database ?? openTestPostgres(writerUrl, [], logs.logger));
    const cache: Cache = redis === undefined ? createMemoryCache() : createRedisCache(redis);
    const sessions: SessionStore =
      redis === undefined ? createMemorySessionStore() : createRedisSessionStore(redis);
    const t: ServiceApp = await startServiceApp(
      {
        database,
        cache,
        sessions,
        files: options.files ?? new LocalFileStore({ dir: files.path }),
      },
      { logs, ...(options.settings === undefined ? {} : { settings: options.settings }) },
    );
    cleanups.push(() => t.app.close());
    return { ...t, database };
  }

  let counter = 0;
  async function signUp(t: ServiceApp) {
    counter += 1;
    const input = {
      name: `S${counter}`,
      email: `${uniqueName("sec")}@example.com`,
      password: "12345678",
    };
    const response = await t.app.inject({ method: "POST", url: "/users", payload: input });
    assert.equal(response.statusCode, 201, response.body);
    return { id: response.json().id as string, input };
  }

  const signIn = (t: ServiceApp, input: { email: string; password: string }) =>
    signInTo(t.app, input);

  /** Two instances, as two tasks, with these limits in a window of their own: earlier runs'
   * counters on the shared Redis do not count. */
  async function twoInstances(rateLimits: Partial<RateLimitSettings>) {
    const settings = { rateLimits: { ...rateLimits, windowMs: 600_000 + randomInt(1_000_000) } };
    return [await instance({ settings }), await instance({ settings })] as const;
  }

  it("GIVEN two instances sharing Redis WHEN one client's sign-ins alternate between them THEN the limit counts them together", async () => {
    const [a, b] = await twoInstances({ signInPerClient: 3 });
    const client = `203.0.113.${randomInt(1, 250)}`;
    const statuses: number[] = [];
    for (const t of [a, b, a, b]) {
      const response = await t.app.inject({
        method: "POST",
        url: "/sessions",
        payload: { email: "nobody@example.com", password: "wrong-password" },
        remoteAddress: client,
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) assert.ok(Number(response.headers["retry-after"]) > 0);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);
  });

  it("GIVEN two instances sharing Redis WHEN an attacker's address is refused an account THEN on both, while the owner signs in from another address (no lockout DoS)", async () => {
    const [a, b] = await twoInstances({
      signInFailuresPerAccountClient: 3,
      signInFailuresPerAccount: 20,
    });
    const { input } = await signUp(a);
    const attempt = (t: ServiceApp, password: string, remoteAddress: string) =>
      t.app.inject({
        method: "POST",
        url: "/sessions",
        payload: { email: input.email, password },
        remoteAddress,
      });
    const attacker = `203.0.113.${randomInt(1, 250)}`;
    const statuses: number[] = [];
    for (const t of [a, b, a, b]) {
      statuses.push((await attempt(t, "wrong-password", attacker)).statusCode);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429], "failures from one address are shared");
    const owner = await attempt(b, input.password, `198.51.100.${randomInt(1, 250)}`);
    assert.equal(owner.statusCode, 201, owner.body);
    assert.equal((await attempt(a, input.password, attacker)).statusCode, 429);
  });

  it("GIVEN two instances sharing Redis WHEN 30 wrong sign-ins for one account arrive at once from many addresses THEN at most the account's limit are checked (401), the rest 429", async () => {
    const limit = 3;
    const [a, b] = await twoInstances({ signInFailuresPerAccount: limit });
    const { input } = await signUp(a);
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, guess) =>
        (guess % 2 === 0 ? a : b).app.inject({
          method: "POST",
          url: "/sessions",
          payload: { email: input.email, password: "wrong-password" },
          remoteAddress: `192.0.2.${guess + 1}`,
        }),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    const checked = statuses.filter((status) => status === 401).length;
    assert.ok(checked >= 1 && checked <= limit, `401s: ${checked} of ${statuses.join(",")}`);
    assert.equal(statuses.filter((status) => status === 429).length, 30 - checked);
  });

  it("GIVEN two instances sharing Redis WHEN a session holder guesses the current password on PATCH THEN the failures count on both", async () => {
    const [a, b] = await twoInstances({ signInFailuresPerAccountClient: 2 });
    const { id, input } = await signUp(a);
    const jar = await signIn(a, input);
    const statuses: number[] = [];
    for (const t of [a, b, a]) {
      const response = await jar.send(t.app, {
        method: "PATCH",
        url: `/users/${id}`,
        payload: { email: `stolen-${input.email}`, currentPassword: "a-guess" },
      });
      statuses.push(response.statusCode);
    }
    assert.deepEqual(statuses, [403, 403, 429]);
    const me = await jar.send(b.app, { method: "GET", url: "/me" });
    assert.equal(me.json().user.email, input.email, "the email did not change");
  });

  it(
    "GIVEN a Redis that hangs WHEN the cache keeps being called THEN the breaker opens and calls fail at once, and it closes when Redis is back",
    { timeout: 60_000 },
    async () => {
      const proxy = await proxyTo(env.redisUrl);
      const redis = await redisConnection(proxy.urlFor(env.redisUrl), 200);
      const cache = createRedisCache(redis);
      const sessions = createRedisSessionStore(redis);
      await cache.set("breaker-probe", "1", 60_000);

      proxy.hang();
      const failures: unknown[] = [];
      for (let call = 0; call < 12; call += 1) {
        failures.push(
          await cache.get("breaker-probe").then(
            () => undefined,
            (error) => error,
          ),
        );
      }
      assert.ok(
        failures.some((error) => !(error instanceof RedisCircuitOpenError)),
        "the first calls reach Redis and time out",
      );
      assert.ok(failures.at(-1) instanceof RedisCircuitOpenError, "then the breaker answers");
      // The session store shares the connection's breaker: sign-in fails fast too (→ 503).
      const sessionError = await sessions.get("any").then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(sessionError instanceof SessionStoreUnavailableError);
      assert.ok(sessionError.cause instanceof RedisCircuitOpenError);

      proxy.restore();
      await eventually(
        async () =>
          (await cache.get("breaker-probe").catch(() => undefined)) === "1" ? true : undefined,
        "the breaker to let calls through again",
        30_000,
        250,
      );
    },
  );

  it("GIVEN a missing user read on instance A WHEN instance B reads it THEN B gets the cached not-found without asking the database", async () => {
    const a = await instance();
    const b = await instance();
    const missing = randomUUID();
    assert.equal((await a.app.inject({ method: "GET", url: `/users/${missing}` })).statusCode, 404);
    b.database.reset();
    const second = await b.app.inject({ method: "GET", url: `/users/${missing}` });
    assert.equal(second.statusCode, 404);
    assert.equal(second.headers["x-cache"], "hit");
    assert.deepEqual(b.database.queries, []);
  });

  it("GIVEN sessions on two instances WHEN the account is deleted on one THEN the other session is revoked", async () => {
    const a = await instance();
    const b = await instance();
    const { id, input } = await signUp(a);
    const onA = await signIn(a, input);
    const onB = await signIn(b, input);
    const deleted = await onA.send(a.app, { method: "DELETE", url: `/users/${id}` });
    assert.equal(deleted.statusCode, 204);
    const me = await onB.send(b.app, { method: "GET", url: "/me" });
    assert.equal(me.statusCode, 401);
    const upload = await onB.send(b.app, {
      method: "POST",
      url: `/users/${id}/photo`,
      payload: { contentType: "image/png", size: 10 },
    });
    assert.equal(upload.statusCode, 401);
  });

  it(
    "GIVEN S3 unreachable WHEN completing a photo THEN 503 with Retry-After and nothing queued",
    { timeout: 60_000 },
    async () => {
      const proxy = await proxyTo(env.awsEndpoint);
      const bucket = uniqueName("security");
      const s3 = new S3Client({
        region: TEST_AWS_REGION,
        endpoint: env.awsEndpoint,
        forcePathStyle: true,
      });
      cleanups.push(async () => s3.destroy());
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const t = await instance({
        memory: true,
        files: new S3FileStore({
          bucket,
          cdnDomain: "cdn.example",
          region: TEST_AWS_REGION,
          endpoint: `http://127.0.0.1:${proxy.port}`,
        }),
      });
      const { id, input } = await signUp(t);
      const jar = await signIn(t, input);
      const started = await jar.send(t.app, {
        method: "POST",
        url: `/users/${id}/photo`,
        payload: { contentType: "image/png", size: 10 },
      });
      assert.equal(started.statusCode, 201, started.body);
      proxy.cut();
      const completed = await jar.send(t.app, {
        method: "POST",
        url: `/users/${id}/photo/complete`,
        payload: { key: started.json().key },
      });
      assert.equal(completed.statusCode, 503, completed.body);
      assert.equal(completed.json().error, "files_unavailable");
      assert.ok(Number(completed.headers["retry-after"]) > 0);
    },
  );

  it(
    "GIVEN a writer that accepts connections but never answers WHEN signing up THEN 503 with Retry-After and no user created",
    { timeout: 60_000 },
    async () => {
      const proxy = await proxyTo(env.databaseUrl);
      const t = await instance({
        memory: true,
        database: openTestPostgres(proxy.urlFor(writerUrl), [], captureLogs().logger),
      });
      // Existing pooled connections drop; every new one hangs until the connect timeout.
      proxy.cut();
      proxy.hang();
      const email = `${uniqueName("slow")}@example.com`;
      const response = await t.app.inject({
        method: "POST",
        url: "/users",
        payload: { name: "Slow", email, password: "12345678" },
      });
      assert.equal(response.statusCode, 503, response.body);
      assert.equal(response.json().error, "database_unavailable");
      assert.ok(Number(response.headers["retry-after"]) > 0);
      proxy.restore();
      const direct = openTestPostgres(writerUrl, [], captureLogs().logger);
      cleanups.push(() => direct.close());
      assert.deepEqual(await direct.writer("SELECT 1 FROM users WHERE email = $1", [email]), []);
    },
  );
});
