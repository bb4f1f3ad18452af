// Issue 12, the app side: each defect a hostile client found, as a specification on the embedded
// tiers. The service-backed halves (Redis, PostgreSQL, S3) are in services/security.test.ts.
import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, it } from "node:test";
import { READ_YOUR_WRITES_COOKIE } from "../../app/src/http/context";
import { DEFAULT_RATE_LIMITS } from "../../app/src/http/rateLimits";
import { requestIds } from "../../app/src/http/security";
import { embeddedAppPerSuite, sidesServingRead, startEmbeddedApp } from "./support/embedded";
import { CookieJar, makePng, newUsers, signInTo } from "./support/helpers";

const newUser = newUsers("Mallory", "sec", "hunter2hunter2");

/** A distinct client address per call, so the per-client limits stay out of unrelated tests. */
let clientCounter = 0;
function nextClient(): string {
  clientCounter += 1;
  return `198.51.100.${clientCounter % 250}`;
}

/** A GET whose path goes on the wire exactly as written (fetch and inject normalise `..`). */
function rawGet(baseUrl: string, path: string): Promise<{ status: number; body: Buffer }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    request({ host: hostname, port, path }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
      );
    })
      .on("error", reject)
      .end();
  });
}

interface Upload {
  key: string;
  upload: { method: "PUT"; url: string; headers: Record<string, string> };
}

describe("security (embedded)", () => {
  const t = embeddedAppPerSuite({
    settings: {
      rateLimits: {
        windowMs: 60_000,
        signInPerClient: 5,
        signInFailuresPerAccountClient: 3,
        signInFailuresPerAccount: 6,
        signUpPerClient: 4,
        accountChangesPerClient: 40,
        accountChangesPerUser: 5,
      },
    },
  });

  async function signUp(user = newUser(), remoteAddress = nextClient()) {
    const response = await t.app.inject({
      method: "POST",
      url: "/users",
      payload: user,
      remoteAddress,
    });
    assert.equal(response.statusCode, 201, response.body);
    return { user: response.json<{ id: string; email: string }>(), input: user };
  }

  async function signIn(email: string, password: string, remoteAddress = nextClient()) {
    return signInTo(t.app, { email, password }, { remoteAddress });
  }

  /** A signed-in user who has asked to upload a 16×16 PNG: the ticket, not yet uploaded. */
  async function startPhotoUpload() {
    const { user, input } = await signUp();
    const jar = await signIn(input.email, input.password);
    const png = await makePng(16, 16);
    const started = await jar.send(t.app, {
      method: "POST",
      url: `/users/${user.id}/photo`,
      payload: { contentType: "image/png", size: png.length },
    });
    return { user, jar, png, ...started.json<Upload>() };
  }

  describe("1. private fields and enumerable ids", () => {
    it("GIVEN a user WHEN a stranger GETs them THEN only the public view: no email, no createdAt", async () => {
      const { user } = await signUp();
      const response = await t.app.inject({ method: "GET", url: `/users/${user.id}` });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(Object.keys(response.json()).sort(), ["id", "name", "photo"]);
      assert.doesNotMatch(response.body, /@example\.com/);
    });

    it("GIVEN a user read from the cache WHEN strangers and the owner GET them THEN the stranger's body is the public view each time, as JSON, and the owner's is whole", async () => {
      const { user, input } = await signUp();
      const reads = [];
      for (let i = 0; i < 3; i += 1) {
        reads.push(await t.app.inject({ method: "GET", url: `/users/${user.id}` }));
      }
      assert.deepEqual(
        reads.map((read) => read.headers["x-cache"]),
        ["miss", "hit", "hit"],
      );
      for (const read of reads) {
        assert.equal(read.headers["content-type"], "application/json; charset=utf-8");
        assert.deepEqual(Object.keys(read.json()).sort(), ["id", "name", "photo"]);
        assert.equal(read.body, reads[0]!.body);
      }
      const jar = await signIn(input.email, input.password);
      const own = await jar.send(t.app, { method: "GET", url: `/users/${user.id}` });
      assert.equal(own.headers["x-cache"], "hit");
      assert.equal(own.json().email, input.email);
    });

    it("GIVEN another signed-in user WHEN they GET someone else THEN still only the public view", async () => {
      const { user } = await signUp();
      const other = await signUp();
      const jar = await signIn(other.input.email, other.input.password);
      const response = await jar.send(t.app, { method: "GET", url: `/users/${user.id}` });
      assert.equal(response.json().email, undefined);
    });

    it("GIVEN the owner WHEN they GET themselves THEN the private fields too", async () => {
      const { user, input } = await signUp();
      const jar = await signIn(input.email, input.password);
      const response = await jar.send(t.app, { method: "GET", url: `/users/${user.id}` });
      assert.equal(response.json().email, input.email);
      assert.ok(response.json().createdAt);
    });

    it("GIVEN two sign-ups in a row THEN their ids are random, not a sequence a stranger can walk", async () => {
      const a = await signUp();
      const b = await signUp();
      for (const id of [a.user.id, b.user.id]) {
        assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      }
      const numeric = await t.app.inject({ method: "GET", url: "/users/1" });
      assert.equal(numeric.statusCode, 400);
      assert.equal(numeric.json().field, "id");
    });

    it("GIVEN the OpenAPI document THEN the public view is a documented schema without email", async () => {
      const spec = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
      const ok = spec.paths["/users/{id}"].get.responses["200"].content["application/json"].schema;
      const variants = ok.anyOf as { properties: Record<string, unknown>; required: string[] }[];
      assert.ok(
        variants.some((variant) => !("email" in variant.properties)),
        "one variant is the public view",
      );
    });
  });

  describe("2 and 13. NUL, control and bidirectional characters", () => {
    for (const [label, bad] of [
      ["NUL", "bad\u0000name"],
      ["a bell (C0 control)", "bad\u0007name"],
      ["a C1 control", "bad\u0085name"],
      ["right-to-left override", "gpj.\u202Eexe"],
      ["an isolate", "a\u2067b"],
    ] as const) {
      it(`GIVEN ${label} in a name WHEN signing up or PATCHing THEN 400 naming name`, async () => {
        const signUpResponse = await t.app.inject({
          method: "POST",
          url: "/users",
          payload: { ...newUser(), name: bad },
          remoteAddress: nextClient(),
        });
        assert.equal(signUpResponse.statusCode, 400, signUpResponse.body);
        assert.equal(signUpResponse.json().field, "name");

        const { user, input } = await signUp();
        const jar = await signIn(input.email, input.password);
        const patch = await jar.send(t.app, {
          method: "PATCH",
          url: `/users/${user.id}`,
          payload: { name: bad },
        });
        assert.equal(patch.statusCode, 400, patch.body);
        assert.equal(patch.json().field, "name");
      });
    }

    it("GIVEN a NUL in the sign-in email WHEN POST /sessions THEN 400 naming email", async () => {
      const response = await t.app.inject({
        method: "POST",
        url: "/sessions",
        payload: { email: "a\u0000@example.com", password: "whatever1" },
        remoteAddress: nextClient(),
      });
      assert.equal(response.statusCode, 400, response.body);
      assert.equal(response.json().field, "email");
    });
  });

  describe("path parameters of any length", () => {
    it("GIVEN a path id far past the router's default 100 characters WHEN any route takes it THEN 400 from the route's schema, never an undocumented 414", async () => {
      const longId = "\u1e70\u033a".repeat(200);
      for (const [method, url] of [
        ["GET", `/users/${encodeURIComponent(longId)}`],
        ["POST", `/users/${encodeURIComponent(longId)}/photo/complete`],
      ] as const) {
        const response = await t.app.inject({
          method,
          url,
          ...(method === "POST" ? { payload: { key: "uploads/x" } } : {}),
          remoteAddress: nextClient(),
        });
        assert.ok(
          [400, 401].includes(response.statusCode),
          `${method} ${url.slice(0, 20)}: ${response.statusCode} ${response.body.slice(0, 200)}`,
        );
      }
    });
  });

  describe("3. rate limits on sign-in and sign-up", () => {
    it("GIVEN one client guessing passwords WHEN over its limit THEN 429 with Retry-After", async () => {
      const { input } = await signUp();
      const client = nextClient();
      const statuses: number[] = [];
      let last;
      for (let attempt = 0; attempt < 6; attempt += 1) {
        last = await t.app.inject({
          method: "POST",
          url: "/sessions",
          // A different account each time: only the per-client limit can stop this.
          payload: { email: `nobody${attempt}-${input.email}`, password: "wrong-password" },
          remoteAddress: client,
        });
        statuses.push(last.statusCode);
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
      assert.ok(Number(last!.headers["retry-after"]) > 0, "Retry-After in seconds");
      assert.equal(last!.json().error, "rate_limited");
    });

    /** POST /sessions with the account's email (upper-cased: the limits see one account). */
    async function attempt(email: string, password: string, remoteAddress: string) {
      return t.app.inject({
        method: "POST",
        url: "/sessions",
        payload: { email: email.toUpperCase(), password },
        remoteAddress,
      });
    }

    it("GIVEN many clients guessing one account's password WHEN over the account's failure limit THEN 429", async () => {
      const { input } = await signUp();
      const statuses: number[] = [];
      for (let guess = 0; guess < 7; guess += 1) {
        statuses.push((await attempt(input.email, "wrong-password", nextClient())).statusCode);
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 401, 429]);
    });

    it("GIVEN 30 parallel wrong sign-ins from many clients WHEN the account's limit is 6 THEN at most 6 are checked (401), the rest 429", async () => {
      const { input } = await signUp();
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, guess) =>
          attempt(input.email, "wrong-password", `192.0.2.${guess + 1}`),
        ),
      );
      const statuses = responses.map((response) => response.statusCode);
      const checked = statuses.filter((status) => status === 401).length;
      assert.ok(checked >= 1 && checked <= 6, `401s: ${checked} of ${statuses.join(",")}`);
      assert.equal(statuses.filter((status) => status === 429).length, 30 - checked);
    });

    it("GIVEN one client guessing one account's password WHEN over the account-and-client limit THEN 429, even for the right password from there", async () => {
      const { input } = await signUp();
      const attacker = nextClient();
      const statuses: number[] = [];
      for (let guess = 0; guess < 4; guess += 1) {
        statuses.push((await attempt(input.email, "wrong-password", attacker)).statusCode);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429]);
      const right = await attempt(input.email, input.password, attacker);
      assert.equal(right.statusCode, 429, "a guess that happens to be right is refused too");
      assert.equal(right.json().field, "email");
    });

    it("GIVEN the default limits and an attacker guessing from one address until refused WHEN the owner signs in from another THEN 201 (no lockout DoS)", async () => {
      const defaults = await startEmbeddedApp();
      try {
        const owner = newUser();
        const created = await defaults.app.inject({
          method: "POST",
          url: "/users",
          payload: owner,
        });
        assert.equal(created.statusCode, 201, created.body);
        const guess = (password: string, remoteAddress: string) =>
          defaults.app.inject({
            method: "POST",
            url: "/sessions",
            payload: { email: owner.email, password },
            remoteAddress,
          });
        const attacker = nextClient();
        const statuses: number[] = [];
        for (let attempt = 0; attempt < 11; attempt += 1) {
          statuses.push((await guess("wrong-password", attacker)).statusCode);
        }
        assert.equal(statuses.at(-1), 429, "the attacker's address is refused");
        const signedIn = await guess(owner.password, nextClient());
        assert.equal(signedIn.statusCode, 201, signedIn.body);
        const limit = DEFAULT_RATE_LIMITS.signInFailuresPerAccountClient;
        assert.deepEqual(statuses, [...Array<number>(limit).fill(401), 429]);
      } finally {
        await defaults.close();
      }
    });

    it("GIVEN the owner signing in right, again and again THEN the account's limits do not count it", async () => {
      const { input } = await signUp();
      const statuses: number[] = [];
      // More than either account limit (3 per client, 6 in all), fewer than the client's (5).
      for (let round = 0; round < 12; round += 1) {
        statuses.push((await attempt(input.email, input.password, nextClient())).statusCode);
      }
      assert.deepEqual(statuses, Array<number>(12).fill(201));
    });

    it("GIVEN one IPv6 host rotating through its /64 WHEN guessing THEN it is one client to the limit", async () => {
      const prefix = `2001:db8:${clientCounter++}:1`;
      const statuses: number[] = [];
      for (let host = 1; host <= 6; host += 1) {
        const response = await t.app.inject({
          method: "POST",
          url: "/sessions",
          payload: { email: `v6-${host}@example.com`, password: "wrong-password" },
          remoteAddress: `${prefix}::${host}`,
        });
        statuses.push(response.statusCode);
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    });

    it("GIVEN one client signing up over and over WHEN over its limit THEN 429", async () => {
      const client = nextClient();
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const response = await t.app.inject({
          method: "POST",
          url: "/users",
          payload: newUser(),
          remoteAddress: client,
        });
        statuses.push(response.statusCode);
      }
      assert.deepEqual(statuses, [201, 201, 201, 201, 429]);
    });
  });

  describe("changing the email or password needs the current password", () => {
    async function patch(
      id: string,
      jar: CookieJar,
      payload: Record<string, string>,
      remoteAddress = "203.0.113.9",
    ) {
      return jar.send(t.app, { method: "PATCH", url: `/users/${id}`, payload, remoteAddress });
    }

    const changes: Record<string, string>[] = [
      { email: "taken-over@example.com" },
      { password: "attacker-chosen" },
    ];
    for (const change of changes) {
      const field = Object.keys(change)[0]!;
      it(`GIVEN only a session WHEN PATCHing ${field} without currentPassword THEN 400 naming currentPassword`, async () => {
        const { user, input } = await signUp();
        const jar = await signIn(input.email, input.password);
        const response = await patch(user.id, jar, change);
        assert.equal(response.statusCode, 400, response.body);
        assert.equal(response.json().field, "currentPassword");
        assert.match(response.json().message, new RegExp(`required to change ${field}`));
        await signIn(input.email, input.password);
      });

      it(`GIVEN a wrong currentPassword WHEN PATCHing ${field} THEN 403 and nothing changes`, async () => {
        const { user, input } = await signUp();
        const jar = await signIn(input.email, input.password);
        const response = await patch(user.id, jar, { ...change, currentPassword: "not-it-at-all" });
        assert.equal(response.statusCode, 403, response.body);
        assert.equal(response.json().error, "wrong_password");
        assert.equal(response.json().field, "currentPassword");
        await signIn(input.email, input.password);
      });
    }

    it("GIVEN the right currentPassword WHEN PATCHing the email THEN 200 and the account signs in with the new one", async () => {
      const { user, input } = await signUp();
      const jar = await signIn(input.email, input.password);
      const email = `moved-${input.email}`;
      const response = await patch(user.id, jar, { email, currentPassword: input.password });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().email, email);
      await signIn(email, input.password);
    });

    it("GIVEN the right currentPassword WHEN PATCHing the password THEN the new one signs in, the old one does not, and other sessions end", async () => {
      const { user, input } = await signUp();
      const jar = await signIn(input.email, input.password);
      const elsewhere = await signIn(input.email, input.password);
      const password = "a-brand-new-password";
      const response = await patch(user.id, jar, { password, currentPassword: input.password });
      assert.equal(response.statusCode, 200, response.body);
      jar.store(response.headers["set-cookie"]);
      const me = await jar.send(t.app, { method: "GET", url: "/me" });
      assert.equal(me.statusCode, 200, "the client that changed it stays signed in");
      const other = await elsewhere.send(t.app, { method: "GET", url: "/me" });
      assert.equal(other.statusCode, 401, "every other session is signed out");
      const old = await t.app.inject({
        method: "POST",
        url: "/sessions",
        payload: { email: input.email, password: input.password },
        remoteAddress: nextClient(),
      });
      assert.equal(old.statusCode, 401);
      await signIn(input.email, password);
    });

    it("GIVEN wrong currentPasswords from one client WHEN over the account-and-client limit THEN 429, for PATCH and sign-in alike", async () => {
      const { user, input } = await signUp();
      const jar = await signIn(input.email, input.password);
      const client = nextClient();
      const statuses: number[] = [];
      for (let guess = 0; guess < 4; guess += 1) {
        const response = await patch(
          user.id,
          jar,
          { email: `x${guess}-${input.email}`, currentPassword: `guess-${guess}` },
          client,
        );
        statuses.push(response.statusCode);
      }
      assert.deepEqual(statuses, [403, 403, 403, 429]);
      const signInThere = await t.app.inject({
        method: "POST",
        url: "/sessions",
        payload: { email: input.email, password: input.password },
        remoteAddress: client,
      });
      assert.equal(signInThere.statusCode, 429, "the PATCH failures count as failed sign-ins");
    });

    it("GIVEN the right current password WHEN changing the password over and over THEN the account's change limit answers 429 (successes count: each is a hash)", async () => {
      const { user, input } = await signUp();
      const jar = await signIn(input.email, input.password);
      const change = { password: input.password, currentPassword: input.password };
      const statuses: number[] = [];
      for (let round = 0; round < 6; round += 1) {
        const response = await patch(user.id, jar, change);
        // A new password starts a new session for this client.
        jar.store(response.headers["set-cookie"]);
        statuses.push(response.statusCode);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    });

    it("GIVEN a stranger's PATCHes with a currentPassword WHEN refused 401 THEN the owner's change limit is untouched", async () => {
      const { user, input } = await signUp();
      for (let attempt = 0; attempt < 6; attempt += 1) {
        const stranger = await t.app.inject({
          method: "PATCH",
          url: `/users/${user.id}`,
          payload: { email: `x${attempt}-${input.email}`, currentPassword: "a-guess" },
        });
        assert.equal(stranger.statusCode, 401);
      }
      const jar = await signIn(input.email, input.password);
      const owner = await patch(user.id, jar, { name: "Renamed", currentPassword: input.password });
      assert.equal(owner.statusCode, 200, owner.body);
    });

    it("GIVEN the OpenAPI document THEN PATCH /users/{id} requires currentPassword with email or password", async () => {
      const spec = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
      const body = spec.paths["/users/{id}"].patch.requestBody.content["application/json"].schema;
      assert.deepEqual(body.dependencies, {
        email: ["currentPassword"],
        password: ["currentPassword"],
      });
      assert.ok("currentPassword" in body.properties);
    });
  });

  describe("4. the read-your-writes cookie", () => {
    it("GIVEN a forged rw_lsn far ahead of every server WHEN reading THEN the read does not go to the writer", async () => {
      const { user } = await signUp();
      const sides = await sidesServingRead(t, user.id, "FFFFFFFF/FFFFFFFF");
      assert.ok(!sides.includes("writer"), "a forged cookie must not route reads to the writer");
    });

    it("GIVEN a write WHEN the cookie comes back THEN it is signed and the next read goes to the writer", async () => {
      const response = await t.app.inject({
        method: "POST",
        url: "/users",
        payload: newUser(),
        remoteAddress: nextClient(),
      });
      const jar = new CookieJar();
      jar.store(response.headers["set-cookie"]);
      const value = decodeURIComponent(jar.get(READ_YOUR_WRITES_COOKIE) ?? "");
      assert.match(value, /^(\d+:[0-9A-F]+\/[0-9A-F]+,?)+\.[\w+/-]+$/, "shard:LSN,….signature");
      t.database.reset();
      await jar.send(t.app, { method: "GET", url: `/users/${response.json().id}` });
      assert.ok(t.database.queries.some((query) => query.side === "writer"));
    });
  });

  describe("5. private originals in embedded file serving", () => {
    it("GIVEN an uploaded original WHEN fetched through ../ or %2e%2e from thumbnails THEN 404", async () => {
      const { png, key, upload } = await startPhotoUpload();
      const put = await t.app.inject({
        method: "PUT",
        url: upload.url,
        headers: upload.headers,
        payload: png,
      });
      assert.equal(put.statusCode, 204, put.body);
      // Over a real socket: inject() would normalise the path before the app ever saw it.
      const address = await t.app.listen({ port: 0, host: "127.0.0.1" });
      for (const path of [
        `/files/thumbnails/../${key}`,
        `/files/thumbnails/%2e%2e/${key}`,
        `/files/thumbnails/%2E%2E/${key}`,
        `/files/thumbnails/..%2f${key}`,
        `/files/thumbnails/%2e%2e%2f${key}`,
        `/files/thumbnails/./../${key}`,
      ]) {
        const response = await rawGet(address, path);
        assert.notEqual(response.status, 200, path);
        assert.ok(!response.body.equals(png), `${path} served the original`);
      }
    });
  });

  describe("7. deleting an account", () => {
    it("GIVEN two sessions WHEN the account is deleted from one THEN the other is revoked too", async () => {
      const { user, input } = await signUp();
      const first = await signIn(input.email, input.password);
      const second = await signIn(input.email, input.password);
      const deleted = await first.send(t.app, { method: "DELETE", url: `/users/${user.id}` });
      assert.equal(deleted.statusCode, 204);
      const upload = await second.send(t.app, {
        method: "POST",
        url: `/users/${user.id}/photo`,
        payload: { contentType: "image/png", size: 10 },
      });
      assert.equal(upload.statusCode, 401, upload.body);
    });
  });

  describe("8. negative caching", () => {
    it("GIVEN a missing user WHEN read twice THEN the database is asked once", async () => {
      const missing = "00000000-0000-4000-8000-000000000000";
      t.database.reset();
      const first = await t.app.inject({ method: "GET", url: `/users/${missing}` });
      const second = await t.app.inject({ method: "GET", url: `/users/${missing}` });
      assert.equal(first.statusCode, 404);
      assert.equal(second.statusCode, 404);
      assert.equal(second.headers["x-cache"], "hit");
      assert.equal(t.database.queries.filter((query) => query.side === "reader").length, 1);
    });

    it("GIVEN a cached not-found WHEN that user is then created THEN it is readable at once", async () => {
      // Ids are random, so the realistic case is a client that just signed up: its own read.
      const { user } = await signUp();
      const response = await t.app.inject({ method: "GET", url: `/users/${user.id}` });
      assert.equal(response.statusCode, 200);
    });
  });

  describe("10. security headers", () => {
    it("GIVEN the page WHEN served THEN CSP, nosniff, no framing, HSTS and a referrer policy", async () => {
      const response = await t.app.inject({ method: "GET", url: "/" });
      const csp = String(response.headers["content-security-policy"]);
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /object-src 'none'/);
      assert.doesNotMatch(csp, /'unsafe-inline'|'unsafe-eval'/);
      assert.equal(response.headers["x-content-type-options"], "nosniff");
      assert.equal(response.headers["x-frame-options"], "DENY");
      assert.match(String(response.headers["strict-transport-security"]), /max-age=\d+/);
      assert.equal(response.headers["referrer-policy"], "no-referrer");
    });

    it("GIVEN an API answer THEN it carries the headers too", async () => {
      const response = await t.app.inject({ method: "GET", url: "/healthz" });
      assert.equal(response.headers["x-content-type-options"], "nosniff");
    });
  });

  describe("11. request ids and proxy headers", () => {
    /** GET /healthz with `requestId` as x-request-id. */
    const healthWithRequestId = (requestId: string) =>
      t.app.inject({ method: "GET", url: "/healthz", headers: { "x-request-id": requestId } });

    it("GIVEN an 8,000-character x-request-id WHEN answered THEN it is replaced, neither echoed nor logged", async () => {
      const long = "a".repeat(8_000);
      const response = await healthWithRequestId(long);
      assert.notEqual(response.headers["x-request-id"], long);
      assert.ok(String(response.headers["x-request-id"]).length <= 64);
      assert.ok(!t.logs.text().includes(long));
    });

    it("GIVEN a short, well-formed x-request-id THEN it is kept (traces join up)", async () => {
      const response = await healthWithRequestId("Root=1-abc_DEF.42");
      assert.equal(response.headers["x-request-id"], "Root=1-abc_DEF.42");
    });

    it("GIVEN requests without an id THEN each gets its own, and no two processes share their ids", async () => {
      const [one, other] = [requestIds(), requestIds()];
      const bare = { headers: {} } as Parameters<typeof one>[0];
      const ids = [one(bare), one(bare), other(bare)];
      assert.equal(new Set(ids).size, 3);
      assert.notEqual(ids[0]!.slice(0, 18), ids[2]!.slice(0, 18));
      const responses = await Promise.all([1, 2, 3].map(() => t.app.inject("/healthz")));
      const served = responses.map((response) => String(response.headers["x-request-id"]));
      assert.equal(new Set(served).size, 3);
      for (const id of served) assert.match(id, /^[0-9a-f]{18}-[0-9a-z]+$/);
    });

    it("GIVEN a client sends an id this app will give a later request THEN it is not kept", async () => {
      const seen = String((await t.app.inject("/healthz")).headers["x-request-id"]);
      const [prefix, counter] = seen.split("-");
      const later = `${prefix}-${(parseInt(counter!, 36) + 1_000).toString(36)}`;
      const response = await healthWithRequestId(later);
      assert.notEqual(response.headers["x-request-id"], later);
    });

    it("GIVEN an id with spaces or control characters THEN it is replaced", async () => {
      const response = await healthWithRequestId("a b<script>");
      assert.notEqual(response.headers["x-request-id"], "a b<script>");
    });

    it("GIVEN X-Forwarded-Proto from a client that is not a trusted proxy THEN the cookie is not marked Secure by it, and X-Forwarded-For is not the client's address", async () => {
      const { input } = await signUp();
      const response = await t.app.inject({
        method: "POST",
        url: "/sessions",
        payload: { email: input.email, password: input.password },
        remoteAddress: "203.0.113.9",
        headers: { "x-forwarded-proto": "https", "x-forwarded-for": "192.0.2.1" },
      });
      assert.equal(response.statusCode, 201, response.body);
      assert.doesNotMatch([response.headers["set-cookie"] ?? []].flat().join("\n"), /Secure/);
    });
  });

  describe("12. completing a photo checks the stored object", () => {
    it("GIVEN an object whose size differs from the ticket WHEN completing THEN 400 naming key, nothing queued", async () => {
      const { user, jar, png, key } = await startPhotoUpload();
      // Bypasses the upload route's own checks, as a misbehaving store or emulator would.
      await t.files.write(key, Buffer.concat([png, Buffer.alloc(4096)]), "image/png");
      const depth = t.queue.depth;
      const completed = await jar.send(t.app, {
        method: "POST",
        url: `/users/${user.id}/photo/complete`,
        payload: { key },
      });
      assert.equal(completed.statusCode, 400, completed.body);
      assert.equal(completed.json().field, "key");
      assert.equal(t.queue.depth, depth);
    });
  });

  describe("13. methods and permanent job failures", () => {
    it("GIVEN a known path WHEN called with an undeclared method THEN 405 with Allow", async () => {
      const { user } = await signUp();
      const put = await t.app.inject({ method: "PUT", url: `/users/${user.id}` });
      assert.equal(put.statusCode, 405);
      assert.deepEqual(String(put.headers.allow).split(", ").sort(), [
        "DELETE",
        "GET",
        "HEAD",
        "PATCH",
      ]);
      const sessions = await t.app.inject({ method: "GET", url: "/sessions" });
      assert.equal(sessions.statusCode, 405);
      assert.deepEqual(String(sessions.headers.allow).split(", ").sort(), ["DELETE", "POST"]);
      const unknown = await t.app.inject({ method: "GET", url: "/nothing-here" });
      assert.equal(unknown.statusCode, 404);
    });

    it("GIVEN a job that can never succeed WHEN the worker takes it THEN it goes to the dead letters on the first failure", async () => {
      const before = t.queue.deadLetters.length;
      await t.queue.send("this is not a job");
      const deadline = Date.now() + 10_000;
      while (t.queue.deadLetters.length === before && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(t.queue.deadLetters.length, before + 1);
      const failures = t.logs.lines().filter((line) => line.msg?.includes("dead-letter"));
      assert.equal(failures.length, 1, "moved aside once, not retried");
    });
  });
});
