/**
 * Which tier and which region each synthesized resource belongs to, for the cost report and the
 * diagram. Components tag their taggable children with `tier` (components/tags.ts); the rest
 * (policies, rules, dashboards, component resources) take the tier of the nearest ancestor that
 * has one, where a component's tier is the one most of its tagged descendants carry.
 */
import { TIERS, type Tier } from "../components/tags";
import type { SynthResource } from "./synth";

export { TIERS, type Tier };

/** The region label of services that are not regional (billed and drawn once per stack). */
export const GLOBAL_REGION = "global";

/** Services AWS runs globally: their resources are reported under {@link GLOBAL_REGION}. */
const GLOBAL_TYPE_PREFIXES = ["aws:cloudfront/", "aws:route53/", "aws:iam/"];

/** Type prefix of the stack's compositions (one per region), which span every tier. */
const STACK_COMPOSITION_PREFIX = "zero-to-millions:stacks:";

export function isTier(value: unknown): value is Tier {
  return (TIERS as readonly unknown[]).includes(value);
}

/** The `tier` tag a resource was created with, if any. */
export function taggedTier(resource: SynthResource): Tier | undefined {
  const tags = resource.inputs.tags as Record<string, unknown> | undefined;
  const tier = tags?.tier;
  return isTier(tier) ? tier : undefined;
}

/** The region a resource is reported in: its provider's region, or `global` for global services. */
export function regionOf(resource: SynthResource): string {
  if (GLOBAL_TYPE_PREFIXES.some((prefix) => resource.type.startsWith(prefix))) {
    return GLOBAL_REGION;
  }
  return resource.region ?? GLOBAL_REGION;
}

/**
 * Assigns every resource its tier: its own tag, else its nearest ancestor's. Resources outside
 * any tiered component (providers, stack-level components) get none.
 */
export function assignTiers(resources: readonly SynthResource[]): Map<string, Tier | undefined> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const children = new Map<string, SynthResource[]>();
  for (const resource of resources) {
    if (resource.parent === null) continue;
    const siblings = children.get(resource.parent) ?? [];
    siblings.push(resource);
    children.set(resource.parent, siblings);
  }

  const ownTier = new Map<string, Tier | undefined>();
  /** The tier most tagged resources in the subtree carry (ties: the first in TIERS order). */
  const subtreeTier = (urn: string): Tier | undefined => {
    if (ownTier.has(urn)) return ownTier.get(urn);
    const resource = byUrn.get(urn);
    const tagged = resource ? taggedTier(resource) : undefined;
    if (tagged !== undefined) {
      ownTier.set(urn, tagged);
      return tagged;
    }
    const votes = new Map<Tier, number>();
    const count = (u: string) => {
      for (const child of children.get(u) ?? []) {
        const tier = taggedTier(child);
        if (tier !== undefined) votes.set(tier, (votes.get(tier) ?? 0) + 1);
        count(child.urn);
      }
    };
    count(urn);
    const best = [...votes.entries()].sort(
      (a, b) => b[1] - a[1] || TIERS.indexOf(a[0]) - TIERS.indexOf(b[0]),
    )[0]?.[0];
    ownTier.set(urn, best);
    return best;
  };

  const result = new Map<string, Tier | undefined>();
  for (const resource of resources) {
    const isComposition = (r: SynthResource) => r.type.startsWith(STACK_COMPOSITION_PREFIX);
    let tier = isComposition(resource) ? undefined : subtreeTier(resource.urn);
    let parent = resource.parent;
    while (tier === undefined && parent !== null) {
      const ancestor = byUrn.get(parent);
      if (!ancestor) break;
      // A stack-level composition (one per region) spans tiers: it gives its children none.
      if (!isComposition(ancestor)) tier = subtreeTier(parent);
      parent = ancestor.parent;
    }
    result.set(resource.urn, tier);
  }
  return result;
}
