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
import { runStackTool } from "../cli";
import { estimate } from "./estimate";
import { formatText, unclassifiedWarning } from "./report";

runStackTool(
  "usage: npm run cost -- --stack <dev|prod|localstack> [--config JSON] [--json] [--out FILE]",
  ["json"],
  async (synth, { json }) => {
    const result = estimate(synth);
    const text = json ? JSON.stringify(result, null, 2) : formatText(result);
    return { text: `${text}\n`, problems: unclassifiedWarning(result) };
  },
);
