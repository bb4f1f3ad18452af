/**
 * SQL for users, the same on PGlite and PostgreSQL. The API knows users by `public_id`, a random
 * UUID, so ids in URLs cannot be walked; the bigint primary key carries the user's logical shard
 * (sharding/ids.ts) and never leaves the server. Both travel as text: bigint exceeds JS numbers.
 */
import type { QueryFn } from "./tiers/database";
import type { FileStore } from "./tiers/files";
import type { PublicUser, User } from "./http/schemas";

interface UserRow {
  [column: string]: unknown;
  /** The public id (users.public_id). */
  id: string;
  /** The internal id (users.id), which routes to the user's shard. */
  user_id: string;
  name: string;
  email: string;
  created_at: Date;
  photo_key: string | null;
}

interface UserRowWithPassword extends UserRow {
  password_hash: string;
}

const COLUMNS = "public_id::text AS id, id::text AS user_id, name, email, created_at, photo_key";

/** The cache key of the user with this public id (its entry is a CachedUser). */
export function cacheKeyForUser(id: string): string {
  return `user.v2:${id}`;
}

/** A cached user, with the internal id that names its shard (counted for the hot-shard report). */
export interface CachedUser {
  userId: string;
  user: User;
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

/** The user with this internal id (the directory maps public ids to internal ones). */
export async function findUser(query: QueryFn, userId: string): Promise<UserRow | undefined> {
  const [row] = await query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [userId]);
  return row;
}

/**
 * The account with its password hash, for checking a password: by internal id (the directory maps
 * public ids and emails to it) and, for a sign-in, only while its email is still `email`.
 */
export async function findUserWithPassword(
  query: QueryFn,
  userId: string,
  email?: string,
): Promise<UserRowWithPassword | undefined> {
  const [row] = await query<UserRowWithPassword>(
    `SELECT ${COLUMNS}, password_hash FROM users WHERE id = $1 AND ($2::text IS NULL OR email = $2)`,
    [userId, email === undefined ? null : normalizeEmail(email)],
  );
  return row;
}

/** Inserts a user under the ids the directory issued (app/src/sharding/accounts.ts). */
export async function insertUser(
  query: QueryFn,
  user: { id: string; publicId: string; name: string; email: string; passwordHash: string },
): Promise<UserRow> {
  const [row] = await query<UserRow>(
    `INSERT INTO users (id, public_id, name, email, password_hash) VALUES ($1, $2, $3, $4, $5)
     RETURNING ${COLUMNS}`,
    [user.id, user.publicId, user.name, normalizeEmail(user.email), user.passwordHash],
  );
  if (row === undefined) throw new Error("INSERT ... RETURNING returned no row");
  return row;
}

/** What an account update may change; an undefined field is left as it is. */
export interface UserChanges {
  name?: string | undefined;
  email?: string | undefined;
  passwordHash?: string;
}

export async function updateUser(
  query: QueryFn,
  userId: string,
  changes: UserChanges,
): Promise<UserRow | undefined> {
  // COALESCE keeps a column whose change is absent (null), so one statement covers every subset.
  const [row] = await query<UserRow>(
    `UPDATE users
        SET name = COALESCE($2, name), email = COALESCE($3, email),
            password_hash = COALESCE($4, password_hash), updated_at = now()
      WHERE id = $1
      RETURNING ${COLUMNS}`,
    [
      userId,
      changes.name ?? null,
      changes.email === undefined ? null : normalizeEmail(changes.email),
      changes.passwordHash ?? null,
    ],
  );
  return row;
}

/** Deletes the user; returns the email it had, or undefined when there was no such user. */
export async function deleteUser(query: QueryFn, userId: string): Promise<string | undefined> {
  const [row] = await query<{ email: string }>("DELETE FROM users WHERE id = $1 RETURNING email", [
    userId,
  ]);
  return row?.email;
}
