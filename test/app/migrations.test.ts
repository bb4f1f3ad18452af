// Migrations on PGlite: applied once, in order, under the advisory lock, even when run concurrently.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadMigrations, migrate } from "../../app/src/migrations";
import { migrationsDir } from "../../app/src/paths";
import type { Database } from "../../app/src/tiers/database";
import { openPGlite } from "../../app/src/tiers/pglite";
import { captureLogs, makeTempDir } from "./support/helpers";

describe("migrations (PGlite)", () => {
  let dir: { path: string; remove(): Promise<void> };
  let db: Database;

  before(async () => {
    dir = await makeTempDir("migrations-");
    db = await openPGlite(join(dir.path, "pglite"));
  });
  after(async () => {
    await db.close();
    await dir.remove();
  });

  /**
   * A migrations directory for one test, under the suite's (removed with it): a copy of the app's
   * migrations when `copyApp`, else empty, for the test to add to or edit.
   */
  async function migrationsDirNamed(name: string, { copyApp }: { copyApp: boolean }) {
    const path = join(dir.path, name);
    await mkdir(path);
    if (copyApp) {
      for (const migration of await loadMigrations(migrationsDir())) {
        await writeFile(join(path, `${migration.version}_${migration.name}.sql`), migration.sql);
      }
    }
    return path;
  }

  it("GIVEN the app's migrations THEN they are numbered, unique and in order", async () => {
    const migrations = await loadMigrations(migrationsDir());
    assert.ok(migrations.length >= 2);
    assert.deepEqual(
      migrations.map((migration) => migration.version),
      migrations.map((_, index) => String(index + 1).padStart(3, "0")),
    );
  });

  it("GIVEN a fresh database WHEN five migrators start at once THEN each migration is applied exactly once", async () => {
    const logs = captureLogs();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => migrate(db, migrationsDir(), logs.logger)),
    );
    const all = (await loadMigrations(migrationsDir())).map((migration) => migration.version);
    assert.deepEqual(results.flat().sort(), all, "every version applied by exactly one migrator");
    const rows = await db.writer<{ version: string }>(
      "SELECT version FROM schema_migrations ORDER BY version",
    );
    assert.deepEqual(
      rows.map((row) => row.version),
      all,
    );
    assert.deepEqual(
      await migrate(db, migrationsDir(), logs.logger),
      [],
      "a later start has nothing to do",
    );
  });

  it("GIVEN an applied migration whose file changed THEN migrating fails with a clear message", async () => {
    const changed = await migrationsDirNamed("changed", { copyApp: true });
    await writeFile(join(changed, "001_users.sql"), "SELECT 1; -- edited");
    await assert.rejects(
      migrate(db, changed, captureLogs().logger),
      /001_users changed after it was applied/,
    );
  });

  it("GIVEN a migration that fails THEN nothing of the run is kept", async () => {
    const broken = await migrationsDirNamed("broken", { copyApp: true });
    await writeFile(join(broken, "900_good.sql"), "CREATE TABLE good_table (id int);");
    await writeFile(join(broken, "901_bad.sql"), "CREATE TABLE oops (;");
    await assert.rejects(migrate(db, broken, captureLogs().logger));
    const tables = await db.writer("SELECT 1 FROM pg_tables WHERE tablename = 'good_table'");
    assert.equal(tables.length, 0, "the run is one transaction");
  });

  it("GIVEN a misnamed migration file THEN loading fails naming it", async () => {
    const misnamed = await migrationsDirNamed("misnamed", { copyApp: false });
    await writeFile(join(misnamed, "1-users.sql"), "SELECT 1;");
    await assert.rejects(loadMigrations(misnamed), /1-users\.sql is not named/);
  });
});
