/**
 * The shard map: which physical shard (database) holds each logical shard. It is data: seeded
 * from DATABASE_SHARD_MAP (or an even split), then kept in the directory database's `shard_map`
 * table, which the reshard command changes and every app process polls.
 *
 * Text form (DATABASE_SHARD_MAP, reports): comma-separated `FROM-TO:PHYSICAL` ranges, inclusive,
 * that together cover every logical shard exactly once, e.g. `0-4095:0,4096-8191:1`.
 */
import { isLogicalShard, LOGICAL_SHARDS } from "./ids";

/** physical[logical] = the physical shard of that logical shard. */
export type ShardMap = readonly number[];

/** Contiguous, even ranges: logical shard L lives on floor(L * physicalShards / LOGICAL_SHARDS). */
export function evenShardMap(physicalShards: number): ShardMap {
  return Array.from({ length: LOGICAL_SHARDS }, (_, logical) =>
    Math.floor((logical * physicalShards) / LOGICAL_SHARDS),
  );
}

/** Every problem with `map` for `physicalShards` shards; empty when it is usable. */
export function shardMapProblems(
  map: readonly (number | undefined)[],
  physicalShards: number,
): string[] {
  const problems: string[] = [];
  if (map.length !== LOGICAL_SHARDS) {
    problems.push(`it has ${map.length} logical shards, not ${LOGICAL_SHARDS}`);
  }
  const nowhere: number[] = [];
  const unknown = new Set<number>();
  for (let logical = 0; logical < LOGICAL_SHARDS; logical += 1) {
    const physical = map[logical];
    if (physical === undefined) nowhere.push(logical);
    else if (!Number.isInteger(physical) || physical < 0 || physical >= physicalShards) {
      unknown.add(physical);
    }
  }
  if (nowhere.length > 0) {
    problems.push(`logical shards ${formatShardList(nowhere)} are on no physical shard`);
  }
  if (unknown.size > 0) {
    problems.push(
      `physical shard(s) ${[...unknown].join(", ")} do not exist (there are ${physicalShards}: 0-${physicalShards - 1})`,
    );
  }
  return problems;
}

/** Parses `FROM-TO:PHYSICAL,...`; throws an Error naming every problem. */
export function parseShardMap(text: string, physicalShards: number): ShardMap {
  const map: (number | undefined)[] = Array.from({ length: LOGICAL_SHARDS }, () => undefined);
  const problems: string[] = [];
  for (const part of text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "")) {
    const match = /^(\d+)(?:-(\d+))?:(\d+)$/.exec(part);
    if (match === null) {
      problems.push(`"${part}" is not FROM-TO:PHYSICAL`);
      continue;
    }
    const from = Number(match[1]);
    const to = Number(match[2] ?? match[1]);
    const physical = Number(match[3]);
    if (!isLogicalShard(from) || !isLogicalShard(to) || from > to) {
      problems.push(`"${part}": logical shards run from 0 to ${LOGICAL_SHARDS - 1}, FROM <= TO`);
      continue;
    }
    for (let logical = from; logical <= to; logical += 1) {
      if (map[logical] !== undefined) {
        problems.push(`logical shard ${logical} is listed twice`);
        break;
      }
      map[logical] = physical;
    }
  }
  problems.push(...shardMapProblems(map, physicalShards));
  if (problems.length > 0) throw new Error(problems.join("; "));
  return map as number[];
}

/** The map as ranges, the inverse of parseShardMap. */
export function formatShardMap(map: ShardMap): string {
  const ranges: string[] = [];
  let start = 0;
  for (let logical = 1; logical <= map.length; logical += 1) {
    if (logical === map.length || map[logical] !== map[start]) {
      ranges.push(`${start === logical - 1 ? start : `${start}-${logical - 1}`}:${map[start]}`);
      start = logical;
    }
  }
  return ranges.join(",");
}

/** Parses a list of logical shards such as `7,100-103`; throws naming the bad part. */
export function parseShardList(text: string): number[] {
  const shards = new Set<number>();
  for (const part of text.split(",").map((item) => item.trim())) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    const from = Number(match?.[1]);
    const to = Number(match?.[2] ?? match?.[1]);
    if (match === null || !isLogicalShard(from) || !isLogicalShard(to) || from > to) {
      throw new Error(
        `"${part}" is not a logical shard or range of them (0-${LOGICAL_SHARDS - 1}, e.g. 7 or 100-103)`,
      );
    }
    for (let logical = from; logical <= to; logical += 1) shards.add(logical);
  }
  return [...shards].sort((a, b) => a - b);
}

/** `[1,2,3,7]` → `1-3,7`. */
export function formatShardList(shards: readonly number[]): string {
  const sorted = [...shards].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let index = 0; index < sorted.length;) {
    let end = index;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end += 1;
    parts.push(end === index ? `${sorted[index]}` : `${sorted[index]}-${sorted[end]}`);
    index = end + 1;
  }
  return parts.join(",");
}
