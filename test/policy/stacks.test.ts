/**
 * The whole pack over the real program: `dev` and `prod` synthesized under the mocks, each checked
 * with its own policy/config.<stack>.json. Any mandatory violation fails; advisories are printed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { synth } from "../../harness";
import { describeViolations, runPackOver } from "./runner";

for (const stack of ["dev", "prod"] as const) {
  describe(`policy pack over the ${stack} stack`, () => {
    it(`GIVEN the ${stack} synth WHEN every rule runs with policy/config.${stack}.json THEN there is no mandatory violation`, async (t) => {
      const result = await synth(stack);
      assert.equal(
        result.error,
        undefined,
        `the ${stack} stack did not synthesize: ${result.error}`,
      );
      const violations = await runPackOver(result, stack);
      for (const advisory of violations.filter(
        (violation) => violation.enforcementLevel === "advisory",
      )) {
        t.diagnostic(`advisory ${advisory.policy}: ${advisory.message}`);
      }
      const mandatory = violations.filter(
        (violation) => violation.enforcementLevel === "mandatory",
      );
      assert.deepEqual(
        mandatory,
        [],
        `mandatory violations in ${stack}:\n${describeViolations(mandatory)}`,
      );
    });
  });
}
