/** Checks the components' validators share. */

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
