// The real entry point in a child process: `npm start`'s server with nothing else installed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { freePort } from "../../scripts/freePort";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { eventually, makeTempDir } from "./support/helpers";

const root = resolve(__dirname, "..", "..");
const SERVICE_VARIABLES = [
  "DATABASE_URL",
  "DATABASE_READ_URLS",
  "DATABASE_SECRET_ARN",
  "REDIS_URL",
  "QUEUE_URL",
  "ASSETS_BUCKET",
  "CDN_DOMAIN",
  "AWS_ENDPOINT_URL",
];

function startMain(env: NodeJS.ProcessEnv, args: string[] = []) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of SERVICE_VARIABLES) if (!(name in env)) delete childEnv[name];
  const child = spawn(process.execPath, ["--import", "tsx", "app/src/main.ts", ...args], {
    cwd: root,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, exited, output: () => output };
}

describe("main.ts", () => {
  it(
    "GIVEN a fresh DATA_DIR and no services WHEN started THEN it serves /healthz and exits 0 on SIGTERM",
    { timeout: 120_000 },
    async () => {
      const dataDir = await makeTempDir("main-smoke-");
      const port = await freePort();
      const app = startMain({ PORT: String(port), DATA_DIR: dataDir.path, LOG_LEVEL: "info" });
      try {
        const health = await eventually(
          async () => {
            if (app.child.exitCode !== null) throw new Error(`exited early:\n${app.output()}`);
            try {
              const response = await fetch(`http://127.0.0.1:${port}/healthz`);
              return response.ok ? await response.json() : undefined;
            } catch {
              return undefined;
            }
          },
          "/healthz",
          90_000,
          200,
        );
        assert.deepEqual(health, { status: "ok" });
        const meta = await (await fetch(`http://127.0.0.1:${port}/meta`)).json();
        assert.deepEqual(meta.mode, {
          database: "pglite",
          cache: "memory",
          queue: "memory",
          files: "local",
        });

        app.child.kill("SIGTERM");
        const [code] = await app.exited;
        assert.equal(code, 0, app.output());
        assert.match(app.output(), /"msg":"closed"/);
      } finally {
        if (app.child.exitCode === null) app.child.kill("SIGKILL");
        await dataDir.remove();
      }
    },
  );

  for (const [variable, value] of [
    ["PORT", "abc"],
    ["DATABASE_URL", "mysql://nope"],
  ] as const) {
    it(
      `GIVEN ${variable}=${value} WHEN started THEN it exits non-zero naming ${variable}`,
      { timeout: 60_000 },
      async () => {
        const app = startMain({ [variable]: value });
        const [code] = await app.exited;
        assert.equal(code, 2);
        assert.match(app.output(), new RegExp(`configuration error: ${variable} `));
      },
    );
  }

  it(
    "GIVEN a malformed DATABASE_SECRET_ARN WHEN started THEN it exits 2 naming DATABASE_SECRET_ARN",
    { timeout: 60_000 },
    async () => {
      const app = startMain({
        DATABASE_URL: "postgres://app@127.0.0.1:1/app",
        DATABASE_SECRET_ARN: "rds!db-not-an-arn",
      });
      const [code] = await app.exited;
      assert.equal(code, 2);
      assert.match(app.output(), /configuration error: DATABASE_SECRET_ARN /);
    },
  );

  it(
    "GIVEN an unknown role argument WHEN started THEN it exits non-zero naming the argument",
    { timeout: 60_000 },
    async () => {
      const app = startMain({}, ["cron"]);
      const [code] = await app.exited;
      assert.equal(code, 2);
      assert.match(app.output(), /the process argument is "cron"/);
    },
  );
});
