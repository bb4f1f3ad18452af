/**
 * Where user state lives (app/src/tiers: userStateHomes), from the environment alone: the stage
 * spec holds every stage with more than one web task to "nowhere in the process".
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../app/src/config";
import { userStateHomes, type UserStateHomes } from "../../app/src/tiers";

const DATABASE = { DATABASE_URL: "postgres://app@writer.example:5432/app?sslmode=require" };
const CACHE = { REDIS_URL: "rediss://cache.example:6379" };
const BUCKET = { ASSETS_BUCKET: "assets", CDN_DOMAIN: "cdn.example", AWS_REGION: "us-east-1" };
const COOKIES = { COOKIE_SECRET: "c2lnbmluZy1zZWNyZXQtb2YtYXQtbGVhc3QtMzItY2hhcnM" };
const SESSIONS = { SESSIONS_TABLE: "sessions", AWS_REGION: "us-east-1" };

const rows: Array<[string, NodeJS.ProcessEnv, UserStateHomes]> = [
  [
    "nothing set (embedded)",
    {},
    {
      sessions: "process",
      rateLimits: "process",
      cache: "process",
      uploads: "process",
      cookieKeys: "process",
    },
  ],
  [
    "a database and the cookie key only (stage 1)",
    { ...DATABASE, ...COOKIES },
    {
      sessions: "process",
      rateLimits: "process",
      cache: "process",
      uploads: "process",
      cookieKeys: "configured",
    },
  ],
  [
    "the cache (stage 3)",
    { ...DATABASE, ...COOKIES, ...CACHE },
    {
      sessions: "redis",
      rateLimits: "redis",
      cache: "redis",
      uploads: "process",
      cookieKeys: "configured",
    },
  ],
  [
    "the cache and the bucket (stage 4 and up)",
    { ...DATABASE, ...COOKIES, ...CACHE, ...BUCKET },
    {
      sessions: "redis",
      rateLimits: "redis",
      cache: "redis",
      uploads: "s3",
      cookieKeys: "configured",
    },
  ],
  [
    "a sessions table too",
    { ...DATABASE, ...COOKIES, ...CACHE, ...BUCKET, ...SESSIONS },
    {
      sessions: "dynamodb",
      rateLimits: "redis",
      cache: "redis",
      uploads: "s3",
      cookieKeys: "configured",
    },
  ],
];

describe("userStateHomes", () => {
  for (const [what, env, homes] of rows) {
    it(`GIVEN ${what} THEN each piece of user state lives where the tiers put it`, () => {
      assert.deepEqual(userStateHomes(loadConfig(env, "/srv")), homes);
    });
  }
});
