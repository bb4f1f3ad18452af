/** The config specs' common check: which problems parseConfig reports for raw config. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { ConfigError, parseConfig } from "../../../stacks/config";
import { assertProblemMatch } from "../../infra/support/validation";

/** A row of a config table: what is wrong, the raw config, and the problem expected. */
export type ConfigCase = readonly [label: string, raw: Record<string, unknown>, expected: RegExp];

/** Every problem parseConfig reports for `raw`, none when it parses; any other error fails. */
export function configProblems(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return [...error.problems];
  }
  return [];
}

/** One test per row: among the problems parseConfig reports, one matches the row's pattern. */
export function itReportsEachConfigProblem(
  cases: readonly ConfigCase[],
  then = "the error names it",
): void {
  for (const [label, raw, expected] of cases) {
    it(`GIVEN ${label} THEN ${then}`, () => {
      assertProblemMatch(configProblems(raw), expected);
    });
  }
}
