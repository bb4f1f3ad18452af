// Helpers for the service-backed tests: the TEST_* variables (docs/CONTRACT.md), an isolated
// Postgres schema per test file, and full-stack app assembly (tcpProxy.ts cuts the network).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { it } from "node:test";
import type { Redis } from "ioredis";
import pg from "pg";
import type { Logger } from "pino";
import type { AppSettingsOverrides } from "../../../app/src/app";
import { parsePostgresUrl, type Role } from "../../../app/src/config";
import { migrate } from "../../../app/src/migrations";
import { migrationsDir } from "../../../app/src/paths";
import { assembleTiers, type TierParts } from "../../../app/src/tiers";
import { createMemoryCache } from "../../../app/src/tiers/cache";
import type { Database } from "../../../app/src/tiers/database";
import { openPostgres } from "../../../app/src/tiers/postgres";
import { MemoryJobQueue } from "../../../app/src/tiers/queue";
import { closeRedis, connectRedis, waitForRedis } from "../../../app/src/tiers/redis";
import { createMemorySessionStore } from "../../../app/src/tiers/sessions";
import { buildTestApp, type TestApp } from "./embedded";
import { captureLogs } from "./helpers";

export type Service = "database" | "replica" | "redis" | "aws";

const VARIABLES: Record<Service, string> = {
  database: "TEST_DATABASE_URL",
  replica: "TEST_DATABASE_READ_URLS",
  redis: "TEST_REDIS_URL",
  aws: "TEST_AWS_ENDPOINT_URL",
};

/** What a suite needs, stated once: `skip` for its describe (or test) options, `env()` in its hooks. */
export interface ServiceNeeds {
  skip: string | false;
  env(): ServiceEnv;
}

export function needServices(...services: Service[]): ServiceNeeds {
  return { skip: skipUnless(...services), env: () => requireServices(...services) };
}

/**
 * The `skip` option for a describe block that needs `services`: a reason when a variable is unset,
 * false otherwise, and false under CI=true too, where `requireServices` in `before` then fails the
 * suite instead: CI must never pass by skipping.
 */
function skipUnless(...services: Service[]): string | false {
  const missing = services
    .map((service) => VARIABLES[service])
    .filter((name) => !process.env[name]);
  if (missing.length === 0 || process.env.CI === "true") return false;
  return `reason: ${missing.join(", ")} unset; run scripts/services.sh start and source .services/env (CI fails instead of skipping)`;
}

export interface ServiceEnv {
  databaseUrl: string;
  readUrls: string[];
  redisUrl: string;
  awsEndpoint: string;
}

/** Reads the variables, throwing (so the suite fails) when one the suite needs is unset. */
export function requireServices(...services: Service[]): ServiceEnv {
  const missing = services
    .map((service) => VARIABLES[service])
    .filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(`${missing.join(", ")} must be set (CI=true never skips service tests)`);
  }
  // moto accepts any credentials; real ones must never be needed (or used) by these tests.
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
  return {
    databaseUrl: process.env.TEST_DATABASE_URL ?? "",
    readUrls: (process.env.TEST_DATABASE_READ_URLS ?? "").split(",").filter((url) => url !== ""),
    redisUrl: process.env.TEST_REDIS_URL ?? "",
    awsEndpoint: process.env.TEST_AWS_ENDPOINT_URL ?? "",
  };
}

export const TEST_AWS_REGION = "us-east-1";

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

/**
 * A schema of its own for one test file, so test runs never see each other's tables; the replica
 * follows it like any other DDL. Returns URL rewriter and cleanup.
 */
export async function isolatedSchema(databaseUrl: string) {
  const schema = `test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  return {
    schema,
    /** The same URL, with every session's search_path set to the schema. */
    url: (url: string) => {
      const scoped = new URL(url);
      scoped.searchParams.set("options", `-c search_path=${schema}`);
      return scoped.toString();
    },
    drop: async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    },
  };
}

/**
 * A connection to the test Redis (or `url`, e.g. through a TcpProxy), answering before it is
 * returned. The caller closes it (closeRedis; disconnect() through a hung proxy).
 */
export async function openTestRedis(
  options: { url?: string; commandTimeoutMs?: number; logger?: Logger } = {},
): Promise<Redis> {
  const redis = connectRedis({
    url: options.url ?? requireServices("redis").redisUrl,
    authToken: undefined,
    logger: options.logger ?? captureLogs().logger,
    ...(options.commandTimeoutMs === undefined
      ? {}
      : { commandTimeoutMs: options.commandTimeoutMs }),
  });
  assert.ok(await waitForRedis(redis, 5_000), "redis is reachable");
  return redis;
}

/** Runs `use` on a connection to the test Redis, closed afterwards whatever `use` does. */
export async function withTestRedis(use: (redis: Redis) => Promise<void>): Promise<void> {
  const redis = await openTestRedis();
  try {
    await use(redis);
  } finally {
    await closeRedis(redis);
  }
}

/**
 * One behaviour of a store the app has in two kinds: a test of the in-process store and one of
 * the Redis store (skipped without TEST_REDIS_URL), each run through `behaves`.
 */
export function itHoldsForEachStore<S>(
  then: string,
  stores: { memory: () => S; redis: (redis: Redis) => S },
  behaves: (store: S) => Promise<void>,
): void {
  it(`GIVEN the in-process store THEN ${then}`, () => behaves(stores.memory()));
  it(`GIVEN the Redis store THEN ${then}`, { skip: needServices("redis").skip }, () =>
    withTestRedis((redis) => behaves(stores.redis(redis))),
  );
}

/** An isolated schema with the app's migrations applied; `writerUrl` is the writer, scoped to it. */
export async function migratedSchema(databaseUrl: string) {
  const schema = await isolatedSchema(databaseUrl);
  const writerUrl = schema.url(databaseUrl);
  const db = openTestPostgres(writerUrl, [], captureLogs().logger);
  try {
    await migrate(db, migrationsDir(), captureLogs().logger);
  } finally {
    await db.close();
  }
  return { ...schema, writerUrl };
}

export function openTestPostgres(
  writerUrl: string,
  readerUrls: string[],
  logger: Logger,
  readerDownForMs = 500,
): Database {
  return openPostgres({
    writer: parsePostgresUrl("TEST_DATABASE_URL", writerUrl, undefined),
    readers: readerUrls.map((url) => parsePostgresUrl("TEST_DATABASE_READ_URLS", url, undefined)),
    logger,
    connectTimeoutMs: 1_000,
    readerDownForMs,
  });
}

export type ServiceApp = TestApp;

/** The tiers a test leaves out stay in process memory: cache, sessions, queue. */
export type ServiceTierParts = Omit<TierParts, "cache" | "sessions" | "queue"> &
  Partial<Pick<TierParts, "cache" | "sessions" | "queue">>;

/** buildApp on the given tiers, with test-sized worker timings and captured logs and metrics. */
export async function startServiceApp(
  parts: ServiceTierParts,
  options: {
    role?: Role;
    settings?: AppSettingsOverrides;
    alsoClose?: (() => Promise<void>)[];
    logs?: ReturnType<typeof captureLogs>;
  } = {},
): Promise<ServiceApp> {
  return buildTestApp(
    assembleTiers(
      {
        cache: createMemoryCache(),
        sessions: createMemorySessionStore(),
        queue: new MemoryJobQueue(),
        ...parts,
      },
      options.alsoClose,
    ),
    {
      role: options.role ?? "web",
      logs: options.logs ?? captureLogs(),
      settings: {
        worker: { waitSeconds: 1, retryDelaySeconds: () => 0, errorBackoffMs: 100 },
        // Every test run on the machine shares Redis and signs up from 127.0.0.1: limits that only
        // a test about limits reaches (it passes its own).
        rateLimits: {
          signInPerClient: 100_000,
          signInFailuresPerAccountClient: 100_000,
          signInFailuresPerAccount: 100_000,
          signUpPerClient: 100_000,
          accountChangesPerClient: 100_000,
          accountChangesPerUser: 100_000,
          publicFilesPerClient: 100_000,
        },
        ...options.settings,
      },
    },
  );
}
