/**
 * 2. Cache effect: the same `GET /users/:id` with the cache on (Redis) and off (the app's Redis
 * unreachable, so every read goes to the Postgres replica), over many users in turn: one hot key
 * would let the app's single-flight loading answer most "off" reads without the database. The
 * replica is behind a delay proxy with a cross-AZ round trip (lib/delayProxy.ts), as an RDS replica
 * in another availability zone is; on loopback it would answer in microseconds.
 */
import pg from "pg";
import { CROSS_AZ_ROUND_TRIP_MS, startDelayProxy } from "../lib/delayProxy";
import { startStackApp, UNREACHABLE_REDIS_URL, type AppCounts } from "../lib/app";
import type { Benchmark, Target } from "../lib/context";
import { httpContender } from "../lib/load";
import { runRounds, summarizeLoad, type LoadSummary } from "../lib/rounds";
import { seedUsers } from "../lib/seed";
import { pairedRatios, summarize, type Summary } from "../lib/stats";

export const SPEED_UP_GOAL = 5;
/** Enough users that no two of the 50 connections read the same one at the same time. */
const USERS = 1_000;

/** Queries timed to tell the round trip the proxy really adds (timers run late on a busy machine). */
const PINGS = 200;

/** Median time of `SELECT 1` over one connection to `url`, in ms. */
async function pingMs(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const times: number[] = [];
    for (let index = 0; index < PINGS; index += 1) {
      const started = performance.now();
      await client.query("SELECT 1");
      times.push(performance.now() - started);
    }
    return summarize(times).median;
  } finally {
    await client.end();
  }
}

export interface CacheEffectData {
  users: number;
  /** The round trip added in front of the replica, and `SELECT 1` timed without and with it. */
  replica: { addedRoundTripMs: number; directQueryMs: number; proxiedQueryMs: number };
  connections: number;
  on: LoadSummary;
  off: LoadSummary;
  /** On over off, round by round. */
  speedUp: Summary;
  counts: { on: AppCounts; off: AppCounts };
  target: Target;
}

export const cacheEffect: Benchmark<CacheEffectData> = {
  id: "cache-effect",
  title: "Cache effect: GET /users/:id with the cache on vs off",
  usesServices: true,
  async run(context, stack) {
    const ids = await seedUsers(stack, "Reader", USERS);
    const direct = new URL(stack.scratch.urls.replicaUrl);
    const proxy = await startDelayProxy(
      direct.hostname,
      Number(direct.port),
      CROSS_AZ_ROUND_TRIP_MS,
    );
    const replicaUrl = proxy.urlFor(stack.scratch.urls.replicaUrl);
    const replica = {
      addedRoundTripMs: CROSS_AZ_ROUND_TRIP_MS,
      directQueryMs: await pingMs(stack.scratch.urls.replicaUrl),
      proxiedQueryMs: await pingMs(replicaUrl),
    };
    context.log(
      `replica: SELECT 1 in ${replica.directQueryMs.toFixed(2)} ms direct, ${replica.proxiedQueryMs.toFixed(2)} ms through the delay proxy`,
    );
    const start = (name: string, redisUrl: string) =>
      startStackApp(context, stack, name, { redisUrl, replicaUrl });
    const on = await start("app, cache on", stack.scratch.urls.redisUrl);
    const off = await start("app, cache off", UNREACHABLE_REDIS_URL);

    const request = {
      paths: ids.map((id) => `/users/${id}`),
      connections: context.settings.connections,
    };
    const rounds = await runRounds(
      [
        httpContender("on", on.origin, request, context, on),
        httpContender("off", off.origin, request, context, off),
      ],
      context.settings.rounds,
      context.log,
    );
    const counts = { on: await on.stop(), off: await off.stop() };
    await proxy.close();

    const speedUp = summarize(
      pairedRatios(
        rounds.on!.map((r) => r.requestsPerSecond),
        rounds.off!.map((r) => r.requestsPerSecond),
      ),
    );
    return {
      users: ids.length,
      replica,
      connections: context.settings.connections,
      on: summarizeLoad(rounds.on!),
      off: summarizeLoad(rounds.off!),
      speedUp,
      counts,
      target: {
        goal: `≥ ${SPEED_UP_GOAL}×`,
        value: speedUp.median,
        met: speedUp.median >= SPEED_UP_GOAL,
      },
    };
  },
};
