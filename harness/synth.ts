/**
 * Evaluates the real program (stacks/index.ts) under Pulumi's mocks with one stack's YAML config,
 * in this process. A process can evaluate one stack only (the program's modules register once),
 * so tests reach this through `synth()` in ./index.ts, which runs it in a child process.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { PROJECT } from "../stacks/configSchema";
import { deepMerge } from "../stacks/deepMerge";
import { RecordingMocks } from "./mocks";

export const PROJECT_ROOT = join(__dirname, "..");
export { PROJECT };

export interface SynthResource {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  region: string | null;
  /** The physical id the mocks gave it (custom resources only). */
  id: string | null;
  inputs: Record<string, unknown>;
  /** What the mocks answered: inputs plus the attributes AWS would compute (ids, ARNs, endpoints). */
  state: Record<string, unknown>;
  /** Whether the program marked it `protect`. */
  protect: boolean;
}

export interface SynthResult {
  project: string;
  stack: string;
  resources: SynthResource[];
  outputs: Record<string, unknown>;
  /** Set when the program threw (for example a config error); then `resources` is what registered before. */
  error?: string;
}

/** Raw stack config: the project's keys without prefix, deep-merged over the stack file (`null` unsets a key). */
export type ConfigOverrides = Record<string, unknown>;

/** Reads Pulumi.<stack>.yaml into the `key -> string` map that `setAllConfig` takes. */
export function stackConfig(
  stack: string,
  overrides: ConfigOverrides = {},
): Record<string, string> {
  const file = join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
  const document = parseYaml(readFileSync(file, "utf8")) as {
    config?: Record<string, unknown>;
  } | null;
  const values: Record<string, unknown> = { ...(document?.config ?? {}) };
  for (const [key, value] of Object.entries(overrides)) {
    const fullKey = key.includes(":") ? key : `${PROJECT}:${key}`;
    values[fullKey] = deepMerge(values[fullKey], value);
  }
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    // null unsets a key of the stack file, as it unsets a nested one.
    if (value === undefined || value === null) continue;
    const fullKey = key.includes(":") ? key : `${PROJECT}:${key}`;
    config[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return config;
}

/** Evaluates the program for `stack` and returns every registered resource and the stack outputs. */
export async function synthInProcess(
  stack: string,
  overrides: ConfigOverrides = {},
): Promise<SynthResult> {
  const mocks = new RecordingMocks();
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
  mocks.attach();
  pulumi.runtime.setAllConfig(stackConfig(stack, overrides));

  let outputs: Record<string, unknown> = {};
  let error: string | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require(join(PROJECT_ROOT, "stacks", "index.ts")) as Record<string, unknown>;
    outputs = await resolveDeep(program);
    await pulumi.runtime.disconnect();
  } catch (thrown) {
    error = thrown instanceof Error ? thrown.message : String(thrown);
  }

  const resources = [...mocks.resources.values()].map(
    ({ urn, type, name, parent, region, id, inputs, state, protect }) => ({
      urn,
      type,
      name,
      parent,
      region,
      id,
      inputs,
      state,
      protect,
    }),
  );
  return { project: PROJECT, stack, resources, outputs, ...(error === undefined ? {} : { error }) };
}

/** Resolves Outputs and promises anywhere in a value (stack outputs are often nested objects). */
async function resolveDeep<T>(value: T): Promise<Record<string, unknown>> {
  const resolved = await new Promise<unknown>((resolve) => pulumi.output(value).apply(resolve));
  return resolved as Record<string, unknown>;
}
