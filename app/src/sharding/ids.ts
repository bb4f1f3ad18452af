/**
 * Ids that carry their logical shard, so routing needs no lookup (Instagram's 64-bit layout):
 *
 *   | 41 bits: ms since EPOCH | 13 bits: logical shard | 10 bits: sequence |
 *
 * PostgreSQL makes them (make_shard_id in app/migrations/004_sharding.sql); the app only reads
 * them back. 41 bits of milliseconds last 69 years; 13 bits give LOGICAL_SHARDS logical shards;
 * the sequence allows 1,024 ids per millisecond per generator. Ids travel as decimal strings: they
 * exceed JavaScript's safe integers (2^53).
 */

/** The number of logical shards. Fixed for ever: it is baked into every id. */
export const LOGICAL_SHARDS = 8192;
export const SHARD_BITS = 13;
export const SEQUENCE_BITS = 10;
/** 2026-01-01T00:00:00Z, the same constant as in 004_sharding.sql. */
export const ID_EPOCH_MS = Date.UTC(2026, 0, 1);

const SHARD_MASK = BigInt(LOGICAL_SHARDS - 1);
const SEQUENCE_MASK = (1n << BigInt(SEQUENCE_BITS)) - 1n;

export interface IdParts {
  /** When the id was made (ms since the Unix epoch). */
  createdAtMs: number;
  logicalShard: number;
  sequence: number;
}

/** The low bits that hold the logical shard and the sequence: all logicalShardOf needs of an id. */
const LOW_BITS_MODULUS = 2 ** (SHARD_BITS + SEQUENCE_BITS);
const DECIMAL_DIGITS = /^[0-9]+$/;

/**
 * A user id's logical shard. Ids made before sharding (1, 2, 3...) read as low logical shards.
 * A decimal id is read digit by digit modulo 2^23, which keeps the shard and sequence bits exact
 * in plain numbers: every cached read counts its shard, and a BigInt per read was about 1 % of a
 * cached read's CPU (issue 17). Anything else is read by BigInt, exactly as before.
 */
export function logicalShardOf(id: string | bigint): number {
  if (typeof id === "string" && DECIMAL_DIGITS.test(id)) {
    let low = 0;
    for (let index = 0; index < id.length; index += 1) {
      low = (low * 10 + id.charCodeAt(index) - 48) % LOW_BITS_MODULUS;
    }
    return Math.floor(low / 2 ** SEQUENCE_BITS);
  }
  const value = typeof id === "bigint" ? id : BigInt(id);
  return Number((value >> BigInt(SEQUENCE_BITS)) & SHARD_MASK);
}

export function idParts(id: string | bigint): IdParts {
  const value = typeof id === "bigint" ? id : BigInt(id);
  return {
    createdAtMs: Number(value >> BigInt(SHARD_BITS + SEQUENCE_BITS)) + ID_EPOCH_MS,
    logicalShard: logicalShardOf(value),
    sequence: Number(value & SEQUENCE_MASK),
  };
}

/** True for a logical shard number: a whole number in [0, LOGICAL_SHARDS). */
export function isLogicalShard(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < LOGICAL_SHARDS;
}
