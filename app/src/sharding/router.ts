/**
 * Routing by user id: the id says its logical shard (ids.ts), the shard map says which physical
 * shard holds that logical shard. The map is loaded from the directory database (physical shard 0)
 * at start, seeded there from configuration the first time, and polled so that a resharding flip
 * reaches every process within `pollIntervalMs`. A write that reaches a physical shard that has
 * just handed its logical shard away is refused there (SQLSTATE ZS001, the guard trigger in
 * 004_sharding.sql); route() then re-reads the map at once and retries on the new shard.
 */
import type { Logger } from "pino";
import { errorCode, type Database, type QueryFn } from "../tiers/database";
import { LOGICAL_SHARDS, logicalShardOf } from "./ids";
import { evenShardMap, formatShardList, shardMapProblems, type ShardMap } from "./shardMap";

/** The physical shard that also holds the directory (emails, public ids, the live shard map). */
export const DIRECTORY_SHARD = 0;
/** SQLSTATE raised by shard_write_guard() for a write to a logical shard that is not here. */
export const SHARD_MOVED = "ZS001";
/** How often processes look for a new map version (one tiny query). */
export const DEFAULT_MAP_POLL_MS = 1_000;
/** How long a write refused with ZS001 keeps retrying before giving up (a move in its fence). */
export const DEFAULT_MOVED_RETRY_MS = 5_000;
const MOVED_RETRY_PAUSE_MS = 25;
/** Serialises the first seeding of the map between processes starting together. */
const SEED_LOCK_KEY = 7_202_411_013;
/** How often the busiest logical shards are logged (the top-N report), and how many. */
export const DEFAULT_HOT_SHARD_REPORT_MS = 60_000;
export const HOT_SHARDS_REPORTED = 10;

/** A write kept being refused by the shard the map names (a move stuck between seal and flip). */
export class ShardUnavailableError extends Error {
  override name = "ShardUnavailableError";
  constructor(readonly logicalShard: number) {
    super(`logical shard ${logicalShard} is being moved and did not come back in time`);
  }
}

export interface HotShard {
  logicalShard: number;
  physicalShard: number;
  requests: number;
}

export interface ShardsOptions {
  /** Physical shards by number; 0 also holds the directory (emails, the live shard map). */
  physical: Database[];
  /** The map seeded into an empty directory; defaults to an even split. */
  seedMap?: ShardMap | undefined;
  logger?: Logger | undefined;
  pollIntervalMs?: number;
  movedRetryMs?: number;
  /** 0 turns the periodic hot-shard log line off. */
  hotShardReportMs?: number;
}

export class Shards {
  readonly physical: readonly Database[];
  private map: number[];
  private version: string | undefined;
  private poller: NodeJS.Timeout | undefined;
  private reporter: NodeJS.Timeout | undefined;
  private readonly hotShardReportMs: number;
  private readonly seedMap: ShardMap;
  private readonly logger: Logger | undefined;
  private readonly pollIntervalMs: number;
  private readonly movedRetryMs: number;
  /** Requests per logical shard since the last takeHotShards(): the celebrity detector. */
  private readonly requests = new Uint32Array(LOGICAL_SHARDS);

  constructor(options: ShardsOptions) {
    if (options.physical.length === 0) throw new Error("Shards needs at least one physical shard");
    this.physical = options.physical;
    this.seedMap = options.seedMap ?? evenShardMap(options.physical.length);
    const problems = shardMapProblems(this.seedMap, this.physical.length);
    if (problems.length > 0) throw new Error(`the shard map is unusable: ${problems.join("; ")}`);
    this.map = [...this.seedMap];
    this.logger = options.logger;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_MAP_POLL_MS;
    this.movedRetryMs = options.movedRetryMs ?? DEFAULT_MOVED_RETRY_MS;
    this.hotShardReportMs = options.hotShardReportMs ?? DEFAULT_HOT_SHARD_REPORT_MS;
  }

  /** The directory database: the email directory and the live shard map. */
  get directory(): Database {
    return this.physical[DIRECTORY_SHARD]!;
  }

  get mapVersion(): string | undefined {
    return this.version;
  }

  physicalShardOf(logicalShard: number): number {
    return this.map[logicalShard]!;
  }

  /** The database holding `logicalShard` under the current map. */
  forLogical(logicalShard: number): Database {
    return this.physical[this.physicalShardOf(logicalShard)]!;
  }

  /** The database holding this user's rows. */
  forUser(userId: string): Database {
    return this.forLogical(logicalShardOf(userId));
  }

  /** The number of the physical shard holding this user's rows. */
  physicalShardOfUser(userId: string): number {
    return this.physicalShardOf(logicalShardOf(userId));
  }

  /** Counts one request for this user's logical shard (cache hits too) for the hot-shard report. */
  countRequest(userId: string): void {
    const logical = logicalShardOf(userId);
    this.requests[logical] = this.requests[logical]! + 1;
  }

  /**
   * Runs `work` on the user's shard. A write refused because the logical shard has just moved
   * re-reads the map and runs again on the shard it moved to. Counted for the hot-shard report.
   */
  async route<T>(userId: string, work: (db: Database) => Promise<T>): Promise<T> {
    const logical = logicalShardOf(userId);
    this.requests[logical] = this.requests[logical]! + 1;
    const deadline = Date.now() + this.movedRetryMs;
    for (;;) {
      const before = this.physicalShardOf(logical);
      try {
        return await work(this.physical[before]!);
      } catch (error) {
        if (errorCode(error) !== SHARD_MOVED) throw error;
        await this.refresh();
        if (this.physicalShardOf(logical) !== before) continue;
        if (Date.now() > deadline) throw new ShardUnavailableError(logical);
        await new Promise((resolve) => setTimeout(resolve, MOVED_RETRY_PAUSE_MS));
      }
    }
  }

  /**
   * Loads the map, seeding the directory with it first if it has none, and starts polling for
   * changes. A map that has reached the directory's replica is enough to start: a task starts (and
   * serves reads) while the directory's writer, perhaps in the other region, is down.
   */
  async start(): Promise<void> {
    await this.refresh(this.directory.reader).catch(() => false);
    if (this.version === undefined) {
      await this.seed();
      await this.refresh();
    } else {
      await this.refresh().catch((error: unknown) =>
        this.logger?.warn({ err: error }, "shard map read from the directory's replica only"),
      );
    }
    if (this.pollIntervalMs > 0 && this.poller === undefined) {
      this.poller = setInterval(() => {
        this.refresh().catch((error: unknown) =>
          this.logger?.warn({ err: error }, "could not read the shard map; keeping the last one"),
        );
      }, this.pollIntervalMs);
      this.poller.unref();
    }
    if (this.logger !== undefined && this.hotShardReportMs > 0 && this.reporter === undefined) {
      const logger = this.logger;
      this.reporter = setInterval(() => {
        const hotShards = this.takeHotShards(HOT_SHARDS_REPORTED);
        if (hotShards.length > 0) logger.info({ hotShards }, "busiest logical shards");
      }, this.hotShardReportMs);
      this.reporter.unref();
    }
  }

  /** Writes the seed map into an empty directory (processes starting together seed it once). */
  private async seed(): Promise<void> {
    await this.directory.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1)", [SEED_LOCK_KEY]);
      const [row] = await tx.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM shard_map",
      );
      if (row !== undefined && row.count > 0) return;
      await tx.query(
        `INSERT INTO shard_map (logical_shard, physical_shard)
         SELECT logical - 1, physical FROM unnest($1::int[]) WITH ORDINALITY AS m(physical, logical)`,
        [this.seedMap],
      );
      await tx.query(
        "INSERT INTO shard_map_version (version) VALUES (1) ON CONFLICT (singleton) DO NOTHING",
      );
    });
  }

  /**
   * Re-reads the map if its version changed; true when it did. From the directory's writer (where
   * a resharding flip lands) unless told otherwise.
   */
  async refresh(from: QueryFn = this.directory.writer): Promise<boolean> {
    const [row] = await from<{ version: string }>(
      "SELECT version::text AS version FROM shard_map_version",
    );
    if (row === undefined || row.version === this.version) return false;
    const rows = await from<{ logical_shard: number; physical_shard: number }>(
      "SELECT logical_shard, physical_shard FROM shard_map",
    );
    const map: (number | undefined)[] = Array.from({ length: LOGICAL_SHARDS }, () => undefined);
    for (const entry of rows) map[entry.logical_shard] = entry.physical_shard;
    const problems = shardMapProblems(map, this.physical.length);
    if (problems.length > 0) {
      throw new Error(
        `the live shard map (version ${row.version}) does not fit the ${this.physical.length} configured physical shard(s): ${problems.join("; ")}. Configure every physical shard the map uses, or move logical shards off first (npm run reshard -- --move ... --to ...)`,
      );
    }
    const changed = this.version !== undefined;
    this.map = map as number[];
    this.version = row.version;
    if (changed) this.logger?.info({ shardMapVersion: row.version }, "shard map changed");
    return true;
  }

  /** The `n` logical shards with the most requests since the last call, then resets the counts. */
  takeHotShards(n: number): HotShard[] {
    const hot: HotShard[] = [];
    for (let logical = 0; logical < LOGICAL_SHARDS; logical += 1) {
      const requests = this.requests[logical]!;
      if (requests === 0) continue;
      hot.push({ logicalShard: logical, physicalShard: this.physicalShardOf(logical), requests });
    }
    this.requests.fill(0);
    return hot.sort((a, b) => b.requests - a.requests).slice(0, n);
  }

  /** Logical shards per physical shard, for logs: `{ "0": "0-4095", "1": "4096-8191" }`. */
  describe(): Record<string, string> {
    const byPhysical = new Map<number, number[]>();
    this.map.forEach((physical, logical) => {
      const logicals = byPhysical.get(physical) ?? [];
      logicals.push(logical);
      byPhysical.set(physical, logicals);
    });
    return Object.fromEntries(
      [...byPhysical].map(([physical, logicals]) => [String(physical), formatShardList(logicals)]),
    );
  }

  /** Stops polling and closes every physical shard but the directory (its owner closes that). */
  async close(): Promise<void> {
    clearInterval(this.poller);
    clearInterval(this.reporter);
    this.poller = undefined;
    this.reporter = undefined;
    await Promise.all(this.physical.slice(1).map((db) => db.close()));
  }
}
