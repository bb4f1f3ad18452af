// Every session store ends all of one user's sessions, and only that user's, on revokeUser.
import { randomUUID } from "node:crypto";
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { closeRedis } from "../../../app/src/tiers/redis";
import {
  createMemorySessionStore,
  createRedisSessionStore,
  type SessionStore,
} from "../../../app/src/tiers/sessions";
import { openTestRedis, skipUnless } from "../support/services";

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

  const skip = skipUnless("redis");
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers) await close();
  });
  it(
    "GIVEN the Redis store THEN it ends every session of the user and no other",
    { skip },
    async () => {
      const redis = await openTestRedis();
      closers.push(() => closeRedis(redis));
      await revokesOnlyThatUser(createRedisSessionStore(redis));
    },
  );
});
