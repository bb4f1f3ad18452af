/**
 * The API fuzzer as a test (issue 12): runs schemathesis, driven by the app's own /openapi.json,
 * against the app in full-stack mode on the local services (PostgreSQL primary + replica, Redis,
 * moto's S3 and SQS), with its stateful phase, bounded in examples and time. Exits non-zero when
 * schemathesis finds a 5xx, a response that breaks the app's schema, bad input accepted, or an
 * undeclared method not answered 405 with Allow; prints how many operations and requests it covered.
 *
 * Usage: node --import tsx scripts/fuzz.ts   (scripts/fuzz.sh installs schemathesis and calls it)
 * Needs the TEST_* variables of scripts/services.sh (`source .services/env`) and `schemathesis`
 * on PATH (or SCHEMATHESIS=/path/to/schemathesis).
 *
 * Tunables (environment): FUZZ_MAX_EXAMPLES (per operation and phase, default 25),
 * FUZZ_MAX_TIME_SECONDS (the whole schemathesis run, default 150), FUZZ_SEED (reproduce a run).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import pg from "pg";
import { freePort } from "./freePort";

const root = resolve(__dirname, "..");
const REGION = "us-east-1";
/** How long the app may take to become ready (a cold tsx compile on a busy machine). */
const READY_TIMEOUT_MS = 120_000;
/** The checks that make the build fail (schemathesis names). */
const CHECKS = [
  "not_a_server_error",
  "status_code_conformance",
  "content_type_conformance",
  "response_headers_conformance",
  "response_schema_conformance",
  "negative_data_rejection",
  "unsupported_method",
];

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set: run scripts/services.sh start and source .services/env`);
  }
  return value;
}

function whole(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^[1-9]\d*$/.test(raw)) throw new Error(`${name} must be a positive whole number`);
  return Number(raw);
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Polls /readyz until it answers 200, the app exits, or the timeout passes. */
async function waitUntilReady(baseUrl: string, app: ChildProcess, output: () => string) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (app.exitCode !== null) throw new Error(`the app exited early:\n${output()}`);
    const ready = await fetch(`${baseUrl}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return;
    await sleep(250);
  }
  throw new Error(`the app was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${output()}`);
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: "inherit" });
    child.once("error", fail);
    child.once("exit", (code, signal) => done(code ?? (signal === null ? 1 : 128)));
  });
}

interface Coverage {
  /** API operations that were sent at least one request. */
  operations: number;
  /** Requests sent, all phases. */
  requests: number;
  /** Of those, in the stateful phase (chains of linked operations). */
  statefulRequests: number;
}

/** Counts from schemathesis's NDJSON event stream (one ScenarioFinished per test scenario). */
async function coverageFrom(reportDir: string): Promise<Coverage> {
  const name = (await readdir(reportDir)).find((file) => file.endsWith(".ndjson"));
  const text = name === undefined ? "" : await readFile(join(reportDir, name), "utf8");
  const operations = new Set<string>();
  let requests = 0;
  let statefulRequests = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith('{"ScenarioFinished"')) continue;
    const { phase, recorder } = (JSON.parse(line) as { ScenarioFinished: ScenarioFinished })
      .ScenarioFinished;
    const sent = Object.keys(recorder.interactions ?? {}).length;
    requests += sent;
    if (phase === "stateful") statefulRequests += sent;
    else if (sent > 0 && recorder.label !== undefined) operations.add(recorder.label);
  }
  return { operations: operations.size, requests, statefulRequests };
}

interface ScenarioFinished {
  phase: string;
  recorder: { label?: string; interactions?: Record<string, unknown> };
}

async function main(): Promise<number> {
  const databaseUrl = required("TEST_DATABASE_URL");
  const readUrls = (process.env.TEST_DATABASE_READ_URLS ?? "").split(",").filter(Boolean);
  const redisUrl = required("TEST_REDIS_URL");
  const awsEndpoint = required("TEST_AWS_ENDPOINT_URL");
  const schemathesis = process.env.SCHEMATHESIS ?? "schemathesis";
  const maxExamples = whole("FUZZ_MAX_EXAMPLES", 25);
  const maxTimeSeconds = whole("FUZZ_MAX_TIME_SECONDS", 150);
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "test",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "test",
  };

  // A schema, bucket and queue of its own: the run sees nothing else and leaves nothing behind.
  const schema = `fuzz_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const scoped = (url: string) => {
    const scopedUrl = new URL(url);
    scopedUrl.searchParams.set("options", `-c search_path=${schema}`);
    return scopedUrl.toString();
  };
  const s3 = new S3Client({
    region: REGION,
    endpoint: awsEndpoint,
    forcePathStyle: true,
    credentials,
  });
  const sqs = new SQSClient({ region: REGION, endpoint: awsEndpoint, credentials });
  const bucket = `fuzz-${randomBytes(6).toString("hex")}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: bucket }))).QueueUrl!;
  const dataDir = await mkdtemp(join(tmpdir(), "fuzz-"));
  // Kept after the run: the JUnit and NDJSON reports are what CI archives or a person reads.
  const reportDir = process.env.FUZZ_REPORT_DIR ?? (await mkdtemp(join(tmpdir(), "fuzz-report-")));

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let output = "";
  const app = spawn(process.execPath, ["--import", "tsx", "app/src/main.ts", "all"], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: scoped(databaseUrl),
      DATABASE_READ_URLS: readUrls.map(scoped).join(","),
      REDIS_URL: redisUrl,
      QUEUE_URL: queueUrl,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: awsEndpoint,
      ASSETS_BUCKET: bucket,
      CDN_DOMAIN: "cdn.fuzz.example",
      COOKIE_SECRET: randomBytes(32).toString("base64url"),
      LOG_LEVEL: "warn",
      // The fuzzer signs up and in from one address far more than a person would; its own limits
      // also keep its counters apart from other runs on the shared Redis.
      SIGN_UP_LIMIT_PER_CLIENT: "1000000",
      SIGN_IN_LIMIT_PER_CLIENT: "1000000",
      SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT: "1000000",
      SIGN_IN_LIMIT_PER_ACCOUNT: "2000000",
      ACCOUNT_CHANGE_LIMIT_PER_CLIENT: "1000000",
      ACCOUNT_CHANGE_LIMIT_PER_USER: "1000000",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000));
  app.stdout.on("data", keep);
  app.stderr.on("data", keep);

  try {
    await waitUntilReady(baseUrl, app, () => output.slice(-4_000));
    const cookie = await signedInCookie(baseUrl);
    const args = [
      "run",
      `${baseUrl}/openapi.json`,
      "--url",
      baseUrl,
      "--phases",
      "examples,coverage,fuzzing,stateful",
      "--checks",
      CHECKS.join(","),
      "--max-examples",
      String(maxExamples),
      "--max-time",
      String(maxTimeSeconds),
      // One worker: hypothesis's lambda-source cache is not thread-safe (runtime errors at 2).
      "--workers",
      "1",
      "--request-timeout",
      "20",
      "--suppress-health-check",
      "too_slow,filter_too_much",
      "--report",
      "junit,ndjson",
      "--report-dir",
      reportDir,
      // Signed in, so the owner-only operations are reached too (not only their 401s).
      "--header",
      `Cookie: ${cookie}`,
      ...(process.env.FUZZ_SEED === undefined ? [] : ["--seed", process.env.FUZZ_SEED]),
    ];
    // In the report folder: schemathesis keeps a .schemathesis cache in its working directory.
    const code = await run(schemathesis, args, { ...process.env, NO_COLOR: "1" }, reportDir);
    const serverErrors = output.split("\n").filter((line) => /"level":50/.test(line));
    const coverage = await coverageFrom(reportDir);
    process.stdout.write(`\nreports: ${reportDir}\n`);
    process.stdout.write(
      `fuzz: ${coverage.operations} operations, ${coverage.requests} requests (${coverage.statefulRequests} in stateful chains); schemathesis exit ${code}; ${serverErrors.length} error lines logged by the app\n`,
    );
    if (code !== 0) process.stdout.write(`app output (tail):\n${output.slice(-4_000)}\n`);
    return code;
  } finally {
    app.kill("SIGTERM");
    await new Promise((done) => (app.exitCode !== null ? done(null) : app.once("exit", done)));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    s3.destroy();
    sqs.destroy();
    const cleanup = new pg.Client({ connectionString: databaseUrl });
    await cleanup.connect();
    await cleanup.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await cleanup.end();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Signs a user up and in; the session cookie lets the fuzzer past the sign-in wall. */
async function signedInCookie(baseUrl: string): Promise<string> {
  const user = {
    name: "Fuzz",
    email: `fuzz-${randomBytes(4).toString("hex")}@example.com`,
    password: randomBytes(12).toString("base64url"),
  };
  const post = (path: string, body: object) =>
    fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const created = await post("/users", user);
  if (created.status !== 201) throw new Error(`sign-up answered ${created.status}`);
  const signedIn = await post("/sessions", { email: user.email, password: user.password });
  const sid = signedIn.headers
    .getSetCookie()
    .map((header) => header.split(";")[0] ?? "")
    .find((pair) => pair.startsWith("sid="));
  if (sid === undefined) throw new Error(`sign-in answered ${signedIn.status} without a session`);
  return sid;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `fuzz failed to run: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(2);
  },
);
