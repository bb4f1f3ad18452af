// Several physical shards for the sharding tests: TEST_DATABASE_URL is physical shard 0 and
// TEST_DATABASE_SHARD_URLS (scripts/services.sh) the others, each in a schema of its own. Without
// TEST_DATABASE_SHARD_URLS every physical shard is a schema of TEST_DATABASE_URL's database.
import pg from "pg";
import { Shards } from "../../../app/src/sharding/router";
import type { ShardMap } from "../../../app/src/sharding/shardMap";
import type { Database, QueryFn } from "../../../app/src/tiers/database";
import { createMemoryCache } from "../../../app/src/tiers/cache";
import { LocalFileStore } from "../../../app/src/tiers/files";
import { MemoryJobQueue } from "../../../app/src/tiers/queue";
import { createMemorySessionStore } from "../../../app/src/tiers/sessions";
import { captureLogs, makeTempDir } from "./helpers";
import { parsePostgresUrl } from "../../../app/src/config";
import { openPostgres } from "../../../app/src/tiers/postgres";
import { isolatedSchema, startServiceApp, type ServiceApp } from "./services";

export const PHYSICAL_SHARDS = 3;

/** Physical shard URLs 1..N-1 when scripts/services.sh started separate instances. */
export function shardInstanceUrls(): string[] {
  return (process.env.TEST_DATABASE_SHARD_URLS ?? "").split(",").filter((url) => url !== "");
}

export interface ShardedStack {
  /** Scoped URLs of the physical shards, by number. */
  urls: string[];
  physical: Database[];
  /** Queries each physical shard has answered through its reader (reads, not writes). */
  reads: number[];
  shards: Shards;
  files: LocalFileStore;
  service: ServiceApp;
  /** A raw client per physical shard, for looking where rows are. */
  sql(shard: number, text: string, params?: unknown[]): Promise<pg.QueryResultRow[]>;
  close(): Promise<void>;
}

/** Counts every reader query of `database` into `reads[shard]`. */
function countingReads(database: Database, reads: number[], shard: number): Database {
  const reader: QueryFn = (text, params) => {
    reads[shard]! += 1;
    return database.reader(text, params);
  };
  return new Proxy(database, {
    get: (target, key) => {
      if (key === "reader") return reader;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * `seedMap`: the live map the directory starts with (default: an even split), e.g. one that leaves
 * a physical shard empty, as a newly added shard is.
 */
export async function startShardedStack(
  databaseUrl: string,
  options: { seedMap?: ShardMap } = {},
): Promise<ShardedStack> {
  const instances = shardInstanceUrls();
  const schemas = await Promise.all(
    Array.from({ length: PHYSICAL_SHARDS }, (_, shard) =>
      isolatedSchema(shard === 0 ? databaseUrl : (instances[shard - 1] ?? databaseUrl)),
    ),
  );
  const urls = schemas.map((schema, shard) =>
    schema.url(shard === 0 ? databaseUrl : (instances[shard - 1] ?? databaseUrl)),
  );
  const logs = captureLogs();
  // A generous connect timeout: bursts of sign-ups open many connections at once on a busy machine.
  const reads = urls.map(() => 0);
  const physical = urls.map((url, shard) =>
    countingReads(
      openPostgres({
        writer: parsePostgresUrl("TEST_DATABASE_URL", url, undefined),
        readers: [],
        logger: logs.logger,
        connectTimeoutMs: 10_000,
      }),
      reads,
      shard,
    ),
  );
  const shards = new Shards({
    physical,
    seedMap: options.seedMap,
    logger: logs.logger,
    pollIntervalMs: 100,
    movedRetryMs: 10_000,
    hotShardReportMs: 0,
  });
  const dataDir = await makeTempDir("sharding-");
  const files = new LocalFileStore({ dir: dataDir.path });
  const service = await startServiceApp(
    {
      database: physical[0]!,
      shards,
      cache: createMemoryCache(),
      sessions: createMemorySessionStore(),
      queue: new MemoryJobQueue(),
      files,
    },
    { logs },
  );
  const clients = await Promise.all(
    urls.map(async (url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  return {
    urls,
    physical,
    reads,
    shards,
    files,
    service,
    sql: async (shard, text, params = []) => (await clients[shard]!.query(text, params)).rows,
    close: async () => {
      await service.app.close();
      await Promise.all(clients.map((client) => client.end()));
      await Promise.all(schemas.map((schema) => schema.drop()));
      await dataDir.remove();
    },
  };
}
