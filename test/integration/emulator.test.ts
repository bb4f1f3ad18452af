/**
 * The integration suite's emulator preflight and scripts/emulator.sh, against real moto servers
 * on loopback: the suite must tell which emulator answers, refuse a moto it cannot deploy to, and
 * say why. Skipped with the reason where moto is not installed.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { freePort } from "../../scripts/freePort";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checkEmulator, PROJECT_ROOT } from "./emulator";

const EMULATOR_SCRIPT = join(PROJECT_ROOT, "scripts", "emulator.sh");
/** moto's first start imports its whole package; on a busy two-core machine that takes minutes. */
const START_TIMEOUT_MS = 300_000;
const motoMissing = spawnSync("python3", ["-c", "import moto.server"]).status !== 0;
const skip = motoMissing ? "moto is not installed (pip install 'moto[server]>=5,<6')" : false;

async function waitUntilAnswering(url: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await new Promise((done) => setTimeout(done, 200));
  }
}

describe(
  "integration preflight: which emulator answers, and whether the stack can use it",
  { skip },
  () => {
    const state = mkdtempSync(join(tmpdir(), "emulator-test-"));
    let scripted: string;
    let bare: string;
    let bareMoto: ChildProcess;
    /** Runs scripts/emulator.sh with its pidfile and log under `stateDir` (EMULATOR_DIR). */
    const script = (command: string, port: number, stateDir = state) =>
      spawnSync("bash", [EMULATOR_SCRIPT, command, "moto"], {
        encoding: "utf8",
        env: {
          ...process.env,
          EMULATOR_PORT: String(port),
          EMULATOR_DIR: stateDir,
          EMULATOR_TIMEOUT: String(START_TIMEOUT_MS / 1000),
        },
      });

    before(async () => {
      const [scriptPort, barePort] = [await freePort(), await freePort()];
      const started = script("start", scriptPort);
      assert.equal(started.status, 0, started.stderr);
      scripted = `http://127.0.0.1:${scriptPort}`;
      assert.match(started.stdout, new RegExp(`export AWS_ENDPOINT_URL=${scripted} EMULATOR=moto`));
      // moto as it starts by default: without AWS-managed IAM policies.
      bareMoto = spawn(
        "python3",
        ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(barePort)],
        {
          stdio: "ignore",
        },
      );
      bare = `http://127.0.0.1:${barePort}`;
      await waitUntilAnswering(`${bare}/moto-api/data.json`);
    });

    after(() => {
      script("stop", Number(new URL(scripted).port));
      bareMoto?.kill();
      rmSync(state, { recursive: true, force: true });
    });

    it("GIVEN moto started by scripts/emulator.sh THEN it is ready, flavor moto (the stack leaves out the cache tier moto cannot host)", async () => {
      const result = await checkEmulator(scripted, "moto");
      assert.deepEqual(result, { ready: true, endpoint: scripted, flavor: "moto" });
    });

    it("GIVEN moto without AWS-managed IAM policies THEN the reason names the setting that loads them", async () => {
      const result = await checkEmulator(bare);
      assert.equal(result.ready, false);
      assert.match(!result.ready ? result.reason : "", /MOTO_IAM_LOAD_MANAGED_POLICIES=true/);
    });

    it("GIVEN EMULATOR=localstack while moto answers THEN the reason says so", async () => {
      const result = await checkEmulator(scripted, "localstack");
      assert.deepEqual(result, {
        ready: false,
        reason: `EMULATOR=localstack, but moto answers at ${scripted}`,
      });
    });

    it("GIVEN nothing listening THEN the reason says no emulator answers there and how to start one", async () => {
      const endpoint = `http://127.0.0.1:${await freePort()}`;
      const result = await checkEmulator(endpoint);
      assert.equal(result.ready, false);
      assert.match(
        !result.ready ? result.reason : "",
        /^no AWS emulator answers at .*`scripts\/emulator\.sh start moto`/,
      );
    });

    it("GIVEN scripts/emulator.sh stop THEN moto no longer answers", async () => {
      // A state directory of its own: no pidfile from another moto (or run) can stand in for this one.
      const own = mkdtempSync(join(tmpdir(), "emulator-stop-test-"));
      const port = await freePort();
      try {
        const started = script("start", port, own);
        assert.equal(started.status, 0, started.stderr);
        const stopped = script("stop", port, own);
        assert.equal(stopped.status, 0, stopped.stderr);
        assert.match(stopped.stdout, /moto stopped/);
        assert.notEqual(script("status", port, own).status, 0);
      } finally {
        script("stop", port, own); // a no-op unless an assertion above failed
        rmSync(own, { recursive: true, force: true });
      }
    });
  },
);
