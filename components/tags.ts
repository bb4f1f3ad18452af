import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

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

/** Hex characters of the hash that ends a shortened name. */
const NAME_HASH_LENGTH = 8;

/**
 * A physical name unique in the account and region: `<project>-<stack>-<parts>`. Names without
 * the project collide across projects (two projects' `prod` stacks in one account); names without
 * the stack collide across stacks. When the full name is longer than `maxLength`, its end is
 * replaced by a hash of the whole, so two long names never shorten to the same one.
 * policy/rules/naming.ts checks every physical name the program chooses.
 *
 * Changing the project, stack or parts changes the name, which replaces resources whose name
 * forces replacement (most of them: a cache group's id, a KMS alias, a bucket).
 */
export function stackPhysicalName(parts: readonly string[], maxLength: number): string {
  const full = physicalName(
    [pulumi.getProject(), pulumi.getStack(), ...parts],
    Number.MAX_SAFE_INTEGER,
  );
  if (full.length <= maxLength) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, NAME_HASH_LENGTH);
  const kept = full.slice(0, maxLength - NAME_HASH_LENGTH - 1).replace(/-+$/, "");
  return `${kept}-${hash}`;
}
