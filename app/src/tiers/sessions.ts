/**
 * The session store. Session data lives in the shared store (Redis) on the full stack so any
 * instance can serve any request; the in-process store is for the single-server (embedded) step.
 * Keys are hashes of the session id, so whoever can read the store cannot replay a session.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";

export interface SessionData {
  userId: string;
  createdAt: string;
}

export interface SessionStore {
  readonly kind: "memory" | "redis";
  /** Stores the session and returns its id, the secret that goes in the cookie. */
  create(data: SessionData, ttlMs: number): Promise<string>;
  get(sessionId: string): Promise<SessionData | undefined>;
  delete(sessionId: string): Promise<void>;
}

/** Thrown when the store cannot be reached: the request gets a 503, never a silent sign-out. */
export class SessionStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super("the session store is unavailable", { cause });
    this.name = "SessionStoreUnavailableError";
  }
}

function newSessionId(): string {
  return randomBytes(32).toString("base64url");
}

function storageKey(sessionId: string): string {
  return `session:${createHash("sha256").update(sessionId).digest("base64url")}`;
}

function parse(raw: string | null | undefined): SessionData | undefined {
  if (raw === null || raw === undefined) return undefined;
  const data = JSON.parse(raw) as Partial<SessionData>;
  return typeof data.userId === "string" && typeof data.createdAt === "string"
    ? { userId: data.userId, createdAt: data.createdAt }
    : undefined;
}

export function createMemorySessionStore(maxSessions = 100_000): SessionStore {
  const sessions = new LRUCache<string, string>({ max: maxSessions });
  return {
    kind: "memory",
    create: async (data, ttlMs) => {
      const sessionId = newSessionId();
      sessions.set(storageKey(sessionId), JSON.stringify(data), { ttl: ttlMs });
      return sessionId;
    },
    get: async (sessionId) => parse(sessions.get(storageKey(sessionId))),
    delete: async (sessionId) => {
      sessions.delete(storageKey(sessionId));
    },
  };
}

export function createRedisSessionStore(redis: Redis): SessionStore {
  const guarded = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw new SessionStoreUnavailableError(error);
    }
  };
  return {
    kind: "redis",
    create: (data, ttlMs) =>
      guarded(async () => {
        const sessionId = newSessionId();
        await redis.set(storageKey(sessionId), JSON.stringify(data), "PX", ttlMs);
        return sessionId;
      }),
    get: (sessionId) => guarded(async () => parse(await redis.get(storageKey(sessionId)))),
    delete: (sessionId) =>
      guarded(async () => {
        await redis.del(storageKey(sessionId));
      }),
  };
}
