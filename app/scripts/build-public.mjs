#!/usr/bin/env node
// Builds the single page in app/public into app/public/dist for the app (and later the CDN) to serve.
//
// Every file index.html references by a relative src/href is emitted under a content-hashed name
// (app.ts is bundled to app.<hash>.js, CSS is bundled and minified, anything else is copied), the
// references in index.html are rewritten to those names, and manifest.json maps each source name
// to its hashed name. Hashed files never change, so they can be cached for a year; only index.html
// and manifest.json need a short TTL. The hash is taken from the emitted bytes, so the same sources
// always give the same names and a name changes exactly when its content does.
//
// Usage: node app/scripts/build-public.mjs [--src DIR] [--out DIR]   (defaults: app/public, SRC/dist)
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** A local, relative reference: not a URL with a scheme, not protocol- or root-relative, no anchor. */
function isLocalReference(value) {
  return !/^(?:[a-z][a-z0-9+.-]*:|\/|#)/i.test(value) && value !== "";
}

async function bundle(path) {
  const result = await build({
    entryPoints: [path],
    bundle: true,
    format: "esm",
    // Evergreen browsers; the page uses nothing newer than ES2020.
    target: "es2020",
    minify: true,
    legalComments: "none",
    // Compile the page on its own terms: the repository's tsconfig.json is the server's business.
    tsconfigRaw: {},
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].contents;
}

/** The bytes to publish for one source file and the extension they are published under. */
async function emit(path) {
  const ext = extname(path);
  if (ext === ".ts") return { contents: await bundle(path), ext: ".js" };
  if (ext === ".css") return { contents: await bundle(path), ext };
  return { contents: await readFile(path), ext };
}

function hashedName(source, contents, ext) {
  const hash = createHash("sha256").update(contents).digest("hex").slice(0, 8);
  return `${basename(source, extname(source))}.${hash}${ext}`;
}

/** Writes through a temporary name so a server reading the folder never sees half a file. */
async function writeAtomically(path, contents) {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
}

/**
 * Builds srcDir/index.html and everything it references into outDir.
 * @param {{ srcDir: string, outDir: string }} options
 * @returns {Promise<Record<string, string>>} the manifest: source name → hashed name
 */
export async function buildPublic({ srcDir, outDir }) {
  const html = await readFile(join(srcDir, "index.html"), "utf8");
  const references = new Set(
    [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)]
      .map((match) => match[1])
      .filter(isLocalReference),
  );

  const manifest = {};
  const outputs = new Map();
  for (const source of [...references].sort()) {
    const path = join(srcDir, source);
    if (!existsSync(path)) throw new Error(`index.html references ${source}, which does not exist`);
    const { contents, ext } = await emit(path);
    const name = hashedName(source, contents, ext);
    manifest[source] = name;
    outputs.set(name, contents);
  }

  const page = html.replace(/\b(src|href)="([^"]*)"/g, (whole, attribute, value) =>
    value in manifest ? `${attribute}="${manifest[value]}"` : whole,
  );
  outputs.set("index.html", page);
  outputs.set("manifest.json", `${JSON.stringify(manifest, null, 2)}\n`);

  await mkdir(outDir, { recursive: true });
  for (const [name, contents] of outputs) await writeAtomically(join(outDir, name), contents);
  // Drop what earlier builds emitted, so the CDN upload only ever sees the current files. Another
  // build may be writing the same files at the same time (the infrastructure program builds on
  // every synth): its temporary files are left alone, and it writes the same bytes.
  for (const entry of await readdir(outDir)) {
    if (!outputs.has(entry) && !entry.endsWith(".tmp")) {
      await rm(join(outDir, entry), { recursive: true, force: true });
    }
  }
  return manifest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { src: { type: "string" }, out: { type: "string" } },
  });
  const srcDir = resolve(values.src ?? join(here, "..", "public"));
  const outDir = resolve(values.out ?? join(srcDir, "dist"));
  try {
    const manifest = await buildPublic({ srcDir, outDir });
    console.log(`built ${Object.keys(manifest).length} assets into ${outDir}`);
  } catch (error) {
    console.error(`build-public: ${error.message}`);
    process.exitCode = 1;
  }
}
