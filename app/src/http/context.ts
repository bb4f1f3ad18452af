/**
 * What the routes share, and the request-level rules built on it: who is signed in, whether this
 * client just wrote (read-your-writes), and the cached, replica-aware read of one user.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { Uncached, type CacheAside, type CacheOutcome } from "../cacheAside";
import { parseLsn, readAtLeast, writerLsn, type Lsn } from "../replication/lsn";
import type { QueryFn } from "../tiers/database";
import type { Metrics } from "../metrics";
import type { PasswordHasher } from "../passwords";
import type { RateLimitSettings, RefundRateLimit } from "./rateLimits";
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
 * Holds the WAL position (LSN) of this client's last write: its reads go to a replica only once
 * that replica has replayed it, else to the writer. Signed (HMAC, @fastify/cookie): a client cannot
 * send its reads to the writer with a made-up LSN. A genuine one kept past its Max-Age needs no
 * time bound: once the replicas have replayed it, its reads go to them again.
 */
export const READ_YOUR_WRITES_COOKIE = "rw_lsn";
/** The cookie's value when a write's LSN could not be read: every read goes to the writer. */
const LSN_UNKNOWN = "FFFFFFFF/FFFFFFFF";

export interface WebSettings {
  /** How long after a write the client's reads check its LSN (past any plausible lag). */
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
  /** Gives back a reserved rate-limit count (http/rateLimits.ts). */
  refundRateLimit: RefundRateLimit;
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

/** A new session for `userId`, sent as the session cookie. */
export async function startSession(
  request: FastifyRequest,
  reply: FastifyReply,
  context: RouteContext,
  userId: string,
): Promise<void> {
  const { sessionTtlMs } = context.settings;
  const sessionId = await context.tiers.sessions.create(
    { userId, createdAt: new Date().toISOString() },
    sessionTtlMs,
  );
  setCookie(request, reply, SESSION_COOKIE, sessionId, sessionTtlMs / 1000);
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

/** After a write: this client's reads need a server that has replayed `lsn`. */
export function markWrite(
  request: FastifyRequest,
  reply: FastifyReply,
  context: RouteContext,
  lsn: Lsn | undefined,
) {
  const ms = context.settings.readYourWritesMs;
  const value = lsn ?? LSN_UNKNOWN;
  setCookie(request, reply, READ_YOUR_WRITES_COOKIE, value, Math.ceil(ms / 1000), true);
}

/** The LSN of this client's last write, while its signed cookie lasts. */
export function clientWriteLsn(request: FastifyRequest): Lsn | undefined {
  return parseLsn(signedCookie(request, READ_YOUR_WRITES_COOKIE));
}

/**
 * After a write has committed: invalidates `keys` in every region at the write's LSN and marks
 * this client's reads. The write stands even if its LSN cannot be read: then the keys are
 * invalidated here only (the other region's entries expire with their TTL) and this client reads
 * from the writer until its cookie expires.
 */
export async function afterWrite(
  request: FastifyRequest,
  reply: FastifyReply,
  context: RouteContext,
  keys: string[],
): Promise<void> {
  const lsn = await writerLsn(context.tiers.database.writer).catch((error: unknown) => {
    request.log.warn(
      { err: error, keys },
      "the write's LSN could not be read; invalidating here only",
    );
    return undefined;
  });
  for (const key of keys) await context.cache.invalidate(key, lsn);
  markWrite(request, reply, context, lsn);
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
 * One user through the cache. A client that wrote recently skips the cache (it may predate the
 * write) and reads a replica that has replayed its write, else the writer. Everyone else reads
 * through the cache, which is filled only from a source that has replayed the key's latest
 * invalidation (its fence); a row read from a replica behind the fence is served, not cached.
 */
export async function readUser(
  request: FastifyRequest,
  context: RouteContext,
  id: string,
): Promise<{ user: User | undefined; cache: CacheOutcome }> {
  const key = cacheKeyForUser(id);
  const { database, files } = context.tiers;
  const find = async (query: QueryFn) => {
    const row = await findUser(query, id);
    return row === undefined ? undefined : toUser(row, files);
  };
  const written = clientWriteLsn(request);
  if (written !== undefined) {
    const { value, source } = await readAtLeast(database, written, find, "writer");
    // The writer's row is the newest there is; a replica's may still be behind the key's fence.
    if (value !== undefined && source === "writer") await context.cache.store(key, value);
    context.metrics.count("CacheMiss");
    return { user: value, cache: "miss" };
  }
  const { value, cache } = await context.cache.read(key, async (fence) => {
    const read = await readAtLeast(database, fence, find, "stale");
    return read.source === "stale" ? new Uncached(read.value) : read.value;
  });
  context.metrics.count(cache === "hit" ? "CacheHit" : "CacheMiss");
  return { user: value, cache };
}

export function userNotFound(id: string): HttpError {
  return new HttpError(404, "not_found", `There is no user with id ${id}.`, "id");
}
