/** SQL for users, the same on PGlite and PostgreSQL. Ids travel as text: bigint exceeds JS numbers. */
import type { QueryFn } from "./tiers/database";
import type { FileStore } from "./tiers/files";
import type { User } from "./http/schemas";

interface UserRow {
  [column: string]: unknown;
  id: string;
  name: string;
  email: string;
  created_at: Date;
  photo_key: string | null;
}

interface UserRowWithPassword extends UserRow {
  password_hash: string;
}

const COLUMNS = "id::text AS id, name, email, created_at, photo_key";

export function cacheKeyForUser(id: string): string {
  return `user:${id}`;
}

/** Emails compare case-insensitively; they are stored in this form. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The public view of a user: never the password hash. */
export function toUser(row: UserRow, files: FileStore): User {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    createdAt: new Date(row.created_at).toISOString(),
    photo: row.photo_key === null ? null : { thumbnailUrl: files.publicUrl(row.photo_key) },
  };
}

export async function findUser(query: QueryFn, id: string): Promise<UserRow | undefined> {
  const [row] = await query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
  return row;
}

/** The user `id` if its email is still `email` (the directory found the id from the email). */
export async function findUserForSignIn(
  query: QueryFn,
  id: string,
  email: string,
): Promise<UserRowWithPassword | undefined> {
  const [row] = await query<UserRowWithPassword>(
    `SELECT ${COLUMNS}, password_hash FROM users WHERE id = $1 AND email = $2`,
    [id, normalizeEmail(email)],
  );
  return row;
}

/** Inserts a user under the id the email directory issued (app/src/sharding/accounts.ts). */
export async function insertUser(
  query: QueryFn,
  user: { id: string; name: string; email: string; passwordHash: string },
): Promise<UserRow> {
  const [row] = await query<UserRow>(
    `INSERT INTO users (id, name, email, password_hash) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [user.id, user.name, normalizeEmail(user.email), user.passwordHash],
  );
  if (row === undefined) throw new Error("INSERT ... RETURNING returned no row");
  return row;
}

export async function updateUser(
  query: QueryFn,
  id: string,
  changes: { name?: string | undefined; email?: string | undefined },
): Promise<UserRow | undefined> {
  // COALESCE keeps a column whose change is absent (null), so one statement covers every subset.
  const [row] = await query<UserRow>(
    `UPDATE users
        SET name = COALESCE($2, name), email = COALESCE($3, email), updated_at = now()
      WHERE id = $1
      RETURNING ${COLUMNS}`,
    [id, changes.name ?? null, changes.email === undefined ? null : normalizeEmail(changes.email)],
  );
  return row;
}

/** Deletes the user; returns the email it had, or undefined when there was no such user. */
export async function deleteUser(query: QueryFn, id: string): Promise<string | undefined> {
  const [row] = await query<{ email: string }>("DELETE FROM users WHERE id = $1 RETURNING email", [
    id,
  ]);
  return row?.email;
}
