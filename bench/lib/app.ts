/**
 * The app under test, run the way its image runs it: compiled with tsconfig.build.json, started
 * as `node main.js web|worker` with NODE_ENV=production and source maps on, configured only
 * through the docs/CONTRACT.md variables. Its EMF metric lines (stdout) are counted, which tells
 * the cache hit ratio and the jobs done without asking the app anything.
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { freePort } from "../../scripts/freePort";
import { join } from "node:path";
import type { AppStack, BenchContext } from "./context";
import { PrerequisiteError } from "./errors";
import { REPO_ROOT, startProcess, waitForHttp, type Child, type Server } from "./processes";
import { BENCH_REGION, type Scratch } from "./services";

/**
 * Under node_modules/.cache, the usual place for tools' build output: lint, prettier and git skip
 * it, and the compiled app still resolves its packages from the repository's node_modules.
 */
const BUILD_DIR = join(REPO_ROOT, "node_modules", ".cache", "zero-to-millions-bench", "dist");
const MAIN = join(BUILD_DIR, "app", "src", "main.js");
/**
 * warn keeps logging out of the measurement: at info (the app's default) Fastify logs two lines
 * per request and the worker one per job.
 */
export const APP_LOG_LEVEL = "warn";
/** A port nothing listens on: the app's Redis client fails at once there (the "cache off" case). */
export const UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1";
const CDN_DOMAIN = "cdn.bench.invalid";
/** Requests per client and window the benchmarks allow: the most the app accepts, more than any run sends. */
const BENCH_RATE_LIMIT = 999_999_999;

/** Compiles the app as its Dockerfile does (tsc -p tsconfig.build.json), into BUILD_DIR. */
export function compileApp(): void {
  // From scratch, so that no module the app has since dropped lingers in the build.
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(
    process.execPath,
    [tsc, "-p", "tsconfig.build.json", "--outDir", BUILD_DIR],
    { cwd: REPO_ROOT, encoding: "utf8" },
  );
  if (result.status !== 0) {
    throw new PrerequisiteError(
      `the app does not compile (tsc -p tsconfig.build.json):\n${result.stdout}${result.stderr}`,
    );
  }
}

/** Counters the app reported through its EMF lines over its whole life (warm-up included). */
export interface AppCounts {
  CacheHit: number;
  CacheMiss: number;
  JobsProcessed: number;
  JobsFailed: number;
  Signups: number;
}

const COUNTERS = ["CacheHit", "CacheMiss", "JobsProcessed", "JobsFailed", "Signups"] as const;

export interface AppSettings {
  role: "web" | "worker";
  queueUrl: string;
  bucket: string;
  /**
   * The cache's Redis; UNREACHABLE_REDIS_URL for one that is down; undefined for none (the
   * embedded configuration: the cache in process memory).
   */
  redisUrl: string | undefined;
  cpu: number | undefined;
  /** The replica to read from, when not the scratch space's own (benchmark 2's delay proxy). */
  replicaUrl?: string;
}

/**
 * The app on a benchmark's stack and the server's CPUs: by default the web role, sending to the
 * stack's queue, caching in the scratch Redis.
 */
export function startStackApp(
  context: BenchContext,
  stack: AppStack,
  name: string,
  settings: Partial<Pick<AppSettings, "role" | "queueUrl" | "redisUrl" | "replicaUrl">> = {},
): Promise<RunningApp> {
  return RunningApp.start(name, stack.scratch, {
    role: settings.role ?? "web",
    queueUrl: settings.queueUrl ?? stack.queueUrl,
    bucket: stack.bucket,
    // undefined is a value here: the embedded cache.
    redisUrl: "redisUrl" in settings ? settings.redisUrl : stack.scratch.urls.redisUrl,
    cpu: context.cpus.server,
    ...(settings.replicaUrl === undefined ? {} : { replicaUrl: settings.replicaUrl }),
  });
}

export class RunningApp implements Server {
  private constructor(
    readonly name: string,
    readonly origin: string,
    private readonly child: Child,
    /** Counters the app reported so far; complete once it has stopped. */
    readonly counts: AppCounts,
  ) {}

  static async start(name: string, scratch: Scratch, settings: AppSettings): Promise<RunningApp> {
    const port = await freePort();
    const counts = { CacheHit: 0, CacheMiss: 0, JobsProcessed: 0, JobsFailed: 0, Signups: 0 };
    const child = startProcess({
      name,
      command: process.execPath,
      args: [MAIN, settings.role],
      cpu: settings.cpu,
      env: {
        NODE_ENV: "production",
        NODE_OPTIONS: "--enable-source-maps",
        LOG_LEVEL: APP_LOG_LEVEL,
        PORT: String(port),
        DATABASE_URL: scratch.scoped(scratch.urls.databaseUrl),
        DATABASE_READ_URLS: scratch.scoped(settings.replicaUrl ?? scratch.urls.replicaUrl),
        REDIS_URL: settings.redisUrl ?? "",
        QUEUE_URL: settings.queueUrl,
        AWS_REGION: BENCH_REGION,
        AWS_ENDPOINT_URL: scratch.urls.awsEndpoint,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        ASSETS_BUCKET: settings.bucket,
        CDN_DOMAIN,
        // The load generator is one client: per-client limits would refuse nearly every sign-up.
        SIGN_UP_LIMIT_PER_CLIENT: String(BENCH_RATE_LIMIT),
        SIGN_IN_LIMIT_PER_CLIENT: String(BENCH_RATE_LIMIT),
        // Empty is unset for the app: credentials from the caller's shell must not leak in.
        DATABASE_PASSWORD: "",
        REDIS_AUTH_TOKEN: "",
      },
      onStdoutLine: (line) => addCounts(counts, line),
    });
    const app = new RunningApp(name, `http://127.0.0.1:${port}`, child, counts);
    // /healthz, not /readyz: with the cache off on purpose the app is rightly "not ready".
    if (settings.role === "web") await waitForHttp(child, `${app.origin}/healthz`);
    return app;
  }

  assertRunning(): void {
    this.child.assertRunning();
  }

  cpuSeconds(): number | undefined {
    return this.child.cpuSeconds();
  }

  /** Stops the app (SIGTERM: it flushes its metrics on the way out) and returns its counts. */
  async stop(): Promise<AppCounts> {
    const code = await this.child.stop();
    if (code !== 0) {
      throw new Error(
        `${this.name} did not shut down cleanly (exit ${code}):\n${this.child.output()}`,
      );
    }
    return this.counts;
  }
}

/** Adds up the counters of an EMF line; other lines (the app's logs) are kept for errors. */
function addCounts(counts: AppCounts, line: string): boolean {
  if (!line.startsWith('{"_aws"')) return false;
  // Only the first document of a flush carries counters; the rest are latency values.
  if (COUNTERS.some((name) => line.includes(`"${name}"`))) {
    const document = JSON.parse(line) as Record<string, unknown>;
    for (const name of COUNTERS) {
      const value = document[name];
      if (typeof value === "number") counts[name] += value;
    }
  }
  return true;
}
