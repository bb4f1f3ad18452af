/**
 * The limit for the write path: the app's own sign-up writes (sharding/accounts.ts: the email
 * reservation, then the INSERT) through the app's own Postgres pool (tiers/postgres.ts), in
 * `concurrency` loops, without HTTP.
 * `insertLoop.ts insert|hash-and-insert`: the second also hashes each password as sign-up does.
 *
 * Driven over stdin/stdout so the pool stays warm between rounds: each input line
 * `{"settleSeconds":1,"durationSeconds":5,"concurrency":10}` is answered with one LoadResult
 * JSON line, counted like the load generator counts (after the lead-in).
 */
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { parsePostgresUrl } from "../../app/src/config";
import { createLogger } from "../../app/src/logger";
import { hashPassword } from "../../app/src/passwords";
import { openPostgres } from "../../app/src/tiers/postgres";
import { createAccount } from "../../app/src/sharding/accounts";
import { Shards } from "../../app/src/sharding/router";
import type { LoadResult } from "../lib/loadgen";
import { quantile } from "../lib/stats";

type Mode = "insert" | "hash-and-insert";
const mode = process.argv[2] as Mode;
if (mode !== "insert" && mode !== "hash-and-insert") {
  throw new Error("usage: insertLoop.ts insert|hash-and-insert");
}

const database = openPostgres({
  writer: parsePostgresUrl("DATABASE_URL", process.env.DATABASE_URL ?? "", undefined),
  readers: [],
  logger: createLogger("silent"),
});
/** The app's sign-up path: an email reservation in the directory, then the user's row. */
const shards = new Shards({ physical: [database] });
const PASSWORD = "correct horse battery staple";
const fixedHash = hashPassword(PASSWORD);
/** Emails must be unique: this process's token and a counter. */
const token = randomBytes(4).toString("hex");
let sequence = 0;

async function signUp(): Promise<void> {
  const email = `loop-${token}-${++sequence}@example.com`;
  const passwordHash = mode === "insert" ? await fixedHash : await hashPassword(PASSWORD);
  await createAccount(shards, { name: "Bench Loop", email, passwordHash });
}

interface RunRequest {
  settleSeconds: number;
  durationSeconds: number;
  concurrency: number;
}

async function run(request: RunRequest): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const countFrom = performance.now() + request.settleSeconds * 1000;
  const deadline = countFrom + request.durationSeconds * 1000;
  await Promise.all(
    Array.from({ length: request.concurrency }, async () => {
      while (performance.now() < deadline) {
        const begun = performance.now();
        try {
          await signUp();
          const ended = performance.now();
          // Like the load generator: what completes in the measured window counts.
          if (ended >= countFrom && ended <= deadline) latencies.push(ended - begun);
        } catch (error) {
          // The first failure of a run is shown; the count goes into the result.
          if (errors === 0) process.stderr.write(`insert failed: ${String(error)}\n`);
          errors += 1;
        }
      }
    }),
  );
  const sorted = Float64Array.from(latencies).sort();
  return {
    requestsPerSecond: latencies.length / request.durationSeconds,
    ok: latencies.length,
    non2xx: 0,
    errors,
    timeouts: 0,
    durationSeconds: request.durationSeconds,
    latencyMs: {
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
      max: sorted[sorted.length - 1] ?? Number.NaN,
      mean: latencies.reduce((sum, value) => sum + value, 0) / latencies.length,
    },
    // The loop is its own load generator; its CPU use is the server's (measured by the caller).
    loadGeneratorCpuPercent: 0,
  };
}

let running: Promise<void> = Promise.resolve();
const input = createInterface({ input: process.stdin });
input.on("line", (line) => {
  running = running
    .then(() => run(JSON.parse(line) as RunRequest))
    .then((result) => void process.stdout.write(`${JSON.stringify(result)}\n`))
    .catch((error: unknown) => {
      process.stderr.write(`insert loop failed: ${String(error)}\n`);
      process.exit(1);
    });
});
const stop = () => void running.then(() => database.close()).then(() => process.exit(0));
input.on("close", stop);
process.on("SIGTERM", stop);
