// HTTP tests of sign-in, /me and sign-out on the embedded tiers.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SESSION_COOKIE } from "../../app/src/http/context";
import { startEmbeddedApp, type EmbeddedApp } from "./support/embedded";
import { CookieJar } from "./support/helpers";

const ADA = { name: "Ada Lovelace", email: "ada@example.com", password: "analytical engine" };

describe("sessions API (embedded)", () => {
  let t: EmbeddedApp;
  let adaId: string;

  before(async () => {
    // inject() connects from 127.0.0.1: here that is the load balancer.
    t = await startEmbeddedApp({ settings: { trustedProxies: ["127.0.0.1"] } });
    const response = await t.app.inject({ method: "POST", url: "/users", payload: ADA });
    adaId = response.json().id;
  });
  after(async () => {
    await t.close();
  });

  async function signIn(jar: CookieJar, credentials = ADA, headers: Record<string, string> = {}) {
    const response = await t.app.inject({
      method: "POST",
      url: "/sessions",
      headers: { ...headers, cookie: jar.header() },
      payload: { email: credentials.email, password: credentials.password },
    });
    jar.store(response.headers["set-cookie"]);
    return response;
  }

  it("GIVEN the right password WHEN POST /sessions THEN 201 {user} and an HttpOnly SameSite=Lax sid cookie", async () => {
    const jar = new CookieJar();
    const response = await signIn(jar);
    assert.equal(response.statusCode, 201);
    assert.equal(response.json().user.id, adaId);
    assert.equal(response.json().user.password_hash, undefined);
    const setCookie = [response.headers["set-cookie"] ?? []].flat().join("\n");
    assert.match(setCookie, /^sid=[\w-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/m);
    assert.doesNotMatch(setCookie, /Secure/, "plain http: no Secure flag");
  });

  it("GIVEN a request forwarded from HTTPS by the trusted load balancer WHEN signing in THEN the cookie is Secure", async () => {
    const response = await signIn(new CookieJar(), ADA, { "x-forwarded-proto": "https" });
    assert.match([response.headers["set-cookie"] ?? []].flat().join("\n"), /^sid=.*; Secure/m);
  });

  it("GIVEN a wrong password or unknown email WHEN POST /sessions THEN 401 without a cookie", async () => {
    for (const credentials of [
      { ...ADA, password: "wrong password" },
      { ...ADA, email: "nobody@example.com" },
    ]) {
      const response = await signIn(new CookieJar(), credentials);
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().error, "invalid_credentials");
      assert.equal(response.headers["set-cookie"], undefined);
    }
  });

  it("GIVEN a missing password WHEN POST /sessions THEN 400 naming password", async () => {
    const response = await t.app.inject({
      method: "POST",
      url: "/sessions",
      payload: { email: ADA.email },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().field, "password");
  });

  it("GIVEN a session WHEN GET /me THEN 200 {user}; after DELETE /sessions THEN 401", async () => {
    const jar = new CookieJar();
    await signIn(jar);
    const me = await jar.send(t.app, { method: "GET", url: "/me" });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().user.email, ADA.email);

    const stolen = jar.header();
    const signOut = await jar.send(t.app, { method: "DELETE", url: "/sessions" });
    assert.equal(signOut.statusCode, 204);
    assert.match([signOut.headers["set-cookie"] ?? []].flat().join("\n"), /^sid=; .*Max-Age=0/m);
    const replay = await t.app.inject({ method: "GET", url: "/me", headers: { cookie: stolen } });
    assert.equal(
      replay.statusCode,
      401,
      "the session is gone from the store, not just the browser",
    );
  });

  it("GIVEN no cookie or a made-up one WHEN GET /me THEN 401", async () => {
    const none = await t.app.inject({ method: "GET", url: "/me" });
    const madeUp = await t.app.inject({
      method: "GET",
      url: "/me",
      headers: { cookie: `${SESSION_COOKIE}=not-a-session` },
    });
    assert.equal(none.statusCode, 401);
    assert.equal(madeUp.statusCode, 401);
  });

  it("GIVEN a signed-in browser WHEN it signs in again THEN the old session id stops working", async () => {
    const jar = new CookieJar();
    await signIn(jar);
    const before = jar.get(SESSION_COOKIE);
    await signIn(jar);
    assert.notEqual(jar.get(SESSION_COOKIE), before);
    const old = await t.app.inject({
      method: "GET",
      url: "/me",
      headers: { cookie: `${SESSION_COOKIE}=${before}` },
    });
    assert.equal(old.statusCode, 401);
  });

  it("GIVEN sign-ins with passwords WHEN the logs are read THEN no password or session id appears", async () => {
    const jar = new CookieJar();
    await signIn(jar);
    await jar.send(t.app, { method: "GET", url: "/me" });
    const text = t.logs.text();
    assert.ok(text.includes("signed in"), "sign-ins are logged");
    assert.ok(!text.includes(ADA.password));
    assert.ok(!text.includes(jar.get(SESSION_COOKIE)!));
  });

  it("GIVEN signed-in traffic WHEN the web metrics flush THEN ActiveUsers counts distinct users", async () => {
    t.app.services.metrics.web.flush();
    const jar = new CookieJar();
    await signIn(jar);
    await jar.send(t.app, { method: "GET", url: "/me" });
    await jar.send(t.app, { method: "GET", url: "/me" });
    const [document] = t.app.services.metrics.web.flush();
    assert.equal(document?.ActiveUsers, 1);
  });
});
