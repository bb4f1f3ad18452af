// Resharding online on real PostgreSQL (app/src/sharding/reshard.ts): logical shards move between
// physical shards while the app serves them, losing, duplicating and misrouting nothing; unsafe
// input is refused with nothing changed; and the command killed at any step, then rerun, ends
// consistent. The write pause is measured and reported (t.diagnostic), never asserted.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { setImmediate as yieldToTimers } from "node:timers/promises";
import { parsePostgresUrl } from "../../../app/src/config";
import { logicalShardOf } from "../../../app/src/sharding/ids";
import { DIRECTORY_SHARD } from "../../../app/src/sharding/router";
import { parseShardMap } from "../../../app/src/sharding/shardMap";
import { clientConfig, reshard, ReshardRefused } from "../../../app/src/sharding/reshard";
import { CookieJar } from "../support/helpers";
import { needServices, uniqueName } from "../support/services";
import { PHYSICAL_SHARDS, startShardedStack, type ShardedStack } from "../support/shards";

const root = resolve(__dirname, "..", "..", "..");
const services = needServices("database");
const PASSWORD = "correct horse battery staple";

/** A signed-in user: `id` is the public id the API speaks, `userId` the internal (sharded) one. */
async function signUpAndIn(
  s: ShardedStack,
  label = "mover",
): Promise<{ id: string; userId: string; jar: CookieJar }> {
  const name = uniqueName(label);
  const email = `${name}@example.com`;
  const created = await s.service.app.inject({
    method: "POST",
    url: "/users",
    payload: { name, email, password: PASSWORD },
  });
  assert.equal(created.statusCode, 201, created.body);
  const jar = new CookieJar();
  const signIn = await s.service.app.inject({
    method: "POST",
    url: "/sessions",
    payload: { email, password: PASSWORD },
  });
  assert.equal(signIn.statusCode, 201);
  jar.store(signIn.headers["set-cookie"]);
  const id = created.json<{ id: string }>().id;
  const [entry] = await s.sql(
    0,
    "SELECT user_id::text AS user_id FROM user_public_ids WHERE public_id = $1",
    [id],
  );
  assert.ok(entry !== undefined, "the directory maps the new public id");
  return { id, userId: entry.user_id as string, jar };
}

describe("resharding online", { skip: services.skip }, () => {
  let s: ShardedStack;
  const configs = () =>
    s.urls.map((url) => clientConfig(parsePostgresUrl("shard", url, undefined)));

  before(async () => {
    s = await startShardedStack(services.env().databaseUrl);
  });
  after(async () => {
    await s?.close();
  });

  /** Rows of users made straight on their home shard (no directory entry): bulk for the copy. */
  async function bulkRows(logical: number, rows: number): Promise<void> {
    const home = s.shards.physicalShardOf(logical);
    await s.sql(
      home,
      `INSERT INTO users (id, name, email, password_hash)
       SELECT make_shard_id($1), 'bulk ' || g, 'bulk-' || $1 || '-' || g || '@example.com', 'x'
         FROM generate_series(1, $2) AS g`,
      [logical, rows],
    );
  }

  /** Where every user row is: id → physical shards holding it. */
  async function placement(): Promise<Map<string, number[]>> {
    const found = new Map<string, number[]>();
    for (let shard = 0; shard < PHYSICAL_SHARDS; shard += 1) {
      for (const row of await s.sql(shard, "SELECT id::text AS id FROM users")) {
        found.set(row.id as string, [...(found.get(row.id as string) ?? []), shard]);
      }
    }
    return found;
  }

  async function assertEveryRowHome(expectedCount: number): Promise<void> {
    await s.shards.refresh();
    const found = await placement();
    assert.equal(found.size, expectedCount, "no row lost or made up");
    for (const [id, shards] of found) {
      assert.deepEqual(shards, [s.shards.physicalShardOf(logicalShardOf(id))], `user ${id}`);
    }
  }

  it("GIVEN writes, reads and sign-ups in flight WHEN logical shards move THEN every acknowledged write is on its shard afterwards and only the moving shards pause", async (t) => {
    const users: { id: string; userId: string; jar: CookieJar }[] = [];
    for (let index = 0; index < 18; index += 1) users.push(await signUpAndIn(s));
    const onSource = users.filter((u) => s.shards.physicalShardOf(logicalShardOf(u.userId)) === 0);
    assert.ok(onSource.length >= 2, "some users start on physical shard 0");
    const moving = [...new Set(onSource.slice(0, 4).map((u) => logicalShardOf(u.userId)))];
    for (const logical of moving) await bulkRows(logical, 600);
    const before = (await placement()).size;

    const failures: string[] = [];
    const lastAcked = new Map<string, string>();
    const pauses = { moving: 0, other: 0 };
    const signedUp: string[] = [];
    let running = true;

    const writer = async (user: { id: string; userId: string; jar: CookieJar }) => {
      const isMoving = moving.includes(logicalShardOf(user.userId));
      for (let k = 0; running; k += 1) {
        await yieldToTimers();
        const name = `write ${k}`;
        const started = performance.now();
        const response = await s.service.app.inject({
          method: "PATCH",
          url: `/users/${user.id}`,
          headers: { cookie: user.jar.header() },
          payload: { name },
        });
        const took = performance.now() - started;
        if (response.statusCode !== 200)
          failures.push(`PATCH ${response.statusCode} ${response.body}`);
        else lastAcked.set(user.id, name);
        if (isMoving) pauses.moving = Math.max(pauses.moving, took);
        else pauses.other = Math.max(pauses.other, took);
      }
    };
    const reader = async () => {
      while (running) {
        // Cache hits resolve without I/O: without this the loop would starve every timer.
        await yieldToTimers();
        const user = users[Math.floor(Math.random() * users.length)]!;
        const response = await s.service.app.inject({ method: "GET", url: `/users/${user.id}` });
        if (response.statusCode !== 200)
          failures.push(`GET ${response.statusCode} ${response.body}`);
      }
    };
    const signer = async () => {
      while (running) {
        await yieldToTimers();
        const name = uniqueName("during");
        const response = await s.service.app.inject({
          method: "POST",
          url: "/users",
          payload: { name, email: `${name}@example.com`, password: PASSWORD },
        });
        if (response.statusCode !== 201)
          failures.push(`POST ${response.statusCode} ${response.body}`);
        else signedUp.push(response.json<{ id: string }>().id);
      }
    };
    const load = Promise.all([...users.map(writer), reader(), reader(), signer()]);

    await new Promise((resolve) => setTimeout(resolve, 300));
    const report = await reshard({
      shards: configs(),
      move: moving,
      to: 2,
      graceMs: 500,
      batchRows: 200,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await load;

    assert.deepEqual(failures, []);
    assert.equal(report.rowsCopied >= moving.length * 600, true);
    assert.deepEqual(
      report.verified.map((v) => v.table),
      ["users", "jobs"],
    );
    for (const logical of moving) assert.equal(s.shards.physicalShardOf(logical), 2);
    await assertEveryRowHome(before + signedUp.length);
    for (const user of users) {
      const home = s.shards.physicalShardOf(logicalShardOf(user.userId));
      const [row] = await s.sql(home, "SELECT name FROM users WHERE id = $1", [user.userId]);
      assert.equal(
        row?.name,
        lastAcked.get(user.id),
        `user ${user.id} keeps its last acknowledged write`,
      );
    }
    const sealed = await s.sql(
      0,
      "SELECT logical_shard FROM shard_state WHERE state = 'moved' ORDER BY 1",
    );
    assert.deepEqual(
      sealed.map((row) => row.logical_shard),
      [...moving].sort((a, b) => a - b),
    );
    t.diagnostic(
      `moved ${report.rowsCopied} rows at ${Math.round(report.copyRowsPerSecond)} rows/s; fence held ${report.pauseMs.toFixed(1)} ms; ` +
        `longest write seen by the app: moving shards ${pauses.moving.toFixed(1)} ms, other shards ${pauses.other.toFixed(1)} ms`,
    );
  });

  it("GIVEN unsafe input THEN the command refuses, naming the problem, and changes nothing", async () => {
    await s.shards.refresh();
    const version = s.shards.mapVersion;
    const moves = await s.sql(0, "SELECT count(*)::int AS n FROM reshard_moves");
    const onOne = Array.from({ length: 8192 }, (_, l) => l).find(
      (l) => s.shards.physicalShardOf(l) === 1,
    )!;
    const onZero = Array.from({ length: 8192 }, (_, l) => l).find(
      (l) => s.shards.physicalShardOf(l) === 0,
    )!;
    const cases: [string, Parameters<typeof reshard>[0]["move"], number, RegExp][] = [
      ["unknown physical shard", [onOne], 7, /physical shard 7 is unknown: 3 are configured/],
      ["onto itself", [onOne], 1, /already on physical shard 1: a move onto itself/],
      ["unknown logical shard", [9000], 2, /logical shards 9000 do not exist/],
      ["two sources", [onOne, onZero], 2, /live on physical shards .*a command of its own/],
      ["nothing", [], 2, /names no logical shards/],
    ];
    for (const [what, move, to, message] of cases) {
      await assert.rejects(
        reshard({ shards: configs(), move, to, graceMs: 0 }),
        (error: Error) => error instanceof ReshardRefused && message.test(error.message),
        what,
      );
    }
    // A live map that leaves a logical shard nowhere.
    await s.sql(0, "DELETE FROM shard_map WHERE logical_shard = $1", [onZero]);
    await assert.rejects(
      reshard({ shards: configs(), move: [onOne], to: 2, graceMs: 0 }),
      new RegExp(`logical shards ${onZero} are on no physical shard`),
    );
    await s.sql(0, "INSERT INTO shard_map VALUES ($1, 0)", [onZero]);
    // An unfinished move blocks any other one.
    await s.sql(
      0,
      "INSERT INTO reshard_moves (logical_shards, source, target, step) VALUES ($1, 1, 2, 'copy')",
      [[onOne]],
    );
    await assert.rejects(
      reshard({ shards: configs(), move: [onZero], to: 2, graceMs: 0 }),
      new RegExp(
        `unfinished at step copy; finish it first: npm run reshard -- --move ${onOne} --to 2`,
      ),
    );
    await s.sql(0, "DELETE FROM reshard_moves WHERE step = 'copy'");

    await s.shards.refresh();
    assert.equal(s.shards.mapVersion, version);
    assert.deepEqual(await s.sql(0, "SELECT count(*)::int AS n FROM reshard_moves"), moves);
  });

  /** Runs the CLI; with `killAt`, SIGKILLs it as soon as it reports that step. */
  function runCli(move: number, to: number, killAt?: string) {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "app/src/sharding/cli.ts",
        "reshard",
        "--move",
        String(move),
        "--to",
        String(to),
        "--grace-ms",
        "100",
        "--batch-rows",
        "50",
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          DATABASE_URL: s.urls[0],
          DATABASE_SHARDS: JSON.stringify(s.urls.slice(1).map((url) => ({ url }))),
          LOG_LEVEL: "silent",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    let killed = false;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (killAt !== undefined && !killed && output.includes(`step=${killAt}`)) {
        killed = true;
        child.kill("SIGKILL");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    return new Promise<{ code: number | null; killed: boolean; output: string }>((done) =>
      child.on("exit", (code) => done({ code, killed, output })),
    );
  }

  const STEPS = [
    "capture",
    "copy",
    "copy-batch",
    "catchup",
    "fence",
    "verify",
    "sealed",
    "flipped",
    "cleanup",
  ];

  it("GIVEN the command killed at each step THEN rerunning it ends with every row once, on the shard the map names", async () => {
    await s.shards.refresh();
    // One logical shard per drill, each with rows and each moving off its home shard.
    const drills = STEPS.map((step, index) => {
      const logical = 4000 + index * 7;
      return { step, logical, to: (s.shards.physicalShardOf(logical) + 1) % PHYSICAL_SHARDS };
    });
    for (const drill of drills) await bulkRows(drill.logical, 180);
    const total = (await placement()).size;
    for (const drill of drills) {
      const crashed = await runCli(drill.logical, drill.to, drill.step);
      assert.equal(crashed.killed, true, `reached ${drill.step}: ${crashed.output}`);
      const rerun = await runCli(drill.logical, drill.to);
      assert.equal(rerun.code, 0, rerun.output);
      await s.shards.refresh();
      assert.equal(
        s.shards.physicalShardOf(drill.logical),
        drill.to,
        `after a crash at ${drill.step}`,
      );
    }
    await assertEveryRowHome(total);
    assert.deepEqual(
      await s.sql(0, "SELECT count(*)::int AS n FROM reshard_moves WHERE step <> 'done'"),
      [{ n: 0 }],
    );
    for (const drill of drills) {
      const [count] = await s.sql(
        drill.to,
        "SELECT count(*)::int AS n FROM users WHERE logical_shard_of(id) = $1",
        [drill.logical],
      );
      assert.equal(count?.n, 180);
    }
  });
});

// The chapter's celebrity problem: one user's logical shard draws far more traffic than the rest.
// The remedy: a physical shard of its own (added empty, as `database.shards` + 1 adds one), and
// the same reshard command moving that logical shard alone.
describe(
  "a hot logical shard moves alone onto a physical shard of its own",
  {
    skip: services.skip,
  },
  () => {
    const EMPTY_SHARD = 2;
    let s: ShardedStack;

    before(async () => {
      // Physical shard 2 just added: every logical shard still on 0 and 1.
      s = await startShardedStack(services.env().databaseUrl, {
        seedMap: parseShardMap("0-4095:0,4096-8191:1", PHYSICAL_SHARDS),
      });
    });
    after(async () => {
      await s?.close();
    });

    const logicalShardsOn = async (shard: number) =>
      (await s.sql(shard, "SELECT DISTINCT logical_shard_of(id) AS l FROM users ORDER BY 1")).map(
        (row) => row.l as number,
      );

    it("GIVEN a celebrity read far more than anyone WHEN the report names its logical shard and it moves alone to the empty shard THEN that shard holds it alone, its reads stay in the cache, and no one else moved", async () => {
      const fans: { id: string; userId: string; jar: CookieJar }[] = [];
      for (let index = 0; index < 6; index += 1) fans.push(await signUpAndIn(s, "fan"));
      const celebrity = await signUpAndIn(s, "star");
      const hot = logicalShardOf(celebrity.userId);
      const home = s.shards.physicalShardOf(hot);
      assert.notEqual(home, EMPTY_SHARD);
      assert.deepEqual(await logicalShardsOn(EMPTY_SHARD), [], "the added shard starts empty");

      // The celebrity's reads: the first fills the cache, the rest never reach a database.
      s.shards.takeHotShards(1); // count from here
      const first = await s.service.app.inject({ method: "GET", url: `/users/${celebrity.id}` });
      assert.equal(first.statusCode, 200);
      const readsBefore = [...s.reads];
      for (let index = 0; index < 50; index += 1) {
        const read = await s.service.app.inject({ method: "GET", url: `/users/${celebrity.id}` });
        assert.equal(read.body, first.body);
      }
      for (const fan of fans)
        await s.service.app.inject({ method: "GET", url: `/users/${fan.id}` });
      assert.deepEqual(
        s.reads.map((count, shard) => count - readsBefore[shard]!),
        s.reads.map(
          (_, shard) =>
            fans.filter((fan) => s.shards.physicalShardOf(logicalShardOf(fan.userId)) === shard)
              .length + (shard === DIRECTORY_SHARD ? fans.length : 0),
        ),
        "each fan's first read asks the directory, then its shard, once; the celebrity's 50 reach neither",
      );
      const [hottest] = s.shards.takeHotShards(3);
      assert.equal(
        hottest?.logicalShard,
        hot,
        "the top-N report names the celebrity's shard first",
      );

      const before = new Map(
        fans.map((fan) => [fan.id, s.shards.physicalShardOf(logicalShardOf(fan.userId))]),
      );
      const report = await reshard({
        shards: s.urls.map((url) => clientConfig(parsePostgresUrl("shard", url, undefined))),
        move: [hottest.logicalShard],
        to: EMPTY_SHARD,
        graceMs: 500,
      });
      assert.equal(report.source, home);
      await s.shards.refresh();

      assert.equal(s.shards.physicalShardOf(hot), EMPTY_SHARD);
      assert.deepEqual(await logicalShardsOn(EMPTY_SHARD), [hot], "the celebrity's shard alone");
      assert.ok(!(await logicalShardsOn(home)).includes(hot), "and no copy left at home");
      for (const fan of fans) {
        assert.equal(s.shards.physicalShardOf(logicalShardOf(fan.userId)), before.get(fan.id));
      }
      // Writes go to the new shard and reads see them.
      const renamed = await s.service.app.inject({
        method: "PATCH",
        url: `/users/${celebrity.id}`,
        headers: { cookie: celebrity.jar.header() },
        payload: { name: "Celebrity, moved" },
      });
      assert.equal(renamed.statusCode, 200, renamed.body);
      const [row] = await s.sql(EMPTY_SHARD, "SELECT name FROM users WHERE id = $1", [
        celebrity.userId,
      ]);
      assert.equal(row?.name, "Celebrity, moved");
      const read = await s.service.app.inject({ method: "GET", url: `/users/${celebrity.id}` });
      assert.equal(read.json<{ name: string }>().name, "Celebrity, moved");
    });
  },
);
