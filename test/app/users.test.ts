// HTTP tests of the user routes on the embedded tiers: CRUD, validation, caching, read-your-writes.
import assert from "node:assert/strict";
import { beforeEach, describe, it, mock } from "node:test";
import { READ_YOUR_WRITES_COOKIE } from "../../app/src/http/context";
import {
  embeddedAppPerSuite,
  sidesServingRead,
  startEmbeddedApp,
  TEST_IDENTITY,
} from "./support/embedded";
import { CookieJar, newUsers, signInTo } from "./support/helpers";

const newUser = newUsers("User", "user", "correct horse");

describe("users API (embedded)", () => {
  const t = embeddedAppPerSuite();
  beforeEach(() => t.database.reset());

  async function signUp(jar = new CookieJar(), user = newUser()) {
    const response = await t.app.inject({ method: "POST", url: "/users", payload: user });
    assert.equal(response.statusCode, 201, response.body);
    jar.store(response.headers["set-cookie"]);
    return { user: response.json<{ id: string; email: string; name: string }>(), jar, input: user };
  }

  async function signIn(email: string, password: string, jar = new CookieJar()) {
    return signInTo(t.app, { email, password }, { jar });
  }

  it("GIVEN a new user WHEN POST /users THEN 201 with the public user and no password hash", async () => {
    const input = newUser();
    const response = await t.app.inject({
      method: "POST",
      url: "/users",
      payload: { ...input, email: input.email.toUpperCase() },
    });
    assert.equal(response.statusCode, 201);
    const user = response.json();
    assert.deepEqual(Object.keys(user).sort(), ["createdAt", "email", "id", "name", "photo"]);
    assert.equal(user.email, input.email, "emails are stored lower-cased");
    assert.equal(user.photo, null);
    assert.match(user.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(!Number.isNaN(Date.parse(user.createdAt)));
    assert.equal(response.headers.location, `/users/${user.id}`);
    assert.doesNotMatch(response.body, /scrypt|password/);
  });

  it("GIVEN any request WHEN it is answered THEN it names the serving region and instance", async () => {
    const response = await t.app.inject({ method: "GET", url: "/users/1" });
    assert.equal(response.headers["x-served-by-region"], TEST_IDENTITY.region);
    assert.equal(response.headers["x-served-by-instance"], TEST_IDENTITY.instance);
    assert.ok(response.headers["x-request-id"]);
  });

  it("GIVEN an existing email WHEN POST /users again THEN 409 naming the email field", async () => {
    const { input } = await signUp();
    const response = await t.app.inject({
      method: "POST",
      url: "/users",
      payload: { ...input, email: ` ${input.email.toUpperCase()}`.trim() },
    });
    assert.equal(response.statusCode, 409);
    assert.equal(response.json().field, "email");
    assert.equal(response.json().error, "email_taken");
  });

  describe("bad input gets a 4xx naming the field, never a 500", () => {
    const cases: { name: string; payload: unknown; field: string | null; status?: number }[] = [
      {
        name: "a missing field",
        payload: { name: "A", email: "a@example.com" },
        field: "password",
      },
      {
        name: "a wrong type",
        payload: { name: 42, email: "a@example.com", password: "12345678" },
        field: "name",
      },
      {
        name: "a short password",
        payload: { name: "A", email: "a@example.com", password: "short" },
        field: "password",
      },
      {
        name: "a malformed email",
        payload: { name: "A", email: "not-an-email", password: "12345678" },
        field: "email",
      },
      {
        name: "a blank name",
        payload: { name: "   ", email: "a@example.com", password: "12345678" },
        field: "name",
      },
      {
        name: "an unknown field",
        payload: { name: "A", email: "a@example.com", password: "12345678", admin: true },
        field: "admin",
      },
      { name: "an array body", payload: [1, 2], field: null },
    ];
    for (const testCase of cases) {
      it(`GIVEN ${testCase.name} WHEN POST /users THEN 400 with field ${testCase.field}`, async () => {
        const response = await t.app.inject({
          method: "POST",
          url: "/users",
          payload: testCase.payload as object,
        });
        assert.equal(response.statusCode, 400, response.body);
        const body = response.json();
        assert.equal(body.field, testCase.field);
        assert.equal(body.error, "invalid_request");
        assert.ok(body.message.includes(testCase.field ?? "request body"), body.message);
      });
    }

    it("GIVEN malformed JSON WHEN POST /users THEN 400 invalid_json", async () => {
      const response = await t.app.inject({
        method: "POST",
        url: "/users",
        headers: { "content-type": "application/json" },
        payload: '{"name": "A",',
      });
      assert.equal(response.statusCode, 400);
      assert.deepEqual(response.json(), {
        error: "invalid_json",
        message: "the request body is not valid JSON",
        field: null,
      });
    });

    // Bodies refused before the route's schema sees them: too large, or not JSON at all.
    const refused: Array<{
      given: string;
      then: string;
      contentType?: string;
      payload: string | object;
      status: number;
      body: { error?: string; message?: string };
    }> = [
      {
        given: "a body over the limit",
        then: "413",
        payload: { name: "A".repeat(64 * 1024), email: "a@example.com", password: "12345678" },
        status: 413,
        body: { error: "payload_too_large" },
      },
      {
        given: "a plain-text body",
        then: "400 asking for a JSON object",
        contentType: "text/plain",
        payload: "hello",
        status: 400,
        body: { message: "the request body must be a JSON object" },
      },
      {
        given: "an unsupported content type",
        then: "415",
        contentType: "application/xml",
        payload: "<user/>",
        status: 415,
        body: { error: "unsupported_media_type" },
      },
    ];
    for (const request of refused) {
      it(`GIVEN ${request.given} WHEN POST /users THEN ${request.then}`, async () => {
        const response = await t.app.inject({
          method: "POST",
          url: "/users",
          ...(request.contentType === undefined
            ? {}
            : { headers: { "content-type": request.contentType } }),
          payload: request.payload,
        });
        assert.equal(response.statusCode, request.status);
        const body = response.json<Record<string, unknown>>();
        for (const [key, value] of Object.entries(request.body))
          assert.equal(body[key], value, key);
      });
    }

    it("GIVEN an id that is not a number WHEN GET /users/:id THEN 400 naming id", async () => {
      const response = await t.app.inject({ method: "GET", url: "/users/abc" });
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().field, "id");
    });

    it("GIVEN an unknown id WHEN GET /users/:id THEN 404 naming id", async () => {
      const missing = "00000000-0000-4000-8000-000000000000";
      const response = await t.app.inject({ method: "GET", url: `/users/${missing}` });
      assert.equal(response.statusCode, 404);
      assert.deepEqual(response.json(), {
        error: "not_found",
        message: `There is no user with id ${missing}.`,
        field: "id",
      });
    });

    it("GIVEN an unknown route WHEN requested THEN 404 JSON", async () => {
      const response = await t.app.inject({ method: "GET", url: "/nope/nothing" });
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().error, "not_found");
    });
  });

  describe("cache-aside reads", () => {
    it("GIVEN a user WHEN read twice THEN the first is a miss from the reader and the second a hit", async () => {
      const { user } = await signUp();
      t.database.reset();
      const first = await t.app.inject({ method: "GET", url: `/users/${user.id}` });
      const second = await t.app.inject({ method: "GET", url: `/users/${user.id}` });
      assert.equal(first.statusCode, 200);
      assert.equal(first.headers["x-cache"], "miss");
      assert.equal(second.headers["x-cache"], "hit");
      assert.deepEqual(second.json(), first.json());
      assert.deepEqual(
        t.database.queries.map((query) => query.side),
        ["reader", "reader"],
        "one miss: the directory's public id, then the user's shard, both from a reader",
      );
    });

    it("GIVEN a cached user WHEN the user changes their name THEN the next read is a miss with the new name", async () => {
      const { user, input } = await signUp();
      const jar = await signIn(input.email, input.password);
      await t.app.inject({ method: "GET", url: `/users/${user.id}` });
      const cached = await t.app.inject({ method: "GET", url: `/users/${user.id}` });
      assert.equal(cached.headers["x-cache"], "hit");

      const patch = await jar.send(t.app, {
        method: "PATCH",
        url: `/users/${user.id}`,
        payload: { name: "Renamed" },
      });
      assert.equal(patch.statusCode, 200, patch.body);
      assert.equal(patch.json().name, "Renamed");

      // Another client (no read-your-writes cookie) goes through the cache.
      const after = await t.app.inject({ method: "GET", url: `/users/${user.id}` });
      assert.equal(after.headers["x-cache"], "miss", "the write deleted the cached entry");
      assert.equal(after.json().name, "Renamed");
    });

    it("GIVEN a cached user WHEN read without cookies THEN it is answered from process memory, with the bytes and headers a read through the cache gets; a write drops it", async () => {
      const { user, input } = await signUp();
      await t.app.inject({ method: "GET", url: `/users/${user.id}` });
      const reads = mock.method(t.app.services.cache, "read");
      try {
        const held = await t.app.inject({ method: "GET", url: `/users/${user.id}` });
        assert.equal(reads.mock.callCount(), 0, "answered without the cache's read");
        // A session cookie (here nobody's) takes the read through readUser and the cache's read.
        const through = await t.app.inject({
          method: "GET",
          url: `/users/${user.id}`,
          cookies: { sid: "nobodys-session" },
        });
        assert.equal(reads.mock.callCount(), 1);
        assert.equal(held.statusCode, 200);
        assert.equal(held.headers["x-cache"], "hit");
        assert.equal(held.body, through.body);
        const apartFromRequestId = (headers: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(headers).filter(([name]) => name !== "x-request-id"));
        assert.deepEqual(apartFromRequestId(held.headers), apartFromRequestId(through.headers));

        const jar = await signIn(input.email, input.password);
        const patch = await jar.send(t.app, {
          method: "PATCH",
          url: `/users/${user.id}`,
          payload: { name: "Renamed" },
        });
        assert.equal(patch.statusCode, 200, patch.body);
        const after = await t.app.inject({ method: "GET", url: `/users/${user.id}` });
        assert.equal(after.headers["x-cache"], "miss", "the write dropped the held entry");
        assert.equal(after.json().name, "Renamed");
      } finally {
        reads.mock.restore();
      }
    });

    it("GIVEN an unknown id cached as not found WHEN read again THEN the same 404 from process memory", async () => {
      const missing = "00000000-0000-4000-8000-00000000abcd";
      const first = await t.app.inject({ method: "GET", url: `/users/${missing}` });
      const reads = mock.method(t.app.services.cache, "read");
      try {
        const second = await t.app.inject({ method: "GET", url: `/users/${missing}` });
        assert.equal(reads.mock.callCount(), 0);
        assert.equal(second.statusCode, 404);
        assert.equal(first.headers["x-cache"], "miss");
        assert.equal(second.headers["x-cache"], "hit");
        assert.equal(second.body, first.body);
      } finally {
        reads.mock.restore();
      }
    });

    it("GIVEN 25 concurrent reads of one uncached user THEN the database is read once", async () => {
      const slow = await startEmbeddedApp({ readerDelayMs: 100 });
      try {
        const created = await slow.app.inject({
          method: "POST",
          url: "/users",
          payload: newUser(),
        });
        const id = created.json().id as string;
        slow.database.reset();
        const responses = await Promise.all(
          Array.from({ length: 25 }, () => slow.app.inject({ method: "GET", url: `/users/${id}` })),
        );
        assert.ok(responses.every((response) => response.statusCode === 200));
        const reads = slow.database.queries.filter((query) => query.sql.includes("FROM users"));
        assert.equal(reads.length, 1, "single flight: one load for all concurrent misses");
      } finally {
        await slow.close();
      }
    });
  });

  describe("read-your-writes", () => {
    it("GIVEN a client that just signed up WHEN it reads its user THEN the writer serves it, bypassing the cache", async () => {
      const { user, jar } = await signUp();
      assert.ok(jar.get(READ_YOUR_WRITES_COOKIE), "the write set the marker cookie");
      t.database.reset();
      const response = await jar.send(t.app, { method: "GET", url: `/users/${user.id}` });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(
        t.database.queries.map((query) => query.side),
        ["writer", "writer"],
        "the directory's public id, then the user's shard, both from the writer",
      );
    });

    it("GIVEN a marker that is not a signed LSN WHEN the client reads THEN a reader serves it", async () => {
      const { user } = await signUp();
      const sides = await sidesServingRead(t, user.id, "0/0");
      assert.ok(
        sides.every((side) => side === "reader"),
        sides.join(", "),
      );
    });

    it("GIVEN a short window setting WHEN a write happens THEN the cookie lasts that long", async () => {
      const short = await startEmbeddedApp({ settings: { readYourWritesMs: 2_000 } });
      try {
        const response = await short.app.inject({
          method: "POST",
          url: "/users",
          payload: newUser(),
        });
        const marker = [response.headers["set-cookie"] ?? []]
          .flat()
          .find((header) => header.startsWith(`${READ_YOUR_WRITES_COOKIE}=`));
        assert.match(marker ?? "", /Max-Age=2;/);
        assert.match(marker ?? "", /HttpOnly/);
      } finally {
        await short.close();
      }
    });
  });

  describe("changing and deleting", () => {
    it("GIVEN nobody signed in WHEN PATCH /users/:id THEN 401", async () => {
      const { user } = await signUp();
      const response = await t.app.inject({
        method: "PATCH",
        url: `/users/${user.id}`,
        payload: { name: "X" },
      });
      assert.equal(response.statusCode, 401);
    });

    it("GIVEN another user's session WHEN PATCH or DELETE /users/:id THEN 403", async () => {
      const { user } = await signUp();
      const other = await signUp();
      const jar = await signIn(other.input.email, other.input.password);
      const patch = await jar.send(t.app, {
        method: "PATCH",
        url: `/users/${user.id}`,
        payload: { name: "X" },
      });
      const remove = await jar.send(t.app, { method: "DELETE", url: `/users/${user.id}` });
      assert.equal(patch.statusCode, 403);
      assert.equal(remove.statusCode, 403);
    });

    it("GIVEN an empty or taken change WHEN PATCH THEN 400 or 409 naming the field", async () => {
      const first = await signUp();
      const { user, input } = await signUp();
      const jar = await signIn(input.email, input.password);
      const empty = await jar.send(t.app, {
        method: "PATCH",
        url: `/users/${user.id}`,
        payload: {},
      });
      assert.equal(empty.statusCode, 400);
      assert.match(empty.json().message, /at least one field/);
      const taken = await jar.send(t.app, {
        method: "PATCH",
        url: `/users/${user.id}`,
        payload: { email: first.input.email, currentPassword: input.password },
      });
      assert.equal(taken.statusCode, 409);
      assert.equal(taken.json().field, "email");
    });

    it("GIVEN a signed-in user WHEN DELETE /users/:id THEN 204, the user is gone and signed out", async () => {
      const { user, input } = await signUp();
      const jar = await signIn(input.email, input.password);
      await t.app.inject({ method: "GET", url: `/users/${user.id}` }); // cache it
      const response = await jar.send(t.app, { method: "DELETE", url: `/users/${user.id}` });
      assert.equal(response.statusCode, 204);
      jar.store(response.headers["set-cookie"]);
      const read = await t.app.inject({ method: "GET", url: `/users/${user.id}` });
      assert.equal(read.statusCode, 404, "the cached copy was deleted too");
      const me = await jar.send(t.app, { method: "GET", url: "/me" });
      assert.equal(me.statusCode, 401);
    });
  });

  it("GIVEN traffic WHEN the web metrics flush THEN Signups, cache counts and latency are in EMF", async () => {
    await signUp();
    const [document] = t.app.services.metrics.web.flush();
    assert.ok(document);
    assert.equal(document.Service, "web");
    assert.ok((document.Signups as number) >= 1);
    assert.ok(Array.isArray(document.RequestLatency));
    const names = document._aws.CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name);
    assert.ok(names.includes("Signups") && names.includes("RequestLatency"));
  });
});
