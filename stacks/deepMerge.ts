/**
 * The one deep merge of config: defaults under a stack's values, and the synth harness's
 * `--config` over a stack file.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Merges `override` into `base`: objects key by key, everything else (lists included) replaced;
 * `null` removes the key (so an override can unset a default, such as localstack's dns.domain).
 * Neither argument is modified.
 */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return base;
  if (!isRecord(base) || !isRecord(override)) return override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete merged[key];
    else merged[key] = deepMerge(base[key], value);
  }
  return merged;
}
