/**
 * The whole pack over the real program: `dev` and `prod` synthesized under the mocks, each checked
 * with its own policy/config.<stack>.json, and `prod` once more with three physical shards (every
 * rule must hold for each shard's databases). Any mandatory violation fails; advisories are printed.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { PolicyPackConfig } from "@pulumi/policy";
import { policies } from "../../policy/policies";
import { synth } from "../../harness";
import { describeViolations, fromSynth, runPolicies } from "./runner";

const PROJECT_ROOT = join(__dirname, "..", "..");

const RUNS = [
  { label: "dev", stack: "dev", overrides: {} },
  { label: "prod", stack: "prod", overrides: {} },
  {
    label: "prod with 3 shards",
    stack: "prod",
    overrides: { database: { shards: 3, shardMap: "0-2730:0,2731-5461:1,5462-8191:2" } },
  },
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
      const config = JSON.parse(
        readFileSync(join(PROJECT_ROOT, "policy", `config.${stack}.json`), "utf8"),
      ) as PolicyPackConfig;
      const violations = await runPolicies(policies, fromSynth(result), { config });
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
