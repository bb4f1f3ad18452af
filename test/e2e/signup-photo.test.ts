// End to end: the real app in embedded mode, driven through the real page in headless Chromium.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { freePort } from "../../scripts/freePort";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import sharp from "sharp";

const root = resolve(__dirname, "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** Variables that would point the app at real services; unset, it runs embedded (CONTRACT.md). */
const SERVICE_VARIABLES = [
  "DATABASE_URL",
  "DATABASE_READ_URLS",
  "REDIS_URL",
  "QUEUE_URL",
  "ASSETS_BUCKET",
  "CDN_DOMAIN",
  "AWS_ENDPOINT_URL",
];
// Generous on purpose: a cold tsx compile, PGlite's first start and the worker's first job can
// each take a while on a busy CI machine. Nothing here measures speed.
const STARTUP_TIMEOUT_MS = 120_000;
const STEP_TIMEOUT_MS = 30_000;
const THUMBNAIL_TIMEOUT_MS = 150_000;

const chromiumMissing = !existsSync(CHROMIUM);
const skip =
  chromiumMissing && process.env.CI !== "true"
    ? `${CHROMIUM} is missing (apt-get install chromium); CI fails instead of skipping`
    : false;

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolveRun() : reject(new Error(`${args.join(" ")} failed: ${stderr}`)),
    );
  });
}

interface RunningApp {
  url: string;
  /** The last part of the app's stdout and stderr, for failure reports. */
  output(): string;
  stop(): Promise<void>;
}

/** Builds the page and starts `tsx app/src/main.ts` (web + worker) on a free port with a temp DATA_DIR. */
async function startApp(dataDir: string): Promise<RunningApp> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir };
  for (const name of SERVICE_VARIABLES) delete env[name];

  // The app serves app/public/dist; `npm start` builds it, so do the same here.
  await run(process.execPath, ["app/scripts/build-public.mjs"]);

  // Its own process group, so stop() also reaches the node process that npx and tsx start.
  const child = spawn("npx", ["tsx", "app/src/main.ts"], {
    cwd: root,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));

  const app: RunningApp = {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: () => stopGroup(child, exited),
  };
  try {
    await waitForHealth(app.url, child);
  } catch (error) {
    await app.stop();
    throw new Error(`${(error as Error).message}\napp output:\n${output}`);
  }
  return app;
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the app exited (${child.exitCode ?? child.signalCode}) before /healthz`);
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  throw new Error(`the app did not answer /healthz within ${STARTUP_TIMEOUT_MS} ms`);
}

async function stopGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is already gone.
    }
  };
  signalGroup("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const stopped = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((resolveTimeout) => {
      timer = setTimeout(() => resolveTimeout(false), 10_000);
    }),
  ]);
  // A pending timer would keep this test file's process alive after the last test.
  clearTimeout(timer);
  if (!stopped) {
    signalGroup("SIGKILL");
    await exited;
  }
}

test(
  "signs up, signs out and in, uploads a photo, shows its thumbnail and who served the page",
  { skip, timeout: STARTUP_TIMEOUT_MS + THUMBNAIL_TIMEOUT_MS + 180_000 },
  async (t) => {
    if (chromiumMissing) {
      throw new Error(`${CHROMIUM} is missing and CI=true: install Debian's chromium package`);
    }
    const dataDir = await mkdtemp(join(tmpdir(), "e2e-data-"));
    const profileDir = await mkdtemp(join(tmpdir(), "e2e-chromium-"));
    let app: RunningApp | undefined;
    let context: BrowserContext | undefined;
    try {
      app = await startApp(dataDir);
      context = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      const page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(STEP_TIMEOUT_MS);
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(String(error)));
      // The Content-Security-Policy must let the page do everything it does.
      const cspViolations: string[] = [];
      page.on("console", (message) => {
        if (/content security policy/i.test(message.text())) cspViolations.push(message.text());
      });
      try {
        await journey(page, app.url);
        assert.deepEqual(pageErrors, [], "the page threw");
        assert.deepEqual(cspViolations, [], "the page broke its own Content-Security-Policy");
      } catch (error) {
        // Kept after the run (unlike the other temp dirs) so the failure can be looked at.
        const screenshot = join(await mkdtemp(join(tmpdir(), "e2e-failure-")), "page.png");
        await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
        t.diagnostic(`screenshot: ${screenshot}`);
        t.diagnostic(`page errors: ${pageErrors.join("\n") || "none"}`);
        t.diagnostic(`app output (tail):\n${app.output().slice(-4_000)}`);
        throw error;
      }
    } finally {
      await context?.close().catch(() => {});
      await app?.stop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(profileDir, { recursive: true, force: true });
    }
  },
);

async function journey(page: Page, url: string): Promise<void> {
  const meta = (await (await fetch(`${url}/meta`)).json()) as { region: string; instance: string };
  assert.ok(meta.region && meta.instance, "GET /meta names a region and an instance");

  await page.goto(url);
  const servedBy = page.getByRole("complementary", { name: "Served by" });
  await servedBy.getByText(meta.region, { exact: true }).waitFor();
  await servedBy.getByText(meta.instance, { exact: true }).waitFor();

  const name = "Ada Lovelace";
  const email = "ada@example.com";
  const password = "correct horse battery staple";
  const signUp = page.getByRole("form", { name: "Sign up" });
  const signIn = page.getByRole("form", { name: "Sign in" });
  const profile = page.getByRole("region", { name: "Your profile" });

  // Sign up: the page starts a session right away and shows the profile.
  await signUp.getByLabel("Name").fill(name);
  await signUp.getByLabel("Email").fill(email);
  await signUp.getByLabel("Password").fill(password);
  await signUp.getByRole("button", { name: "Sign up" }).click();
  await profile.getByText(email, { exact: true }).waitFor();
  // The profile is re-read through GET /users/:id, whose headers name the serving region.
  await profile.getByText(`region ${meta.region}`).waitFor();

  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn.waitFor();

  // The API's 409 reaches the user as a message on the form, with the email field marked.
  await signUp.getByLabel("Name").fill(name);
  await signUp.getByLabel("Email").fill(email);
  await signUp.getByLabel("Password").fill(password);
  await signUp.getByRole("button", { name: "Sign up" }).click();
  const duplicate = signUp.getByRole("alert");
  await duplicate.filter({ hasText: /\S/ }).waitFor();
  assert.equal(await signUp.getByLabel("Email").getAttribute("aria-invalid"), "true");

  await signIn.getByLabel("Email").fill(email);
  await signIn.getByLabel("Password").fill("not the password");
  await signIn.getByRole("button", { name: "Sign in" }).click();
  await signIn.getByRole("alert").filter({ hasText: /\S/ }).waitFor();
  assert.ok(await profile.isHidden(), "a wrong password must not sign in");

  await signIn.getByLabel("Password").fill(password);
  await signIn.getByRole("button", { name: "Sign in" }).click();
  await profile.getByText(email, { exact: true }).waitFor();

  // The session is a cookie: a reload stays signed in.
  await page.reload();
  await profile.getByText(email, { exact: true }).waitFor();

  const png = await sharp({
    create: { width: 320, height: 240, channels: 3, background: { r: 228, g: 87, b: 46 } },
  })
    .png()
    .toBuffer();
  await profile
    .getByLabel("Photo", { exact: true })
    .setInputFiles({ name: "ada.png", mimeType: "image/png", buffer: png });
  await profile.getByRole("button", { name: "Upload photo" }).click();

  const thumbnail = profile.getByRole("img", { name: `Profile photo of ${name}` });
  await thumbnail.waitFor({ state: "visible", timeout: THUMBNAIL_TIMEOUT_MS });
  await page.waitForFunction(
    () => {
      const image = document.getElementById("photo");
      return image instanceof HTMLImageElement && image.complete && image.naturalWidth > 0;
    },
    undefined,
    { timeout: STEP_TIMEOUT_MS },
  );
  await profile.getByRole("status").filter({ hasText: "ready" }).waitFor();
}
