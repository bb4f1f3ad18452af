/**
 * Reading resources the way CrossGuard hands them to a rule, and the wording every rule shares.
 *
 * During `pulumi preview` a value that depends on another resource's output (an id, an ARN, a
 * JSON document built from them) is unknown, and touching it throws. Rules read such values
 * through `read()`, which turns that into `UNKNOWN`; a rule that meets `UNKNOWN` passes the
 * resource (it is checked again, with the value, at `pulumi up`): nothing is ever flagged only
 * because a value is not known yet. Stack checks, which see outputs, read through `readSetting()`
 * to tell a property set from unknown outputs from one the program left for the provider to compute.
 */
import * as policySdk from "@pulumi/policy";
import type { PolicyResource } from "@pulumi/policy";

// @pulumi/policy exports the error at run time, but its typings lose the declaration.
const { UnknownValueError } = policySdk as unknown as {
  UnknownValueError: abstract new (...args: never[]) => Error;
};

export const UNKNOWN = Symbol("unknown during preview");
export type Unknown = typeof UNKNOWN;
export type Maybe<T> = T | Unknown;

/** Runs `get`, answering UNKNOWN when it touches a value that preview does not know. */
export function read<T>(get: () => T): Maybe<T> {
  try {
    return get();
  } catch (error) {
    if (error instanceof UnknownValueError) return UNKNOWN;
    throw error;
  }
}

/**
 * A deep copy of a value, read in full: UNKNOWN when any part of it is unknown. For values a rule
 * inspects as a whole (a policy document, a list of actions).
 */
export function readPlain(get: () => unknown): Maybe<unknown> {
  return read(() => {
    const value = get();
    return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
  });
}

/** A resource class, as `isType` takes it (e.g. `aws.s3.Bucket`). */
export type ResourceClass = Parameters<PolicyResource["isType"]>[0];

/** What a message calls a resource: its type token and logical name. */
export interface Named {
  type: string;
  name: string;
}

/** The shared shape of a violation: which resource, what is wrong, and how to fix it. */
export function violation(resource: Named, problem: string, fix: string): string {
  return `${resource.type} "${resource.name}": ${problem}. Fix: ${fix}.`;
}

/** A string value, when it is one and not empty. */
export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** JSON text or an already parsed object (both are valid inputs for policies and redrive settings). */
export function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/** One IAM policy statement, with every field that may be one value or a list turned into a list. */
export interface Statement {
  effect: string;
  actions: string[];
  resources: string[];
  /** `*` for everyone; otherwise `AWS:arn`, `Service:name`, ... */
  principals: string[];
  conditionKeys: string[];
}

/** The statements of an IAM policy document (JSON text or object); undefined when it is not one. */
export function policyStatements(document: unknown): Statement[] | undefined {
  const parsed = parseJson(document);
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const raw = (parsed as { Statement?: unknown }).Statement;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return statements.map((statement: Record<string, unknown>) => ({
    effect: String(statement.Effect ?? ""),
    actions: list(statement.Action),
    resources: list(statement.Resource),
    principals: principals(statement.Principal),
    conditionKeys: conditionKeys(statement.Condition),
  }));
}

function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function principals(value: unknown): string[] {
  if (value === "*") return ["*"];
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([kind, names]) =>
    list(names).map((name) => (name === "*" ? "*" : `${kind}:${name}`)),
  );
}

/** Condition keys in lower case (`aws:sourcearn`), whatever operator they sit under. */
function conditionKeys(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return [];
  return Object.values(value).flatMap((keys) =>
    typeof keys === "object" && keys !== null
      ? Object.keys(keys).map((key) => key.toLowerCase())
      : [],
  );
}

/** True for a range that spans every address of its family (`0.0.0.0/0`, `::/0`). */
export function isWorldCidr(cidr: unknown): boolean {
  return typeof cidr === "string" && /\/0$/.test(cidr.trim());
}

export type Link = "yes" | "no" | "unknown";

/** The resources a property's value was computed from, as the engine records them (known in preview). */
function sourcesOf(resource: PolicyResource, property: string): PolicyResource[] {
  return resource.propertyDependencies[property] ?? [];
}

/**
 * A property of a resource in a stack check, as the program set it. Stack checks see outputs, and
 * in a preview a property the program left unset but the provider computes is unknown too; with no
 * dependency recorded for it the program did not set it from another resource, so it reads as
 * unset (undefined). UNKNOWN only when it was set from outputs that are not known yet.
 */
export function readSetting(resource: PolicyResource, property: string): Maybe<unknown> {
  const value = readPlain(() => resource.props[property]);
  if (value !== UNKNOWN) return value;
  return sourcesOf(resource, property).length > 0 ? UNKNOWN : undefined;
}

/**
 * Whether `from`'s property `property` points at `to`: through the dependencies the engine records
 * per property (known even in preview), or by value, comparing what `values` extracts from the
 * property with `to`'s identifying outputs (`identifiers`, e.g. `["id", "arn"]`). "unknown" when
 * neither can tell (an identifier of `to` that preview does not know yet).
 */
export function refersTo(
  from: PolicyResource,
  property: string,
  to: PolicyResource,
  identifiers: readonly string[],
  values: (value: unknown) => unknown[] = (value) => [value],
): Link {
  if (sourcesOf(from, property).some((source) => source.urn === to.urn)) return "yes";
  const setting = readSetting(from, property);
  // Unknown, and not from `to`: it comes from other resources (or the program never set it).
  if (setting === UNKNOWN || setting === undefined) return "no";
  const wanted = values(setting).filter((value): value is string => typeof value === "string");
  if (wanted.length === 0) return "no";
  const ids = identifiers.map((key) => read(() => to.props[key] as unknown));
  if (ids.some((id) => typeof id === "string" && wanted.includes(id))) return "yes";
  return ids.includes(UNKNOWN) ? "unknown" : "no";
}

/**
 * Whether two properties, of two resources, name the same thing: they come from the same
 * resource, or their values (as `valuesA`/`valuesB` extract them) share one. "unknown" when one
 * was set from an output preview does not know and the other is a value written out.
 */
export function sameTarget(
  a: { resource: PolicyResource; property: string; values?: (value: unknown) => unknown[] },
  b: { resource: PolicyResource; property: string; values?: (value: unknown) => unknown[] },
): Link {
  const sourcesA = sourcesOf(a.resource, a.property);
  const sourcesB = sourcesOf(b.resource, b.property);
  if (sourcesA.some((source) => sourcesB.some((other) => other.urn === source.urn))) return "yes";
  const settingA = readSetting(a.resource, a.property);
  const settingB = readSetting(b.resource, b.property);
  if (settingA === undefined || settingB === undefined) return "no";
  if (settingA === UNKNOWN && settingB === UNKNOWN) return "no";
  if (settingA === UNKNOWN || settingB === UNKNOWN) return "unknown";
  const valuesA = (a.values ?? ((value: unknown) => [value]))(settingA);
  const valuesB = (b.values ?? ((value: unknown) => [value]))(settingB);
  return valuesA.some((value) => typeof value === "string" && valuesB.includes(value))
    ? "yes"
    : "no";
}

/** Combines links to several candidates: "yes" if any is, else "unknown" if any is, else "no". */
export function anyLink(links: Link[]): Link {
  if (links.includes("yes")) return "yes";
  return links.includes("unknown") ? "unknown" : "no";
}
