/**
 * Runs the pack's rules the way the policy engine does, without the Pulumi CLI: each resource
 * policy over every resource's inputs, each stack policy over every resource's outputs, with the
 * pack config applied (enforcement levels, settings, schema defaults) and every value behind
 * @pulumi/policy's own unknown-checking proxy, so a rule meets values exactly as in a preview.
 *
 * What the engine also sends and this harness cannot know (the dependencies recorded per
 * property) is empty unless a test states it; rules then link resources by value.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as policySdk from "@pulumi/policy";
import * as policyProxy from "@pulumi/policy/proxy";
import type {
  EnforcementLevel,
  Policies,
  PolicyPackConfig,
  PolicyProviderResource,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { Synth } from "../../harness";
import { policies as PACK } from "../../policy/policies";

// @pulumi/policy exports these at run time; its typings lose them.
const { unknownCheckingProxy, UnknownValueError } = policySdk as unknown as {
  unknownCheckingProxy: <T>(value: T) => T;
  UnknownValueError: abstract new (...args: never[]) => Error;
};

/** The value the engine sends for an input that is not known during preview. */
export const UNKNOWN_IN_PREVIEW = (policyProxy as unknown as { unknownStringValue: string })
  .unknownStringValue;

const PACK_DEFAULT_LEVEL: EnforcementLevel = "advisory";

/** One resource as a test states it. */
export interface TestResource {
  type: string;
  name: string;
  /** What resource policies see. */
  inputs: Record<string, unknown>;
  /** What stack policies see; the inputs when not given (as in a preview of a new resource). */
  outputs?: Record<string, unknown>;
  urn?: string;
  parent?: string | null;
  /** The region of the resource's aws provider. */
  region?: string | null;
  /** Per input property, the URNs of the resources its value came from. */
  propertyDependencies?: Record<string, string[]>;
}

export interface Violation {
  policy: string;
  enforcementLevel: "advisory" | "mandatory";
  message: string;
  urn: string | undefined;
}

export interface RunOptions {
  /** Pack config, as in a --policy-pack-config file. */
  config?: PolicyPackConfig;
}

class NotApplicable extends Error {}

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:test::zero-to-millions::${type}::${name}`;
}

/** The resources of a synthesized stack, as the engine would hand them to the pack. */
export function fromSynth(synth: Synth): TestResource[] {
  return synth.resources.map((resource) => ({
    type: resource.type,
    name: resource.name,
    urn: resource.urn,
    parent: resource.parent,
    region: resource.region,
    inputs: resource.inputs,
    // A deployed resource's outputs carry its physical id, which other resources' inputs name.
    outputs: resource.id === null ? resource.state : { ...resource.state, id: resource.id },
  }));
}

/** The pack over a stack's synth, as `pulumi preview` runs it with policy/config.<environment>.json. */
export async function runPackOver(synth: Synth, environment: string): Promise<Violation[]> {
  const config = JSON.parse(
    readFileSync(join(__dirname, "..", "..", "policy", `config.${environment}.json`), "utf8"),
  ) as PolicyPackConfig;
  return runPolicies(PACK, fromSynth(synth), { config });
}

/** Runs every policy over the resources; returns each violation with its effective level. */
export async function runPolicies(
  policies: Policies,
  resources: TestResource[],
  { config = {} }: RunOptions = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const policy of policies) {
    const level = enforcementLevelOf(policy.name, policy.enforcementLevel, config);
    if (level === "disabled") continue;
    const settings = settingsOf(policy, config);
    const report = (urn: string | undefined) => (message: string, reportedUrn?: string) =>
      violations.push({
        policy: policy.name,
        enforcementLevel: level,
        message,
        urn: reportedUrn ?? urn,
      });
    const unknownDuringPreview = (urn: string | undefined, error: Error) =>
      // The engine reports a rule that touched an unknown value as advisory, never as a failure.
      violations.push({
        policy: policy.name,
        enforcementLevel: "advisory",
        message: `can't run policy '${policy.name}' during preview: ${error.message}`,
        urn,
      });
    if ("validateStack" in policy) {
      await runGuarded(
        policy.name,
        () => validateStack(policy, resources, settings, report(undefined)),
        (error) => unknownDuringPreview(undefined, error),
      );
    } else {
      for (const resource of resources) {
        const urn = resource.urn ?? urnOf(resource.type, resource.name);
        await runGuarded(
          policy.name,
          () => validateResource(policy, resource, settings, report(urn)),
          (error) => unknownDuringPreview(urn, error),
        );
      }
    }
  }
  return violations;
}

async function runGuarded(
  name: string,
  run: () => Promise<void>,
  onUnknown: (error: Error) => void,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof UnknownValueError) onUnknown(error);
    else if (!(error instanceof NotApplicable)) {
      throw new Error(
        `policy ${name} threw: ${error instanceof Error ? error.stack : String(error)}`,
      );
    }
  }
}

async function validateResource(
  policy: ResourceValidationPolicy,
  resource: TestResource,
  settings: Record<string, unknown>,
  reportViolation: (message: string) => void,
): Promise<void> {
  const validations = policy.validateResource;
  if (validations === undefined) return;
  for (const validation of Array.isArray(validations) ? validations : [validations]) {
    const props = unknownCheckingProxy(structuredClone(resource.inputs));
    const urn = resource.urn ?? urnOf(resource.type, resource.name);
    const args = {
      type: resource.type,
      name: resource.name,
      urn,
      props,
      opts: optionsOf(resource),
      ...providerOf(resource),
      stackTags: new Map<string, string>(),
      isType: (resourceClass: unknown) => isTypeOf(resource.type, resourceClass),
      asType: (resourceClass: unknown) =>
        isTypeOf(resource.type, resourceClass) ? props : undefined,
      getConfig: () => settings,
      notApplicable: (reason?: string): never => {
        throw new NotApplicable(reason);
      },
    } as ResourceValidationArgs;
    await validation(args, reportViolation);
  }
}

async function validateStack(
  policy: StackValidationPolicy,
  resources: TestResource[],
  settings: Record<string, unknown>,
  reportViolation: (message: string, urn?: string) => void,
): Promise<void> {
  const byUrn = new Map<string, PolicyResource>();
  const stackResources = resources.map((resource) => {
    const props = unknownCheckingProxy(structuredClone(resource.outputs ?? resource.inputs));
    const policyResource = {
      type: resource.type,
      name: resource.name,
      urn: resource.urn ?? urnOf(resource.type, resource.name),
      props,
      opts: optionsOf(resource),
      ...providerOf(resource),
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass: unknown) => isTypeOf(resource.type, resourceClass),
      asType: (resourceClass: unknown) =>
        isTypeOf(resource.type, resourceClass) ? props : undefined,
    } as unknown as PolicyResource;
    byUrn.set(policyResource.urn, policyResource);
    return { resource, policyResource };
  });
  for (const { resource, policyResource } of stackResources) {
    const parent = resource.parent ? byUrn.get(resource.parent) : undefined;
    if (parent) policyResource.parent = parent;
    for (const [property, urns] of Object.entries(resource.propertyDependencies ?? {})) {
      const dependencies = urns.map((urn) => byUrn.get(urn)).filter((found) => found !== undefined);
      policyResource.propertyDependencies[property] = dependencies;
      policyResource.dependencies.push(...dependencies);
    }
  }
  const args: StackValidationArgs = {
    resources: stackResources.map(({ policyResource }) => policyResource),
    stackTags: new Map<string, string>(),
    getConfig: <T extends object>() => settings as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
  await policy.validateStack(args, reportViolation);
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
  const token = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  if (typeof token !== "string")
    throw new Error("isType was given a class without a Pulumi type token");
  return token === type;
}

function optionsOf(resource: TestResource): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(resource.parent ? { parent: resource.parent } : {}),
  };
}

function providerOf(resource: TestResource): { provider?: PolicyProviderResource } {
  if (!resource.region) return {};
  const name = `aws-${resource.region}`;
  return {
    provider: {
      type: "pulumi:providers:aws",
      name,
      urn: urnOf("pulumi:providers:aws", name),
      props: { region: resource.region },
    },
  };
}

/** A policy's level after config: its own entry, then `all`, then the policy's, then the pack's. */
export function enforcementLevelOf(
  name: string,
  own: EnforcementLevel | undefined,
  config: PolicyPackConfig,
): "advisory" | "mandatory" | "disabled" {
  const levelIn = (entry: PolicyPackConfig[string] | undefined) =>
    typeof entry === "string" ? entry : entry?.enforcementLevel;
  const level = levelIn(config[name]) ?? levelIn(config.all) ?? own ?? PACK_DEFAULT_LEVEL;
  // A rule set to remediate that still finds a violation is reported as mandatory.
  return level === "remediate" ? "mandatory" : level;
}

/** A policy's settings: its config entry over its schema's defaults, checked against the schema's enums. */
function settingsOf(policy: Policies[number], config: PolicyPackConfig): Record<string, unknown> {
  const properties = policy.configSchema?.properties ?? {};
  const entry = config[policy.name];
  const { enforcementLevel: _level, ...given } = typeof entry === "object" ? entry : {};
  const settings: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(properties)) {
    if (schema.default !== undefined) settings[key] = schema.default;
  }
  for (const [key, value] of Object.entries(given)) {
    const allowed = properties[key]?.enum;
    if (allowed && !allowed.includes(value as never)) {
      throw new Error(
        `policy config ${policy.name}.${key}: ${JSON.stringify(value)} is not one of ${JSON.stringify(allowed)}`,
      );
    }
    settings[key] = value;
  }
  return settings;
}

/** One line per violation, for assertion messages and test output. */
export function describeViolations(violations: Violation[]): string {
  return violations
    .map((found) => `[${found.enforcementLevel}] ${found.policy}: ${found.message}`)
    .join("\n");
}
