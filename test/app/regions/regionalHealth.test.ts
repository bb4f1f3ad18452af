// Health per region: what a region's load balancer and DNS records see depends only on what that
// region serves. The secondary's tasks read from their own replica and write to the writer in the
// primary region; when that writer is lost, the secondary stays ready and keeps serving reads, and
// writes answer 503 with Retry-After until the writer (or its promoted replacement) is back.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LocalFileStore } from "../../../app/src/tiers/files";
import { captureLogs, CookieJar, eventually, makeTempDir, signInTo } from "../support/helpers";
import {
  isolatedSchema,
  openTestPostgres,
  needServices,
  startServiceApp,
  type ServiceApp,
} from "../support/services";
import { TcpProxy } from "../support/tcpProxy";

const services = needServices("database", "replica");

describe("the secondary region when the primary's writer is down", { skip: services.skip }, () => {
  let schema: Awaited<ReturnType<typeof isolatedSchema>>;
  let writerProxy: TcpProxy;
  let secondary: ServiceApp;
  let files: { path: string; remove(): Promise<void> };
  const signedIn = new CookieJar();
  let userId: string;

  before(async () => {
    const env = services.env();
    schema = await isolatedSchema(env.databaseUrl);
    // The writer in "the other region": reachable only through a link the test can cut.
    writerProxy = await TcpProxy.start(env.databaseUrl);
    files = await makeTempDir("regional-health-");
    const logs = captureLogs();
    secondary = await startServiceApp(
      {
        database: openTestPostgres(
          writerProxy.urlFor(schema.url(env.databaseUrl)),
          [schema.url(env.readUrls[0]!)],
          logs.logger,
        ),
        files: new LocalFileStore({ dir: files.path }),
      },
      { logs },
    );
    const user = { name: "Grace", email: "grace@example.com", password: "12345678" };
    const created = await secondary.app.inject({ method: "POST", url: "/users", payload: user });
    userId = created.json().id as string;
    await signInTo(secondary.app, user, { jar: signedIn });
    // The user has reached this region's replica before the writer is lost.
    await eventually(async () => {
      const read = await secondary.app.inject({ method: "GET", url: `/users/${userId}` });
      return read.statusCode === 200 ? true : undefined;
    }, "the user on the replica");
    writerProxy.cut();
  });
  after(async () => {
    writerProxy?.restore();
    await secondary?.app.close();
    await writerProxy?.close();
    await files?.remove();
    await schema?.drop();
  });

  it("THEN /healthz and /readyz stay 200: the target group and DNS keep the region", async () => {
    assert.equal((await secondary.app.inject({ method: "GET", url: "/healthz" })).statusCode, 200);
    const ready = await secondary.app.inject({ method: "GET", url: "/readyz" });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.deepEqual(ready.json().checks, { database: "ok" });
  });

  it("THEN reads are served from the region's replica", async () => {
    const read = await secondary.app.inject({ method: "GET", url: `/users/${userId}` });
    assert.equal(read.statusCode, 200);
    assert.equal(read.json().name, "Grace");
    const me = await signedIn.send(secondary.app, { method: "GET", url: "/me" });
    assert.equal(me.statusCode, 200, me.body);
  });

  it("THEN a user can still sign in (the account is read from the replica)", async () => {
    const signedIn = await secondary.app.inject({
      method: "POST",
      url: "/sessions",
      payload: { email: "grace@example.com", password: "12345678" },
    });
    assert.equal(signedIn.statusCode, 201, signedIn.body);
  });

  it("THEN writes answer 503 with Retry-After and say nothing changed", async () => {
    const writes = [
      await secondary.app.inject({
        method: "POST",
        url: "/users",
        payload: { name: "Ada", email: "ada@example.com", password: "12345678" },
      }),
      await signedIn.send(secondary.app, {
        method: "PATCH",
        url: `/users/${userId}`,
        payload: { name: "Grace Hopper" },
      }),
    ];
    for (const write of writes) {
      assert.equal(write.statusCode, 503, write.body);
      assert.equal(write.headers["retry-after"], "5");
      assert.equal(write.json().error, "database_unavailable");
    }
  });

  it("GIVEN this region's replica is lost too THEN /readyz is 503: nothing here can serve", async () => {
    // A fresh app whose only reader is cut as well: readiness fails on what this region serves.
    const env = services.env();
    const replicaProxy = await TcpProxy.start(env.readUrls[0]!);
    const logs = captureLogs();
    const database = openTestPostgres(
      writerProxy.urlFor(schema.url(env.databaseUrl)),
      [replicaProxy.urlFor(schema.url(env.readUrls[0]!))],
      logs.logger,
    );
    let probe: ServiceApp | undefined;
    try {
      // "verify" reads the schema's version from the replica: a task starts without the writer.
      probe = await startServiceApp(
        {
          database,
          files: new LocalFileStore({ dir: files.path }),
        },
        { logs, settings: { migrations: "verify" } },
      );
      assert.equal((await probe.app.inject({ method: "GET", url: "/readyz" })).statusCode, 200);
      replicaProxy.cut();
      const ready = await probe.app.inject({ method: "GET", url: "/readyz" });
      assert.equal(ready.statusCode, 503);
      assert.deepEqual(ready.json().checks, { database: "unavailable" });
    } finally {
      await probe?.app.close();
      await replicaProxy.close();
    }
  });
});
