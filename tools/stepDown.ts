/**
 * `tsx tools/stepDown.ts DEPLOYED_STACK_FILE NEXT_STACK_FILE`
 *
 * Refuses a config change that would delete data: parses both stack files with this checkout's
 * config validation, then lists each stateful tier on in the deployed config and off in the next
 * (a lowered `stage` or a switch turned off), unless the next one sets `allowDataLoss: true`
 * (stacks/stages.ts changeProblems). The preview workflow runs it with the base branch's stack
 * file as DEPLOYED and the pull request's as NEXT.
 *
 * Exits 0 when the change deletes nothing (or the deployed file no longer parses: a renamed key),
 * 1 with each problem on stderr (its config path first), 2 on bad usage or a next file that does
 * not parse.
 */
import { existsSync } from "node:fs";
import { stackFileConfig } from "../harness/synth";
import { ConfigError, parseConfig, rawConfigFromPulumi } from "../stacks/config";
import { changeProblems } from "../stacks/stages";

function parseStackFile(file: string) {
  return parseConfig(rawConfigFromPulumi(stackFileConfig(file)));
}

function main(args: readonly string[]): number {
  const [deployedFile, nextFile] = args;
  if (args.length !== 2 || !deployedFile || !nextFile) {
    console.error("usage: tsx tools/stepDown.ts DEPLOYED_STACK_FILE NEXT_STACK_FILE");
    return 2;
  }
  // A stack added by the pull request has nothing deployed to delete.
  if (!existsSync(deployedFile)) return 0;
  const [deployed, next] = [deployedFile, nextFile].map((file) => {
    try {
      return parseStackFile(file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(`${file}: ${error.message}`);
      return undefined;
    }
  });
  if (!next) return 2;
  // A deployed file this checkout's schema refuses (a key renamed since) cannot be compared.
  if (!deployed) {
    console.error(`${deployedFile}: not compared (see above); read the preview's deletes instead`);
    return 0;
  }
  const problems = changeProblems(deployed, next);
  for (const problem of problems) console.error(`${nextFile}: ${problem}`);
  return problems.length > 0 ? 1 : 0;
}

process.exit(main(process.argv.slice(2)));
