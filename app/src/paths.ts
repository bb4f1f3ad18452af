/**
 * Where the app's non-code files are. The same code runs from app/src (tsx) and from
 * dist/app/src (the image's compiled build), so each folder is looked up next to the code first and
 * then under the working directory.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

/** app/ when run from source, dist/app/ when compiled. */
const APP_DIR = resolve(__dirname, "..");

function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((candidate) => existsSync(candidate));
}

export function migrationsDir(): string {
  const candidates = [resolve(APP_DIR, "migrations"), resolve(process.cwd(), "app", "migrations")];
  const found = firstExisting(candidates);
  if (found === undefined) {
    throw new Error(`no migrations folder; looked in ${candidates.join(" and ")}`);
  }
  return found;
}

/** The built page (app/public/dist), if it has been built. */
export function publicDistDir(): string | undefined {
  return firstExisting([
    resolve(APP_DIR, "public", "dist", "index.html"),
    resolve(process.cwd(), "app", "public", "dist", "index.html"),
  ])?.replace(/[\\/]index\.html$/, "");
}
