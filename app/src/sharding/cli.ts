/**
 * Operating the shards, with the app's own environment (DATABASE_URL, DATABASE_SHARDS, ...):
 *
 *   npm run reshard -- --move 7,100-103 --to 2 [--grace-ms 5000] [--batch-rows 1000]
 *     moves logical shards onto physical shard 2 online (reshard.ts); rerun the same command
 *     after a crash to resume. Exit 2: refused, nothing changed.
 *   npm run shards -- [--top 10]
 *     the live map per physical shard and the logical shards with the most rows (hot shards);
 *     request counts per logical shard are in the app's "busiest logical shards" log line.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { ConfigError, loadConfig, type PostgresTarget, type SecretRef } from "../config";
import { createLogger } from "../logger";
import { loadDatabasePassword, loadRotatingPassword } from "../tiers";
import { iamTokenPassword } from "../tiers/iamAuth";
import { DEFAULT_MAP_POLL_MS } from "./router";
import { clientConfig, reshard, ReshardRefused } from "./reshard";
import { formatShardList, parseShardList } from "./shardMap";

/** Comfortably more than two map polls: every live process has switched before the cleanup. */
const DEFAULT_GRACE_MS = 5 * DEFAULT_MAP_POLL_MS;

async function physicalShards(): Promise<pg.ClientConfig[]> {
  const config = loadConfig(process.env);
  if (config.database.kind !== "postgres") {
    throw new ReshardRefused(
      "DATABASE_URL is not set: the embedded database has one shard and nothing to move",
    );
  }
  // Authenticated like the app (and the migrate command): an IAM token per connection, or the
  // master password (DATABASE_SECRET_ARN) shared by every shard.
  const iam = config.database.auth === "iam";
  const password = iam ? undefined : await loadDatabasePassword(config, createLogger("silent"));
  const toClient = async (target: PostgresTarget, secret: SecretRef | undefined) => {
    if (iam)
      return clientConfig(target, iamTokenPassword(target, { fallbackRegion: config.aws.region }));
    // A shard with its own master secret (DATABASE_SHARDS' secretArn) uses it; others share shard 0's.
    const rotating =
      secret === undefined
        ? password
        : await loadRotatingPassword(secret, config, createLogger("silent"));
    return clientConfig(
      target,
      rotating === undefined ? target.password : rotating.passwordFor(target.password),
    );
  };
  return Promise.all([
    toClient(config.database.writer, undefined),
    ...config.database.shards.map((shard) => toClient(shard.writer, shard.passwordSecret)),
  ]);
}

function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value))
    throw new ReshardRefused(`--${name} must be a whole number, not "${value}"`);
  return Number(value);
}

async function runReshard(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      move: { type: "string" },
      to: { type: "string" },
      "grace-ms": { type: "string" },
      "batch-rows": { type: "string" },
    },
  });
  if (values.move === undefined || values.to === undefined) {
    throw new ReshardRefused(
      "usage: npm run reshard -- --move <logical shards, e.g. 7,100-103> --to <physical shard>",
    );
  }
  let move: number[];
  try {
    move = parseShardList(values.move);
  } catch (error) {
    throw new ReshardRefused(`--move: ${(error as Error).message}`);
  }
  const report = await reshard({
    shards: await physicalShards(),
    move,
    to: wholeNumber("to", values.to, -1),
    graceMs: wholeNumber("grace-ms", values["grace-ms"], DEFAULT_GRACE_MS),
    batchRows: wholeNumber("batch-rows", values["batch-rows"], 1_000),
    progress: (step, fields) =>
      process.stdout.write(
        `reshard: step=${step}${fields === undefined ? "" : ` ${JSON.stringify(fields)}`}\n`,
      ),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

async function runReport(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { top: { type: "string" } } });
  const top = wholeNumber("top", values.top, 10);
  const shards = await physicalShards();
  const clients = shards.map((config) => new pg.Client(config));
  try {
    await Promise.all(clients.map((client) => client.connect()));
    const { rows: map } = await clients[0]!.query<{ physical_shard: number; logicals: number[] }>(
      "SELECT physical_shard, array_agg(logical_shard ORDER BY logical_shard) AS logicals FROM shard_map GROUP BY 1 ORDER BY 1",
    );
    const hot: { logicalShard: number; physicalShard: number; users: number }[] = [];
    for (const [physical, client] of clients.entries()) {
      const placed = map.find((row) => row.physical_shard === physical);
      const { rows } = await client.query<{ logical: number; users: number }>(
        `SELECT logical_shard_of(id) AS logical, count(*)::int AS users FROM users
          GROUP BY 1 ORDER BY 2 DESC LIMIT $1`,
        [top],
      );
      const total = await client.query<{ users: number }>(
        "SELECT count(*)::int AS users FROM users",
      );
      process.stdout.write(
        `physical shard ${physical}: ${placed?.logicals.length ?? 0} logical shards (${formatShardList(placed?.logicals ?? [])}), ${total.rows[0]?.users ?? 0} users\n`,
      );
      hot.push(
        ...rows.map((row) => ({
          logicalShard: row.logical,
          physicalShard: physical,
          users: row.users,
        })),
      );
    }
    process.stdout.write(
      `\nbusiest logical shards by rows (move one alone: npm run reshard -- --move N --to P):\n`,
    );
    for (const entry of hot.sort((a, b) => b.users - a.users).slice(0, top)) {
      process.stdout.write(
        `  logical ${entry.logicalShard} on physical ${entry.physicalShard}: ${entry.users} users\n`,
      );
    }
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  if (command === "reshard") return runReshard(args);
  if (command === "report") return runReport(args);
  throw new ReshardRefused(`unknown command "${command ?? ""}"; use reshard or report`);
}

main().catch((error: unknown) => {
  const refused = error instanceof ReshardRefused || error instanceof ConfigError;
  process.stderr.write(
    `${refused ? "refused" : "failed"}: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(refused ? 2 : 1);
});
