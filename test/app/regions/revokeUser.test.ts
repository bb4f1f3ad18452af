// Every session store ends all of one user's sessions, and only that user's, on revokeUser.
import { randomUUID } from "node:crypto";
import assert from "node:assert/strict";
import { describe } from "node:test";
import {
  createMemorySessionStore,
  createRedisSessionStore,
  type SessionStore,
} from "../../../app/src/tiers/sessions";
import { itHoldsForEachStore } from "../support/services";

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
  itHoldsForEachStore(
    "it ends every session of the user and no other",
    { memory: createMemorySessionStore, redis: createRedisSessionStore },
    revokesOnlyThatUser,
  );
});
