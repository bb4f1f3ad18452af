/**
 * 4. Workers: jobs per second one app worker drains from an SQS queue (moto), against a bare loop
 * doing the same job with the SDK and pg alone (servers/thumbnailLoop.ts, the limit), and a bare
 * receive(10)/delete-batch loop that does no job (the queue's own floor). A job is what the app's worker
 * does: a thumbnail job for a small PNG already in the bucket (read it from S3, resize it with
 * sharp, write the webp to S3, record the job and point the user at it in one transaction,
 * invalidate the user's cache entry, delete the message).
 *
 * A round queues JOBS_PER_ROUND messages hidden by DelaySeconds, so the consumer cannot start
 * while they are being sent; once all are visible, the depth of the queue (visible, in flight and
 * delayed) is polled until it is zero. Rate = depth at the start / time to empty.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import sharp from "sharp";
import { newThumbnailJob } from "../../app/src/jobs/thumbnail";
import { startStackApp, type AppCounts } from "../lib/app";
import type { AppStack, Benchmark, Target } from "../lib/context";
import { cpuPercent } from "../lib/load";
import { nodeScript, startProcess, type Server } from "../lib/processes";
import { runRounds, summarizeKnown, type Contender } from "../lib/rounds";
import { seedUsers } from "../lib/seed";
import { BENCH_REGION } from "../lib/services";
import { pairedRatios, summarize, type Summary } from "../lib/stats";

export const RATIO_GOAL = 0.9;
/**
 * moto scans a queue's messages on every call, so it slows down as a queue grows: a few hundred
 * keeps both contenders well within what it serves, and each round at a few seconds or more.
 */
const JOBS_PER_ROUND = 200;
/**
 * Longer than sending JOBS_PER_ROUND takes, so that none is visible before all are queued: that
 * took over 3 s with the machine loaded by other work.
 */
const DELAY_SECONDS = 8;
const SEND_CONCURRENCY = 4;
/** SQS's most messages per SendMessageBatch. */
const SQS_BATCH = 10;
const POLL_MS = 100;
const ROUND_TIMEOUT_MS = 180_000;
/** A small upload: what a phone sends after the page has shrunk it would be larger still. */
const IMAGE = { width: 320, height: 240 };
const RECEIVE_DELETE_LOOP = join(__dirname, "..", "servers", "receiveDeleteLoop.ts");
const THUMBNAIL_LOOP = join(__dirname, "..", "servers", "thumbnailLoop.ts");

export interface WorkerRound {
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  /** How long queueing the round's messages took (must stay under DELAY_SECONDS). */
  sendSeconds: number;
  /** The consumer's CPU use while it drained the queue. */
  cpuPercent: number | undefined;
}

export interface WorkerSummary {
  jobsPerSecond: Summary;
  cpuPercent: Summary | undefined;
  rounds: WorkerRound[];
}

function summarizeWorker(rounds: WorkerRound[]): WorkerSummary {
  return {
    jobsPerSecond: summarize(rounds.map((r) => r.jobsPerSecond)),
    cpuPercent: summarizeKnown(rounds.map((r) => r.cpuPercent)),
    rounds,
  };
}

export interface WorkersData {
  jobsPerRound: number;
  imageBytes: number;
  app: WorkerSummary;
  /** The same job in a bare loop: the limit. */
  bare: WorkerSummary;
  /** Receive and delete, no job: what moto's queue allows. */
  queueOnly: WorkerSummary;
  /** App over bare, round by round. */
  ratio: Summary;
  /** Jobs the app worker reported (warm-up included): all of them must have been processed. */
  appCounts: AppCounts;
  jobsSentToApp: number;
  target: Target;
}

async function depth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

async function sendHidden(sqs: SQSClient, queueUrl: string, bodies: string[]): Promise<void> {
  const batches: string[][] = [];
  for (let index = 0; index < bodies.length; index += SQS_BATCH) {
    batches.push(bodies.slice(index, index + SQS_BATCH));
  }
  await Promise.all(
    Array.from({ length: SEND_CONCURRENCY }, async () => {
      for (let batch = batches.shift(); batch !== undefined; batch = batches.shift()) {
        const sent = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((body, index) => ({
              Id: String(index),
              MessageBody: body,
              DelaySeconds: DELAY_SECONDS,
            })),
          }),
        );
        if ((sent.Failed ?? []).length > 0) {
          throw new Error(`send failed: ${JSON.stringify(sent.Failed)}`);
        }
      }
    }),
  );
}

/** One round against `queueUrl`: queue hidden jobs, then time how long the consumer takes. */
async function drainRound(
  sqs: SQSClient,
  queueUrl: string,
  makeBody: () => string,
  consumer: Server,
): Promise<WorkerRound> {
  if ((await depth(sqs, queueUrl)) !== 0) {
    throw new Error(`${queueUrl} is not empty before a round`);
  }
  const sendStarted = performance.now();
  await sendHidden(sqs, queueUrl, Array.from({ length: JOBS_PER_ROUND }, makeBody));
  const sent = performance.now();
  if (sent - sendStarted >= DELAY_SECONDS * 1000) {
    throw new Error(
      `queueing took ${Math.round(sent - sendStarted)} ms, longer than the ${DELAY_SECONDS} s delay`,
    );
  }
  // Every message is visible from here on; the consumer may already have taken the first ones.
  await sleep(sent + DELAY_SECONDS * 1000 - performance.now());
  const timed = async () => {
    const before = performance.now();
    const value = await depth(sqs, queueUrl);
    return { value, at: (before + performance.now()) / 2 };
  };
  const cpuBefore = consumer.cpuSeconds();
  const start = await timed();
  let previous = start;
  for (;;) {
    consumer.assertRunning();
    const now = await timed();
    if (now.value === 0) {
      // The queue emptied somewhere between the last two polls.
      const seconds = ((previous.at + now.at) / 2 - start.at) / 1000;
      return {
        jobs: start.value,
        seconds,
        jobsPerSecond: start.value / seconds,
        sendSeconds: (sent - sendStarted) / 1000,
        cpuPercent: cpuPercent(consumer, cpuBefore, seconds),
      };
    }
    if (now.at - start.at > ROUND_TIMEOUT_MS) {
      throw new Error(`${queueUrl} still holds ${now.value} messages after ${ROUND_TIMEOUT_MS} ms`);
    }
    previous = now;
    await sleep(POLL_MS);
  }
}

/** A user, and a PNG in the bucket as the upload steps leave it, for the jobs to work on. */
async function prepareUpload(
  stack: AppStack,
): Promise<{ userId: string; uploadKey: string; bytes: number }> {
  const [userId] = await seedUsers(stack, "Pat", 1);
  const png = await sharp({
    create: { ...IMAGE, channels: 3, background: { r: 228, g: 87, b: 46 } },
  })
    .png()
    .toBuffer();
  const uploadKey = `uploads/${userId}/${randomUUID()}.png`;
  await stack.scratch.s3.send(
    new PutObjectCommand({
      Bucket: stack.bucket,
      Key: uploadKey,
      Body: png,
      ContentType: "image/png",
    }),
  );
  return { userId, uploadKey, bytes: png.length };
}

export const workers: Benchmark<WorkersData> = {
  id: "workers",
  title: "Workers: thumbnail jobs drained by one app worker vs a bare receive/delete loop",
  usesServices: true,
  async run(context, stack) {
    const { scratch } = stack;
    const upload = await prepareUpload(stack);
    const appQueue = await scratch.createQueue("worker-app");
    const bareQueue = await scratch.createQueue("worker-bare");
    const queueOnlyQueue = await scratch.createQueue("worker-queue-only");

    const app = await startStackApp(context, stack, "app (worker)", {
      role: "worker",
      queueUrl: appQueue,
    });
    const awsEnv = {
      AWS_REGION: BENCH_REGION,
      AWS_ENDPOINT_URL: scratch.urls.awsEndpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    };
    const bare = startProcess({
      name: "thumbnail loop",
      ...nodeScript(THUMBNAIL_LOOP),
      env: {
        ...awsEnv,
        QUEUE_URL: bareQueue,
        BUCKET: stack.bucket,
        DATABASE_URL: scratch.scoped(scratch.urls.databaseUrl),
      },
      cpu: context.cpus.server,
    });
    const queueOnly = startProcess({
      name: "receive/delete loop",
      ...nodeScript(RECEIVE_DELETE_LOOP),
      env: { ...awsEnv, QUEUE_URL: queueOnlyQueue },
      cpu: context.cpus.server,
    });

    let jobsSentToApp = 0;
    const job = () => JSON.stringify(newThumbnailJob(upload.userId, upload.uploadKey));
    const contender = (
      name: string,
      queueUrl: string,
      consumer: Server,
    ): Contender<WorkerRound> => ({
      name,
      run: async () => {
        const round = await drainRound(scratch.sqs, queueUrl, job, consumer);
        if (name === "app") jobsSentToApp += JOBS_PER_ROUND;
        return round;
      },
      describe: (round) => `${round.jobsPerSecond.toFixed(1)} jobs/s`,
    });
    const rounds = await runRounds(
      [
        contender("app", appQueue, app),
        contender("bare", bareQueue, bare),
        contender("queueOnly", queueOnlyQueue, queueOnly),
      ],
      context.settings.rounds,
      context.log,
    );
    await bare.stop();
    await queueOnly.stop();
    const appCounts = await app.stop();

    const ratio = summarize(
      pairedRatios(
        rounds.app!.map((r) => r.jobsPerSecond),
        rounds.bare!.map((r) => r.jobsPerSecond),
      ),
    );
    return {
      jobsPerRound: JOBS_PER_ROUND,
      imageBytes: upload.bytes,
      app: summarizeWorker(rounds.app!),
      bare: summarizeWorker(rounds.bare!),
      queueOnly: summarizeWorker(rounds.queueOnly!),
      ratio,
      appCounts,
      jobsSentToApp,
      target: { goal: `≥ ${RATIO_GOAL}`, value: ratio.median, met: ratio.median >= RATIO_GOAL },
    };
  },
};
