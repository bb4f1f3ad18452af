/**
 * The whole pack over the real program: `dev` and `prod` synthesized under the mocks, each checked
 * with its own policy/config.<stack>.json, and `prod` once more with three physical shards (every
 * rule must hold for each shard's databases). Any mandatory violation fails; advisories are printed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { synth } from "../../harness";
import { THREE_EVEN_SHARDS } from "../stack/support/variants";
import { describeViolations, runPackOver } from "./runner";

const RUNS = [
  { label: "dev", stack: "dev", overrides: {} },
  { label: "prod", stack: "prod", overrides: {} },
  { label: "prod with 3 shards", stack: "prod", overrides: { database: THREE_EVEN_SHARDS } },
] as const;

for (const { label, stack, overrides } of RUNS) {
  describe(`policy pack over the ${label} stack`, () => {
    it(`GIVEN the ${label} synth WHEN every rule runs with policy/config.${stack}.json THEN there is no mandatory violation`, async (t) => {
      const result = await synth(stack, overrides);
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
