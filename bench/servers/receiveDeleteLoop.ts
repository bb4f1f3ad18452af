/**
 * The floor for draining the queue with the AWS SDK: receive up to 10 messages (long poll), delete
 * them in one batch, repeat, until SIGTERM. No job is run; this is what the queue itself allows.
 */
import { drainQueue } from "../lib/drainQueue";

/** SQS's most messages per receive and per batch delete. */
const BATCH = 10;

drainQueue({
  name: "receive/delete loop",
  queueUrl: process.env.QUEUE_URL ?? "",
  batch: BATCH,
  handle: async () => undefined,
});
