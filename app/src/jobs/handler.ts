/** Turns a queue message into a job and runs it. Messages that are not a known job fail (to the DLQ). */
import { z } from "zod";
import { parseMessage, processThumbnailJob, ThumbnailJob } from "./thumbnail";
import type { ThumbnailContext } from "./thumbnail";
import type { JobHandler } from "./worker";

/** Every job type the worker knows, told apart by `type`. */
export const Job = z.discriminatedUnion("type", [ThumbnailJob]);
export type Job = z.infer<typeof Job>;

export function createJobHandler(context: ThumbnailContext): JobHandler {
  return async (body) => {
    const job = parseMessage(body, Job, {
      notJson: "the message body is not JSON",
      notValid: "not a known job",
    });
    return processThumbnailJob(job, {
      ...context,
      logger: context.logger.child({ jobId: job.id, jobType: job.type }),
    });
  };
}
