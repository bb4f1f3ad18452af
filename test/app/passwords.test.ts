// Unit tests of scrypt password hashing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashPassword, verifyAgainstDecoy, verifyPassword } from "../../app/src/passwords";

describe("passwords", () => {
  it("GIVEN a hash WHEN verified with the same password THEN true; with another THEN false", async () => {
    const hash = await hashPassword("correct horse");
    assert.match(hash, /^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    assert.equal(await verifyPassword("correct horse", hash), true);
    assert.equal(await verifyPassword("correct horsE", hash), false);
  });

  it("GIVEN the same password twice THEN the hashes differ (random salt)", async () => {
    assert.notEqual(await hashPassword("same"), await hashPassword("same"));
  });

  it("GIVEN a malformed stored hash THEN verification is false, not an exception", async () => {
    assert.equal(await verifyPassword("x", "plaintext"), false);
  });

  it("GIVEN no user WHEN checked against the decoy THEN false", async () => {
    assert.equal(await verifyAgainstDecoy("anything"), false);
  });
});
