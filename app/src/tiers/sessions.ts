/**
 * The session store. Session data lives in the shared store (Redis) on the full stack so any
 * instance can serve any request; the in-process store is for the single-server (embedded) step.
 * Keys are hashes of the session id, so whoever can read the store cannot replay a session.
 * Each user's sessions are also indexed by user, so deleting an account ends all of them.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import { redisGuard } from "./redis";

export interface SessionData {
  /** The user's public id. */
  userId: string;
  createdAt: string;
}

/** Sessions from before public ids (a numeric userId) read as signed out, not as an error. */
const PUBLIC_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface SessionStore {
  readonly kind: "memory" | "redis" | "dynamodb";
  /** Stores the session and returns its id, the secret that goes in the cookie. */
  create(data: SessionData, ttlMs: number): Promise<string>;
  get(sessionId: string): Promise<SessionData | undefined>;
  delete(sessionId: string): Promise<void>;
  /** Ends every session of the user (sign-out, account deletion), wherever it was created. */
  revokeUser(userId: string): Promise<void>;
  close?(): Promise<void>;
}

/** Thrown when the store cannot be reached: the request gets a 503, never a silent sign-out. */
export class SessionStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super("the session store is unavailable", { cause });
    this.name = "SessionStoreUnavailableError";
  }
}

export function newSessionId(): string {
  return randomBytes(32).toString("base64url");
}

/** The hash under which a session is stored: the store never holds the id that opens it. */
export function sessionHash(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("base64url");
}

function storageKey(sessionId: string): string {
  return `session:${sessionHash(sessionId)}`;
}

function userSessionsKey(userId: string): string {
  return `sessions-of:${userId}`;
}

function parse(raw: string | null | undefined): SessionData | undefined {
  if (raw === null || raw === undefined) return undefined;
  const data = JSON.parse(raw) as Partial<SessionData>;
  return typeof data.userId === "string" &&
    PUBLIC_ID.test(data.userId) &&
    typeof data.createdAt === "string"
    ? { userId: data.userId, createdAt: data.createdAt }
    : undefined;
}

export function createMemorySessionStore(maxSessions = 100_000): SessionStore {
  // Each user's session keys, so that revokeUser finds them; pruned as sessions leave the LRU.
  const byUser = new Map<string, Set<string>>();
  const forget = (key: string, raw: string) => {
    const userId = parse(raw)?.userId;
    const keys = userId === undefined ? undefined : byUser.get(userId);
    keys?.delete(key);
    if (userId !== undefined && keys?.size === 0) byUser.delete(userId);
  };
  const sessions = new LRUCache<string, string>({
    max: maxSessions,
    dispose: (raw, key) => forget(key, raw),
  });
  return {
    kind: "memory",
    create: async (data, ttlMs) => {
      const sessionId = newSessionId();
      const key = storageKey(sessionId);
      sessions.set(key, JSON.stringify(data), { ttl: ttlMs });
      byUser.set(data.userId, (byUser.get(data.userId) ?? new Set()).add(key));
      return sessionId;
    },
    get: async (sessionId) => parse(sessions.get(storageKey(sessionId))),
    delete: async (sessionId) => {
      sessions.delete(storageKey(sessionId));
    },
    revokeUser: async (userId) => {
      for (const key of [...(byUser.get(userId) ?? [])]) sessions.delete(key);
    },
  };
}

export function createRedisSessionStore(redis: Redis): SessionStore {
  const guard = redisGuard(redis);
  const guarded = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await guard(operation);
    } catch (error) {
      throw new SessionStoreUnavailableError(error);
    }
  };
  return {
    kind: "redis",
    create: (data, ttlMs) =>
      guarded(async () => {
        const sessionId = newSessionId();
        const index = userSessionsKey(data.userId);
        // The user's index lives as long as their newest session; revokeUser reads it.
        await redis
          .multi()
          .set(storageKey(sessionId), JSON.stringify(data), "PX", ttlMs)
          .sadd(index, storageKey(sessionId))
          .pexpire(index, ttlMs)
          .exec();
        return sessionId;
      }),
    get: (sessionId) => guarded(async () => parse(await redis.get(storageKey(sessionId)))),
    delete: (sessionId) =>
      guarded(async () => {
        await redis.del(storageKey(sessionId));
      }),
    revokeUser: (userId) =>
      guarded(async () => {
        const keys = await redis.smembers(userSessionsKey(userId));
        await redis.del(userSessionsKey(userId), ...keys);
      }),
  };
}
