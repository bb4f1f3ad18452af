/**
 * 2. Cache effect: the same `GET /users/:id` with the cache on (Redis) and off (the app's Redis
 * unreachable, so every read goes to the Postgres replica), over many users in turn: one hot key
 * would let the app's single-flight loading answer most "off" reads without the database.
 */
import { startStackApp, UNREACHABLE_REDIS_URL, type AppCounts } from "../lib/app";
import type { Benchmark, Target } from "../lib/context";
import { httpContender } from "../lib/load";
import { runRounds, summarizeLoad, type LoadSummary } from "../lib/rounds";
import { seedUsers } from "../lib/seed";
import { pairedRatios, summarize, type Summary } from "../lib/stats";

export const SPEED_UP_GOAL = 5;
/** Enough users that no two of the 50 connections read the same one at the same time. */
const USERS = 1_000;

export interface CacheEffectData {
  users: number;
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
    const start = (name: string, redisUrl: string) =>
      startStackApp(context, stack, name, { redisUrl });
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

    const speedUp = summarize(
      pairedRatios(
        rounds.on!.map((r) => r.requestsPerSecond),
        rounds.off!.map((r) => r.requestsPerSecond),
      ),
    );
    return {
      users: ids.length,
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
