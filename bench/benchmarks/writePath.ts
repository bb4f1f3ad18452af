/**
 * 3. Write path: `POST /users` (sign-up) against the same INSERT through the same pool without
 * HTTP (the limit), and against that loop hashing each password too, which shows where the time
 * goes: sign-up hashes with scrypt on purpose, and that, not the database, sets its pace.
 */
import { join } from "node:path";
import { startStackApp, type AppCounts } from "../lib/app";
import type { BenchContext, Benchmark } from "../lib/context";
import { cpuPercent, httpContender, type LoadResult } from "../lib/load";
import { nodeScript, startProcess, type Child } from "../lib/processes";
import {
  describeLoad,
  runRounds,
  summarizeLoad,
  type Contender,
  type LoadSummary,
} from "../lib/rounds";
import { pairedRatios, summarize, type Summary } from "../lib/stats";

/**
 * The app's database pool size (tiers/postgres.ts): more concurrent sign-ups than that only
 * queue, and with scrypt's ~25 ms per hash a long queue would not settle within a round.
 */
const CONCURRENCY = 10;
const INSERT_LOOP = join(__dirname, "..", "servers", "insertLoop.ts");
/** Generous: a round takes seconds. */
const ANSWER_TIMEOUT_MS = 120_000;

export interface WritePathData {
  concurrency: number;
  app: LoadSummary;
  insert: LoadSummary;
  hashAndInsert: LoadSummary;
  /** App over the bare insert loop, round by round. */
  ratio: Summary;
  /** App over the loop that also hashes. */
  ratioToHashing: Summary;
  appCounts: AppCounts;
}

function startLoop(mode: "insert" | "hash-and-insert", databaseUrl: string, context: BenchContext) {
  return startProcess({
    name: `insert loop (${mode})`,
    ...nodeScript(INSERT_LOOP, [mode]),
    env: { DATABASE_URL: databaseUrl },
    cpu: context.cpus.server,
    interactive: true,
  });
}

function loopContender(name: string, child: Child, context: BenchContext): Contender<LoadResult> {
  return {
    name,
    run: async (phase) => {
      const { settings } = context;
      const settleSeconds = phase === "warm-up" ? 0 : settings.settleSeconds;
      const cpuBefore = child.cpuSeconds();
      child.send(
        JSON.stringify({
          settleSeconds,
          durationSeconds: phase === "warm-up" ? settings.warmupSeconds : settings.roundSeconds,
          concurrency: CONCURRENCY,
        }),
      );
      const result = JSON.parse(await child.nextLine(ANSWER_TIMEOUT_MS)) as LoadResult;
      return {
        ...result,
        serverCpuPercent: cpuPercent(child, cpuBefore, settleSeconds + result.durationSeconds),
      };
    },
    describe: describeLoad,
  };
}

export const writePath: Benchmark<WritePathData> = {
  id: "write-path",
  title: "Write path: POST /users vs a bare INSERT loop through the same pool",
  usesServices: true,
  async run(context, stack) {
    const { scratch } = stack;
    const app = await startStackApp(context, stack, "app (web)");
    const writerUrl = scratch.scoped(scratch.urls.databaseUrl);
    const insertLoop = startLoop("insert", writerUrl, context);
    const hashingLoop = startLoop("hash-and-insert", writerUrl, context);
    const request = {
      paths: ["/users"],
      method: "POST" as const,
      headers: { "content-type": "application/json" },
      // [<id>] is replaced per request: every sign-up has an email of its own.
      body: JSON.stringify({
        name: "Bench Writer",
        email: "writer-[<id>]@example.com",
        password: "correct horse battery staple",
      }),
      connections: CONCURRENCY,
    };
    const rounds = await runRounds(
      [
        httpContender("app", app.origin, request, context, app),
        loopContender("insert", insertLoop, context),
        loopContender("hashAndInsert", hashingLoop, context),
      ],
      context.settings.rounds,
      context.log,
    );
    await insertLoop.stop();
    await hashingLoop.stop();
    const appCounts = await app.stop();

    const appRates = rounds.app!.map((r) => r.requestsPerSecond);
    return {
      concurrency: CONCURRENCY,
      app: summarizeLoad(rounds.app!),
      insert: summarizeLoad(rounds.insert!),
      hashAndInsert: summarizeLoad(rounds.hashAndInsert!),
      ratio: summarize(
        pairedRatios(
          appRates,
          rounds.insert!.map((r) => r.requestsPerSecond),
        ),
      ),
      ratioToHashing: summarize(
        pairedRatios(
          appRates,
          rounds.hashAndInsert!.map((r) => r.requestsPerSecond),
        ),
      ),
      appCounts,
    };
  },
};
