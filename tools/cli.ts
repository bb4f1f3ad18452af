/**
 * What the stack tools (`npm run cost`, `npm run diagram`) share as programs: read
 * `--stack <name> [--config JSON] [--out FILE]` and the tool's own switches, synthesize the stack
 * as `npm run synth` does, and write what the tool made of it to FILE (default: stdout).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseConfigOverrides, synthesize, type SynthResult } from "./synth";

/** What a tool made of a synth: the text to write, and problems to report after writing it. */
export interface ToolOutput {
  text: string;
  /** Printed to stderr after the text is written; any problem makes the process exit 1. */
  problems?: readonly string[];
}

/**
 * Runs a stack tool as the process. Exits 2 with `usage` when `--stack` is missing; 1 with the
 * problem on stderr when the synth fails or the tool reports problems; 0 otherwise.
 * @param switches the tool's own boolean options (e.g. `json`), passed to `make` as set or not.
 */
export function runStackTool(
  usage: string,
  switches: readonly string[],
  make: (synth: SynthResult, switches: Record<string, boolean>) => Promise<ToolOutput>,
): void {
  main(usage, switches, make).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}

async function main(
  usage: string,
  switches: readonly string[],
  make: (synth: SynthResult, switches: Record<string, boolean>) => Promise<ToolOutput>,
): Promise<number> {
  const values: Record<string, string | boolean | undefined> = parseArgs({
    options: {
      stack: { type: "string" },
      config: { type: "string" },
      out: { type: "string" },
      ...Object.fromEntries(switches.map((name) => [name, { type: "boolean", default: false }])),
    },
    strict: true,
  }).values;
  const stack = values.stack;
  if (typeof stack !== "string") {
    console.error(usage);
    return 2;
  }
  const config = typeof values.config === "string" ? values.config : undefined;
  const set = Object.fromEntries(switches.map((name) => [name, values[name] === true]));
  const { text, problems = [] } = await make(
    await synthesize(stack, parseConfigOverrides(config)),
    set,
  );
  if (typeof values.out === "string") writeFileSync(values.out, text);
  else process.stdout.write(text);
  if (problems.length === 0) return 0;
  console.error(problems.join("\n"));
  return 1;
}
