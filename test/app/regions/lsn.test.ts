// LSNs and the reads they route, as tables: parsing, ordering, which server a read goes to, the
// fence stores (in process, and Redis's one-step "only forward"), and the invalidation message.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createMemoryFenceStore,
  createRedisFenceStore,
  type FenceStore,
} from "../../../app/src/replication/fences";
import {
  createInvalidationHandler,
  InvalidationPublisher,
} from "../../../app/src/replication/invalidation";
import { compareLsn, laterLsn, parseLsn, readAtLeast } from "../../../app/src/replication/lsn";
import { formatWritePositions, parseWritePositions } from "../../../app/src/http/context";
import { UnprocessableJobError } from "../../../app/src/jobs/thumbnail";
import { Metrics } from "../../../app/src/metrics";
import { createMemoryCache } from "../../../app/src/tiers/cache";
import type { Database, QueryFn, Row } from "../../../app/src/tiers/database";
import { captureLogs } from "../support/helpers";
import { itHoldsForEachStore, uniqueName } from "../support/services";
import type { JobQueue, QueueMessage } from "../../../app/src/tiers/queue";

describe("a client's write positions (the rw_lsn cookie), one LSN per physical shard", () => {
  it("GIVEN cookie values THEN only shard:LSN lists (or a bare LSN, shard 0's) parse", () => {
    const table: [string | undefined, [number, string][] | undefined][] = [
      ["0:0/3000060", [[0, "0/3000060"]]],
      [
        "0:0/3000060,2:16/b374d848",
        [
          [0, "0/3000060"],
          [2, "16/B374D848"],
        ],
      ],
      ["0/3000060", [[0, "0/3000060"]]],
      ["0:0/1,x:0/2,3:yesterday", [[0, "0/1"]]],
      ["-1:0/1", undefined],
      ["", undefined],
      [undefined, undefined],
    ];
    for (const [value, expected] of table) {
      const parsed = parseWritePositions(value);
      assert.deepEqual(parsed === undefined ? undefined : [...parsed], expected, String(value));
    }
  });

  it("GIVEN positions THEN the cookie form reads back the same, shards in order", () => {
    const positions = new Map([
      [2, "16/B374D848"],
      [0, "0/3000060"],
    ]);
    const value = formatWritePositions(positions);
    assert.equal(value, "0:0/3000060,2:16/B374D848");
    assert.deepEqual(parseWritePositions(value), new Map([...positions].sort()));
  });
});

describe("LSNs", () => {
  it("GIVEN strings THEN only PostgreSQL's X/Y hex form parses, normalised to upper case", () => {
    const table: [string | undefined, string | undefined][] = [
      ["0/3000060", "0/3000060"],
      ["16/b374d848", "16/B374D848"],
      ["FFFFFFFF/FFFFFFFF", "FFFFFFFF/FFFFFFFF"],
      ["1700000000000", undefined],
      ["0/", undefined],
      ["/1", undefined],
      ["0/123456789", undefined],
      ["0/3000060; DROP TABLE users", undefined],
      [undefined, undefined],
    ];
    for (const [input, expected] of table) assert.equal(parseLsn(input), expected, String(input));
  });

  it("GIVEN pairs THEN they order as 64-bit positions, not as text", () => {
    const table: [string, string, number][] = [
      ["0/3000060", "0/3000060", 0],
      ["0/9", "0/10", -1],
      ["1/0", "0/FFFFFFFF", 1],
      ["A/0", "9/FFFFFFFF", 1],
    ];
    for (const [a, b, sign] of table) assert.equal(compareLsn(a, b), sign, `${a} vs ${b}`);
    assert.equal(laterLsn("0/9", "0/10"), "0/10");
    assert.equal(laterLsn(undefined, "0/10"), "0/10");
    assert.equal(laterLsn("0/10", undefined), "0/10");
  });
});

/** A database whose replicas answer the replay check with `replayed` (or fail), and record reads. */
function fakeDatabase(replicas: ("caught-up" | "behind" | "down")[]) {
  const served: string[] = [];
  const server =
    (name: string, state: "caught-up" | "behind" | "down" | "writer"): QueryFn =>
    async <R extends Row = Row>(sql: string) => {
      if (state === "down") throw Object.assign(new Error("down"), { code: "ECONNREFUSED" });
      if (sql.includes("pg_last_wal_replay_lsn")) {
        return [{ caught_up: state !== "behind" }] as unknown as R[];
      }
      served.push(name);
      return [] as R[];
    };
  const database: Database = {
    kind: "postgres",
    writer: server("writer", "writer"),
    reader: server("router", "writer"),
    replicas: replicas.map((state, index) => server(`replica-${index}`, state)),
    transaction: async () => assert.fail("no transactions here"),
    ping: async () => undefined,
    close: async () => undefined,
  };
  return { database, served };
}

describe("readAtLeast", () => {
  const read = (query: QueryFn) => query("SELECT 1");
  const table: {
    replicas: ("caught-up" | "behind" | "down")[];
    fallback: "writer" | "stale";
    servedBy: string;
    source: string;
  }[] = [
    {
      replicas: ["behind", "caught-up"],
      fallback: "writer",
      servedBy: "replica-1",
      source: "replica",
    },
    {
      replicas: ["down", "caught-up"],
      fallback: "stale",
      servedBy: "replica-1",
      source: "replica",
    },
    { replicas: ["behind"], fallback: "writer", servedBy: "writer", source: "writer" },
    { replicas: ["behind"], fallback: "stale", servedBy: "router", source: "stale" },
    { replicas: [], fallback: "stale", servedBy: "router", source: "writer" },
    { replicas: [], fallback: "writer", servedBy: "writer", source: "writer" },
  ];
  for (const row of table) {
    it(`GIVEN replicas ${JSON.stringify(row.replicas)} and fallback ${row.fallback} THEN ${row.servedBy} serves (${row.source})`, async () => {
      const { database, served } = fakeDatabase(row.replicas);
      const result = await readAtLeast(database, "0/3000060", read, row.fallback);
      assert.deepEqual(served, [row.servedBy]);
      assert.equal(result.source, row.source);
    });
  }

  it("GIVEN no LSN to wait for THEN the router serves, as any read", async () => {
    const { database, served } = fakeDatabase(["behind"]);
    assert.equal((await readAtLeast(database, undefined, read, "writer")).source, "replica");
    assert.deepEqual(served, ["router"]);
  });
});

async function fencesMoveOnlyForward(fences: FenceStore): Promise<void> {
  const key = uniqueName("user");
  assert.equal(await fences.get(key), undefined);
  await fences.raise(key, "0/10", 60_000);
  await fences.raise(key, "0/9", 60_000); // an older invalidation arriving late
  assert.equal(await fences.get(key), "0/10");
  await fences.raise(key, "1/0", 60_000);
  assert.equal(await fences.get(key), "1/0");
}

describe("fence stores", () => {
  // Redis compares the LSNs and raises the fence in one step (a script), so no race moves it back.
  itHoldsForEachStore(
    "a fence only moves forward",
    {
      memory: createMemoryFenceStore,
      redis: (redis) => createRedisFenceStore(redis, `${uniqueName("fence")}:`),
    },
    fencesMoveOnlyForward,
  );
});

describe("the invalidation handler", () => {
  const message = { messageId: "m", receiptHandle: "r", receiveCount: 1 } as Omit<
    QueueMessage,
    "body"
  >;
  const handler = (cache = createMemoryCache(), fences = createMemoryFenceStore()) =>
    createInvalidationHandler({
      shards: [fakeDatabase([]).database],
      cache,
      fences,
      logger: captureLogs().logger,
      metrics: new Metrics({ namespace: "Test", service: "web", write: () => undefined }),
    });
  const invalidation = (fields: Record<string, unknown>) =>
    JSON.stringify({
      type: "cache-invalidation",
      version: 1,
      key: "user:1",
      lsn: "0/3000060",
      origin: "eu-west-1",
      sentAt: new Date().toISOString(),
      ...fields,
    });

  const bad: [string, string][] = [
    ["not JSON", "{"],
    ["another message type", JSON.stringify({ type: "thumbnail" })],
    [
      "a bad LSN",
      JSON.stringify({
        type: "cache-invalidation",
        version: 1,
        key: "user:1",
        lsn: "yesterday",
        origin: "eu-west-1",
        sentAt: new Date().toISOString(),
      }),
    ],
    [
      "a future version",
      JSON.stringify({
        type: "cache-invalidation",
        version: 2,
        key: "user:1",
        lsn: "0/1",
        origin: "eu-west-1",
        sentAt: new Date().toISOString(),
      }),
    ],
  ];
  for (const [what, body] of bad) {
    it(`GIVEN ${what} THEN it is unprocessable (to the dead-letter queue)`, async () => {
      await assert.rejects(handler()(body, { ...message, body }), UnprocessableJobError);
    });
  }

  it("GIVEN a valid invalidation and no replica to wait for THEN the key is deleted", async () => {
    const cache = createMemoryCache();
    const fences = createMemoryFenceStore();
    await cache.set("user:1", "{}", 60_000);
    const body = invalidation({});
    assert.equal(await handler(cache, fences)(body, { ...message, body }), "processed");
    assert.equal(await cache.get("user:1"), undefined);
    assert.equal(await fences.get("user:1"), "0/3000060");
  });

  it("GIVEN an invalidation naming a physical shard this region does not have THEN the key goes and the message is unprocessable", async () => {
    const cache = createMemoryCache();
    await cache.set("user:1", "{}", 60_000);
    const body = invalidation({ shard: 2 });
    await assert.rejects(handler(cache)(body, { ...message, body }), /physical shard 2/);
    assert.equal(await cache.get("user:1"), undefined);
  });
});

describe("the invalidation publisher", () => {
  it("GIVEN a region whose queue never answers WHEN a write publishes THEN the write does not wait, and a failing region is counted", async () => {
    const logs = captureLogs();
    const lines: string[] = [];
    const metrics = new Metrics({
      namespace: "Test",
      service: "web",
      write: (line) => lines.push(line),
    });
    let release: (() => void) | undefined;
    const hanging = {
      send: () => new Promise<void>((resolve) => (release = resolve)),
      close: async () => undefined,
    } as unknown as JobQueue;
    const refusing = {
      send: async () => {
        throw new Error("AccessDenied");
      },
      close: async () => undefined,
    } as unknown as JobQueue;
    const publisher = new InvalidationPublisher({
      queues: [hanging, refusing],
      origin: "us-east-1",
      logger: logs.logger,
    });
    publisher.countFailuresIn(metrics);
    const returned = publisher.publish("user:1", "0/1");
    assert.equal(returned, undefined, "publish returns at once");
    await new Promise((resolve) => setImmediate(resolve));
    release?.();
    await publisher.flush();
    metrics.flush();
    assert.ok(
      lines.some((line) => line.includes('"InvalidationPublishFailed":1')),
      lines.join("\n"),
    );
    assert.ok(logs.lines().some((line) => line.degraded === "invalidation"));
  });
});
