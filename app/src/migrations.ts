/**
 * Versioned SQL migrations (`app/migrations/NNN_name.sql`), applied in order in one transaction
 * under a transaction-scoped advisory lock, and recorded in `schema_migrations`. Many instances
 * starting at once queue on the lock; each one after the first finds nothing left to do.
 * PGlite takes the same path (its advisory lock is real, and it runs one transaction at a time).
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Database } from "./tiers/database";

/** An arbitrary constant that this app's migrators, and nothing else, lock on. */
const MIGRATION_LOCK_KEY = 7_202_411_001;
const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

export async function loadMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const fileName of names) {
    const match = FILE_NAME.exec(fileName);
    if (match === null) {
      throw new Error(`migration ${fileName} is not named NNN_lower_snake_case.sql`);
    }
    const sql = await readFile(join(dir, fileName), "utf8");
    migrations.push({
      version: match[1]!,
      name: match[2]!,
      sql,
      checksum: createHash("sha256").update(sql).digest("hex"),
    });
  }
  const versions = migrations.map((migration) => migration.version);
  const duplicate = versions.find((version, index) => versions.indexOf(version) !== index);
  if (duplicate !== undefined) throw new Error(`two migrations have version ${duplicate}`);
  return migrations;
}

/** Applies the pending migrations; returns the versions this call applied. */
export async function migrate(db: Database, dir: string, logger: Logger): Promise<string[]> {
  const migrations = await loadMigrations(dir);
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = new Map(
      (
        await tx.query<{ version: string; checksum: string }>(
          "SELECT version, checksum FROM schema_migrations",
        )
      ).map((row) => [row.version, row.checksum]),
    );
    const appliedNow: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.version);
      if (checksum !== undefined) {
        // An edited migration would leave databases that ran the old text in another state.
        if (checksum !== migration.checksum) {
          throw new Error(
            `migration ${migration.version}_${migration.name} changed after it was applied; add a new migration instead`,
          );
        }
        continue;
      }
      await tx.exec(migration.sql);
      await tx.query(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
        [migration.version, migration.name, migration.checksum],
      );
      appliedNow.push(migration.version);
      logger.info({ migration: `${migration.version}_${migration.name}` }, "migration applied");
    }
    return appliedNow;
  });
}

/**
 * The migrations this code expects that the database has not applied, read with `query` (a reader
 * will do: a task can start while the writer, perhaps in another region, is unreachable). A
 * database never migrated has none applied.
 */
export async function pendingMigrations(
  query: Database["reader"],
  dir: string,
): Promise<Migration[]> {
  const migrations = await loadMigrations(dir);
  const [table] = await query<{ exists: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS exists",
  );
  if (table?.exists !== true) return migrations;
  const applied = new Map(
    (
      await query<{ version: string; checksum: string }>(
        "SELECT version, checksum FROM schema_migrations",
      )
    ).map((row) => [row.version, row.checksum]),
  );
  return migrations.filter((migration) => applied.get(migration.version) !== migration.checksum);
}

/** The start of a task that may not run DDL: refuses to serve a schema older than its code. */
export async function verifySchema(db: Database, dir: string): Promise<void> {
  const pending = await pendingMigrations(db.reader, dir);
  if (pending.length > 0) {
    throw new Error(
      `the database schema is behind this code: ${pending.map((m) => `${m.version}_${m.name}`).join(", ")} not applied; run the migrate command (main.ts migrate) with the master credential first`,
    );
  }
}
