/** Users inserted straight into the run's schema (no sign-up: its cache invalidations would interfere). */
import pg from "pg";
import type { AppStack } from "./context";

const REPLICA_WAIT_MS = 10_000;

/**
 * Inserts `count` users named after `label` and waits until the replica has them, since the
 * app reads users from the replica. Returns their public ids (what the routes take).
 */
export async function seedUsers(stack: AppStack, label: string, count: number): Promise<string[]> {
  const db = stack.scratch.openDatabase();
  const rows = await db.writer<{ id: string }>(
    // As a sign-up writes them (app/src/sharding/accounts.ts): a sharded id from the directory's
    // next_user_id(), and the directory's email and public-id rows, which reads by public id need.
    `WITH added AS (
       INSERT INTO users (id, name, email, password_hash)
       SELECT next_user_id(), $1 || ' ' || n, lower($1) || '-' || n || '@example.com', 'not-a-real-hash'
         FROM generate_series(1, $2::int) AS n
       RETURNING id, public_id, email
     ), emails AS (
       INSERT INTO user_directory (email, user_id) SELECT email, id FROM added
     ), public_ids AS (
       INSERT INTO user_public_ids (public_id, user_id) SELECT public_id, id FROM added
     )
     SELECT public_id::text AS id FROM added`,
    [label, count],
  );
  await db.close();
  const ids = rows.map((row) => row.id);
  const replica = new pg.Client({
    connectionString: stack.scratch.scoped(stack.scratch.urls.replicaUrl),
  });
  await replica.connect();
  try {
    const deadline = Date.now() + REPLICA_WAIT_MS;
    while (Date.now() < deadline) {
      const { rows: found } = await replica.query("SELECT 1 FROM users WHERE public_id = $1", [
        ids.at(-1),
      ]);
      if (found.length > 0) return ids;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await replica.end();
  }
  throw new Error(`the replica did not have the seeded users within ${REPLICA_WAIT_MS} ms`);
}
