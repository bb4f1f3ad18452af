// The per-request logger (app/src/logger.ts): made lazily, but what it logs is what pino's child logs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Fastify from "fastify";
import { lazyRequestLogger } from "../../app/src/logger";
import { captureLogs } from "./support/helpers";

async function appLoggingAt(level: string) {
  const logs = captureLogs(level);
  const app = Fastify({ loggerInstance: logs.logger, childLoggerFactory: lazyRequestLogger });
  app.get("/", async (request) => {
    request.log.info({ step: "handler" }, "info from the route");
    request.log.debug("debug from the route");
    request.log.child({ part: "inner" }).warn("warn from a child");
    return { ok: true };
  });
  const response = await app.inject({ method: "GET", url: "/" });
  await app.close();
  assert.equal(response.statusCode, 200);
  return { logs };
}

describe("lazyRequestLogger", () => {
  it("GIVEN level info WHEN a request logs THEN every enabled line carries the request's id, and disabled ones are dropped", async () => {
    const { logs } = await appLoggingAt("info");
    const lines = logs.lines().filter((line) => line.reqId !== undefined);
    const messages = lines.map((line) => line.msg);
    assert.deepEqual(messages, [
      "incoming request",
      "info from the route",
      "warn from a child",
      "request completed",
    ]);
    assert.equal(new Set(lines.map((line) => line.reqId)).size, 1, "one request, one id");
    const fromRoute = lines.find((line) => line.msg === "info from the route");
    assert.equal(fromRoute?.step, "handler");
    const fromChild = lines.find((line) => line.msg === "warn from a child");
    assert.equal(fromChild?.part, "inner");
  });

  it("GIVEN level warn WHEN a request logs below it THEN only the warning is written, with the request's id", async () => {
    const { logs } = await appLoggingAt("warn");
    const lines = logs.lines();
    assert.deepEqual(
      lines.map((line) => line.msg),
      ["warn from a child"],
    );
    assert.equal(typeof lines[0]?.reqId, "string");
  });
});
