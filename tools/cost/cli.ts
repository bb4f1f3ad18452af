/**
 * `npm run cost -- --stack <name> [--config JSON] [--json] [--out FILE]`
 *
 * Estimates the stack's monthly cost from its synth (the same evaluation as `npm run synth`), per
 * tier and per region, at minimum and maximum capacity. `--json` prints the estimate as data (the
 * totals at `monthlyUsd.min` and `monthlyUsd.max`); `--out` writes it to FILE instead of stdout.
 *
 * Exits 1 with the problem on stderr when the synth fails, a priced resource is somewhere the
 * price table has no price for, or a resource type is unclassified (the estimate is still printed).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseConfigOverrides, synthesize } from "../synth";
import { estimate } from "./estimate";
import { formatText, unclassifiedWarning } from "./report";

const USAGE_LINE =
  "usage: npm run cost -- --stack <dev|prod|localstack> [--config JSON] [--json] [--out FILE]";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      config: { type: "string" },
      json: { type: "boolean", default: false },
      out: { type: "string" },
    },
    strict: true,
  });
  if (!values.stack) {
    console.error(USAGE_LINE);
    return 2;
  }
  const result = estimate(await synthesize(values.stack, parseConfigOverrides(values.config)));
  const text = values.json ? JSON.stringify(result, null, 2) : formatText(result);
  if (values.out) writeFileSync(values.out, `${text}\n`);
  else process.stdout.write(`${text}\n`);
  if (result.unclassified.length > 0) {
    console.error(unclassifiedWarning(result).join("\n"));
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
