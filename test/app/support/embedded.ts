// Builds the app on the embedded tiers (PGlite in a temp DATA_DIR, LRU, in-process queue, folder).
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp, type AppSettingsOverrides } from "../../../app/src/app";
import type { Role } from "../../../app/src/config";
import { createMemoryCache } from "../../../app/src/tiers/cache";
import { LocalFileStore } from "../../../app/src/tiers/files";
import { assembleTiers } from "../../../app/src/tiers";
import { openPGlite } from "../../../app/src/tiers/pglite";
import { MemoryJobQueue, type MemoryQueueOptions } from "../../../app/src/tiers/queue";
import { createMemorySessionStore } from "../../../app/src/tiers/sessions";
import { captureLogs, makeTempDir, spyDatabase } from "./helpers";

export const TEST_IDENTITY = { region: "test-region-1", instance: "test-instance" };

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
  const logs = captureLogs();
  const metricLines: string[] = [];
  const app: FastifyInstance = await buildApp({
    tiers: assembleTiers({
      database,
      cache: createMemoryCache(),
      sessions: createMemorySessionStore(),
      queue,
      files,
    }),
    logger: logs.logger,
    role: options.role ?? "all",
    identity: TEST_IDENTITY,
    writeMetrics: (line) => metricLines.push(line),
    settings: {
      worker: { waitSeconds: 0.2, retryDelaySeconds: () => 0, errorBackoffMs: 50 },
      ...options.settings,
    },
  });
  await app.ready();
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
