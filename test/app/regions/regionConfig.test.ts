// The variables the two-region setup adds: parsed values, and errors that name the variable.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig, loadMigrateConfig } from "../../../app/src/config";

const US = "https://sqs.us-east-1.amazonaws.com/123456789012/invalidations";
const EU = "https://sqs.eu-west-1.amazonaws.com/123456789012/invalidations";
const task = { AWS_REGION: "eu-west-1" };

describe("two-region variables", () => {
  it("GIVEN both invalidation variables THEN each queue keeps its own region", () => {
    const config = loadConfig({
      ...task,
      CACHE_INVALIDATION_QUEUE_URL: EU,
      CACHE_INVALIDATION_PUBLISH_URLS: `${US}, ${EU}`,
    });
    assert.deepEqual(config.invalidation, {
      queue: { url: EU, region: "eu-west-1" },
      publishTo: [
        { url: US, region: "us-east-1" },
        { url: EU, region: "eu-west-1" },
      ],
    });
  });

  it("GIVEN an emulator's queue URL THEN its region is AWS_REGION", () => {
    const local = "http://127.0.0.1:55000/123456789012/invalidations";
    const config = loadConfig({
      ...task,
      CACHE_INVALIDATION_QUEUE_URL: local,
      CACHE_INVALIDATION_PUBLISH_URLS: local,
    });
    assert.equal(config.invalidation?.queue.region, "eu-west-1");
  });

  it("GIVEN SESSIONS_TABLE THEN sessions use it; DATABASE_MIGRATIONS defaults to on-start until the migrate step is wired", () => {
    const config = loadConfig({
      ...task,
      SESSIONS_TABLE: "zero-to-millions-prod-sessions",
      DATABASE_URL: "postgres://app@h/app",
    });
    assert.equal(config.sessionsTable, "zero-to-millions-prod-sessions");
    assert.equal(config.database.kind === "postgres" && config.database.migrations, "on-start");
    assert.equal(config.database.kind === "postgres" && config.database.auth, "password");
  });

  it("GIVEN DATABASE_APP_USER THEN the migrate step reads it (and its optional password)", () => {
    assert.deepEqual(loadMigrateConfig({ DATABASE_APP_USER: "app_rt" }), {
      appRole: { name: "app_rt", password: undefined },
    });
    assert.deepEqual(loadMigrateConfig({}), { appRole: undefined });
  });

  const bad: [string, NodeJS.ProcessEnv, (env: NodeJS.ProcessEnv) => unknown][] = [
    ["CACHE_INVALIDATION_PUBLISH_URLS", { ...task, CACHE_INVALIDATION_QUEUE_URL: EU }, loadConfig],
    ["CACHE_INVALIDATION_QUEUE_URL", { ...task, CACHE_INVALIDATION_PUBLISH_URLS: EU }, loadConfig],
    [
      "CACHE_INVALIDATION_PUBLISH_URLS",
      { ...task, CACHE_INVALIDATION_QUEUE_URL: EU, CACHE_INVALIDATION_PUBLISH_URLS: US },
      loadConfig,
    ],
    [
      "CACHE_INVALIDATION_QUEUE_URL",
      {
        CACHE_INVALIDATION_QUEUE_URL: "http://127.0.0.1/q",
        CACHE_INVALIDATION_PUBLISH_URLS: "http://127.0.0.1/q",
      },
      loadConfig,
    ],
    [
      "CACHE_INVALIDATION_QUEUE_URL",
      { ...task, CACHE_INVALIDATION_QUEUE_URL: "sqs", CACHE_INVALIDATION_PUBLISH_URLS: EU },
      loadConfig,
    ],
    ["SESSIONS_TABLE", { ...task, SESSIONS_TABLE: "a b" }, loadConfig],
    ["AWS_REGION", { SESSIONS_TABLE: "sessions" }, loadConfig],
    ["ASSETS_BUCKET_REGION", { ...task, ASSETS_BUCKET_REGION: "eu-west-1" }, loadConfig],
    [
      "DATABASE_MIGRATIONS",
      { DATABASE_URL: "postgres://app@h/app", DATABASE_MIGRATIONS: "never" },
      loadConfig,
    ],
    [
      "DATABASE_AUTH",
      { DATABASE_URL: "postgres://app@h/app", DATABASE_AUTH: "kerberos" },
      loadConfig,
    ],
    ["DATABASE_APP_USER", { DATABASE_APP_USER: "App-User" }, loadMigrateConfig],
    ["DATABASE_APP_PASSWORD", { DATABASE_APP_PASSWORD: "x" }, loadMigrateConfig],
  ];
  for (const [variable, env, load] of bad) {
    it(`GIVEN ${JSON.stringify(env)} THEN the error names ${variable}`, () => {
      assert.throws(
        () => load(env),
        (error: unknown) => error instanceof ConfigError && error.variable === variable,
      );
    });
  }
});
