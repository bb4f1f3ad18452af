/**
 * 7. Sharding (issue 13), three measurements side by side:
 * - routing overhead: the app's sharded read and write of one user (the id says its logical shard,
 *   the map its physical shard) against the same statement sent straight to the right shard's pool;
 * - spread: the busiest logical shard's share of 1,000,000 ids from next_user_id() (in PostgreSQL)
 *   against the even share;
 * - resharding: rows moved per second, and how long the fence held writes to the moving logical
 *   shards back, while writers keep writing to moving and to other logical shards.
 * The three physical shards are three schemas of the services' primary (one PostgreSQL instance:
 * the move's cost is the copy's, not the network's).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { parsePostgresUrl } from "../../app/src/config";
import { createLogger } from "../../app/src/logger";
import { migrate } from "../../app/src/migrations";
import { migrationsDir } from "../../app/src/paths";
import { createAccount } from "../../app/src/sharding/accounts";
import { LOGICAL_SHARDS, logicalShardOf } from "../../app/src/sharding/ids";
import { clientConfig, reshard } from "../../app/src/sharding/reshard";
import { Shards } from "../../app/src/sharding/router";
import type { Database } from "../../app/src/tiers/database";
import { openPostgres } from "../../app/src/tiers/postgres";
import { findUser, updateUser } from "../../app/src/users";
import type { Benchmark, Target } from "../lib/context";
import { pairedRatios, summarize, type Summary } from "../lib/stats";

export const ROUTING_GOAL = 0.95;
export const SPREAD_GOAL = 1.05;
export const PAUSE_GOAL_MS = 1_000;
const PHYSICAL_SHARDS = 3;
const USERS = 300;
const LOOPS = 8;
const SPREAD_IDS = 1_000_000;
const MOVE_ROWS = 20_000;
const MOVING_LOGICAL_SHARDS = 8;

export interface ShardingData {
  physicalShards: number;
  loops: number;
  read: { sharded: Summary; direct: Summary; ratio: Summary };
  write: { sharded: Summary; direct: Summary; ratio: Summary };
  spread: {
    ids: number;
    busiest: number;
    even: number;
    ratio: number;
    busiestPhysicalShare: number;
  };
  move: {
    rows: number;
    logicalShards: number;
    rowsPerSecond: number;
    fenceMs: number;
    longestWriteMovingMs: number;
    longestWriteOtherMs: number;
    writesDuringMove: number;
  };
  targets: { routing: Target; spread: Target; pause: Target };
}

/** Operations per second of `op` in `loops` concurrent loops for `seconds`. */
async function opsPerSecond(seconds: number, op: (loop: number, i: number) => Promise<unknown>) {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: LOOPS }, async (_, loop) => {
      for (let i = 0; performance.now() < deadline; i += 1) {
        await op(loop, i);
        done += 1;
      }
    }),
  );
  return done / seconds;
}

export const sharding: Benchmark<ShardingData> = {
  id: "sharding",
  title: "Sharding: routing overhead, spread of new ids, resharding speed and write pause",
  usesServices: true,
  async run(context, stack) {
    const base = stack.scratch.urls.databaseUrl;
    const schemas = Array.from(
      { length: PHYSICAL_SHARDS },
      () => `bench_shard_${randomBytes(4).toString("hex")}`,
    );
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    const logger = createLogger("silent");
    const urls = schemas.map((schema) => {
      const url = new URL(base);
      url.searchParams.set("options", `-c search_path=${schema}`);
      return url.toString();
    });
    let physical: Database[] = [];
    let shards: Shards | undefined;
    try {
      for (const schema of schemas) await admin.query(`CREATE SCHEMA ${schema}`);
      physical = urls.map((url) =>
        openPostgres({ writer: parsePostgresUrl("shard", url, undefined), readers: [], logger }),
      );
      for (const db of physical) await migrate(db, migrationsDir(), logger);
      shards = new Shards({ physical, logger, pollIntervalMs: 200, hotShardReportMs: 0 });
      await shards.start();

      context.log(`sharding: ${USERS} users over ${PHYSICAL_SHARDS} physical shards`);
      const ids: string[] = [];
      for (let index = 0; index < USERS; index += 1) {
        const row = await createAccount(shards, {
          name: `Bench ${index}`,
          email: `bench-${index}-${randomBytes(3).toString("hex")}@example.com`,
          passwordHash: "x",
        });
        ids.push(row.user_id); // the internal id: it names the shard
      }
      const homes = ids.map((id) => physical[shards!.physicalShardOf(logicalShardOf(id))]!);
      const pick = (loop: number, i: number) => (loop * 37 + i) % ids.length;

      // Routing: the contenders of each pair one after another, in turn (pairedRatios cancels drift).
      const rounds = {
        readSharded: [] as number[],
        readDirect: [] as number[],
        writeSharded: [] as number[],
        writeDirect: [] as number[],
      };
      const seconds = Math.max(1, Math.round(context.settings.roundSeconds / 2));
      for (let round = 0; round <= context.settings.rounds; round += 1) {
        const measured = round > 0; // round 0 warms up
        const read = {
          sharded: (l: number, i: number) => {
            const id = ids[pick(l, i)]!;
            return findUser(shards!.forUser(id).writer, id);
          },
          direct: (l: number, i: number) => {
            const index = pick(l, i);
            return findUser(homes[index]!.writer, ids[index]!);
          },
        };
        const write = {
          sharded: (l: number, i: number) => {
            const id = ids[pick(l, i)]!;
            return shards!.route(id, (db) => updateUser(db.writer, id, { name: `w${i}` }));
          },
          direct: (l: number, i: number) => {
            const index = pick(l, i);
            return updateUser(homes[index]!.writer, ids[index]!, { name: `w${i}` });
          },
        };
        // Each pair in one order, then the other, every other round: the second of two write
        // runs meets the first's dead tuples and WAL, which would otherwise always be the same one's.
        const inTurn = async (ops: typeof read) => {
          const order =
            round % 2 === 0 ? (["sharded", "direct"] as const) : (["direct", "sharded"] as const);
          const rates = { sharded: 0, direct: 0 };
          for (const name of order) rates[name] = await opsPerSecond(seconds, ops[name]);
          return rates;
        };
        const reads = await inTurn(read);
        const writes = await inTurn(write);
        const [readSharded, readDirect, writeSharded, writeDirect] = [
          reads.sharded,
          reads.direct,
          writes.sharded,
          writes.direct,
        ];
        if (!measured) continue;
        rounds.readSharded.push(readSharded);
        rounds.readDirect.push(readDirect);
        rounds.writeSharded.push(writeSharded);
        rounds.writeDirect.push(writeDirect);
        context.log(
          `sharding: round ${round}: reads ${readSharded.toFixed(0)} vs ${readDirect.toFixed(0)}/s, writes ${writeSharded.toFixed(0)} vs ${writeDirect.toFixed(0)}/s`,
        );
      }

      // Spread: the id generator itself, a million times, in PostgreSQL.
      const [spreadRow] = await physical[0]!.writer<{ busiest: number }>(
        `SELECT max(n)::int AS busiest FROM (
           SELECT count(*) AS n FROM generate_series(1, $1) GROUP BY logical_shard_of(next_user_id())
         ) AS per_shard`,
        [SPREAD_IDS],
      );
      const even = SPREAD_IDS / LOGICAL_SHARDS;
      const busiest = spreadRow?.busiest ?? 0;
      const perPhysical = new Array<number>(PHYSICAL_SHARDS).fill(0);
      for (let logical = 0; logical < LOGICAL_SHARDS; logical += 1) {
        perPhysical[shards.physicalShardOf(logical)]! += 1;
      }

      // Resharding: bulk rows in a few logical shards of physical 0, moved to 2 under writes.
      const moving = Array.from({ length: LOGICAL_SHARDS }, (_, l) => l)
        .filter((l) => shards!.physicalShardOf(l) === 0)
        .slice(0, MOVING_LOGICAL_SHARDS);
      await physical[0]!.writer(
        `INSERT INTO users (id, name, email, password_hash)
         SELECT make_shard_id(l), 'bulk', 'bulk-' || l || '-' || g || '@example.com', 'x'
           FROM unnest($1::int[]) AS l, generate_series(1, $2) AS g`,
        [moving, MOVE_ROWS / MOVING_LOGICAL_SHARDS],
      );
      const writersFor = (logicals: (l: number) => boolean) =>
        ids.filter((id) => logicals(logicalShardOf(id)));
      const movingIds = (
        await physical[0]!.writer<{ id: string }>(
          "SELECT id::text AS id FROM users WHERE logical_shard_of(id) = ANY($1) LIMIT 8",
          [moving],
        )
      ).map((row) => row.id);
      const otherIds = writersFor((l) => !moving.includes(l)).slice(0, 8);
      let running = true;
      let writes = 0;
      const longest = { moving: 0, other: 0 };
      const writer = async (id: string, kind: "moving" | "other") => {
        for (let i = 0; running; i += 1) {
          const started = performance.now();
          await shards!.route(id, (db) => updateUser(db.writer, id, { name: `m${i}` }));
          longest[kind] = Math.max(longest[kind], performance.now() - started);
          writes += 1;
        }
      };
      const load = Promise.all([
        ...movingIds.map((id) => writer(id, "moving")),
        ...otherIds.map((id) => writer(id, "other")),
      ]);
      const report = await reshard({
        shards: urls.map((url) => clientConfig(parsePostgresUrl("shard", url, undefined))),
        move: moving,
        to: 2,
        graceMs: 1_000,
      });
      running = false;
      await load;
      context.log(
        `sharding: moved ${report.rowsCopied} rows at ${report.copyRowsPerSecond.toFixed(0)} rows/s, fence ${report.pauseMs.toFixed(0)} ms`,
      );

      const read = {
        sharded: summarize(rounds.readSharded),
        direct: summarize(rounds.readDirect),
        ratio: summarize(pairedRatios(rounds.readSharded, rounds.readDirect)),
      };
      const write = {
        sharded: summarize(rounds.writeSharded),
        direct: summarize(rounds.writeDirect),
        ratio: summarize(pairedRatios(rounds.writeSharded, rounds.writeDirect)),
      };
      const routing = Math.min(read.ratio.median, write.ratio.median);
      const spreadRatio = busiest / even;
      return {
        physicalShards: PHYSICAL_SHARDS,
        loops: LOOPS,
        read,
        write,
        spread: {
          ids: SPREAD_IDS,
          busiest,
          even,
          ratio: spreadRatio,
          busiestPhysicalShare: Math.max(...perPhysical) / LOGICAL_SHARDS,
        },
        move: {
          rows: report.rowsCopied,
          logicalShards: moving.length,
          rowsPerSecond: report.copyRowsPerSecond,
          fenceMs: report.pauseMs,
          longestWriteMovingMs: longest.moving,
          longestWriteOtherMs: longest.other,
          writesDuringMove: writes,
        },
        targets: {
          routing: { goal: `≥ ${ROUTING_GOAL}`, value: routing, met: routing >= ROUTING_GOAL },
          spread: {
            goal: `≤ ${SPREAD_GOAL}×`,
            value: spreadRatio,
            met: spreadRatio <= SPREAD_GOAL,
          },
          pause: {
            goal: `≤ ${PAUSE_GOAL_MS} ms`,
            value: report.pauseMs,
            met: report.pauseMs <= PAUSE_GOAL_MS,
          },
        },
      };
    } finally {
      await shards?.close();
      await physical[0]?.close();
      for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  },
};
