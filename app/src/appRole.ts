/**
 * The database role the app runs as: it may read and write rows, and nothing else. No DDL (it owns
 * no table and may not create one), no superuser, no role management. The migrate command creates
 * it and grants it what it needs, with the master credential, after applying the migrations; every
 * step is idempotent, so the command can run before every deploy.
 */
import type { Logger } from "pino";
import type { Database, Transaction } from "./tiers/database";

/** RDS's role for IAM database authentication; members may log in only with an IAM token. */
export const RDS_IAM_ROLE = "rds_iam";

export interface AppRoleOptions {
  /** DATABASE_APP_USER: the role's name (validated by loadMigrateConfig; quoted with %I anyway). */
  name: string;
  /**
   * DATABASE_APP_PASSWORD: set this password (local and password-based setups). Without it, the
   * role logs in with IAM tokens: it is granted rds_iam when the server has that role (RDS).
   */
  password: string | undefined;
}

/** Runs the statement `format(template, ...args)` builds, so identifiers and literals are quoted. */
async function execFormatted(tx: Transaction, template: string, args: string[]): Promise<void> {
  const placeholders = args.map((_, index) => `$${index + 2}::text`).join(", ");
  const [row] = await tx.query<{ sql: string }>(`SELECT format($1, ${placeholders}) AS sql`, [
    template,
    ...args,
  ]);
  if (row === undefined) throw new Error("format() returned no row");
  await tx.exec(row.sql);
}

/**
 * Creates the app's role when missing and grants it data access on the current schema (the
 * schema the migrations wrote to): rows of every table, its sequences, and the same on tables
 * later migrations create. `schema_migrations` stays read-only to it (a task checks the version).
 */
export async function ensureAppRole(
  db: Database,
  role: AppRoleOptions,
  logger: Logger,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [existing] = await tx.query<{ super: boolean; createdb: boolean; createrole: boolean }>(
      "SELECT rolsuper AS super, rolcreatedb AS createdb, rolcreaterole AS createrole FROM pg_roles WHERE rolname = $1",
      [role.name],
    );
    if (existing === undefined) {
      await execFormatted(tx, "CREATE ROLE %I LOGIN", [role.name]);
      logger.info({ role: role.name }, "app database role created");
    } else if (existing.super || existing.createdb || existing.createrole) {
      throw new Error(
        `the database role ${role.name} may create databases, roles or is a superuser; the app's role must not. Fix: use another DATABASE_APP_USER, or ALTER ROLE ${role.name} NOSUPERUSER NOCREATEDB NOCREATEROLE`,
      );
    }
    if (role.password !== undefined) {
      await execFormatted(tx, "ALTER ROLE %I LOGIN PASSWORD %L", [role.name, role.password]);
    } else {
      const [iam] = await tx.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [RDS_IAM_ROLE]);
      if (iam !== undefined) await execFormatted(tx, "GRANT %I TO %I", [RDS_IAM_ROLE, role.name]);
    }
    const [where] = await tx.query<{ database: string; schema: string }>(
      "SELECT current_database() AS database, current_schema() AS schema",
    );
    if (where === undefined) throw new Error("no current database");
    const on = [where.schema, role.name];
    await execFormatted(tx, "GRANT CONNECT ON DATABASE %I TO %I", [where.database, role.name]);
    await execFormatted(tx, "GRANT USAGE ON SCHEMA %I TO %I", on);
    await execFormatted(
      tx,
      "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I",
      on,
    );
    await execFormatted(tx, "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I", on);
    await execFormatted(
      tx,
      "ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I",
      on,
    );
    await execFormatted(
      tx,
      "ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I",
      on,
    );
    await execFormatted(tx, "REVOKE INSERT, UPDATE, DELETE ON %I.schema_migrations FROM %I", on);
  });
  logger.info({ role: role.name }, "app database role has its grants");
}
