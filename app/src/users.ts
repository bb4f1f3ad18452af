/**
 * SQL for users, the same on PGlite and PostgreSQL. The app knows users by `public_id`, a random
 * UUID: the bigint primary key never leaves the database, so ids in URLs cannot be walked.
 */
import type { QueryFn } from "./tiers/database";
import type { FileStore } from "./tiers/files";
import type { PublicUser, User } from "./http/schemas";

interface UserRow {
  [column: string]: unknown;
  /** The public id (users.public_id). */
  id: string;
  name: string;
  email: string;
  created_at: Date;
  photo_key: string | null;
}

interface UserRowWithPassword extends UserRow {
  password_hash: string;
}

const COLUMNS = "public_id::text AS id, name, email, created_at, photo_key";

export function cacheKeyForUser(id: string): string {
  return `user:${id}`;
}

/** Emails compare case-insensitively; they are stored in this form. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The account as its owner sees it: never the password hash. */
export function toUser(row: UserRow, files: FileStore): User {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    createdAt: new Date(row.created_at).toISOString(),
    photo: row.photo_key === null ? null : { thumbnailUrl: files.publicUrl(row.photo_key) },
  };
}

/** What anyone but the owner sees: built field by field, so a new private field stays private. */
export function toPublicUser(user: User): PublicUser {
  return { id: user.id, name: user.name, photo: user.photo };
}

export async function findUser(query: QueryFn, id: string): Promise<UserRow | undefined> {
  const [row] = await query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE public_id = $1`, [id]);
  return row;
}

/** The account with its password hash, for checking a password: by email (sign-in) or by id. */
export async function findUserWithPassword(
  query: QueryFn,
  by: { email: string } | { id: string },
): Promise<UserRowWithPassword | undefined> {
  const [column, value] =
    "email" in by ? ["email", normalizeEmail(by.email)] : ["public_id", by.id];
  const [row] = await query<UserRowWithPassword>(
    `SELECT ${COLUMNS}, password_hash FROM users WHERE ${column} = $1`,
    [value],
  );
  return row;
}

export async function insertUser(
  query: QueryFn,
  user: { name: string; email: string; passwordHash: string },
): Promise<UserRow> {
  const [row] = await query<UserRow>(
    `INSERT INTO users (name, email, password_hash) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
    [user.name, normalizeEmail(user.email), user.passwordHash],
  );
  if (row === undefined) throw new Error("INSERT ... RETURNING returned no row");
  return row;
}

export async function updateUser(
  query: QueryFn,
  id: string,
  changes: { name?: string | undefined; email?: string | undefined; passwordHash?: string },
): Promise<UserRow | undefined> {
  // COALESCE keeps a column whose change is absent (null), so one statement covers every subset.
  const [row] = await query<UserRow>(
    `UPDATE users
        SET name = COALESCE($2, name), email = COALESCE($3, email),
            password_hash = COALESCE($4, password_hash), updated_at = now()
      WHERE public_id = $1
      RETURNING ${COLUMNS}`,
    [
      id,
      changes.name ?? null,
      changes.email === undefined ? null : normalizeEmail(changes.email),
      changes.passwordHash ?? null,
    ],
  );
  return row;
}

export async function deleteUser(query: QueryFn, id: string): Promise<boolean> {
  const rows = await query("DELETE FROM users WHERE public_id = $1 RETURNING id", [id]);
  return rows.length > 0;
}
