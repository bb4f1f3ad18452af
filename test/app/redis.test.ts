// Unit tests of the Redis connection settings: TLS for rediss://, the AUTH token, failing fast.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { closeRedis, connectRedis } from "../../app/src/tiers/redis";
import { captureLogs } from "./support/helpers";

describe("connectRedis", () => {
  it("GIVEN rediss:// and REDIS_AUTH_TOKEN THEN TLS is on and the token is the password", async () => {
    // Port 9 (discard) on loopback: nothing answers, which is fine for reading the options.
    const redis = connectRedis({
      url: "rediss://127.0.0.1:9",
      authToken: "elasticache-token",
      logger: captureLogs().logger,
    });
    try {
      assert.ok(redis.options.tls, "TLS enabled");
      assert.equal(redis.options.password, "elasticache-token");
      assert.equal(
        redis.options.enableOfflineQueue,
        false,
        "commands fail fast while disconnected",
      );
    } finally {
      await closeRedis(redis);
    }
  });

  it("GIVEN a password in the URL THEN it is used and the token is not", async () => {
    const redis = connectRedis({
      url: "redis://:from-url@127.0.0.1:9",
      authToken: "token",
      logger: captureLogs().logger,
    });
    try {
      assert.equal(redis.options.password, "from-url");
      assert.equal(redis.options.tls, undefined, "redis:// is plain TCP");
    } finally {
      await closeRedis(redis);
    }
  });

  it("GIVEN Redis unreachable WHEN a command runs THEN it fails at once instead of queueing", async () => {
    const redis = connectRedis({
      url: "redis://127.0.0.1:9",
      authToken: undefined,
      logger: captureLogs().logger,
    });
    try {
      await assert.rejects(redis.get("k"));
    } finally {
      await closeRedis(redis);
    }
  });
});
