// Graceful shutdown over real HTTP: in-flight requests finish, new connections are refused.
import assert from "node:assert/strict";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { startEmbeddedApp } from "./support/embedded";
import { eventually } from "./support/helpers";

/** A GET on a fresh connection (no keep-alive), resolving to the status code. */
function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("graceful shutdown", () => {
  it("GIVEN a slow request in flight WHEN close() starts THEN it completes with 200 and new connections are refused", async () => {
    const t = await startEmbeddedApp({ readerDelayMs: 500 });
    const created = await t.app.inject({
      method: "POST",
      url: "/users",
      payload: { name: "Slow", email: "slow@example.com", password: "12345678" },
    });
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = t.app.server.address() as AddressInfo;

    t.database.reset();
    const inFlight = get(port, `/users/${created.json().id}`);
    await eventually(
      async () => (t.database.queries.length > 0 ? true : undefined),
      "the request to reach the database",
    );
    const closing = t.close();

    assert.equal(await inFlight, 200, "the in-flight request completed");
    await assert.rejects(get(port, "/healthz"), /ECONNREFUSED/);
    await closing;
  });
});
