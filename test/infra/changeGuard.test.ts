/**
 * The change guard's check, the one piece of config validation that sees the deployed state: a
 * recorded value may change only with its acknowledgement, and a first deploy records freely.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type GuardedValue, refusedChanges } from "../../components/changeGuard";

const major = (value: string, acknowledged = false): { values: Record<string, GuardedValue> } => ({
  values: {
    "the PostgreSQL major version": {
      value,
      configKey: "database.engineVersion",
      acknowledgeKey: "database.allowMajorVersionUpgrade",
      acknowledged,
      procedure: "See README: Deploying.",
    },
  },
});

describe("ChangeGuard: which changes are refused", () => {
  const cases: Array<
    [string, Parameters<typeof refusedChanges>[0], ReturnType<typeof major>, boolean]
  > = [
    ["a first deploy (nothing recorded)", undefined, major("16"), false],
    ["the same major again", major("16"), major("16"), false],
    ["16 to 17 without acknowledgement", major("16"), major("17"), true],
    ["16 to 17 acknowledged", major("16"), major("17", true), false],
    ["17 back to 16 without acknowledgement", major("17"), major("16"), true],
  ];
  for (const [label, olds, news, refused] of cases) {
    it(`GIVEN ${label} THEN it is ${refused ? "refused, naming the key, both values and the acknowledgement" : "allowed"}`, () => {
      const failures = refusedChanges(olds, news);
      if (!refused) {
        assert.deepEqual(failures, []);
        return;
      }
      assert.equal(failures.length, 1);
      assert.equal(failures[0]!.property, "values.the PostgreSQL major version");
      assert.match(
        failures[0]!.reason,
        /^database\.engineVersion: the PostgreSQL major version would change from \d+ to \d+\. See README: Deploying\. To go ahead, set database\.allowMajorVersionUpgrade: true for this deploy\.$/,
      );
    });
  }
});
