// Unit tests of the Redis connection settings: TLS for rediss://, the AUTH token, failing fast.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Redis } from "ioredis";
import { closeRedis, connectRedis } from "../../app/src/tiers/redis";
import { captureLogs } from "./support/helpers";

/**
 * A connection to `url` on loopback port 9 (discard), where nothing answers: enough to read the
 * options it was made with, or to see a command fail. Closed after `use`.
 */
async function withConnection(
  url: string,
  authToken: string | undefined,
  use: (redis: Redis) => Promise<void>,
): Promise<void> {
  const redis = connectRedis({ url, authToken, logger: captureLogs().logger });
  try {
    await use(redis);
  } finally {
    await closeRedis(redis);
  }
}

describe("connectRedis", () => {
  it("GIVEN rediss:// and REDIS_AUTH_TOKEN THEN TLS is on and the token is the password", async () => {
    await withConnection("rediss://127.0.0.1:9", "elasticache-token", async (redis) => {
      assert.ok(redis.options.tls, "TLS enabled");
      assert.equal(redis.options.password, "elasticache-token");
      assert.equal(
        redis.options.enableOfflineQueue,
        false,
        "commands fail fast while disconnected",
      );
    });
  });

  it("GIVEN a password in the URL THEN it is used and the token is not", async () => {
    await withConnection("redis://:from-url@127.0.0.1:9", "token", async (redis) => {
      assert.equal(redis.options.password, "from-url");
      assert.equal(redis.options.tls, undefined, "redis:// is plain TCP");
    });
  });

  it("GIVEN Redis unreachable WHEN a command runs THEN it fails at once instead of queueing", async () => {
    await withConnection("redis://127.0.0.1:9", undefined, async (redis) => {
      await assert.rejects(redis.get("k"));
    });
  });
});
