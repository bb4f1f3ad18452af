/** Something the benchmarks need is missing; the message says how to provide it. */
export class PrerequisiteError extends Error {
  override name = "PrerequisiteError";
}
