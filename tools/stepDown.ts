/**
 * `tsx tools/stepDown.ts DEPLOYED NEXT_STACK_FILE`
 *
 * Refuses a config change that would delete data (stacks/stages.ts changeProblems): each stateful
 * tier the deployment has more of than NEXT_STACK_FILE (a lowered `stage` or a switch turned off),
 * unless `allowDataLoss` acknowledges it; and an `allowDataLoss` that acknowledges nothing.
 *
 * DEPLOYED is what the stack runs, either
 * - `pulumi stack output --json` saved to a .json file: its `statefulTiers` output, written by the
 *   code that deployed it (the preview and pulumi-up workflows), or
 * - a stack file (.yaml) of the deployed commit, read with this checkout's config validation (by
 *   hand, or for a stack deployed before `statefulTiers` existed).
 *
 * Exits 0 when the change deletes nothing (or nothing is deployed), 1 with each problem on stderr
 * (its config path first), 2 on bad usage or a file that does not parse.
 */
import { existsSync, readFileSync } from "node:fs";
import { stackFileConfig } from "../harness/synth";
import { ConfigError, parseConfig, rawConfigFromPulumi } from "../stacks/config";
import { defaultsFor } from "../stacks/configDefaults";
import type { StackConfig } from "../stacks/configSchema";
import {
  changeProblems,
  isStatefulTiers,
  statefulTiersOf,
  type StatefulTiers,
} from "../stacks/stages";

const USAGE =
  "usage: tsx tools/stepDown.ts DEPLOYED(.json outputs | .yaml stack file) NEXT_STACK_FILE";

function parseStackFile(file: string): StackConfig {
  return parseConfig(rawConfigFromPulumi(stackFileConfig(file)));
}

/** What is deployed; undefined when nothing is (a new stack, or outputs without the record). */
function deployedTiers(file: string): StatefulTiers | undefined {
  if (!existsSync(file)) return undefined;
  if (!file.endsWith(".json")) return statefulTiersOf(parseStackFile(file));
  const outputs = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  return isStatefulTiers(outputs.statefulTiers) ? outputs.statefulTiers : undefined;
}

function main(args: readonly string[]): number {
  const [deployedFile, nextFile] = args;
  if (args.length !== 2 || !deployedFile || !nextFile) {
    console.error(USAGE);
    return 2;
  }
  const read = <T>(file: string, parse: (file: string) => T): T | Error => {
    try {
      return parse(file);
    } catch (error) {
      if (error instanceof ConfigError || error instanceof SyntaxError) return error;
      throw error;
    }
  };
  const deployed = read(deployedFile, deployedTiers);
  const next = read(nextFile, parseStackFile);
  for (const [file, result] of [
    [deployedFile, deployed],
    [nextFile, next],
  ] as const) {
    if (result instanceof Error) console.error(`${file}: ${result.message}`);
  }
  if (deployed instanceof Error || next instanceof Error) return 2;
  if (deployed === undefined) {
    console.error(`${deployedFile}: nothing deployed to compare with (no statefulTiers output)`);
    return 0;
  }
  const problems = changeProblems(deployed, next, defaultsFor(next.environment, next.stage));
  for (const problem of problems) console.error(`${nextFile}: ${problem}`);
  return problems.length > 0 ? 1 : 0;
}

process.exit(main(process.argv.slice(2)));
