/**
 * What the routes share, and the request-level rules built on it: who is signed in, whether this
 * client just wrote (read-your-writes), and the cached, replica-aware read of one user.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { Uncached, type CacheAside, type CachedRead, type CacheOutcome } from "../cacheAside";
import { parseLsn, readAtLeast, writerLsn, type AtLeastRead, type Lsn } from "../replication/lsn";
import { DIRECTORY_SHARD } from "../sharding/router";
import type { Metrics } from "../metrics";
import type { PasswordHasher } from "../passwords";
import type { RateLimitSettings, RefundRateLimit } from "./rateLimits";
import type { Tiers } from "../tiers";
import type { SessionData } from "../tiers/sessions";
import { userIdOf } from "../sharding/accounts";
import { cacheKeyForUser, findUser, toUser, type CachedUser } from "../users";
import { HttpError } from "./errors";
import { requestCookies } from "./security";
import type { User } from "./schemas";

/**
 * The session id: a random 256-bit key into the server-side session store, so it needs no
 * signature (a forged one finds nothing).
 */
export const SESSION_COOKIE = "sid";
/**
 * Holds the WAL position (LSN) of this client's last write on each physical shard it wrote to
 * (`0:16/B374D848,2:0/3000060`; LSNs of different servers do not compare): its reads of a shard go
 * to a replica only once that replica has replayed the shard's LSN, else to the shard's writer.
 * Signed (HMAC, @fastify/cookie): a client cannot send its reads to the writer with a made-up LSN.
 * A genuine one kept past its Max-Age needs no time bound: once the replicas have replayed it,
 * its reads go to them again.
 */
export const READ_YOUR_WRITES_COOKIE = "rw_lsn";
/** The cookie's value when a write's LSN could not be read: every read goes to the writer. */
const LSN_UNKNOWN = "FFFFFFFF/FFFFFFFF";
/** Physical shards a cookie may name; far more than any deployment has (keeps the cookie small). */
const MAX_SHARDS_IN_COOKIE = 64;

/** A client's last write per physical shard, by shard number. */
export type WritePositions = ReadonlyMap<number, Lsn>;

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
  return requestCookies(request)[name];
}

/** A signed cookie's value, or undefined when it is missing or its signature does not verify. */
function signedCookie(request: FastifyRequest, name: string): string | undefined {
  const raw = cookie(request, name);
  if (raw === undefined) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value !== null ? unsigned.value : undefined;
}

/** The cookie's form of `positions`; parseWritePositions reads it back. */
export function formatWritePositions(positions: WritePositions): string {
  return [...positions]
    .sort(([a], [b]) => a - b)
    .map(([shard, lsn]) => `${shard}:${lsn}`)
    .join(",");
}

/**
 * The positions a cookie holds, or undefined when it holds none that parse (a tampered or foreign
 * value). A bare LSN, as a single-shard deployment wrote it before sharding, is shard 0's.
 */
export function parseWritePositions(value: string | undefined): WritePositions | undefined {
  if (value === undefined) return undefined;
  const positions = new Map<number, Lsn>();
  for (const entry of value.split(",").slice(0, MAX_SHARDS_IN_COOKIE)) {
    const [shardText, lsnText] = entry.includes(":") ? entry.split(":", 2) : ["0", entry];
    const shard = Number(shardText);
    const lsn = parseLsn(lsnText);
    if (Number.isInteger(shard) && shard >= 0 && lsn !== undefined) positions.set(shard, lsn);
  }
  return positions.size === 0 ? undefined : positions;
}

/**
 * After a write: this client's reads of each shard in `written` need a server that has replayed
 * its LSN there (undefined: unknown, read the writer). Positions on other shards are kept.
 */
export function markWrite(
  request: FastifyRequest,
  reply: FastifyReply,
  context: RouteContext,
  written: ReadonlyMap<number, Lsn | undefined>,
) {
  const positions = new Map(clientWritePositions(request));
  for (const [shard, lsn] of written) positions.set(shard, lsn ?? LSN_UNKNOWN);
  const ms = context.settings.readYourWritesMs;
  const value = formatWritePositions(positions);
  setCookie(request, reply, READ_YOUR_WRITES_COOKIE, value, Math.ceil(ms / 1000), true);
}

/** This client's last write per physical shard, while its signed cookie lasts. */
export function clientWritePositions(request: FastifyRequest): WritePositions | undefined {
  return parseWritePositions(signedCookie(request, READ_YOUR_WRITES_COOKIE));
}

/**
 * After a write for the user `userId` (internal id) has committed: invalidates `keys` in every
 * region at the LSN of the user's shard and marks this client's reads of that shard and of the
 * directory (physical shard 0: sign-up, email changes and deletion write there too). The write
 * stands even if an LSN cannot be read: then the keys are invalidated here only (the other
 * region's entries expire with their TTL) and this client reads that writer until its cookie expires.
 */
export async function afterWrite(
  request: FastifyRequest,
  reply: FastifyReply,
  context: RouteContext,
  userId: string,
  keys: string[],
): Promise<void> {
  const { shards } = context.tiers;
  const userShard = shards.physicalShardOfUser(userId);
  const written = new Map<number, Lsn | undefined>();
  for (const shard of new Set([DIRECTORY_SHARD, userShard])) {
    const lsn = await writerLsn(shards.physical[shard]!.writer).catch((error: unknown) => {
      request.log.warn(
        { err: error, keys, physicalShard: shard },
        "the write's LSN could not be read; invalidating here only",
      );
      return undefined;
    });
    written.set(shard, lsn);
  }
  const lsn = written.get(userShard);
  for (const key of keys) await context.cache.invalidate(key, lsn, userShard);
  markWrite(request, reply, context, written);
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
 * One user, by public id, through the cache. The directory (physical shard 0) maps the public id
 * to the internal id, which names the user's shard. A client that wrote recently skips the cache
 * (it may predate the write) and reads, on each of the two, a replica that has replayed its write
 * there, else the writer. Everyone else reads through the cache, which is filled only from a
 * replica of the user's shard that has replayed the key's latest invalidation (its fence); a row
 * read from a replica behind the fence is served, not cached. Every read counts for its logical
 * shard's heat.
 */
export async function readUser(
  request: FastifyRequest,
  context: RouteContext,
  id: string,
): Promise<{ user: User | undefined; cache: CacheOutcome }> {
  const key = cacheKeyForUser(id);
  const written = clientWritePositions(request);
  if (written !== undefined) {
    const atLeast = {
      directory: written.get(DIRECTORY_SHARD),
      row: (shard: number) => written.get(shard),
    };
    const { value, source } = await findCachedUser(context, id, atLeast, "writer");
    // The writer's row is the newest there is; a replica's may still be behind the key's fence.
    if (value !== undefined && source === "writer") await context.cache.store(key, value);
    return countedRead(context, { value, cache: "miss" });
  }
  const read = await context.cache.read(key, async (fence) => {
    // The fence is an LSN of the user's shard; the directory's mapping never changes.
    const atLeast = { directory: undefined, row: () => fence };
    const found = await findCachedUser(context, id, atLeast, "stale");
    return found.source === "stale" ? new Uncached(found.value) : found.value;
  });
  return countedRead(context, read);
}

/**
 * readUser's answer without a promise, when it needs no I/O: this client has not written recently
 * and process memory (the near cache, the in-process cache) holds the user's entry (issue 17).
 * Undefined when readUser must run.
 */
export function readUserHeld(
  request: FastifyRequest,
  context: RouteContext,
  id: string,
): { user: User | undefined; cache: CacheOutcome } | undefined {
  if (clientWritePositions(request) !== undefined) return undefined;
  const held = context.cache.peek<CachedUser>(cacheKeyForUser(id));
  return held === undefined ? undefined : countedRead(context, held);
}

/** Counts a cached read for its logical shard's heat and the cache's hit ratio. */
function countedRead(
  context: RouteContext,
  { value, cache }: CachedRead<CachedUser>,
): { user: User | undefined; cache: CacheOutcome } {
  if (value !== undefined) context.tiers.shards.countRequest(value.userId);
  context.metrics.count(cache === "hit" ? "CacheHit" : "CacheMiss");
  return { user: value?.user, cache };
}

/**
 * The user with this public id: its internal id from the directory, then its row from its shard,
 * each from a server that has replayed the LSN `atLeast` gives for it (`row` is asked with the
 * user's physical shard). The source is `stale` when either read may predate its LSN.
 */
async function findCachedUser(
  context: RouteContext,
  publicId: string,
  atLeast: { directory: Lsn | undefined; row: (userShard: number) => Lsn | undefined },
  fallback: "writer" | "stale",
): Promise<AtLeastRead<CachedUser | undefined>> {
  const { shards, files } = context.tiers;
  const directory = await readAtLeast(
    shards.directory,
    atLeast.directory,
    (query) => userIdOf(query, publicId),
    fallback,
  );
  const userId = directory.value;
  if (userId === undefined) return { value: undefined, source: directory.source };
  const userShard = shards.physicalShardOfUser(userId);
  const row = await readAtLeast(
    shards.physical[userShard]!,
    atLeast.row(userShard),
    async (query) => {
      const found = await findUser(query, userId);
      return found === undefined ? undefined : { userId, user: toUser(found, files) };
    },
    fallback,
  );
  return { value: row.value, source: directory.source === "stale" ? "stale" : row.source };
}

export function userNotFound(id: string): HttpError {
  return new HttpError(404, "not_found", `There is no user with id ${id}.`, "id");
}
