#!/usr/bin/env node
// Runs every *.test.ts under test/ (or the paths given) with Node's own test runner and tsx.
// Node 20's --test does not expand globs or pick up .ts files, so the list is built here.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith(".test.ts") ? [path] : [];
  return readdirSync(path)
    .filter((entry) => entry !== "node_modules")
    .sort()
    .flatMap((entry) => collect(join(path, entry)));
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ["test"]).flatMap(collect);
if (files.length === 0) {
  console.error(`no *.test.ts files under ${roots.join(", ") || "test"}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
