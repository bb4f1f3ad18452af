/**
 * Cross-region cache invalidation (CACHE_INVALIDATION_QUEUE_URL, CACHE_INVALIDATION_PUBLISH_URLS):
 * every write sends {key, lsn} to every region's queue; a region's web tasks consume their own
 * queue, wait until the region's replica has replayed the LSN (at most the bound below), then
 * delete the key from the region's cache.
 */

/** How long a region waits for its replica to replay a write before deleting the key anyway. */
export const INVALIDATION_MAX_REPLAY_WAIT_SECONDS = 30;
