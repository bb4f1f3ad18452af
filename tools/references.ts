/**
 * Which synthesized resources refer to which: a resource's inputs mention another's id, ARN,
 * endpoint or URL (the mocks give each resource realistic, unique ones). The cost estimate uses it
 * to follow a replica to its source; the diagram draws the edges between tiers from it.
 */
import type { SynthResource } from "./synth";

/** Characters that continue an identifier: a match must not be part of a longer one. */
const IDENTIFIER_CHAR = /[A-Za-z0-9_-]/;

/** Identifiers shorter than this are too likely to occur by chance (ports, zone letters). */
const MIN_IDENTIFIER_LENGTH = 6;

/** A DNS name AWS computed (an endpoint, a distribution's domain). */
const HOSTNAME = /^(?=.*[a-z])[a-z0-9-]+(\.[a-z0-9-]+)+$/i;

/** Every string in a value, at any depth. */
export function stringsIn(value: unknown, found: string[] = []): string[] {
  if (typeof value === "string") found.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, found);
  else if (typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) stringsIn(item, found);
  }
  return found;
}

/**
 * The strings that name a resource to others: its id, and what the mocks computed for it that
 * carries the id or is an ARN, endpoint or URL (inputs it was given are not its identity).
 */
function identifiersOf(resource: SynthResource): string[] {
  if (resource.id === null) return [];
  const given = new Set(stringsIn(resource.inputs));
  const computed = Object.entries(resource.state)
    .filter(([key]) => !(key in resource.inputs))
    .flatMap(([, value]) => stringsIn(value))
    .filter(
      (value) =>
        !given.has(value) &&
        (value.includes(resource.id!) || value.startsWith("arn:") || HOSTNAME.test(value)),
    );
  // A fixed physical identifier (an RDS instance's) names it too: its replicas use it as source.
  const physical =
    typeof resource.inputs.identifier === "string" ? [resource.inputs.identifier] : [];
  return [resource.id, ...physical, ...computed].filter(
    (value) => value.length >= MIN_IDENTIFIER_LENGTH,
  );
}

function containsIdentifier(text: string, identifier: string): boolean {
  for (let at = text.indexOf(identifier); at !== -1; at = text.indexOf(identifier, at + 1)) {
    const before = at === 0 ? "" : text[at - 1]!;
    const after = text[at + identifier.length] ?? "";
    if (!IDENTIFIER_CHAR.test(before) && !IDENTIFIER_CHAR.test(after)) return true;
  }
  return false;
}

/** The reference graph of a synth. */
export class References {
  private readonly owners = new Map<string, SynthResource>();
  private readonly identifiers: [string, SynthResource][] = [];
  private readonly memo = new Map<string, SynthResource[]>();

  constructor(private readonly resources: readonly SynthResource[]) {
    for (const resource of resources) {
      for (const identifier of identifiersOf(resource)) {
        // The first owner wins: an identifier two resources share names neither reliably.
        if (this.owners.has(identifier)) continue;
        this.owners.set(identifier, resource);
        this.identifiers.push([identifier, resource]);
      }
    }
    // Longest first, so an endpoint is matched before the id it contains.
    this.identifiers.sort((a, b) => b[0].length - a[0].length);
  }

  /** The resource a value names exactly (an id, ARN or endpoint), if any. */
  resolve(value: unknown): SynthResource | undefined {
    return typeof value === "string" ? this.owners.get(value) : undefined;
  }

  /** The resources whose identifiers appear anywhere in `resource`'s inputs (itself excluded). */
  referencedBy(resource: SynthResource): SynthResource[] {
    const cached = this.memo.get(resource.urn);
    if (cached) return cached;
    const found = new Set<SynthResource>();
    for (const text of stringsIn(resource.inputs)) {
      for (const [identifier, owner] of this.identifiers) {
        if (owner !== resource && !found.has(owner) && containsIdentifier(text, identifier)) {
          found.add(owner);
        }
      }
    }
    const result = [...found];
    this.memo.set(resource.urn, result);
    return result;
  }

  /** Every (from, to) pair where `from`'s inputs name `to`. */
  edges(): [SynthResource, SynthResource][] {
    return this.resources.flatMap((from) =>
      this.referencedBy(from).map((to): [SynthResource, SynthResource] => [from, to]),
    );
  }
}
