/**
 * 1. Cached read: `GET /users/:id` answered from its cache by the app (one web process, as in
 * prod), in the full-stack configuration (Redis, with the near cache in front of it) and the
 * embedded one (the cache in process memory), against a bare node:http server returning the same
 * response, headers and body, the limit for Node here; and, for reference, the same body with only
 * the two headers a bare server needs.
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

export const RATIO_GOAL = 0.75;
export const P99_GOAL_MS = 3;

export interface CachedReadData {
  path: string;
  bodyBytes: number;
  connections: number;
  /** Bytes of the response headers the app sends, which the limit sends too. */
  headerBytes: number;
  app: LoadSummary;
  embedded: LoadSummary;
  bare: LoadSummary;
  bareBody: LoadSummary;
  /** App (Redis) over bare, round by round. */
  ratio: Summary;
  /** App (embedded) over bare, round by round. */
  embeddedRatio: Summary;
  /** App (Redis) over the bare server sending the body alone, round by round. */
  bodyOnlyRatio: Summary;
  /** What the apps counted over their lives: the reads really came from the cache. */
  appCounts: AppCounts;
  embeddedCounts: AppCounts;
  targets: { ratio: Target; embeddedRatio: Target; p99: Target };
}

const BARE_HTTP = join(__dirname, "..", "servers", "bareHttp.ts");

/** How long the first read may take to land in the cache. */
const WARM_TIMEOUT_MS = 5_000;

/** Headers the bare server must not replay: node:http sets them per response and connection. */
const PER_RESPONSE_HEADERS = new Set([
  "date",
  "connection",
  "keep-alive",
  "content-length",
  "transfer-encoding",
]);

/** Reads `path` until the app answers it from the cache; returns the response it serves. */
async function warmCache(
  origin: string,
  path: string,
): Promise<{ body: string; headers: Record<string, string> }> {
  const deadline = Date.now() + WARM_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const response = await fetch(`${origin}${path}`);
    const body = await response.text();
    if (response.status === 200 && response.headers.get("x-cache") === "hit") {
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        if (!PER_RESPONSE_HEADERS.has(name)) headers[name] = value;
      });
      return { body, headers };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${path} never came from the cache`);
}

export const cachedRead: Benchmark<CachedReadData> = {
  id: "cached-read",
  title: "Cached read: GET /users/:id from the cache vs bare node:http",
  usesServices: true,
  async run(context, stack) {
    const [id] = await seedUsers(stack, "Ada", 1);
    const path = `/users/${id}`;
    const start = (name: string, redisUrl: string | undefined) =>
      startStackApp(context, stack, name, { redisUrl });
    const app = await start("app (web)", stack.scratch.urls.redisUrl);
    const embedded = await start("app (web, embedded cache)", undefined);
    const { body, headers } = await warmCache(app.origin, path);
    if ((await warmCache(embedded.origin, path)).body !== body) {
      throw new Error("the embedded app's body differs from the full-stack app's");
    }
    const startBare = async (name: string, env: Record<string, string>) => {
      const port = await freePort();
      const origin = `http://127.0.0.1:${port}`;
      const server = startProcess({
        name,
        ...nodeScript(BARE_HTTP),
        env: { PORT: String(port), BODY: body, ...env },
        cpu: context.cpus.server,
      });
      await waitForHttp(server, `${origin}${path}`);
      if ((await (await fetch(`${origin}${path}`)).text()) !== body) {
        throw new Error(`${name}'s body differs from the app's`);
      }
      return { origin, server };
    };
    const bare = await startBare("bare node:http", { HEADERS: JSON.stringify(headers) });
    const bareBody = await startBare("bare node:http, body only", {});

    const request = { paths: [path], connections: context.settings.connections };
    const rounds = await runRounds(
      [
        httpContender("app", app.origin, request, context, app),
        httpContender("embedded", embedded.origin, request, context, embedded),
        httpContender("bare", bare.origin, request, context, bare.server),
        httpContender("bareBody", bareBody.origin, request, context, bareBody.server),
      ],
      context.settings.rounds,
      context.log,
    );
    await bare.server.stop();
    await bareBody.server.stop();
    const appCounts = await app.stop();
    const embeddedCounts = await embedded.stop();

    const appLoad = summarizeLoad(rounds.app!);
    const rate = (name: string) => rounds[name]!.map((r) => r.requestsPerSecond);
    const ratio = summarize(pairedRatios(rate("app"), rate("bare")));
    const embeddedRatio = summarize(pairedRatios(rate("embedded"), rate("bare")));
    const bodyOnlyRatio = summarize(pairedRatios(rate("app"), rate("bareBody")));
    const goal = `≥ ${RATIO_GOAL}`;
    return {
      path,
      bodyBytes: Buffer.byteLength(body),
      headerBytes: Object.entries(headers).reduce(
        (sum, [name, value]) => sum + Buffer.byteLength(`${name}: ${value}\r\n`),
        0,
      ),
      connections: context.settings.connections,
      app: appLoad,
      embedded: summarizeLoad(rounds.embedded!),
      bare: summarizeLoad(rounds.bare!),
      bareBody: summarizeLoad(rounds.bareBody!),
      ratio,
      embeddedRatio,
      bodyOnlyRatio,
      appCounts,
      embeddedCounts,
      targets: {
        ratio: { goal, value: ratio.median, met: ratio.median >= RATIO_GOAL },
        embeddedRatio: {
          goal,
          value: embeddedRatio.median,
          met: embeddedRatio.median >= RATIO_GOAL,
        },
        p99: {
          goal: `≤ ${P99_GOAL_MS} ms`,
          value: appLoad.p99Ms.median,
          met: appLoad.p99Ms.median <= P99_GOAL_MS,
        },
      },
    };
  },
};
