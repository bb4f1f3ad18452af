/**
 * The two specs every component's argument validation shares: its pure validator, read as a table
 * of cases, and the component itself refusing bad arguments before it creates anything.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { render, type RenderContext } from "../../../harness/component";

/** A row of a validator's table: what is given, the arguments, and the problem (null: none). */
export type ValidationCase<A> = readonly [label: string, args: A, expected: RegExp | null];

/**
 * A validator's (or parseConfig's) problems for one case: none when `expected` is undefined,
 * otherwise at least one that matches it (each problem on its own, so `^` anchors its start).
 */
export function assertProblemMatch(problems: readonly string[], expected: RegExp | undefined) {
  if (expected === undefined) assert.deepEqual(problems, []);
  else
    assert.ok(
      problems.some((problem) => expected.test(problem)),
      `no problem matched ${expected}:\n${problems.join("\n")}`,
    );
}

/**
 * One test per row: the validator reports no problem for a null row; for any other, a problem
 * matching the row's pattern, which names the argument.
 */
export function itValidatesEachCase<A>(
  validate: (args: A) => readonly string[],
  cases: readonly ValidationCase<A>[],
): void {
  for (const [label, args, expected] of cases) {
    it(`GIVEN ${label} THEN ${expected ? "it names the argument" : "there is no problem"}`, () => {
      const problems = validate(args);
      if (expected === null) assert.deepEqual(problems, []);
      else assert.match(problems.join("\n"), expected);
    });
  }
}

/**
 * GIVEN bad arguments WHEN the component is built THEN it throws `message` and not one resource
 * (other than the test's providers) was registered: nothing is half-created.
 */
export function itThrowsBeforeAnyChild(
  build: (context: RenderContext) => unknown,
  message: RegExp,
  given = "invalid arguments",
): void {
  it(`GIVEN ${given} WHEN the component is built THEN it throws before creating any child`, async () => {
    const rendered = await render((context) => {
      assert.throws(() => build(context), message);
      return null;
    });
    assert.deepEqual(
      rendered.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")),
      [],
    );
  });
}
