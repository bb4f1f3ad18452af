// Every session store ends all of one user's sessions, and only that user's, on revokeUser.
import { randomUUID } from "node:crypto";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createMemorySessionStore,
  createRedisSessionStore,
  type SessionStore,
} from "../../../app/src/tiers/sessions";
import { needServices, withTestRedis } from "../support/services";

async function revokesOnlyThatUser(store: SessionStore): Promise<void> {
  const user = randomUUID();
  const other = randomUUID();
  const data = (userId: string) => ({ userId, createdAt: new Date().toISOString() });
  const mine = [await store.create(data(user), 60_000), await store.create(data(user), 60_000)];
  const theirs = await store.create(data(other), 60_000);
  await store.revokeUser(user);
  for (const sessionId of mine) assert.equal(await store.get(sessionId), undefined);
  assert.equal((await store.get(theirs))?.userId, other);
  await store.revokeUser(user); // nothing left: a second revoke is fine
}

describe("revokeUser", () => {
  it("GIVEN the in-process store THEN it ends every session of the user and no other", async () => {
    await revokesOnlyThatUser(createMemorySessionStore());
  });

  it(
    "GIVEN the Redis store THEN it ends every session of the user and no other",
    { skip: needServices("redis").skip },
    async () => {
      await withTestRedis((redis) => revokesOnlyThatUser(createRedisSessionStore(redis)));
    },
  );
});
