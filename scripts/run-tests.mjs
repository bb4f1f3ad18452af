#!/usr/bin/env node
// Runs every *.test.ts under test/ (or under the folders and files given) with Node's own test
// runner and tsx. Node 24's runner expands the globs itself; a folder becomes `<folder>/**/*.test.ts`.
import { statSync } from "node:fs";
import { spawnSync } from "node:child_process";

const roots = process.argv.slice(2);
const patterns = (roots.length > 0 ? roots : ["test"]).map((path) =>
  statSync(path).isDirectory() ? `${path.replace(/\/+$/, "")}/**/*.test.ts` : path,
);
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", ...patterns],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
