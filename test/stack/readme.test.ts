import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { README, readmeWithReference } from "../../scripts/config-reference";

describe("README", () => {
  it("GIVEN the config schema and defaults THEN the README's config reference matches them (npm run docs:config)", async () => {
    const readme = readFileSync(README, "utf8");
    assert.equal(
      readme,
      await readmeWithReference(readme),
      "README.md's config reference is stale: run `npm run docs:config`",
    );
  });
});
