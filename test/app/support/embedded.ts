// Builds the app on the embedded tiers (PGlite in a temp DATA_DIR, LRU, in-process queue, folder).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildApp, type AppSettingsOverrides } from "../../../app/src/app";
import type { Role } from "../../../app/src/config";
import { READ_YOUR_WRITES_COOKIE } from "../../../app/src/http/context";
import { createMemoryCache } from "../../../app/src/tiers/cache";
import { LocalFileStore } from "../../../app/src/tiers/files";
import { assembleTiers, type Tiers } from "../../../app/src/tiers";
import { openPGlite } from "../../../app/src/tiers/pglite";
import { MemoryJobQueue, type MemoryQueueOptions } from "../../../app/src/tiers/queue";
import { createMemorySessionStore } from "../../../app/src/tiers/sessions";
import { captureLogs, makeTempDir, spyDatabase } from "./helpers";

export const TEST_IDENTITY = { region: "test-region-1", instance: "test-instance" };

/** A built test app, with the logs and metric lines it wrote. */
export interface TestApp {
  app: FastifyInstance;
  logs: ReturnType<typeof captureLogs>;
  metricLines: string[];
}

/**
 * buildApp as every test builds it, embedded or on services: the test identity, the given logs,
 * metric lines kept for assertions, and the settings given; ready to serve.
 */
export async function buildTestApp(
  tiers: Tiers,
  options: { role: Role; logs: ReturnType<typeof captureLogs>; settings: AppSettingsOverrides },
): Promise<TestApp> {
  const metricLines: string[] = [];
  const app = await buildApp({
    tiers,
    logger: options.logs.logger,
    role: options.role,
    identity: TEST_IDENTITY,
    writeMetrics: (line) => metricLines.push(line),
    settings: options.settings,
  });
  await app.ready();
  return { app, logs: options.logs, metricLines };
}

export interface EmbeddedAppOptions {
  role?: Role;
  settings?: AppSettingsOverrides;
  queue?: MemoryQueueOptions;
  readerDelayMs?: number;
}

export type EmbeddedApp = Awaited<ReturnType<typeof startEmbeddedApp>>;

export async function startEmbeddedApp(options: EmbeddedAppOptions = {}) {
  const dataDir = await makeTempDir("app-test-");
  const database = spyDatabase(await openPGlite(join(dataDir.path, "pglite")), {
    ...(options.readerDelayMs === undefined ? {} : { readerDelayMs: options.readerDelayMs }),
  });
  const queue = new MemoryJobQueue(options.queue);
  const files = new LocalFileStore({ dir: join(dataDir.path, "files") });
  const { app, logs, metricLines } = await buildTestApp(
    assembleTiers({
      database,
      cache: createMemoryCache(),
      sessions: createMemorySessionStore(),
      queue,
      files,
    }),
    {
      role: options.role ?? "all",
      logs: captureLogs(),
      settings: {
        worker: { waitSeconds: 0.2, retryDelaySeconds: () => 0, errorBackoffMs: 50 },
        ...options.settings,
      },
    },
  );
  return {
    app,
    database,
    queue,
    files,
    logs,
    metricLines,
    dataDir: dataDir.path,
    close: async () => {
      await app.close();
      await dataDir.remove();
    },
  };
}

/**
 * The embedded app for a whole suite: started before its first test, closed after its last. Call
 * it in the suite's body; the returned object is the started app once the tests run.
 */
export function embeddedAppPerSuite(options: EmbeddedAppOptions = {}): EmbeddedApp {
  const t = {} as EmbeddedApp;
  before(async () => {
    Object.assign(t, await startEmbeddedApp(options));
  });
  after(async () => {
    await t.close();
  });
  return t;
}

/**
 * GET /users/:id with `marker` as the read-your-writes cookie (what a client may forge): the
 * sides of the database that served it, in order. The read must succeed.
 */
export async function sidesServingRead(t: EmbeddedApp, userId: string, marker: string) {
  t.database.reset();
  const response = await t.app.inject({
    method: "GET",
    url: `/users/${userId}`,
    headers: { cookie: `${READ_YOUR_WRITES_COOKIE}=${marker}` },
  });
  assert.equal(response.statusCode, 200, response.body);
  return t.database.queries.map((query) => query.side);
}
