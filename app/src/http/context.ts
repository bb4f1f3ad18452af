/**
 * What the routes share, and the request-level rules built on it: who is signed in, whether this
 * client just wrote (read-your-writes), and the cached, replica-aware read of one user.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { CacheAside, CacheOutcome } from "../cacheAside";
import type { Metrics } from "../metrics";
import type { PasswordHasher } from "../passwords";
import type { RateLimitSettings } from "./rateLimits";
import type { Tiers } from "../tiers";
import type { SessionData } from "../tiers/sessions";
import { cacheKeyForUser, findUser, toUser } from "../users";
import { HttpError } from "./errors";
import type { User } from "./schemas";

/**
 * The session id: a random 256-bit key into the server-side session store, so it needs no
 * signature (a forged one finds nothing).
 */
export const SESSION_COOKIE = "sid";
/**
 * Holds the time until which this client's reads go to the writer. Signed (HMAC, @fastify/cookie),
 * and honoured only up to readYourWritesMs ahead: a client cannot send its reads to the writer.
 */
export const READ_YOUR_WRITES_COOKIE = "rw_until";

export interface WebSettings {
  /** How long after a write the writing client reads from the writer (replication lag). */
  readYourWritesMs: number;
  sessionTtlMs: number;
  maxUploadBytes: number;
  rateLimits: RateLimitSettings;
}

export interface RouteContext {
  tiers: Tiers;
  cache: CacheAside;
  metrics: Metrics;
  settings: WebSettings;
  passwords: PasswordHasher;
}

function isHttps(request: FastifyRequest): boolean {
  // request.protocol follows X-Forwarded-Proto only from a trusted proxy (the load balancer).
  return request.protocol === "https";
}

export function setCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  value: string,
  maxAgeSeconds: number,
  signed = false,
): void {
  reply.setCookie(name, value, {
    path: "/",
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
    sameSite: "lax",
    httpOnly: true,
    secure: isHttps(request),
    signed,
  });
}

export function cookie(request: FastifyRequest, name: string): string | undefined {
  return request.cookies[name];
}

/** A signed cookie's value, or undefined when it is missing or its signature does not verify. */
function signedCookie(request: FastifyRequest, name: string): string | undefined {
  const raw = request.cookies[name];
  if (raw === undefined) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value !== null ? unsigned.value : undefined;
}

/** After a write: this client's reads use the writer until the replicas have caught up. */
export function markWrite(request: FastifyRequest, reply: FastifyReply, context: RouteContext) {
  const ms = context.settings.readYourWritesMs;
  const until = String(Date.now() + ms);
  setCookie(request, reply, READ_YOUR_WRITES_COOKIE, until, Math.ceil(ms / 1000), true);
}

export function readsFromWriter(request: FastifyRequest, context: RouteContext): boolean {
  const until = Number(signedCookie(request, READ_YOUR_WRITES_COOKIE));
  const now = Date.now();
  // Bounded even when signed: a cookie minted under a longer setting ends at today's window.
  return Number.isFinite(until) && until > now && until <= now + context.settings.readYourWritesMs;
}

export interface CurrentSession {
  sessionId: string;
  data: SessionData;
}

export async function currentSession(
  request: FastifyRequest,
  context: RouteContext,
): Promise<CurrentSession | undefined> {
  const sessionId = cookie(request, SESSION_COOKIE);
  if (sessionId === undefined || sessionId === "") return undefined;
  const data = await context.tiers.sessions.get(sessionId);
  if (data === undefined) return undefined;
  context.metrics.sawUser(data.userId);
  return { sessionId, data };
}

/** The signed-in user must be `userId` (a public id): 401 when nobody is signed in, 403 for someone else. */
export async function requireSelf(
  request: FastifyRequest,
  context: RouteContext,
  userId: string,
): Promise<CurrentSession> {
  const session = await currentSession(request, context);
  if (session === undefined) {
    throw new HttpError(401, "unauthenticated", "Sign in first (POST /sessions).");
  }
  if (session.data.userId !== userId) {
    throw new HttpError(403, "forbidden", "You can only change your own account.", "id");
  }
  return session;
}

/**
 * One user through the cache. A client inside its read-your-writes window skips the cache and
 * reads the writer (whatever a replica or the cache hold may predate its write), then refreshes
 * the cache with what it read.
 */
export async function readUser(
  request: FastifyRequest,
  context: RouteContext,
  id: string,
): Promise<{ user: User | undefined; cache: CacheOutcome }> {
  const key = cacheKeyForUser(id);
  const files = context.tiers.files;
  if (readsFromWriter(request, context)) {
    const row = await findUser(context.tiers.database.writer, id);
    const user = row === undefined ? undefined : toUser(row, files);
    if (user !== undefined) await context.cache.store(key, user);
    context.metrics.count("CacheMiss");
    return { user, cache: "miss" };
  }
  const { value, cache } = await context.cache.read(key, async () => {
    const row = await findUser(context.tiers.database.reader, id);
    return row === undefined ? undefined : toUser(row, files);
  });
  context.metrics.count(cache === "hit" ? "CacheHit" : "CacheMiss");
  return { user: value, cache };
}

export function userNotFound(id: string): HttpError {
  return new HttpError(404, "not_found", `There is no user with id ${id}.`, "id");
}
