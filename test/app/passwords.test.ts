// Unit tests of scrypt password hashing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  hashPassword,
  PasswordHasher,
  PasswordHashingBusyError,
  verifyAgainstDecoy,
  verifyPassword,
} from "../../app/src/passwords";

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

describe("PasswordHasher (bounded concurrency)", () => {
  it("GIVEN 8 checks at once and 2 slots THEN at most 2 run at a time and all finish", async () => {
    const hasher = new PasswordHasher({ concurrency: 2, maxWaiting: 8 });
    const hash = await hasher.hash("correct horse");
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => hasher.verify(i % 2 === 0 ? "correct horse" : "x", hash)),
    );
    assert.deepEqual(results, [true, false, true, false, true, false, true, false]);
    assert.equal(hasher.peakActive, 2);
  });

  it("GIVEN the waiting room is full WHEN one more check comes THEN it is refused, not queued", async () => {
    const hasher = new PasswordHasher({ concurrency: 1, maxWaiting: 1 });
    const running = [hasher.hash("a"), hasher.hash("b")];
    await assert.rejects(hasher.hash("c"), PasswordHashingBusyError);
    await Promise.all(running);
    assert.match(await hasher.hash("d"), /^scrypt\$/, "slots free up again");
  });

  it("GIVEN a bad setting THEN the error names it", () => {
    assert.throws(() => new PasswordHasher({ concurrency: 0 }), /concurrency: 0/);
    assert.throws(() => new PasswordHasher({ maxWaiting: -1 }), /maxWaiting: -1/);
  });
});
