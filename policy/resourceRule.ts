/**
 * The shape most of the pack's rules share: a mandatory rule that judges each resource of one
 * type on its own. A rule states only what it checks; `check` returns what is wrong (or nothing),
 * and the rule reports it as `<type> "<name>": <problem>. Fix: <fix>.` (values.ts `violation`).
 */
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import type { Resource, Unwrap } from "@pulumi/pulumi";
import { environmentConfig, environmentOf } from "./environment";
import { UNKNOWN, violation } from "./values";

/** What a rule found wrong with one resource, and how to fix it. */
export interface Finding {
  problem: string;
  fix: string;
}

export interface ResourceRule<TArgs> {
  name: string;
  description: string;
  /** The resource class judged, e.g. `aws.rds.Instance`. */
  resource: Parameters<typeof validateResourceOfType<Resource, TArgs>>[0];
  /** Judges prod stacks only; the rule then declares the environment config (environment.ts). */
  prodOnly?: boolean;
  /** What is wrong with the resource's inputs; undefined when nothing is (or not yet known). */
  check(resource: Unwrap<NonNullable<TArgs>>): Finding | undefined;
}

export function resourceRule<TArgs>(rule: ResourceRule<TArgs>): ResourceValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    ...(rule.prodOnly ? { configSchema: environmentConfig } : {}),
    validateResource: validateResourceOfType(rule.resource, (resource, args, reportViolation) => {
      if (rule.prodOnly && environmentOf(args) !== "prod") return;
      const finding = rule.check(resource);
      if (finding) reportViolation(violation(args, finding.problem, finding.fix));
    }),
  };
}

/** `finding`, unless the setting is on or not yet known (a preview passes until it is known). */
export function unlessOn(setting: unknown, finding: Finding): Finding | undefined {
  return setting === true || setting === UNKNOWN ? undefined : finding;
}
