// The real entry point on the full stack, as deployed: `main.ts migrate` (master credential) once,
// then `main.ts web` and `main.ts worker` as two processes on the app's own database role,
// configured only through the CONTRACT.md variables, against every local service.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { freePort } from "../../../scripts/freePort";
import { removeBucket } from "../../../scripts/removeBucket";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import pg from "pg";
import { eventually, makePng, makeTempDir } from "../support/helpers";
import { isolatedSchema, needServices, TEST_AWS_REGION, uniqueName } from "../support/services";

const root = resolve(__dirname, "..", "..", "..");
const services = needServices("database", "replica", "redis", "aws");
const CDN_DOMAIN = "cdn.fullstack.example";

interface Process {
  child: ChildProcess;
  exited: Promise<unknown[]>;
  output(): string;
}

function startMain(role: string, env: NodeJS.ProcessEnv): Process {
  const child = spawn(process.execPath, ["--import", "tsx", "app/src/main.ts", role], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on(
    "data",
    (chunk: Buffer) => (output = (output + chunk.toString()).slice(-50_000)),
  );
  child.stderr?.on(
    "data",
    (chunk: Buffer) => (output = (output + chunk.toString()).slice(-50_000)),
  );
  return { child, exited: once(child, "exit"), output: () => output };
}

/** Drops the app role the migrate step created (after its schema is gone). */
async function dropRole(role: string): Promise<void> {
  if (services.skip) return;
  const admin = new pg.Client({ connectionString: services.env().databaseUrl });
  await admin.connect();
  try {
    await admin
      .query(`REVOKE CONNECT ON DATABASE ${admin.database!} FROM ${role}`)
      .catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
  } finally {
    await admin.end();
  }
}

describe("web and worker processes on the full stack", () => {
  let schema: Awaited<ReturnType<typeof isolatedSchema>>;
  let sqs: SQSClient;
  let s3: S3Client;
  let queueUrl: string;
  let bucket: string;
  let dataDir: { path: string; remove(): Promise<void> };
  let web: Process;
  let worker: Process;
  let baseUrl: string;
  const appRole = `fullstack_${randomBytes(5).toString("hex")}`;
  const appPassword = randomBytes(12).toString("hex");

  before(
    async () => {
      if (services.skip) return;
      const urls = services.env();
      schema = await isolatedSchema(urls.databaseUrl);
      sqs = new SQSClient({ region: TEST_AWS_REGION, endpoint: urls.awsEndpoint });
      s3 = new S3Client({
        region: TEST_AWS_REGION,
        endpoint: urls.awsEndpoint,
        forcePathStyle: true,
      });
      queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName("fullstack") })))
        .QueueUrl!;
      bucket = uniqueName("fullstack");
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      dataDir = await makeTempDir("fullstack-");
      const port = await freePort();
      baseUrl = `http://127.0.0.1:${port}`;
      const env: NodeJS.ProcessEnv = {
        PORT: String(port),
        DATA_DIR: dataDir.path,
        DATABASE_URL: schema.url(urls.databaseUrl),
        DATABASE_READ_URLS: urls.readUrls.map((url) => schema.url(url)).join(","),
        REDIS_URL: urls.redisUrl,
        QUEUE_URL: queueUrl,
        AWS_REGION: TEST_AWS_REGION,
        AWS_ENDPOINT_URL: urls.awsEndpoint,
        ASSETS_BUCKET: bucket,
        CDN_DOMAIN,
        LOG_LEVEL: "info",
        // Shared by every instance; two, as during a rotation (the first signs).
        COOKIE_SECRET: `${randomBytes(32).toString("base64url")},${randomBytes(32).toString("base64url")}`,
        // The test's fetch() stands where the load balancer would.
        TRUSTED_PROXIES: "127.0.0.1",
        // Every test run on the machine shares Redis and signs up from 127.0.0.1.
        SIGN_UP_LIMIT_PER_CLIENT: "100000",
        SIGN_IN_LIMIT_PER_CLIENT: "100000",
      };
      // The deploy order: the migrate step with the master credential, then the tasks on the
      // app's own role (row access only; they verify the schema version instead of migrating).
      const migrate = startMain("migrate", {
        ...env,
        DATABASE_APP_USER: appRole,
        DATABASE_APP_PASSWORD: appPassword,
      });
      const [code] = await migrate.exited;
      assert.equal(code, 0, migrate.output());
      const asAppRole = (url: string) => {
        const scoped = new URL(url);
        scoped.username = appRole;
        scoped.password = appPassword;
        return scoped.toString();
      };
      const taskEnv: NodeJS.ProcessEnv = {
        ...env,
        DATABASE_URL: asAppRole(env.DATABASE_URL!),
        DATABASE_MIGRATIONS: "verify",
        DATABASE_READ_URLS: urls.readUrls.map((url) => asAppRole(schema.url(url))).join(","),
      };
      web = startMain("web", taskEnv);
      worker = startMain("worker", taskEnv);
      await eventually(
        async () => {
          for (const process of [web, worker]) {
            if (process.child.exitCode !== null)
              throw new Error(`exited early:\n${process.output()}`);
          }
          try {
            return (await fetch(`${baseUrl}/readyz`)).ok ? true : undefined;
          } catch {
            return undefined;
          }
        },
        "the web process to be ready",
        90_000,
        200,
      );
    },
    { timeout: 120_000 },
  );

  after(async () => {
    for (const process of [web, worker]) {
      if (process?.child.exitCode === null) process.child.kill("SIGKILL");
    }
    if (sqs && queueUrl)
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    if (s3 && bucket) await removeBucket(s3, bucket);
    sqs?.destroy();
    s3?.destroy();
    await schema?.drop();
    await dropRole(appRole);
    await dataDir?.remove();
  });

  it(
    "GIVEN the split roles WHEN a user signs up and uploads a photo THEN the worker process thumbnails it",
    { skip: services.skip, timeout: 120_000 },
    async () => {
      const meta = await (await fetch(`${baseUrl}/meta`)).json();
      assert.deepEqual(meta.mode, {
        database: "postgres",
        cache: "redis",
        queue: "sqs",
        files: "s3",
      });
      assert.equal(meta.region, TEST_AWS_REGION);
      const csp = (await fetch(baseUrl)).headers.get("content-security-policy") ?? "";
      assert.match(csp, new RegExp(`img-src 'self' data: https://${CDN_DOMAIN}`));
      assert.ok(
        csp.includes(`connect-src 'self' ${new URL(process.env.TEST_AWS_ENDPOINT_URL!).origin}`),
        `uploads go to the bucket's endpoint: ${csp}`,
      );

      const input = { name: "Dorothy", email: "dorothy@example.com", password: "crystallography" };
      const created = await fetch(`${baseUrl}/users`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(input),
      });
      assert.equal(created.status, 201);
      const { id } = await created.json();
      const signIn = await fetch(`${baseUrl}/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: input.email, password: input.password }),
      });
      assert.equal(signIn.status, 201);
      const cookie = signIn.headers
        .getSetCookie()
        .map((header) => header.split(";")[0])
        .join("; ");

      const png = await makePng();
      const started = await fetch(`${baseUrl}/users/${id}/photo`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify({ contentType: "image/png", size: png.length }),
      });
      assert.equal(started.status, 201);
      const { key, upload } = await started.json();
      const put = await fetch(upload.url, {
        method: "PUT",
        headers: upload.headers,
        body: new Uint8Array(png),
      });
      assert.equal(put.status, 200);
      const completed = await fetch(`${baseUrl}/users/${id}/photo/complete`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify({ key }),
      });
      assert.equal(completed.status, 202);
      const { jobId } = await completed.json();

      const thumbnailUrl = await eventually(
        async () => {
          const user = await (await fetch(`${baseUrl}/users/${id}`)).json();
          assert.equal(user.email, undefined, "a stranger gets the public view");
          return user.photo?.thumbnailUrl as string | undefined;
        },
        "the worker process's thumbnail",
        60_000,
        250,
      );
      assert.equal(thumbnailUrl, `https://${CDN_DOMAIN}/thumbnails/${id}/${jobId}.webp`);

      for (const process of [web, worker]) process.child.kill("SIGTERM");
      const [webExit, workerExit] = await Promise.all([web.exited, worker.exited]);
      assert.equal(webExit[0], 0, web.output());
      assert.equal(workerExit[0], 0, worker.output());
      assert.match(worker.output(), /"JobsProcessed":1/, "the worker's EMF line counts the job");
      assert.match(web.output(), /"Signups":1/);
    },
  );
});
