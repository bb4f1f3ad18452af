/**
 * `tsx tools/cost/diff.ts DIR`: the markdown a pull request's cost comment carries, from the
 * `--json` estimates in DIR: `<stack>.head.json` for each stack, and `<stack>.base.json` where the
 * base branch could estimate it (the preview workflow writes both).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Estimate } from "./estimate";
import { formatDiff } from "./report";

function main(): number {
  const dir = process.argv[2];
  if (!dir) {
    console.error(
      "usage: tsx tools/cost/diff.ts DIR (holding <stack>.head.json and <stack>.base.json)",
    );
    return 2;
  }
  const read = (file: string) => JSON.parse(readFileSync(join(dir, file), "utf8")) as Estimate;
  const stacks = readdirSync(dir)
    .filter((file) => file.endsWith(".head.json"))
    .map((file) => file.slice(0, -".head.json".length))
    .sort();
  if (stacks.length === 0) {
    console.error(`no <stack>.head.json in ${dir}`);
    return 2;
  }
  const sections = stacks.map((stack) =>
    formatDiff(
      existsSync(join(dir, `${stack}.base.json`)) ? read(`${stack}.base.json`) : undefined,
      read(`${stack}.head.json`),
    ),
  );
  process.stdout.write(
    [
      "### Monthly cost: base → this pull request (`npm run cost`)",
      "",
      sections.join("\n\n"),
      "",
      "<sub>On-demand list prices from `tools/cost/prices.ts` (dated, with their AWS pages); use from " +
        "`tools/cost/usage.ts`. min: autoscalers at their minimum and a quiet month; max: at their " +
        "maximum and a busy month.</sub>",
      "",
    ].join("\n"),
  );
  return 0;
}

process.exit(main());
