/** What the stack specs read of a stack: its synth beside the config it was synthesized from. */
import assert from "node:assert/strict";
import { synth, type Synth } from "../../../harness";
import { stackConfig } from "../../../harness/synth";
import { parseConfig, rawConfigFromPulumi, type StackConfig } from "../../../stacks/config";

export interface LoadedStack {
  synth: Synth;
  config: StackConfig;
}

/** Synthesizes each stack in turn (failing with the program's message) and parses its config. */
export async function loadStacks(stacks: readonly string[]): Promise<Record<string, LoadedStack>> {
  const loaded: Record<string, LoadedStack> = {};
  for (const stack of stacks) {
    const result = await synth(stack);
    assert.equal(result.error, undefined, `synth of ${stack} failed: ${result.error}`);
    loaded[stack] = { synth: result, config: parseConfig(rawConfigFromPulumi(stackConfig(stack))) };
  }
  return loaded;
}
