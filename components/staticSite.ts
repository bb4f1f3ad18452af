/**
 * The static site the CDN serves, as files on disk: reading and checking the build's manifest,
 * the object keys, Content-Types (from the `mime-types` library) and Cache-Control of each file,
 * and running the build itself so a fresh clone needs no separate build step.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { contentType } from "mime-types";

/** Files that keep their names across builds: short TTL, and invalidated when they change. */
export const ENTRY_FILES = ["index.html", "manifest.json"] as const;
export const MANIFEST_FILE = "manifest.json";
/** The page served for `/`. */
export const ROOT_OBJECT = "index.html";
/** The paths CloudFront forgets when the entry files change (`/` is cached apart from /index.html). */
export const ENTRY_PATHS = ["/", ...ENTRY_FILES.map((file) => `/${file}`)];
/** Content-hashed names never change content, so browsers and edges may keep them for a year. */
export const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";
/** What S3 serves a file with when its extension names no known type. */
const DEFAULT_CONTENT_TYPE = "application/octet-stream";

/** One file of the static build as it is uploaded. */
export interface StaticFile {
  /** The object key: the name the page asks for. */
  key: string;
  /** The file on disk. */
  path: string;
  contentType: string;
  cacheControl: string;
  /** Entry files keep their name across builds (short TTL, invalidated on change). */
  entry: boolean;
}

/** How to build the site: a Node script taking `--src DIR --out DIR` (app/scripts/build-public.mjs). */
export interface StaticSiteBuild {
  /** The build script, run with the Node that runs the program. */
  script: string;
  /** The site's sources. */
  sourceDir: string;
  /** Where the build writes; what the CDN uploads. */
  outDir: string;
}

/**
 * Builds the site and returns `outDir`. The build is deterministic (names are content hashes of
 * the emitted bytes) and writes each file atomically, so running it on every `pulumi preview` /
 * `up` (and concurrently, as parallel synth tests do) always leaves the same files; it is part of
 * the program like the image build, not a step to remember.
 * @throws naming the script and its output when the build fails
 */
export function buildStaticSite(build: StaticSiteBuild): string {
  try {
    execFileSync(
      process.execPath,
      [build.script, "--src", build.sourceDir, "--out", build.outDir],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? "";
    throw new Error(
      `the static site's build (${build.script}) failed for ${build.sourceDir}: ${stderr || (error as Error).message}`,
    );
  }
  return build.outDir;
}

/**
 * Problems with a static build folder: each names `argument` (e.g. `staticFilesDir`) and the fix.
 * @returns empty when the folder holds index.html, a valid manifest and every file it names
 */
export function staticFilesProblems(dir: string, argument: string): string[] {
  const where = `${argument}: "${dir}"`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return [
      `${where} is not a folder; run \`npm run build:public\` or point it at the static build`,
    ];
  }
  const problems: string[] = [];
  if (!existsSync(join(dir, ROOT_OBJECT)))
    problems.push(`${where} has no ${ROOT_OBJECT} (the distribution's root object)`);
  const manifest = readManifest(dir);
  if (typeof manifest === "string") return [...problems, `${where}: ${manifest}`];
  for (const [source, hashed] of Object.entries(manifest)) {
    if (isAbsolute(hashed) || hashed.split(/[/\\]/).includes("..") || hashed.includes("\\")) {
      problems.push(
        `${where}: manifest entry "${source}" → "${hashed}" must be a relative path inside the folder`,
      );
    } else if (!existsSync(join(dir, hashed))) {
      problems.push(
        `${where}: manifest entry "${source}" → "${hashed}" names a file that does not exist; rebuild the static files`,
      );
    }
  }
  return problems;
}

/** The manifest's mapping, or a problem describing why it cannot be read. */
function readManifest(dir: string): Record<string, string> | string {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return `has no ${MANIFEST_FILE} (source name → content-hashed name)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    return `${MANIFEST_FILE} is not JSON (${(error as Error).message})`;
  }
  const valid =
    typeof parsed === "object" &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((value) => typeof value === "string" && value.length > 0);
  return valid
    ? (parsed as Record<string, string>)
    : `${MANIFEST_FILE} must map each source name to a hashed file name`;
}

/**
 * The files to upload from a valid static build: each hashed file of the manifest with a year's
 * immutable caching, and the entry files with `entryTtlSeconds`.
 */
export function staticFilesIn(dir: string, entryTtlSeconds: number): StaticFile[] {
  const manifest = readManifest(dir);
  if (typeof manifest === "string") throw new Error(`staticFilesDir: "${dir}": ${manifest}`);
  const hashed = [...new Set(Object.values(manifest))].sort().map((key) => ({
    key,
    path: join(dir, key),
    contentType: contentTypeOf(key),
    cacheControl: IMMUTABLE_CACHE_CONTROL,
    entry: false,
  }));
  const entries = ENTRY_FILES.map((key) => ({
    key,
    path: join(dir, key),
    contentType: contentTypeOf(key),
    cacheControl: `public, max-age=${entryTtlSeconds}`,
    entry: true,
  }));
  return [...hashed, ...entries];
}

/** The Content-Type S3 serves a file with, from its extension (text types in UTF-8). */
export function contentTypeOf(key: string): string {
  return contentType(key) || DEFAULT_CONTENT_TYPE;
}

/** A digest of the entry files' names and contents: it changes exactly when they do. */
export function entryContentHash(files: readonly StaticFile[]): string {
  const hash = createHash("sha256");
  for (const file of files.filter((candidate) => candidate.entry)) {
    hash.update(`${file.key}\0`).update(readFileSync(file.path)).update("\0");
  }
  return hash.digest("hex");
}
