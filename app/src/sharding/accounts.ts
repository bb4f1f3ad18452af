/**
 * Accounts across shards. A user's rows live on the user's shard; the directory (on the directory
 * database, physical shard 0) maps each email, and each public id, to the user's internal id. Its primary key is what
 * makes an email unique across every shard, also under concurrent sign-ups landing on different
 * shards: both reserve in the one directory table first, and only one INSERT wins.
 *
 * The reservation protocol, with the shard row as the truth and the directory as its index:
 * 1. reserve: INSERT (email, user id) into the directory (the id comes from next_user_id()), and
 *    for a new account, in the same statement, (public id, user id) into user_public_ids;
 * 2. write the user's row on its shard;
 * 3. on failure, release the reservation.
 * A process that dies between 1 and 2 leaves a reservation that no shard row backs. A directory
 * row counts only while the user's shard holds that user with that email, so such a row is
 * reclaimed by the next sign-up with the email once it is older than RESERVATION_GRACE_MS (longer
 * than any statement may take, so a sign-up still in flight is never robbed). Email changes reserve
 * the new address first and release the old one after; deletions release after the row is gone.
 * Releasing a user's last email drops its public id too, so a dead sign-up leaves nothing behind.
 */
import {
  deleteUser,
  findUser,
  findUserWithPassword,
  insertUser,
  normalizeEmail,
  updateUser,
  type UserChanges,
} from "../users";
import type { QueryFn } from "../tiers/database";
import type { Shards } from "./router";

/** Longer than the 15 s query timeout: a reservation this old whose sign-up left no row is dead. */
export const RESERVATION_GRACE_MS = 60_000;
const RESERVE_ATTEMPTS = 3;

export class EmailTakenError extends Error {
  override name = "EmailTakenError";
  constructor() {
    super("An account with this email already exists.");
  }
}

type UserRow = NonNullable<Awaited<ReturnType<typeof findUser>>>;

/** True when the user's shard holds `userId` with this email (its directory row is live). */
async function backedByShard(shards: Shards, userId: string, email: string): Promise<boolean> {
  const rows = await shards
    .forUser(userId)
    .writer("SELECT 1 FROM users WHERE id = $1 AND email = $2", [userId, email]);
  return rows.length > 0;
}

/** The ids a reservation holds: the internal one (it names the shard) and the public one. */
export interface ReservedIds {
  userId: string;
  publicId: string;
}

/**
 * Reserves `email` in the directory for the existing user `userId`, or for a new account, whose
 * internal and public ids it issues. Throws EmailTakenError when a live account or a sign-up in
 * flight holds the email.
 */
export async function reserveEmail(shards: Shards, email: string): Promise<ReservedIds>;
export async function reserveEmail(
  shards: Shards,
  email: string,
  userId: string,
): Promise<undefined>;
export async function reserveEmail(
  shards: Shards,
  email: string,
  userId?: string,
): Promise<ReservedIds | undefined> {
  const directory = shards.directory.writer;
  for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt += 1) {
    const [reserved] = await directory<{ user_id: string; public_id: string | null }>(
      `WITH reserved AS (
         INSERT INTO user_directory (email, user_id)
         VALUES ($1, COALESCE($2::bigint, next_user_id()))
         ON CONFLICT (email) DO NOTHING RETURNING user_id
       ), issued AS (
         INSERT INTO user_public_ids (public_id, user_id)
         SELECT gen_random_uuid(), user_id FROM reserved WHERE $2::bigint IS NULL
         RETURNING public_id
       )
       SELECT user_id::text AS user_id, (SELECT public_id::text FROM issued) AS public_id
         FROM reserved`,
      [email, userId ?? null],
    );
    if (reserved !== undefined) {
      if (userId !== undefined) return undefined;
      if (reserved.public_id === null) throw new Error("the directory issued no public id");
      return { userId: reserved.user_id, publicId: reserved.public_id };
    }
    const [holder] = await directory<{ user_id: string; stale: boolean }>(
      `SELECT user_id::text AS user_id, reserved_at < now() - make_interval(secs => $2) AS stale
         FROM user_directory WHERE email = $1`,
      [email, RESERVATION_GRACE_MS / 1000],
    );
    if (holder === undefined) continue; // released meanwhile: try again
    if (holder.user_id === userId) return undefined;
    if (!holder.stale || (await backedByShard(shards, holder.user_id, email))) {
      throw new EmailTakenError();
    }
    await releaseEmail(shards, email, holder.user_id);
  }
  throw new EmailTakenError();
}

/** Releases `email` from `userId`; with the user's last email goes its public id. */
export async function releaseEmail(shards: Shards, email: string, userId: string): Promise<void> {
  // The outer DELETE sees the directory as it was before the CTE's: hence "another email".
  await shards.directory.writer(
    `WITH released AS (
       DELETE FROM user_directory WHERE email = $1 AND user_id = $2 RETURNING user_id
     )
     DELETE FROM user_public_ids
      WHERE user_id = $2 AND EXISTS (SELECT 1 FROM released)
        AND NOT EXISTS (SELECT 1 FROM user_directory WHERE user_id = $2 AND email <> $1)`,
    [email, userId],
  );
}

/**
 * The internal id of the user with this public id, from a server of the directory: its writer when
 * the caller must see an account created a moment ago, a replica otherwise (the mapping never changes).
 */
export async function userIdOf(directory: QueryFn, publicId: string): Promise<string | undefined> {
  const [row] = await directory<{ user_id: string }>(
    "SELECT user_id::text AS user_id FROM user_public_ids WHERE public_id = $1",
    [publicId],
  );
  return row?.user_id;
}

/** Runs a shard write, releasing the reservation it depended on if the write fails. */
async function orRelease<T>(
  shards: Shards,
  email: string,
  userId: string,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    await releaseEmail(shards, email, userId);
    throw error;
  }
}

export async function createAccount(
  shards: Shards,
  user: { name: string; email: string; passwordHash: string },
): Promise<UserRow> {
  const email = normalizeEmail(user.email);
  const { userId, publicId } = await reserveEmail(shards, email);
  return orRelease(shards, email, userId, () =>
    shards.route(userId, (db) => insertUser(db.writer, { ...user, id: userId, publicId, email })),
  );
}

/**
 * The account for a sign-in: the directory finds the id, the user's shard confirms the email. The
 * region's replicas first (sign-in keeps working while a writer, perhaps in the other region, is
 * down), then the writers: an account created a moment ago signs in at once.
 */
export async function findAccountForSignIn(shards: Shards, email: string) {
  const normalized = normalizeEmail(email);
  for (const side of ["reader", "writer"] as const) {
    const [entry] = await shards.directory[side]<{ user_id: string }>(
      "SELECT user_id::text AS user_id FROM user_directory WHERE email = $1",
      [normalized],
    );
    if (entry === undefined) continue;
    const row = await findUserWithPassword(
      shards.forUser(entry.user_id)[side],
      entry.user_id,
      normalized,
    );
    if (row !== undefined) return row;
  }
  return undefined;
}

export async function updateAccount(
  shards: Shards,
  id: string,
  changes: UserChanges,
): Promise<UserRow | undefined> {
  const newEmail = changes.email === undefined ? undefined : normalizeEmail(changes.email);
  const current =
    newEmail === undefined ? undefined : await findUser(shards.forUser(id).writer, id);
  if (newEmail === undefined || current === undefined || current.email === newEmail) {
    return shards.route(id, (db) => updateUser(db.writer, id, changes));
  }
  await reserveEmail(shards, newEmail, id);
  const row = await orRelease(shards, newEmail, id, () =>
    shards.route(id, (db) => updateUser(db.writer, id, { ...changes, email: newEmail })),
  );
  await releaseEmail(shards, row === undefined ? newEmail : current.email, id);
  return row;
}

export async function deleteAccount(shards: Shards, id: string): Promise<boolean> {
  const email = await shards.route(id, (db) => deleteUser(db.writer, id));
  if (email === undefined) return false;
  await releaseEmail(shards, email, id);
  return true;
}
