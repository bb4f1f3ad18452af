/**
 * Resharding online: moves logical shards from one physical shard (the source) to another (the
 * target) while the app keeps serving them. The steps, each recorded in the directory's
 * `reshard_moves` so that a rerun after a crash resumes where it stopped:
 *
 * 1. capture: the source logs every change to the moving logical shards (shard_write_guard) and
 *    the target refuses app writes to them; writes in flight before that are waited for.
 * 2. copy: their rows, in key order and batches, upserted into the target (progress saved).
 * 3. catchup: the logged changes are replayed (each changed row re-read from the source).
 * 4. fence, verify, flip: the moving logical shards' write locks are taken on the source (writes
 *    to them wait; other logical shards never notice), the last changes are replayed, row counts
 *    and checksums compared, the source sealed (late writes get ZS001 and re-route), the target
 *    opened, and the map flipped in the directory in one transaction with the step. Then the locks
 *    are released. The pause is measured and reported.
 * 5. cleanup: after a grace period (every process has polled the new map), the source's copies
 *    are deleted. The seal stays, so a process that missed the flip can never write there.
 *
 * Verification happens inside the fence: afterwards the target legitimately moves on.
 */
import pg from "pg";
import type { PostgresTarget } from "../config";
import { formatShardList, shardMapProblems } from "./shardMap";
import { LOGICAL_SHARDS } from "./ids";

/** The user-owned tables: the column that holds the owner's user id, and the primary key. */
export const OWNED_TABLES = [
  { table: "users", owner: "id", key: "id" },
  { table: "jobs", owner: "user_id", key: "id" },
] as const;

/** Client settings for one physical shard's writer; `password` may be the rotating one's getter. */
export function clientConfig(
  target: PostgresTarget,
  password: string | (() => Promise<string>) | undefined = target.password,
): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    ...(password === undefined ? {} : { password }),
    ssl: target.ssl,
    ...(target.options === undefined ? {} : { options: target.options }),
  };
}

type Step = "capture" | "copy" | "catchup" | "flipped" | "done";
const STEPS: readonly Step[] = ["capture", "copy", "catchup", "flipped", "done"];
const DEFAULT_BATCH_ROWS = 1_000;
/** A catch-up pass that replays fewer changes than this is close enough to fence. */
const CATCHUP_CLOSE_ENOUGH = 200;
const MAX_CATCHUP_PASSES = 20;

/** Bad input or an unsafe move: nothing was changed. */
export class ReshardRefused extends Error {
  override name = "ReshardRefused";
}

export interface ReshardOptions {
  /** Connection settings of every physical shard, by number; 0 holds the directory. */
  shards: pg.ClientConfig[];
  move: readonly number[];
  to: number;
  /** Wait between the flip and deleting the source's copies: longer than the app's map poll. */
  graceMs: number;
  batchRows?: number;
  /** Progress lines (`step=copy rows=...`); the crash drill kills the command on them. */
  progress?: (step: string, fields?: Record<string, unknown>) => void;
}

export interface MoveReport {
  moveId: string;
  logicalShards: string;
  source: number;
  target: number;
  rowsCopied: number;
  changesReplayed: number;
  copyRowsPerSecond: number;
  /** How long writes to the moving logical shards were held back by the fence. */
  pauseMs: number;
  verified: { table: string; rows: number; checksum: string }[];
  resumed: boolean;
}

interface MoveRow {
  id: string;
  logical_shards: number[];
  source: number;
  target: number;
  step: Step;
  copy_cursor: { table: number; shard: number; key: string | null } | null;
  change_seq: string;
  rows_copied: string;
}

async function connect(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client({ ...config, application_name: "zero-to-millions-reshard" });
  await client.connect();
  // The mover's own writes pass the guard trigger; timestamps compare the same on every shard.
  await client.query("SET sharding.mover = 'on'; SET TimeZone = 'UTC'");
  return client;
}

async function columnsOf(client: pg.Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((row) => row.name);
}

/**
 * Upserts rows into `table` on `client`. Rows travel as PostgreSQL's own JSON text, never parsed
 * in JavaScript: a bigint id would lose digits as a JS number.
 */
async function upsert(
  client: pg.Client,
  table: string,
  key: string,
  columns: string[],
  rows: string[],
): Promise<void> {
  if (rows.length === 0) return;
  const list = columns.map((column) => `"${column}"`).join(", ");
  const updates = columns.map((column) => `"${column}" = EXCLUDED."${column}"`).join(", ");
  await client.query(
    `INSERT INTO ${table} (${list})
     SELECT ${list} FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)
     ON CONFLICT ("${key}") DO UPDATE SET ${updates}`,
    [`[${rows.join(",")}]`],
  );
}

export async function reshard(options: ReshardOptions): Promise<MoveReport> {
  const progress = options.progress ?? (() => undefined);
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  if (options.shards.length === 0) throw new ReshardRefused("no physical shards were given");
  const clients = new Map<number, pg.Client>();
  const client = async (shard: number) => {
    let existing = clients.get(shard);
    if (existing === undefined) {
      existing = await connect(options.shards[shard]!);
      clients.set(shard, existing);
    }
    return existing;
  };
  let fence: pg.Client | undefined;
  try {
    const directory = await client(0);
    const move = await planMove(directory, options);
    const resumed = move.step !== "capture" || move.copy_cursor !== null;
    const logical = move.logical_shards;
    const source = await client(move.source);
    const target = await client(move.target);
    const lockKey = "hashtext(current_schema())";
    const described = `${formatShardList(logical)} from physical ${move.source} to ${move.target}`;
    progress("start", { move: move.id, logicalShards: described, resumedAt: move.step });

    const setStep = async (step: Step, extra = "", params: unknown[] = []) => {
      await directory.query(
        `UPDATE reshard_moves SET step = $2, updated_at = now()${extra} WHERE id = $1`,
        [move.id, step, ...params],
      );
      move.step = step;
    };

    let rowsCopied = Number(move.rows_copied);
    let changesReplayed = 0;
    let copySeconds = 0;
    let changeSeq = Number(move.change_seq);

    /** Replays logged changes after `changeSeq`; returns how many it replayed. */
    const catchUp = async (on: pg.Client = source): Promise<number> => {
      let replayed = 0;
      // Up to the changes logged so far: under a steady stream of writes a pass must still end.
      const { rows: high } = await on.query<{ seq: string | null }>(
        "SELECT max(seq)::text AS seq FROM shard_changes WHERE logical_shard = ANY($1)",
        [logical],
      );
      const upTo = Number(high[0]?.seq ?? 0);
      while (changeSeq < upTo) {
        const { rows: changes } = await on.query<{
          seq: string;
          table_name: string;
          row_key: string;
        }>(
          `SELECT seq::text AS seq, table_name, row_key FROM shard_changes
            WHERE seq > $1 AND logical_shard = ANY($2) ORDER BY seq LIMIT $3`,
          [changeSeq, logical, batchRows * 5],
        );
        if (changes.length === 0) break;
        for (const owned of OWNED_TABLES) {
          const keys = [
            ...new Set(changes.filter((c) => c.table_name === owned.table).map((c) => c.row_key)),
          ];
          if (keys.length === 0) continue;
          const { rows } = await on.query<{ row: string; key: string }>(
            `SELECT to_jsonb(t)::text AS row, "${owned.key}"::text AS key
               FROM ${owned.table} t WHERE "${owned.key}" = ANY($1)`,
            [keys],
          );
          await upsert(
            target,
            owned.table,
            owned.key,
            await columnsOf(target, owned.table),
            rows.map((r) => r.row),
          );
          const present = new Set(rows.map((r) => r.key));
          const gone = keys.filter((key) => !present.has(key));
          if (gone.length > 0) {
            await target.query(`DELETE FROM ${owned.table} WHERE "${owned.key}" = ANY($1)`, [gone]);
          }
        }
        changeSeq = Number(changes.at(-1)!.seq);
        replayed += changes.length;
        await directory.query(
          "UPDATE reshard_moves SET change_seq = $2, updated_at = now() WHERE id = $1",
          [move.id, changeSeq],
        );
      }
      return replayed;
    };

    if (move.step === "capture" || move.step === "copy" || move.step === "catchup") {
      // 1. capture (idempotent: a rerun before the flip starts here again, unsealing a seal
      // that a crash inside the fence left behind; the map still names the source).
      progress("capture");
      await source.query(
        `INSERT INTO shard_state (logical_shard, state) SELECT unnest($1::int[]), 'capturing'
         ON CONFLICT (logical_shard) DO UPDATE SET state = 'capturing'`,
        [logical],
      );
      await target.query(
        `INSERT INTO shard_state (logical_shard, state) SELECT unnest($1::int[]), 'incoming'
         ON CONFLICT (logical_shard) DO UPDATE SET state = 'incoming'`,
        [logical],
      );
      // Writes that began before capturing was on finish before the copy's snapshot: taking
      // (and dropping) each write lock waits for them.
      await source.query("BEGIN");
      for (const shard of logical) {
        await source.query(`SELECT pg_advisory_xact_lock(${lockKey}, $1)`, [shard]);
      }
      await source.query("COMMIT");
      if (move.step === "capture") {
        // Leftovers of an earlier attempt on the target would survive the upserts: start clean.
        for (const owned of OWNED_TABLES) {
          await target.query(
            `DELETE FROM ${owned.table} WHERE logical_shard_of("${owned.owner}") = ANY($1)`,
            [logical],
          );
        }
        await setStep("copy", ", copy_cursor = $3", [
          JSON.stringify({ table: 0, shard: 0, key: null }),
        ]);
      }
    }

    if (move.step === "copy") {
      // 2. copy, in (table, logical shard, key) order, saving the cursor after every batch.
      progress("copy");
      const started = performance.now();
      let cursor = move.copy_cursor ?? { table: 0, shard: 0, key: null };
      while (cursor.table < OWNED_TABLES.length) {
        const owned = OWNED_TABLES[cursor.table]!;
        const shard = logical[cursor.shard];
        if (shard === undefined) {
          cursor = { table: cursor.table + 1, shard: 0, key: null };
          continue;
        }
        const columns = await columnsOf(target, owned.table);
        const { rows } = await source.query<{ row: string; key: string }>(
          `SELECT to_jsonb(t)::text AS row, "${owned.key}"::text AS key FROM ${owned.table} t
            WHERE logical_shard_of("${owned.owner}") = $1
              ${cursor.key === null ? "" : `AND "${owned.key}" > $3`}
            ORDER BY "${owned.key}" LIMIT $2`,
          cursor.key === null ? [shard, batchRows] : [shard, batchRows, cursor.key],
        );
        await upsert(
          target,
          owned.table,
          owned.key,
          columns,
          rows.map((r) => r.row),
        );
        rowsCopied += rows.length;
        cursor =
          rows.length < batchRows
            ? { table: cursor.table, shard: cursor.shard + 1, key: null }
            : { ...cursor, key: rows.at(-1)!.key };
        await directory.query(
          "UPDATE reshard_moves SET copy_cursor = $2, rows_copied = $3, updated_at = now() WHERE id = $1",
          [move.id, JSON.stringify(cursor), rowsCopied],
        );
        progress("copy-batch", { rowsCopied });
      }
      copySeconds = (performance.now() - started) / 1000;
      await setStep("catchup");
    }

    let pauseMs = 0;
    let verified: MoveReport["verified"] = [];
    if (move.step === "catchup") {
      // 3. catch up until a pass finds little left to replay.
      progress("catchup");
      for (let pass = 0; pass < MAX_CATCHUP_PASSES; pass += 1) {
        const replayed = await catchUp();
        changesReplayed += replayed;
        if (replayed < CATCHUP_CLOSE_ENOUGH) break;
      }

      // 4. fence, last catch-up, verify, seal, open, flip.
      progress("fence");
      fence = await connect(options.shards[move.source]!);
      const fenced = performance.now();
      for (const shard of logical) {
        await fence.query(`SELECT pg_advisory_lock(${lockKey}, $1)`, [shard]);
      }
      changesReplayed += await catchUp(fence);
      progress("verify");
      verified = await verify(fence, target, logical);
      await fence.query(
        `INSERT INTO shard_state (logical_shard, state) SELECT unnest($1::int[]), 'moved'
         ON CONFLICT (logical_shard) DO UPDATE SET state = 'moved'`,
        [logical],
      );
      progress("sealed");
      await target.query("DELETE FROM shard_state WHERE logical_shard = ANY($1)", [logical]);
      await directory.query("BEGIN");
      await directory.query(
        "UPDATE shard_map SET physical_shard = $2 WHERE logical_shard = ANY($1)",
        [logical, move.target],
      );
      await directory.query("UPDATE shard_map_version SET version = version + 1");
      pauseMs = performance.now() - fenced;
      await directory.query(
        "UPDATE reshard_moves SET step = 'flipped', pause_ms = $2, updated_at = now() WHERE id = $1",
        [move.id, pauseMs],
      );
      await directory.query("COMMIT");
      move.step = "flipped";
      await fence.query("SELECT pg_advisory_unlock_all()");
      pauseMs = performance.now() - fenced;
      progress("flipped", { pauseMs: Math.round(pauseMs) });
    }

    if (move.step === "flipped") {
      // 5. cleanup, once every process has had time to see the new map.
      progress("cleanup", { graceMs: options.graceMs });
      await new Promise((resolve) => setTimeout(resolve, options.graceMs));
      for (const owned of OWNED_TABLES) {
        await source.query(
          `DELETE FROM ${owned.table} WHERE logical_shard_of("${owned.owner}") = ANY($1)`,
          [logical],
        );
      }
      await source.query("DELETE FROM shard_changes WHERE logical_shard = ANY($1)", [logical]);
      await setStep("done");
    }
    progress("done");
    const [final] = (
      await directory.query<{ pause_ms: number | null }>(
        "SELECT pause_ms FROM reshard_moves WHERE id = $1",
        [move.id],
      )
    ).rows;
    return {
      moveId: move.id,
      logicalShards: formatShardList(logical),
      source: move.source,
      target: move.target,
      rowsCopied,
      changesReplayed,
      copyRowsPerSecond: copySeconds > 0 ? rowsCopied / copySeconds : 0,
      pauseMs: pauseMs > 0 ? pauseMs : (final?.pause_ms ?? 0),
      verified,
      resumed,
    };
  } finally {
    await fence?.end().catch(() => undefined);
    await Promise.all([...clients.values()].map((c) => c.end().catch(() => undefined)));
  }
}

/** Row counts and checksums of the moving rows on both sides; throws (fence released) if any differ. */
async function verify(
  source: pg.Client,
  target: pg.Client,
  logical: readonly number[],
): Promise<MoveReport["verified"]> {
  const results: MoveReport["verified"] = [];
  for (const owned of OWNED_TABLES) {
    const sql = `SELECT count(*)::int AS rows,
        coalesce(md5(string_agg(to_jsonb(t)::text, '' ORDER BY "${owned.key}")), '') AS checksum
      FROM ${owned.table} t WHERE logical_shard_of("${owned.owner}") = ANY($1)`;
    const [from, to] = await Promise.all(
      [source, target].map(
        async (side) =>
          (await side.query<{ rows: number; checksum: string }>(sql, [logical])).rows[0]!,
      ),
    );
    if (from.rows !== to.rows || from.checksum !== to.checksum) {
      throw new Error(
        `verification failed for ${owned.table}: the source has ${from.rows} rows (${from.checksum}), the target ${to.rows} (${to.checksum}); nothing was flipped, rerun the same command`,
      );
    }
    results.push({ table: owned.table, rows: from.rows, checksum: from.checksum });
  }
  return results;
}

/**
 * The move to run: the unfinished one when it is this same move (resume), otherwise a new one,
 * after checking it is safe. Throws ReshardRefused with nothing changed otherwise.
 */
async function planMove(directory: pg.Client, options: ReshardOptions): Promise<MoveRow> {
  const physicalShards = options.shards.length;
  const wanted = [...new Set(options.move)].sort((a, b) => a - b);
  if (wanted.length === 0) throw new ReshardRefused("--move names no logical shards");
  const bad = wanted.filter(
    (shard) => !Number.isInteger(shard) || shard < 0 || shard >= LOGICAL_SHARDS,
  );
  if (bad.length > 0) {
    throw new ReshardRefused(
      `logical shards ${bad.join(", ")} do not exist (0-${LOGICAL_SHARDS - 1})`,
    );
  }
  if (!Number.isInteger(options.to) || options.to < 0 || options.to >= physicalShards) {
    throw new ReshardRefused(
      `physical shard ${options.to} is unknown: ${physicalShards} are configured (0-${physicalShards - 1})`,
    );
  }
  const { rows: unfinished } = await directory.query<MoveRow>(
    `SELECT id::text AS id, logical_shards, source, target, step, copy_cursor,
            change_seq::text AS change_seq, rows_copied::text AS rows_copied
       FROM reshard_moves WHERE step <> 'done' ORDER BY id LIMIT 1`,
  );
  const open = unfinished[0];
  if (open !== undefined) {
    const same =
      open.target === options.to &&
      open.logical_shards.length === wanted.length &&
      open.logical_shards.every((shard, index) => shard === wanted[index]);
    if (!same) {
      throw new ReshardRefused(
        `move ${open.id} (logical shards ${formatShardList(open.logical_shards)} to physical ${open.target}) is unfinished at step ${open.step}; finish it first: npm run reshard -- --move ${formatShardList(open.logical_shards)} --to ${open.target}`,
      );
    }
    if (!STEPS.includes(open.step))
      throw new ReshardRefused(`move ${open.id} has unknown step ${open.step}`);
    return open;
  }

  const { rows: mapRows } = await directory.query<{
    logical_shard: number;
    physical_shard: number;
  }>("SELECT logical_shard, physical_shard FROM shard_map");
  const map: (number | undefined)[] = Array.from({ length: LOGICAL_SHARDS }, () => undefined);
  for (const row of mapRows) map[row.logical_shard] = row.physical_shard;
  const current = shardMapProblems(map, physicalShards);
  if (current.length > 0) {
    throw new ReshardRefused(
      `the live shard map is unusable with ${physicalShards} physical shards: ${current.join("; ")}`,
    );
  }
  const sources = new Set(wanted.map((shard) => map[shard]!));
  const already = wanted.filter((shard) => map[shard] === options.to);
  if (already.length > 0) {
    throw new ReshardRefused(
      `logical shards ${formatShardList(already)} are already on physical shard ${options.to}: a move onto itself`,
    );
  }
  if (sources.size > 1) {
    throw new ReshardRefused(
      `logical shards ${formatShardList(wanted)} live on physical shards ${[...sources].join(", ")}; move the ones of each physical shard in a command of its own`,
    );
  }
  const after = [...map];
  for (const shard of wanted) after[shard] = options.to;
  const problems = shardMapProblems(after, physicalShards);
  if (problems.length > 0)
    throw new ReshardRefused(`the map after the move would be unusable: ${problems.join("; ")}`);

  const [source] = sources;
  const { rows } = await directory.query<MoveRow>(
    `INSERT INTO reshard_moves (logical_shards, source, target, step) VALUES ($1, $2, $3, 'capture')
     RETURNING id::text AS id, logical_shards, source, target, step, copy_cursor,
               change_seq::text AS change_seq, rows_copied::text AS rows_copied`,
    [wanted, source, options.to],
  );
  return rows[0]!;
}
