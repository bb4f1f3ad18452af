// The page build (app/scripts/build-public.mjs): hashed names, a manifest, and index.html pointing at them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { appendFile, cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";

const run = promisify(execFile);
const root = resolve(__dirname, "..", "..");
const script = join(root, "app", "scripts", "build-public.mjs");
const publicDir = join(root, "app", "public");

let work: string;

async function readManifest(out: string): Promise<Record<string, string>> {
  return JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as Record<string, string>;
}

/** Builds `src` into a fresh folder under the test's temp dir; returns that folder and its manifest. */
async function build(src: string, label: string) {
  const out = join(work, `out-${label}`);
  await run(process.execPath, [script, "--src", src, "--out", out]);
  return { out, manifest: await readManifest(out) };
}

/** A copy of the page sources (without any dist/) that a test may edit. */
async function copySources(label: string): Promise<string> {
  const src = join(work, `src-${label}`);
  await cp(publicDir, src, { recursive: true, filter: (path) => !path.includes("/dist") });
  return src;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "build-public-"));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("build-public", () => {
  it("emits every referenced asset under a content-hashed name and rewrites index.html", async () => {
    const { out, manifest } = await build(publicDir, "plain");

    assert.deepEqual(Object.keys(manifest).sort(), ["app.ts", "favicon.svg", "styles.css"]);
    assert.match(manifest["app.ts"], /^app\.[0-9a-f]{8}\.js$/);
    assert.match(manifest["styles.css"], /^styles\.[0-9a-f]{8}\.css$/);
    assert.match(manifest["favicon.svg"], /^favicon\.[0-9a-f]{8}\.svg$/);
    assert.deepEqual(
      (await readdir(out)).sort(),
      [...Object.values(manifest), "index.html", "manifest.json"].sort(),
    );

    const html = await readFile(join(out, "index.html"), "utf8");
    const references = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    assert.ok(references.length >= 3);
    for (const reference of references) {
      assert.ok(Object.values(manifest).includes(reference), `${reference} is not a hashed asset`);
    }
    assert.ok(html.includes(`<script type="module" src="${manifest["app.ts"]}">`));

    // The bundle is plain browser JavaScript: TypeScript and module imports are compiled away.
    const js = await readFile(join(out, manifest["app.ts"]), "utf8");
    assert.doesNotMatch(js, /from\s*["']\.\/api/);
    assert.doesNotMatch(js, /__commonJS|require\(/);
  });

  it("gives the same names for the same sources", async () => {
    const first = await build(publicDir, "first");
    const second = await build(publicDir, "second");
    assert.deepEqual(second.manifest, first.manifest);
    for (const name of Object.values(first.manifest)) {
      assert.deepEqual(
        await readFile(join(second.out, name)),
        await readFile(join(first.out, name)),
        name,
      );
    }
  });

  it("changes a name exactly when that file's output changes, and drops stale files", async () => {
    const src = await copySources("edited");
    const { out, manifest: before } = await build(src, "edited");

    await appendFile(join(src, "styles.css"), "\n.added-by-test { color: red; }\n");
    await run(process.execPath, [script, "--src", src, "--out", out]);
    const afterStyle = await readManifest(out);
    assert.notEqual(afterStyle["styles.css"], before["styles.css"]);
    assert.equal(afterStyle["app.ts"], before["app.ts"]);
    assert.equal(afterStyle["favicon.svg"], before["favicon.svg"]);

    // api.ts is not referenced by index.html, but app.ts bundles it.
    const api = await readFile(join(src, "api.ts"), "utf8");
    const edited = api.replace("Please try again.", "Try again later.");
    assert.notEqual(edited, api, "the text this test edits is gone from api.ts");
    await writeFile(join(src, "api.ts"), edited);
    await run(process.execPath, [script, "--src", src, "--out", out]);
    const afterCode = await readManifest(out);
    assert.notEqual(afterCode["app.ts"], afterStyle["app.ts"]);
    assert.equal(afterCode["styles.css"], afterStyle["styles.css"]);
    assert.equal(afterCode["favicon.svg"], before["favicon.svg"]);

    const files = await readdir(out);
    assert.ok(!files.includes(before["styles.css"]), "the old stylesheet was left behind");
    assert.ok(files.includes(afterCode["styles.css"]));
  });

  it("fails on a reference to a file that does not exist", async () => {
    const src = await copySources("broken");
    const html = await readFile(join(src, "index.html"), "utf8");
    await writeFile(join(src, "index.html"), html.replace("styles.css", "missing.css"));
    await assert.rejects(
      run(process.execPath, [script, "--src", src, "--out", join(work, "out-broken")]),
      (error: Error & { stderr?: string }) => /missing\.css/.test(error.stderr ?? ""),
    );
  });
});
