/** Turns a queue message into a job and runs it. Messages that are not a known job fail (to the DLQ). */
import { z } from "zod";
import { processThumbnailJob, ThumbnailJob, UnprocessableJobError } from "./thumbnail";
import type { ThumbnailContext } from "./thumbnail";
import type { JobHandler } from "./worker";

/** Every job type the worker knows, told apart by `type`. */
export const Job = z.discriminatedUnion("type", [ThumbnailJob]);
export type Job = z.infer<typeof Job>;

export function createJobHandler(context: ThumbnailContext): JobHandler {
  return async (body) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new UnprocessableJobError("the message body is not JSON");
    }
    const job = Job.safeParse(parsed);
    if (!job.success) {
      throw new UnprocessableJobError(`not a known job: ${job.error.issues[0]?.message ?? ""}`);
    }
    return processThumbnailJob(job.data, {
      ...context,
      logger: context.logger.child({ jobId: job.data.id, jobType: job.data.type }),
    });
  };
}
