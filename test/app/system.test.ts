// Health, /meta, the OpenAPI document and the static page, on the embedded tiers.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startEmbeddedApp, TEST_IDENTITY, type EmbeddedApp } from "./support/embedded";
import { makeTempDir } from "./support/helpers";

describe("system routes (embedded)", () => {
  let t: EmbeddedApp;
  let publicDir: { path: string; remove(): Promise<void> };

  before(async () => {
    publicDir = await makeTempDir("public-dist-");
    await writeFile(join(publicDir.path, "index.html"), "<!doctype html><title>page</title>");
    await writeFile(join(publicDir.path, "app.1a2b3c4d.js"), "console.log(1)");
    t = await startEmbeddedApp({ settings: { publicDir: publicDir.path } });
  });
  after(async () => {
    await t.close();
    await publicDir.remove();
  });

  it("GIVEN a running app WHEN GET /healthz THEN 200 without touching any tier", async () => {
    t.database.reset();
    const response = await t.app.inject({ method: "GET", url: "/healthz" });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: "ok" });
    assert.equal(t.database.queries.length, 0);
  });

  it("GIVEN a reachable database WHEN GET /readyz THEN 200 with the checks", async () => {
    const response = await t.app.inject({ method: "GET", url: "/readyz" });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: "ok", checks: { database: "ok" } });
  });

  it("GIVEN the embedded tiers WHEN GET /meta THEN region, instance and modes", async () => {
    const response = await t.app.inject({ method: "GET", url: "/meta" });
    assert.deepEqual(response.json(), {
      ...TEST_IDENTITY,
      mode: { database: "pglite", cache: "memory", queue: "memory", files: "local" },
    });
  });

  it("GIVEN the routes WHEN GET /openapi.json THEN an OpenAPI 3 document describes them", async () => {
    const response = await t.app.inject({ method: "GET", url: "/openapi.json" });
    assert.equal(response.statusCode, 200);
    const document = response.json();
    assert.match(document.openapi, /^3\./);
    for (const path of [
      "/users",
      "/users/{id}",
      "/sessions",
      "/me",
      "/users/{id}/photo",
      "/users/{id}/photo/complete",
      "/healthz",
      "/readyz",
      "/meta",
    ]) {
      assert.ok(document.paths[path], `${path} is documented`);
    }
    const create = document.paths["/users"].post;
    assert.deepEqual(create.requestBody.content["application/json"].schema.required, [
      "name",
      "email",
      "password",
    ]);
    assert.ok(create.responses["409"], "errors are documented too");
  });

  it("GIVEN a built page WHEN GET / THEN index.html, not cached; hashed assets cached for a year", async () => {
    const index = await t.app.inject({ method: "GET", url: "/" });
    assert.equal(index.statusCode, 200);
    assert.match(index.body, /<title>page<\/title>/);
    assert.equal(index.headers["cache-control"], "no-cache");
    const asset = await t.app.inject({ method: "GET", url: "/app.1a2b3c4d.js" });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers["cache-control"], "public, max-age=31536000, immutable");
    const missing = await t.app.inject({ method: "GET", url: "/missing.js" });
    assert.equal(missing.statusCode, 404);
  });

  it("GIVEN no built page WHEN GET / THEN a one-line hint to build it", async () => {
    const bare = await startEmbeddedApp({ settings: { publicDir: undefined } });
    try {
      const response = await bare.app.inject({ method: "GET", url: "/" });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers["content-type"]), /text\/html/);
      assert.match(response.body, /npm run build:public/);
    } finally {
      await bare.close();
    }
  });

  it("GIVEN a worker-only app WHEN it is ready THEN it serves no HTTP routes but runs the worker", async () => {
    const worker = await startEmbeddedApp({ role: "worker" });
    try {
      const response = await worker.app.inject({ method: "GET", url: "/users/1" });
      assert.equal(response.statusCode, 404);
      assert.ok(worker.app.services.worker, "the worker is running");
    } finally {
      await worker.close();
    }
  });

  it("GIVEN a thumbnail file WHEN GET /files/thumbnails/... THEN it is served", async () => {
    await mkdir(join(t.files.dir, "thumbnails", "1"), { recursive: true });
    await t.files.write("thumbnails/1/x.webp", Buffer.from("RIFF"), "image/webp");
    const response = await t.app.inject({ method: "GET", url: "/files/thumbnails/1/x.webp" });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers["content-type"], "image/webp");
  });
});
