/**
 * `tsx tools/stepDown.ts [--for preview|up] [--otherwise STACK_FILE] DEPLOYED NEXT_STACK_FILE`
 *
 * Refuses a config change that would delete data (stacks/stages.ts changeProblems): each stateful
 * tier the deployment has more of than NEXT_STACK_FILE (a lowered `stage` or a switch turned off),
 * unless `allowDataLoss` acknowledges it. `--for preview` (the default) also refuses an
 * `allowDataLoss` entry the change does not need (unusedAcknowledgements); `--for up` only warns
 * of it, so a step down that failed half-way can be run again.
 *
 * DEPLOYED is what the stack runs, either
 * - `pulumi stack output --json` saved to a .json file: its `statefulTiers` output, written by the
 *   code that deployed it (the preview and pulumi-up workflows), or
 * - a stack file (.yaml) of the deployed commit, read with this checkout's config validation.
 * `--otherwise` names the stack file to compare with when DEPLOYED's outputs have no
 * `statefulTiers` (a stack last deployed by code before it existed): the workflows give the base
 * branch's file, as the check did before.
 *
 * Exits 0 when the change deletes nothing (or nothing is deployed), 1 with each problem on stderr
 * (its config path first), 2 on bad usage or a file that does not parse.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { stackFileConfig } from "../harness/synth";
import { ConfigError, parseConfig, rawConfigFromPulumi } from "../stacks/config";
import { defaultsFor } from "../stacks/configDefaults";
import type { StackConfig } from "../stacks/configSchema";
import {
  changeProblems,
  isStatefulTiers,
  statefulTiersOf,
  type StatefulTiers,
  unusedAcknowledgements,
} from "../stacks/stages";

const USAGE =
  "usage: tsx tools/stepDown.ts [--for preview|up] [--otherwise STACK_FILE] DEPLOYED(.json outputs | .yaml stack file) NEXT_STACK_FILE";

function parseStackFile(file: string): StackConfig {
  return parseConfig(rawConfigFromPulumi(stackFileConfig(file)));
}

/** What is deployed; undefined when nothing is (a new stack, or outputs without the record). */
function deployedTiers(file: string, otherwise: string | undefined): StatefulTiers | undefined {
  if (!existsSync(file)) return undefined;
  if (!file.endsWith(".json")) return statefulTiersOf(parseStackFile(file));
  const outputs = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  if (isStatefulTiers(outputs.statefulTiers)) return outputs.statefulTiers;
  if (otherwise === undefined || !existsSync(otherwise)) return undefined;
  console.error(`${file}: no statefulTiers output; comparing with ${otherwise} instead`);
  return statefulTiersOf(parseStackFile(otherwise));
}

function main(argv: readonly string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { for: { type: "string", default: "preview" }, otherwise: { type: "string" } },
      allowPositionals: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [deployedFile, nextFile] = positionals;
  if (
    positionals.length !== 2 ||
    !deployedFile ||
    !nextFile ||
    (values.for !== "preview" && values.for !== "up")
  ) {
    console.error(USAGE);
    return 2;
  }
  const read = <T>(parse: () => T): T | Error => {
    try {
      return parse();
    } catch (error) {
      if (error instanceof ConfigError || error instanceof SyntaxError) return error;
      throw error;
    }
  };
  const deployed = read(() => deployedTiers(deployedFile, values.otherwise));
  const next = read(() => parseStackFile(nextFile));
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
  const problems = changeProblems(deployed, next);
  const unused = unusedAcknowledgements(deployed, next, defaultsFor(next.environment, next.stage));
  for (const problem of problems) console.error(`${nextFile}: ${problem}`);
  const warnOnly = values.for === "up";
  for (const problem of unused)
    console.error(`${nextFile}: ${warnOnly ? "warning: " : ""}${problem}`);
  return problems.length > 0 || (!warnOnly && unused.length > 0) ? 1 : 0;
}

process.exit(main(process.argv.slice(2)));
