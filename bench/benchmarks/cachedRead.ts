/**
 * 1. Cached read: `GET /users/:id` answered from Redis by the app (one web process, as in prod)
 * against a bare node:http server returning the same JSON body, the limit for Node here.
 */
import { join } from "node:path";
import { freePort } from "../../scripts/freePort";
import { startStackApp, type AppCounts } from "../lib/app";
import type { Benchmark, Target } from "../lib/context";
import { httpContender } from "../lib/load";
import { nodeScript, startProcess, waitForHttp } from "../lib/processes";
import { runRounds, summarizeLoad, type LoadSummary } from "../lib/rounds";
import { seedUsers } from "../lib/seed";
import { pairedRatios, summarize, type Summary } from "../lib/stats";

export const RATIO_GOAL = 0.6;
export const P99_GOAL_MS = 5;

export interface CachedReadData {
  path: string;
  bodyBytes: number;
  connections: number;
  app: LoadSummary;
  bare: LoadSummary;
  /** App over bare, round by round. */
  ratio: Summary;
  /** What the app counted over its life: the reads really came from the cache. */
  appCounts: AppCounts;
  targets: { ratio: Target; p99: Target };
}

const BARE_HTTP = join(__dirname, "..", "servers", "bareHttp.ts");

/** How long the first read may take to land in the cache. */
const WARM_TIMEOUT_MS = 5_000;

/** Reads `path` until the app answers it from the cache; returns the body it serves. */
async function warmCache(origin: string, path: string): Promise<string> {
  const deadline = Date.now() + WARM_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const response = await fetch(`${origin}${path}`);
    const body = await response.text();
    if (response.status === 200 && response.headers.get("x-cache") === "hit") return body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${path} never came from the cache`);
}

export const cachedRead: Benchmark<CachedReadData> = {
  id: "cached-read",
  title: "Cached read: GET /users/:id from Redis vs bare node:http",
  usesServices: true,
  async run(context, stack) {
    const [id] = await seedUsers(stack, "Ada", 1);
    const path = `/users/${id}`;
    const app = await startStackApp(context, stack, "app (web)");
    const body = await warmCache(app.origin, path);
    const port = await freePort();
    const bareOrigin = `http://127.0.0.1:${port}`;
    const bare = startProcess({
      name: "bare node:http",
      ...nodeScript(BARE_HTTP),
      env: { PORT: String(port), BODY: body },
      cpu: context.cpus.server,
    });
    await waitForHttp(bare, `${bareOrigin}${path}`);
    if ((await (await fetch(`${bareOrigin}${path}`)).text()) !== body) {
      throw new Error("the bare server's body differs from the app's");
    }

    const request = { paths: [path], connections: context.settings.connections };
    const rounds = await runRounds(
      [
        httpContender("app", app.origin, request, context, app),
        httpContender("bare", bareOrigin, request, context, bare),
      ],
      context.settings.rounds,
      context.log,
    );
    await bare.stop();
    const appCounts = await app.stop();

    const appLoad = summarizeLoad(rounds.app!);
    const ratio = summarize(
      pairedRatios(
        rounds.app!.map((r) => r.requestsPerSecond),
        rounds.bare!.map((r) => r.requestsPerSecond),
      ),
    );
    return {
      path,
      bodyBytes: Buffer.byteLength(body),
      connections: context.settings.connections,
      app: appLoad,
      bare: summarizeLoad(rounds.bare!),
      ratio,
      appCounts,
      targets: {
        ratio: { goal: `≥ ${RATIO_GOAL}`, value: ratio.median, met: ratio.median >= RATIO_GOAL },
        p99: {
          goal: `≤ ${P99_GOAL_MS} ms`,
          value: appLoad.p99Ms.median,
          met: appLoad.p99Ms.median <= P99_GOAL_MS,
        },
      },
    };
  },
};
