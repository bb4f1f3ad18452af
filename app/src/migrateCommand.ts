/**
 * `main.ts migrate`: the deploy step that changes the schema, run once per deploy before the new
 * tasks start (a one-off ECS task), with the master credential. It applies the pending migrations
 * and then creates the app's own role (DATABASE_APP_USER) and grants it row access, so the web and
 * worker tasks run without DDL. It does so on every physical shard (DATABASE_URL, then each of
 * DATABASE_SHARDS), one after the other: each shard is a database of the same schema. Idempotent:
 * a second run applies nothing and grants the same, so a run that failed on one shard is rerun.
 */
import type { Logger } from "pino";
import { ensureAppRole } from "./appRole";
import { ConfigError, type Config, type MigrateConfig } from "./config";
import { migrate } from "./migrations";
import { migrationsDir } from "./paths";
import { openShardDatabases } from "./tiers";

/** Returns the migration versions this run applied, on any shard. */
export async function runMigrateCommand(
  config: Config,
  migrateConfig: MigrateConfig,
  logger: Logger,
  dir = migrationsDir(),
): Promise<string[]> {
  if (config.database.kind !== "postgres") {
    throw new ConfigError(
      "DATABASE_URL",
      "is missing; the migrate command runs against PostgreSQL (the embedded database migrates when the app starts)",
    );
  }
  const shards = await openShardDatabases(config, logger, { readers: false });
  const applied = new Set<string>();
  try {
    for (const [physicalShard, database] of shards.entries()) {
      const appliedHere = await migrate(database, dir, logger);
      if (migrateConfig.appRole !== undefined) {
        await ensureAppRole(database, migrateConfig.appRole, logger);
      }
      logger.info({ applied: appliedHere, physicalShard }, "migrate: shard done");
      for (const version of appliedHere) applied.add(version);
    }
    logger.info({ applied: [...applied], physicalShards: shards.length }, "migrate: done");
    return [...applied];
  } finally {
    await Promise.all(shards.map((database) => database.close()));
  }
}
