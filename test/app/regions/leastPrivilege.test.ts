// Least privilege in the database: the migrate step (master credential) applies migrations and
// creates the app's own role with row access only; the app's role can read and write rows but not
// change the schema. Against the real PostgreSQL primary.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { loadConfig, loadMigrateConfig } from "../../../app/src/config";
import { runMigrateCommand } from "../../../app/src/migrateCommand";
import { errorCode } from "../../../app/src/tiers/database";
import { verifySchema } from "../../../app/src/migrations";
import { migrationsDir } from "../../../app/src/paths";
import { LocalFileStore } from "../../../app/src/tiers/files";
import { captureLogs, makeTempDir } from "../support/helpers";
import {
  isolatedSchema,
  openTestPostgres,
  needServices,
  startServiceApp,
} from "../support/services";

/** PostgreSQL's SQLSTATE for "permission denied" (and "must be owner"). */
const INSUFFICIENT_PRIVILEGE = "42501";

const services = needServices("database");

describe("the app's database role", { skip: services.skip }, () => {
  let schema: Awaited<ReturnType<typeof isolatedSchema>>;
  const role = `app_rt_${randomBytes(5).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  let masterUrl: string;
  let appRole: pg.Client;
  const applied: string[][] = [];

  const migrateOnce = () =>
    runMigrateCommand(
      loadConfig({ DATABASE_URL: masterUrl }),
      loadMigrateConfig({ DATABASE_APP_USER: role, DATABASE_APP_PASSWORD: password }),
      captureLogs().logger,
    );

  before(async () => {
    const env = services.env();
    schema = await isolatedSchema(env.databaseUrl);
    masterUrl = schema.url(env.databaseUrl);
    applied.push(await migrateOnce(), await migrateOnce());
    const asApp = new URL(masterUrl);
    asApp.username = role;
    asApp.password = password;
    appRole = new pg.Client({ connectionString: asApp.toString() });
    await appRole.connect();
  });
  after(async () => {
    await appRole?.end();
    await schema?.drop();
    const admin = new pg.Client({ connectionString: services.env().databaseUrl });
    await admin.connect();
    try {
      await admin.query(`REVOKE CONNECT ON DATABASE ${admin.database!} FROM ${role}`);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await admin.end();
    }
  });

  it("GIVEN migrate run twice THEN the first applies every migration and the second nothing", async () => {
    assert.ok(applied[0]!.length > 0);
    assert.deepEqual(applied[1], []);
  });

  it("THEN the role is neither superuser nor may create roles or databases", async () => {
    const { rows } = await appRole.query<{
      rolsuper: boolean;
      rolcreaterole: boolean;
      rolcreatedb: boolean;
    }>("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user");
    assert.deepEqual(rows, [{ rolsuper: false, rolcreaterole: false, rolcreatedb: false }]);
  });

  it("THEN it reads and writes rows", async () => {
    const inserted = await appRole.query<{ id: string }>(
      "INSERT INTO users (id, name, email, password_hash) VALUES (next_user_id(), 'Least', 'least@example.com', 'x') RETURNING id::text",
    );
    const id = inserted.rows[0]!.id;
    await appRole.query("UPDATE users SET name = 'Less' WHERE id = $1", [id]);
    const read = await appRole.query("SELECT name FROM users WHERE id = $1", [id]);
    assert.deepEqual(read.rows, [{ name: "Less" }]);
    await appRole.query("DELETE FROM users WHERE id = $1", [id]);
    const versions = await appRole.query("SELECT version FROM schema_migrations");
    assert.ok(versions.rows.length > 0, "a task checks the schema version");
  });

  const refused: [string, string][] = [
    ["CREATE TABLE", "CREATE TABLE sneaky (id int)"],
    ["DROP TABLE", "DROP TABLE users"],
    ["ALTER TABLE", "ALTER TABLE users ADD COLUMN sneaky text"],
    ["TRUNCATE", "TRUNCATE users"],
    ["a table in public", "CREATE TABLE public.sneaky (id int)"],
    ["CREATE SCHEMA", "CREATE SCHEMA sneaky"],
    ["CREATE ROLE", "CREATE ROLE sneaky"],
    ["rewriting the schema version", "DELETE FROM schema_migrations"],
  ];
  for (const [what, sql] of refused) {
    it(`WHEN it tries ${what} THEN PostgreSQL refuses (permission denied)`, async () => {
      await assert.rejects(appRole.query(sql), (error: unknown) => {
        assert.equal(errorCode(error), INSUFFICIENT_PRIVILEGE, String(error));
        return true;
      });
    });
  }

  it("GIVEN the app on its role with DATABASE_MIGRATIONS=verify WHEN it starts THEN it serves sign-ups without any DDL", async () => {
    const asApp = new URL(masterUrl);
    asApp.username = role;
    asApp.password = password;
    const logs = captureLogs();
    const files = await makeTempDir("least-privilege-");
    const t = await startServiceApp(
      {
        database: openTestPostgres(asApp.toString(), [], logs.logger),
        files: new LocalFileStore({ dir: files.path }),
      },
      { logs, settings: { migrations: "verify" } },
    );
    try {
      const created = await t.app.inject({
        method: "POST",
        url: "/users",
        payload: { name: "Role", email: "role@example.com", password: "12345678" },
      });
      assert.equal(created.statusCode, 201, created.body);
    } finally {
      await t.app.close();
      await files.remove();
    }
  });

  it("GIVEN a schema never migrated WHEN the app starts with verify THEN it refuses, naming the migrate command", async () => {
    const fresh = await isolatedSchema(services.env().databaseUrl);
    const logs = captureLogs();
    const database = openTestPostgres(fresh.url(services.env().databaseUrl), [], logs.logger);
    try {
      await assert.rejects(
        verifySchema(database, migrationsDir()),
        /schema is behind this code: 001_users, .* run the migrate command \(main.ts migrate\)/,
      );
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
});
