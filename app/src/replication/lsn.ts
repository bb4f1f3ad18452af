/**
 * Write positions in PostgreSQL's WAL (LSNs, "16/B374D848"): the writer's position after a write
 * says exactly what a replica must have replayed to show that write. They replace guesses about
 * replication lag: a cache entry is deleted once the region's replica has replayed the write, a
 * row is cached only from a replica that has replayed the latest invalidation of its key, and a
 * client's reads go to a replica only once it has replayed that client's last write.
 */
import type { Database, QueryFn } from "../tiers/database";

/** An LSN as PostgreSQL prints it: two hex numbers of up to 32 bits. */
export type Lsn = string;

const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;

/** The LSN, normalised, or undefined when `value` is not one (a tampered cookie, a bad message). */
export function parseLsn(value: string | undefined): Lsn | undefined {
  return value !== undefined && LSN.test(value) ? value.toUpperCase() : undefined;
}

function toBigInt(lsn: Lsn): bigint {
  const [high, low] = lsn.split("/");
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

/** Negative when a is before b, 0 when equal, positive when after. */
export function compareLsn(a: Lsn, b: Lsn): number {
  const difference = toBigInt(a) - toBigInt(b);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

/** The later of two LSNs; undefined stands for "nothing to wait for". */
export function laterLsn(a: Lsn | undefined, b: Lsn | undefined): Lsn | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareLsn(a, b) >= 0 ? a : b;
}

/**
 * The writer's WAL position now. Called after a write has committed, it is at or past that
 * write's commit record: a replica that has replayed up to it shows the write.
 */
export async function writerLsn(writer: QueryFn): Promise<Lsn> {
  const [row] = await writer<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
  const lsn = parseLsn(row?.lsn);
  if (lsn === undefined) throw new Error(`pg_current_wal_lsn() returned ${String(row?.lsn)}`);
  return lsn;
}

/**
 * Whether this server shows everything up to `lsn`: a replica that has replayed it, or a server
 * that is not replaying at all (a writer, or a replica promoted by a failover).
 */
const CAUGHT_UP_SQL =
  "SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, NOT pg_is_in_recovery()) AS caught_up";

export async function hasReplayed(server: QueryFn, lsn: Lsn): Promise<boolean> {
  const [row] = await server<{ caught_up: boolean }>(CAUGHT_UP_SQL, [lsn]);
  return row?.caught_up === true;
}

export interface AtLeastRead<T> {
  value: T;
  /** `replica` or `writer`: the read shows everything up to the LSN. `stale`: it may not. */
  source: "replica" | "writer" | "stale";
}

/**
 * Runs `read` on a replica of this region that has replayed `lsn`. The check runs first and the
 * read after it on the same server, so the read's snapshot is at least as new as the check.
 * Without such a replica: `fallback: "writer"` reads the writer (a client's own write must show),
 * `fallback: "stale"` reads any reader and says so (the caller must not cache what it got).
 * Replicas that cannot be reached are passed over.
 */
export async function readAtLeast<T>(
  database: Database,
  lsn: Lsn | undefined,
  read: (query: QueryFn) => Promise<T>,
  fallback: "writer" | "stale",
): Promise<AtLeastRead<T>> {
  if (database.replicas.length === 0) {
    // No replica in this region: every read is the writer's (the reader is the writer too).
    return {
      value: await read(fallback === "writer" ? database.writer : database.reader),
      source: "writer",
    };
  }
  if (lsn === undefined) return { value: await read(database.reader), source: "replica" };
  for (const replica of database.replicas) {
    const caughtUp = await hasReplayed(replica, lsn).catch(() => false);
    if (caughtUp) return { value: await read(replica), source: "replica" };
  }
  return fallback === "writer"
    ? { value: await read(database.writer), source: "writer" }
    : { value: await read(database.reader), source: "stale" };
}

/**
 * Whether every reachable replica of this region has replayed `lsn` (true when there are none:
 * reads then go to the writer). An unreachable replica serves no reads, so it does not count.
 */
export async function regionHasReplayed(database: Database, lsn: Lsn): Promise<boolean> {
  const answers = await Promise.all(
    database.replicas.map((replica) => hasReplayed(replica, lsn).catch(() => undefined)),
  );
  return answers.every((answer) => answer !== false);
}
