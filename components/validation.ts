/** Checks the components' validators share, and the one way they raise what they found. */

/** A lowercase DNS name without a trailing dot: labels of 1-63 characters, 253 in all, a TLD of letters. */
const DOMAIN_NAME_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Whether `value` is a lowercase DNS name such as example.com (no trailing dot, no wildcard). */
export function isDomainName(value: string): boolean {
  return DOMAIN_NAME_PATTERN.test(value);
}

/**
 * `[problem]` when `value` is not a lowercase DNS name (`*.` in front allowed with `wildcard`),
 * else `[]`. `example` shows the kind of name the argument wants.
 */
export function domainNameProblems(
  name: string,
  value: string,
  example: string,
  { wildcard = false }: { wildcard?: boolean } = {},
): string[] {
  const bare = wildcard ? value.replace(/^\*\./, "") : value;
  return isDomainName(bare)
    ? []
    : [
        `${name}: "${value}" must be a lowercase DNS name without a trailing dot, such as ${example}${wildcard ? " (or *." + example + ")" : ""}`,
      ];
}

/** `[problem]` when `value` is not a whole number from `min` to `max`, else `[]`. */
export function wholeNumberProblems(
  name: string,
  value: number,
  min: number,
  max: number,
): string[] {
  return Number.isInteger(value) && value >= min && value <= max
    ? []
    : [`${name}: ${value} must be a whole number from ${min} to ${max}`];
}

/**
 * Raises a component's argument problems, all of them in one error, before any of its resources
 * exists; does nothing when there are none.
 * @example throwIfInvalid("Database", name, validateDatabaseArgs(args));
 */
export function throwIfInvalid(kind: string, name: string, problems: readonly string[]): void {
  if (problems.length === 0) return;
  throw new Error(`${kind} "${name}": invalid arguments:\n  - ${problems.join("\n  - ")}`);
}
