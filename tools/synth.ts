/**
 * The one place tools reach the synth harness: `npm run cost` and `npm run diagram` evaluate the
 * program the way `npm run synth` does (harness/cli.ts), in this process. When the harness
 * moves to a library path, only this import changes.
 */
import { synth } from "../harness";
import { synthInProcess } from "../harness/synth";
import type { ConfigOverrides, SynthResource, SynthResult } from "../harness/synth";

export type { ConfigOverrides, SynthResource, SynthResult };

/**
 * Synthesizes `stack` with raw config `overrides` (the `--config` JSON of `npm run synth`).
 * @throws when the program fails (for example invalid config), with the program's message.
 */
export async function synthesize(
  stack: string,
  overrides: ConfigOverrides = {},
): Promise<SynthResult> {
  return succeeded(stack, await synthInProcess(stack, overrides));
}

/**
 * Synthesizes `stack` in a child process: a process can evaluate one stack only, so a tool that
 * needs several (the README's tables) uses this.
 * @throws when the program fails.
 */
export async function synthesizeInChild(
  stack: string,
  overrides: ConfigOverrides = {},
): Promise<SynthResult> {
  const result = succeeded(stack, await synth(stack, overrides));
  return {
    project: result.project,
    stack: result.stack,
    resources: [...result.resources],
    outputs: result.outputs,
  };
}

/** The synth's result, or the program's failure as an error naming the stack. */
function succeeded<R extends { error?: string | undefined }>(stack: string, result: R): R {
  if (result.error !== undefined)
    throw new Error(`synth of stack ${stack} failed: ${result.error}`);
  return result;
}

/** Parses a `--config` argument: a JSON object of raw project config. */
export function parseConfigOverrides(json: string | undefined): ConfigOverrides {
  if (json === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new Error(`--config must be JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`--config must be a JSON object such as '{"web":{"maxTasks":60}}'`);
  }
  return parsed as ConfigOverrides;
}
