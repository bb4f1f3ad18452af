/**
 * Config overrides the stack specs synthesize beside each stack file as it is, named once so that
 * every spec means the same variant.
 */

/** Three physical shards, the logical shards spread evenly over them. */
export const THREE_EVEN_SHARDS = {
  shards: 3,
  shardMap: "0-2730:0,2731-5461:1,5462-8191:2",
} as const;

/** The database's writer in the secondary region (after a failover). */
export const WRITER_IN_SECONDARY = { database: { writerRegion: "secondary" } } as const;
