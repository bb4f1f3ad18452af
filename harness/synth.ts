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
import { duplicateUrnError, type RecordedCall, RecordingMocks } from "./mocks";

export type { RecordedCall } from "./mocks";

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
  /**
   * What it waits for: its explicit `dependsOn` and the resources its inputs come from (URNs);
   * recorded by the synth (absent from hand-made fixtures).
   */
  dependsOn?: string[];
  deleteBeforeReplace?: boolean;
  /** `replaceWith`: the URNs whose replacement replaces it too. */
  replaceWith?: string[];
  /** Whether the program marked it `retainOnDelete` (absent from hand-made fixtures). */
  retainOnDelete?: boolean;
}

export interface SynthResult {
  project: string;
  stack: string;
  resources: SynthResource[];
  outputs: Record<string, unknown>;
  /** Every data source call (invoke), with the region of the provider it went to. */
  calls?: RecordedCall[];
  /** Set when the program threw (for example a config error); then `resources` is what registered before. */
  error?: string;
}

/** How the mocks answer, beyond the stack's config. */
export interface SynthOptions {
  /**
   * A region whose data sources (invokes) answer with marked strings (mocks.ts: LOOKUP_MARK), to
   * find every resource that takes a value looked up through that region's provider.
   */
  markCallsIn?: string;
}

/** Raw stack config: the project's keys without prefix, deep-merged over the stack file (`null` unsets a key). */
export type ConfigOverrides = Record<string, unknown>;

/** Reads Pulumi.<stack>.yaml into the `key -> string` map that `setAllConfig` takes. */
export function stackConfig(
  stack: string,
  overrides: ConfigOverrides = {},
): Record<string, string> {
  return stackFileConfig(join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), overrides);
}

/** Reads a stack file (any path: another checkout's too) into the map `setAllConfig` takes. */
export function stackFileConfig(
  file: string,
  overrides: ConfigOverrides = {},
): Record<string, string> {
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
  options: SynthOptions = {},
): Promise<SynthResult> {
  const mocks = new RecordingMocks(options.markCallsIn);
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
  error ??= duplicateUrnError(mocks);

  // Everything recorded but `custom` (whether it is a custom resource), which specs never need.
  const resources: SynthResource[] = [...mocks.resources.values()].map(
    ({ custom: _custom, ...resource }) => resource,
  );
  return {
    project: PROJECT,
    stack,
    resources,
    outputs,
    calls: mocks.calls,
    ...(error === undefined ? {} : { error }),
  };
}

/** Resolves Outputs and promises anywhere in a value (stack outputs are often nested objects). */
async function resolveDeep<T>(value: T): Promise<Record<string, unknown>> {
  const resolved = await new Promise<unknown>((resolve) => pulumi.output(value).apply(resolve));
  return resolved as Record<string, unknown>;
}
