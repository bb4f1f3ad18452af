/**
 * `main.ts migrate`: the deploy step that changes the schema, run once per deploy before the new
 * tasks start (a one-off ECS task), with the master credential. It applies the pending migrations
 * and then creates the app's own role (DATABASE_APP_USER) and grants it row access, so the web and
 * worker tasks run without DDL. Idempotent: a second run applies nothing and grants the same.
 */
import type { Logger } from "pino";
import { ensureAppRole } from "./appRole";
import { ConfigError, type Config, type MigrateConfig } from "./config";
import { migrate } from "./migrations";
import { migrationsDir } from "./paths";
import { openDatabase } from "./tiers";

/** Returns the migration versions this run applied. */
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
  const database = await openDatabase(config, logger, { readers: false });
  try {
    const applied = await migrate(database, dir, logger);
    if (migrateConfig.appRole !== undefined) {
      await ensureAppRole(database, migrateConfig.appRole, logger);
    }
    logger.info({ applied }, "migrate: done");
    return applied;
  } finally {
    await database.close();
  }
}
