/**
 * The stack's configuration: read, merged over its environment's defaults, and validated in one
 * pass that reports every problem at once. Nothing else in the program reads `pulumi.Config`.
 *
 * Every key lives in the project's namespace (`zero-to-millions:<key>`), one key per area
 * (`regions`, `network`, `web`, ...), each a YAML object. The pieces: the schema and its
 * cross-key rules (./configSchema.ts), the defaults (./configDefaults.ts), the merge
 * (./deepMerge.ts), and the components' own checks on what config gives them
 * (./componentChecks.ts).
 */
import type { z } from "zod";
import { componentProblems } from "./componentChecks";
import { defaultsFor } from "./configDefaults";
import { configSchema, ENVIRONMENTS, PROJECT, type StackConfig } from "./configSchema";
import { deepMerge } from "./deepMerge";
import { stepDownProblems } from "./stages";

export * from "./configSchema";
export {
  BASE_DEFAULTS,
  type Defaults,
  ENVIRONMENT_DEFAULTS,
  ENVIRONMENT_OVERRIDES,
} from "./configDefaults";

/** Thrown when the stack's configuration is invalid; its message lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration for ${PROJECT} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((problem) => `  - ${problem}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/**
 * Validates raw stack configuration (the project's keys without their `zero-to-millions:`
 * prefix, values already parsed from JSON) and fills in the environment's defaults.
 *
 * @throws ConfigError listing every problem with its key path and the allowed values: the
 * schema's, then the components' (on the config with the schema's problems set back to their
 * defaults, so that they are checked too and each problem is reported once).
 */
export function parseConfig(raw: Readonly<Record<string, unknown>>): StackConfig {
  // With an unknown environment the dev defaults still let every other key be checked.
  const environment = ENVIRONMENTS.find((env) => env === raw.environment) ?? "dev";
  // An invalid stage is reported by the schema; meanwhile the full path's defaults serve.
  const stage = configSchema.shape.stage.safeParse(raw.stage).data;
  const defaults = defaultsFor(environment, stage);
  const merged = deepMerge(defaults, raw) as Record<string, unknown>;
  const result = configSchema.safeParse(merged);
  if (result.success) {
    const problems = [
      ...stepDownProblems(result.data, defaults),
      ...componentProblems(result.data),
    ];
    if (problems.length > 0) throw new ConfigError(problems);
    return result.data;
  }
  const problems = result.error.issues.map(describeIssue);
  const reported = new Set(problems.map(keyOf));
  const repaired = configSchema.safeParse(
    repair(merged, result.error.issues, { environment, ...defaults }),
  );
  const more = repaired.success
    ? componentProblems(repaired.data).filter((problem) => !reported.has(keyOf(problem)))
    : [];
  throw new ConfigError([...problems, ...more]);
}

/** Reads the project's keys from a `pulumi.runtime.allConfig()` map into raw config. */
export function rawConfigFromPulumi(
  all: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const prefix = `${PROJECT}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (!key.startsWith(prefix)) continue;
    raw[key.slice(prefix.length)] = parseConfigValue(value);
  }
  return raw;
}

function parseConfigValue(value: string): unknown {
  // Pulumi hands objects, lists, numbers and booleans over as JSON text; plain strings are not JSON.
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((key) => (path === "(root)" ? key : `${path}.${key}`));
    return `${keys.join(", ")}: unknown key${keys.length > 1 ? "s" : ""} (check the spelling against the README's config reference)`;
  }
  if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
    return `${path}: required, missing`;
  }
  return `${path}: ${issue.message}`;
}

/** The key a problem is about: what precedes its first colon. */
const keyOf = (problem: string) => problem.slice(0, problem.indexOf(":"));

/** `merged` with each key the schema refused set back to its default (or removed). */
function repair(
  merged: Record<string, unknown>,
  issues: readonly z.core.$ZodIssue[],
  defaults: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const repaired = structuredClone(merged);
  const reset = (path: readonly PropertyKey[]) => {
    let target: unknown = repaired;
    let source: unknown = defaults;
    for (const key of path.slice(0, -1)) {
      target = isRecord(target) ? target[String(key)] : undefined;
      source = isRecord(source) ? source[String(key)] : undefined;
    }
    const last = String(path[path.length - 1]);
    if (!isRecord(target)) return;
    if (isRecord(source) && source[last] !== undefined) target[last] = source[last];
    else delete target[last];
  };
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys")
      issue.keys.forEach((key) => reset([...issue.path, key]));
    else if (issue.path.length > 0) reset(issue.path);
  }
  return repaired;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
