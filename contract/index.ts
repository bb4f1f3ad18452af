/**
 * The contract between the app (app/) and the infrastructure (stacks/, components/): environment
 * variables and their parsers, commands, health paths, metrics, worker concurrency and shutdown
 * deadlines. Both sides import it; it imports nothing. docs/CONTRACT.md describes it.
 */
export * from "./environment";
export * from "./invalidation";
export * from "./metrics";
export * from "./process";
export * from "./sessions";
