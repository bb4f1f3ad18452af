/**
 * Tags and names shared by every component.
 *
 * Project, stack and region tags come from each region's provider (`defaultTags`), so they are
 * never forgotten; the tier tag is per component, so each component passes `tierTags(...)` to
 * every taggable child it creates.
 */

/** The tiers of the architecture; each component belongs to exactly one. */
export const TIERS = [
  "network",
  "web",
  "database",
  "cache",
  "queue",
  "cdn",
  "dns",
  "observability",
] as const;
export type Tier = (typeof TIERS)[number];

export type Tags = Record<string, string>;

/** The tags a component puts on its taggable children, on top of the provider's default tags. */
export function tierTags(tier: Tier, extra: Tags = {}): Tags {
  return { ...extra, tier };
}

/**
 * A physical name for resources that need one chosen by us (AWS limits the length, and some
 * services only take lowercase letters, digits and hyphens).
 *
 * @throws when the parts cannot form a valid name within `maxLength` (names are never cut
 * silently: two long names cut to the same prefix would collide).
 */
export function physicalName(parts: readonly string[], maxLength: number): string {
  const name = parts
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  if (name.length === 0 || name.length > maxLength || !/^[a-z]/.test(name)) {
    throw new Error(
      `physical name "${name}" (from ${JSON.stringify(parts)}) must start with a letter and ` +
        `have 1..${maxLength} characters; shorten the stack or resource name`,
    );
  }
  return name;
}
