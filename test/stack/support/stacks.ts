/** What the stack specs read of a stack: its synth beside the config it was synthesized from. */
import assert from "node:assert/strict";
import { before } from "node:test";
import { synth, type Synth } from "../../../harness";
import { type ConfigOverrides, stackConfig } from "../../../harness/synth";
import { parseConfig, rawConfigFromPulumi, type StackConfig } from "../../../stacks/config";

/** A stack file's config, with `overrides` merged in as `--config` does, parsed as the program does. */
export function parsedStackConfig(stack: string, overrides: ConfigOverrides = {}): StackConfig {
  return parseConfig(rawConfigFromPulumi(stackConfig(stack, overrides)));
}

export interface LoadedStack {
  synth: Synth;
  config: StackConfig;
}

/**
 * Synthesizes each stack in turn (failing with the program's message) and parses its config, in
 * a `before` hook of the file: the record it returns is filled before the first test runs.
 */
export function loadStacksBefore(stacks: readonly string[]): Record<string, LoadedStack> {
  const loaded: Record<string, LoadedStack> = {};
  before(async () => {
    for (const stack of stacks) {
      const result = await synth(stack);
      assert.equal(result.error, undefined, `synth of ${stack} failed: ${result.error}`);
      loaded[stack] = { synth: result, config: parsedStackConfig(stack) };
    }
  });
  return loaded;
}
