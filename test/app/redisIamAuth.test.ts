// ElastiCache IAM authentication: the token (SigV4, signed locally) and its renewal on a live
// connection. Local Redis has no IAM, so the renewal runs against an ACL user whose passwords the
// test's token source registers, and expires, as ElastiCache would.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { closeRedis, connectRedis, waitForRedis } from "../../app/src/tiers/redis";
import {
  ELASTICACHE_TOKEN_LIFETIME_SECONDS,
  ELASTICACHE_TOKEN_REFRESH_MS,
  type RedisTokenSource,
  signElastiCacheToken,
} from "../../app/src/tiers/redisIamAuth";
import { captureLogs } from "./support/helpers";
import { needServices, uniqueName } from "./support/services";

const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret-example" };
const SIGNED_AT = new Date("2026-11-29T14:00:00Z");

function tokenArgs(overrides: Partial<Parameters<typeof signElastiCacheToken>[0]> = {}) {
  return {
    cacheId: "zero-to-millions-prod-primary-cache",
    userId: "zero-to-millions-prod-primary-cache-app",
    region: "eu-west-1",
    credentials: CREDENTIALS,
    now: () => SIGNED_AT,
    ...overrides,
  };
}

const services = needServices("redis");

describe("signElastiCacheToken", () => {
  it("GIVEN a cache, a user and credentials THEN the token is a presigned connect request for elasticache in that region, valid 15 minutes", async () => {
    const token = await signElastiCacheToken(tokenArgs());
    assert.ok(token.startsWith("zero-to-millions-prod-primary-cache/?"), token);
    assert.ok(!token.includes("://"), "the token carries no scheme");
    const query = new URLSearchParams(token.slice(token.indexOf("?") + 1));
    assert.equal(query.get("Action"), "connect");
    assert.equal(query.get("User"), "zero-to-millions-prod-primary-cache-app");
    assert.equal(query.get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    assert.equal(
      query.get("X-Amz-Credential"),
      "AKIDEXAMPLE/20261129/eu-west-1/elasticache/aws4_request",
    );
    assert.equal(query.get("X-Amz-Date"), "20261129T140000Z");
    assert.equal(query.get("X-Amz-Expires"), String(ELASTICACHE_TOKEN_LIFETIME_SECONDS));
    assert.equal(query.get("X-Amz-SignedHeaders"), "host");
    assert.match(query.get("X-Amz-Signature") ?? "", /^[0-9a-f]{64}$/);
  });

  it("GIVEN the same inputs THEN the same token; another user, cache or time THEN another signature", async () => {
    const signature = (token: string) =>
      new URLSearchParams(token.split("?")[1]).get("X-Amz-Signature");
    const base = signature(await signElastiCacheToken(tokenArgs()));
    assert.equal(signature(await signElastiCacheToken(tokenArgs())), base);
    for (const overrides of [
      { userId: "someone-else" },
      { cacheId: "another-cache" },
      { now: () => new Date(SIGNED_AT.getTime() + 1_000) },
    ]) {
      assert.notEqual(signature(await signElastiCacheToken(tokenArgs(overrides))), base);
    }
  });

  it("GIVEN the renewal period THEN a token is renewed well before it expires", () => {
    assert.ok(ELASTICACHE_TOKEN_REFRESH_MS < (ELASTICACHE_TOKEN_LIFETIME_SECONDS * 1_000 * 3) / 4);
  });
});

describe("connectRedis with renewed tokens", { skip: services.skip }, () => {
  let admin: Redis;
  const user = uniqueName("iam-user");

  before(async () => {
    admin = new Redis(services.env().redisUrl);
    await admin.acl("SETUSER", user, "on", "~*", "+@all");
  });
  after(async () => {
    await admin.acl("DELUSER", user);
    await admin.quit();
  });

  /**
   * Like ElastiCache: each token it signs is accepted from then on, until the test expires it.
   * Each test has its own list, so a closing connection's last renewal cannot land in another's.
   */
  function tokens(refreshEveryMs: number): RedisTokenSource & { issued: string[] } {
    const issued: string[] = [];
    const prefix = uniqueName(user);
    let signed = 0;
    return {
      issued,
      username: user,
      refreshEveryMs,
      token: async () => {
        const token = `${prefix}-token-${(signed += 1)}`;
        await admin.acl("SETUSER", user, `>${token}`);
        issued.push(token);
        return token;
      },
    };
  }

  /** A connection that signs in with `source`'s tokens alone (no static token), logging to `logs`. */
  function connectWithTokens(source: RedisTokenSource, logs: ReturnType<typeof captureLogs>) {
    return connectRedis({
      url: services.env().redisUrl,
      authToken: undefined,
      tokens: source,
      logger: logs.logger,
    });
  }

  async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
    while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  it("GIVEN a token source THEN the first connection signs in as the user with the first token", async () => {
    const source = tokens(60_000);
    const { issued } = source;
    const redis = connectRedis({
      url: services.env().redisUrl,
      authToken: "ignored-when-tokens-are-given",
      tokens: source,
      logger: captureLogs().logger,
    });
    try {
      assert.equal(await waitForRedis(redis, 5_000), true);
      assert.equal(await redis.call("ACL", "WHOAMI"), user);
      assert.equal(redis.options.password, issued[0]);
    } finally {
      await closeRedis(redis);
    }
  });

  it("GIVEN renewals WHEN the old tokens expire and the connection drops THEN it reconnects with the newest token, and the live connection re-authenticated meanwhile", async () => {
    const source = tokens(50);
    const { issued } = source;
    const logs = captureLogs();
    const redis = connectWithTokens(source, logs);
    try {
      assert.equal(await waitForRedis(redis, 5_000), true);
      await until(() => issued.length >= 3);
      // Every token but the newest expires, as ElastiCache's do after 15 minutes.
      const newest = issued.at(-1)!;
      for (const token of issued.slice(0, -1)) await admin.acl("SETUSER", user, `<${token}`);
      const reconnected = new Promise((resolve) => redis.once("ready", resolve));
      await admin.call("CLIENT", "KILL", "USER", user);
      await reconnected;
      await redis.set(`${user}:k`, "v");
      assert.equal(await redis.get(`${user}:k`), "v");
      assert.equal(await redis.call("ACL", "WHOAMI"), user);
      assert.ok(issued.includes(redis.options.password as string));
      assert.ok(issued.indexOf(redis.options.password as string) >= issued.indexOf(newest));
      assert.deepEqual(
        logs.lines().filter((line) => line.msg === "could not renew the redis sign-in token"),
        [],
      );
      await redis.del(`${user}:k`);
    } finally {
      await closeRedis(redis);
    }
  });

  it("GIVEN the source fails THEN the failure is logged and the connection keeps its token", async () => {
    let calls = 0;
    const source = tokens(50);
    const { issued } = source;
    const logs = captureLogs();
    const failingAfterFirst: RedisTokenSource = {
      ...source,
      token: async () => {
        calls += 1;
        if (calls > 1) throw new Error("no credentials");
        return source.token();
      },
    };
    const redis = connectWithTokens(failingAfterFirst, logs);
    try {
      assert.equal(await waitForRedis(redis, 5_000), true);
      await until(() => calls >= 2);
      await until(() =>
        logs.lines().some((line) => line.msg === "could not renew the redis sign-in token"),
      );
      assert.equal(redis.options.password, issued[0]);
      assert.equal(await redis.call("ACL", "WHOAMI"), user);
    } finally {
      await closeRedis(redis);
    }
  });
});
