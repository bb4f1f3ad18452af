// Unit tests of reader selection: round-robin, failover on connection errors, back to the writer.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { QueryFn, Row } from "../../app/src/tiers/database";
import {
  createReadRouter,
  isConnectionError,
  type ReaderTarget,
} from "../../app/src/tiers/postgres";
import { captureLogs } from "./support/helpers";

function target(
  name: string,
  served: string[],
  failWith?: () => Error,
): ReaderTarget & { fail: boolean } {
  const result = {
    name,
    fail: failWith !== undefined,
    query: (async <R extends Row = Row>() => {
      if (result.fail && failWith) throw failWith();
      served.push(name);
      return [] as R[];
    }) as QueryFn,
  };
  return result;
}

const refused = () =>
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5433"), { code: "ECONNREFUSED" });

/** A read router over `readers` and a writer named "writer", each recording into `served`. */
function routerOver(
  served: string[],
  readers: ReaderTarget[],
  options: Partial<Parameters<typeof createReadRouter>[0]> = {},
) {
  return createReadRouter({
    readers,
    writer: target("writer", served),
    logger: captureLogs().logger,
    ...options,
  });
}

describe("read router", () => {
  it("GIVEN two healthy readers THEN reads alternate between them and never touch the writer", async () => {
    const served: string[] = [];
    const read = routerOver(served, [target("r1", served), target("r2", served)]);
    for (let i = 0; i < 4; i += 1) await read("SELECT 1");
    assert.deepEqual(served, ["r1", "r2", "r1", "r2"]);
  });

  it("GIVEN a reader that refuses connections THEN reads move to the other reader and it is skipped while down", async () => {
    const served: string[] = [];
    const logs = captureLogs();
    let now = 0;
    const down = target("r1", served, refused);
    const read = routerOver(served, [down, target("r2", served)], {
      logger: logs.logger,
      downForMs: 1_000,
      now: () => now,
    });
    for (let i = 0; i < 4; i += 1) await read("SELECT 1");
    assert.deepEqual(served, ["r2", "r2", "r2", "r2"]);
    assert.equal(
      logs.lines().filter((line) => line.degraded === "reader").length,
      1,
      "tried once, then skipped",
    );

    down.fail = false;
    now = 2_000;
    served.length = 0;
    await read("SELECT 1");
    await read("SELECT 1");
    assert.deepEqual(served.sort(), ["r1", "r2"], "back in the rotation after the backoff");
  });

  it("GIVEN every reader down THEN the writer serves the read", async () => {
    const served: string[] = [];
    const read = routerOver(served, [target("r1", served, refused), target("r2", served, refused)]);
    await read("SELECT 1");
    assert.deepEqual(served, ["writer"]);
  });

  it("GIVEN no readers configured THEN the writer serves reads", async () => {
    const served: string[] = [];
    const read = routerOver(served, []);
    await read("SELECT 1");
    assert.deepEqual(served, ["writer"]);
  });

  it("GIVEN a SQL error on a reader THEN it propagates: another server would not do better", async () => {
    const served: string[] = [];
    const syntax = () =>
      Object.assign(new Error('syntax error at or near "SELEC"'), { code: "42601" });
    const read = routerOver(served, [target("r1", served, syntax)]);
    await assert.rejects(read("SELEC 1"), /syntax error/);
    assert.deepEqual(served, []);
  });

  it("GIVEN various errors THEN only connection-level ones count as a server being unreachable", () => {
    assert.ok(isConnectionError(refused()));
    assert.ok(isConnectionError(new Error("Connection terminated unexpectedly")));
    assert.ok(isConnectionError(new Error("timeout exceeded when trying to connect")));
    assert.ok(
      isConnectionError(
        Object.assign(new Error("the database system is starting up"), { code: "57P03" }),
      ),
    );
    assert.ok(isConnectionError(Object.assign(new Error("x"), { code: "08006" })));
    assert.ok(!isConnectionError(Object.assign(new Error("duplicate key"), { code: "23505" })));
    assert.ok(!isConnectionError(new Error("something else")));
  });
});
