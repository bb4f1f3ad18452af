/**
 * Rate limits on the routes that cost a password hash. Counting is @fastify/rate-limit's; the
 * counters live in the cache tier, so on the full stack every task and instance shares them
 * (Redis), and when embedded they are in-process. If the shared store fails (or its circuit breaker
 * is open) the counters fall back to this process's memory: limits loosen to per task, they never
 * vanish.
 *
 * Sign-in is limited three ways:
 * - every attempt per client address (`signInPerClient`): one address cannot guess at scale, over
 *   any number of accounts;
 * - failed attempts per account from one client address (`signInFailuresPerAccountClient`): the
 *   tight limit on guessing one account's password;
 * - failed attempts per account from all addresses (`signInFailuresPerAccount`, looser): stops
 *   guessing spread over many addresses.
 * Only failures count against an account, and an attacker's failures are counted against their
 * own address first: the owner signing in from elsewhere is not locked out (a lockout DoS) unless
 * the attacker spends `signInFailuresPerAccount / signInFailuresPerAccountClient` distinct
 * addresses (IPv6: /64s) within one window, and then only for that window. A wrong current password
 * on PATCH /users/:id counts as a failed sign-in of that account.
 *
 * The limits run after validation (preHandler): a malformed request costs no hash and is not
 * counted, and the per-account keys need the parsed email. A failure is reserved before the hash
 * (one atomic increment in the shared store) and refunded when the password is right: reading
 * first and counting after would let N parallel guesses all pass the check.
 */
import { createHash } from "node:crypto";
import fastifyRateLimit, { normalizeIP, type FastifyRateLimitStore } from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { DegradedReporter } from "../degraded";
import { createMemoryCache, type Cache } from "../tiers/cache";
import { normalizeEmail } from "../users";
import type { RouteContext } from "./context";
import { HttpError } from "./errors";

export interface RateLimitSettings {
  /** The fixed window every limit below counts in. */
  windowMs: number;
  /** Sign-in attempts, right or wrong, per client address per window (any accounts). */
  signInPerClient: number;
  /** Failed sign-ins of one account from one client address per window. */
  signInFailuresPerAccountClient: number;
  /**
   * Failed sign-ins of one account from all addresses per window: stops distributed guessing.
   * Kept well above the per-client one, so locking the owner out takes many addresses.
   */
  signInFailuresPerAccount: number;
  /** Sign-ups per client address per window. */
  signUpPerClient: number;
  /**
   * PATCH /users/:id carrying currentPassword or password (each a hash), right or wrong, per client
   * address per window.
   */
  accountChangesPerClient: number;
  /**
   * The same per account: a stolen session is neither unlimited hashing (starving everyone's
   * sign-ins) nor an unlimited "is this email taken" oracle (409).
   */
  accountChangesPerUser: number;
  /**
   * Public files (thumbnails) the app reads from the bucket for one client address per window,
   * where no CDN serves them: each is an S3 GET, so a loop of requests is not a free amplifier.
   */
  publicFilesPerClient: number;
}

/** Generous for people (a shared office address, a forgotten password), tight for a guesser. */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  windowMs: 15 * 60 * 1000,
  signInPerClient: 50,
  signInFailuresPerAccountClient: 10,
  signInFailuresPerAccount: 100,
  signUpPerClient: 20,
  accountChangesPerClient: 20,
  accountChangesPerUser: 10,
  // A browser keeps each thumbnail for a year (immutable): a page of them is a few dozen reads.
  publicFilesPerClient: 1_000,
};

type StoreCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Gives back one count of a limiter's key (its `key` in the limiter's result). */
export type RefundRateLimit = (key: string) => Promise<void>;

/** A @fastify/rate-limit store over the cache tier, with an in-process fallback. */
function cacheStore(cache: Cache, logger: Logger) {
  const fallback = createMemoryCache();
  const degraded = new DegradedReporter(logger, "rate-limits");
  /** Runs `operation` on the shared store, else on this process's fallback. */
  const counter = (
    callback: StoreCallback,
    operation: (store: Cache) => Promise<{ count: number; ttlMs: number }>,
  ) => {
    const counted = (result: { count: number; ttlMs: number }) =>
      callback(null, { current: result.count, ttl: result.ttlMs });
    operation(cache)
      .then((result) => {
        degraded.succeeded();
        counted(result);
      })
      .catch((error: unknown) => {
        degraded.failed(error, "shared rate-limit counters unavailable; counting per process");
        operation(fallback).then(counted, callback);
      });
  };
  // A refund goes to both: the reservation was counted in whichever answered, and neither goes below 0.
  const refund: RefundRateLimit = async (key) => {
    fallback.decrement(`ratelimit:${key}`).catch(() => undefined);
    await cache.decrement(`ratelimit:${key}`).catch((error: unknown) => {
      degraded.failed(error, "shared rate-limit counters unavailable; counting per process");
    });
  };
  const Store = class CacheRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: StoreCallback, timeWindow: number): void {
      counter(callback, (store) => store.increment(`ratelimit:${key}`, timeWindow));
    }

    /** The count so far, not counting this request (`{ increment: false }`). */
    read(key: string, callback: StoreCallback): void {
      counter(callback, (store) => store.count(`ratelimit:${key}`));
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
  return { Store, refund };
}

/** Registers @fastify/rate-limit over the cache tier; returns the refund the failure limits use. */
export async function registerRateLimits(
  app: FastifyInstance,
  cache: Cache,
  logger: Logger,
): Promise<RefundRateLimit> {
  const { Store, refund } = cacheStore(cache, logger);
  // global: false: only the routes below are limited, through createRateLimit.
  await app.register(fastifyRateLimit, { global: false, store: Store });
  return refund;
}

type Limiter = ReturnType<FastifyInstance["createRateLimit"]>;

/**
 * The counter's key names its policy (`max/window`): a process run with other limits (a load test,
 * the fuzzer) counts apart instead of using up everyone else's.
 */
function limiter(
  app: FastifyInstance,
  name: string,
  max: number,
  windowMs: number,
  subject: (request: FastifyRequest) => string,
): Limiter {
  return app.createRateLimit({
    max,
    timeWindow: windowMs,
    keyGenerator: (request) => `${name}:${max}/${windowMs}:${subject(request)}`,
  });
}

interface Limit {
  limiter: Limiter;
  message: string;
  field: string | null;
}

/** Answers 429 with Retry-After. */
function refuse(reply: FastifyReply, { message, field }: Limit, ttlInSeconds: number): never {
  const seconds = Math.max(1, ttlInSeconds);
  reply.header("retry-after", String(seconds));
  throw new HttpError(429, "rate_limited", `${message}; try again in ${seconds} seconds.`, field);
}

/** Counts this request against each limit in order; the first one exceeded answers 429. */
function enforce(limits: Limit[]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    for (const limit of limits) {
      const result = await limit.limiter(request);
      if (!result.isAllowed && result.isExceeded) refuse(reply, limit, result.ttlInSeconds);
    }
  };
}

/**
 * The client as the limits see it: an IPv6 client by its /64 (the library's default), since one
 * host usually holds a whole /64; an IPv4-mapped address as plain IPv4.
 */
function client(request: FastifyRequest): string {
  return normalizeIP(request.ip);
}

/** Emails are hashed into the key: the shared store holds no address in clear. */
function accountKey(email: string): string {
  return createHash("sha256").update(normalizeEmail(email)).digest("base64url");
}

/** The failed password checks of an account (see the file comment), shared by every route. */
export interface PasswordFailures {
  /**
   * Counts this attempt as a failure of the account's password before the hash, or answers 429 if
   * this client, or everyone, has failed too often on it (a refused attempt is not counted).
   */
  reserve(request: FastifyRequest, reply: FastifyReply, email: string): Promise<void>;
  /** The password was right: the reserved failure is given back. */
  refund(request: FastifyRequest): Promise<void>;
}

export function passwordFailures(app: FastifyInstance, context: RouteContext): PasswordFailures {
  const limits = context.settings.rateLimits;
  // The limiter's key generator sees only the request: the account it is about is noted here.
  const accounts = new WeakMap<FastifyRequest, string>();
  const account = (request: FastifyRequest) => accounts.get(request) ?? "";
  // The counter keys each request reserved, to refund.
  const reserved = new WeakMap<FastifyRequest, string[]>();
  const refundAll = async (keys: string[]) => {
    await Promise.all(keys.map((key) => context.refundRateLimit(key)));
  };
  const failureLimits: Limit[] = [
    {
      limiter: limiter(
        app,
        "signin-failures:account-client",
        limits.signInFailuresPerAccountClient,
        limits.windowMs,
        (request) => `${account(request)}:${client(request)}`,
      ),
      message: "Too many failed sign-ins for this account from this address",
      field: "email",
    },
    {
      limiter: limiter(
        app,
        "signin-failures:account",
        limits.signInFailuresPerAccount,
        limits.windowMs,
        account,
      ),
      message: "Too many failed sign-ins for this account",
      field: "email",
    },
  ];
  return {
    async reserve(request, reply, email) {
      accounts.set(request, accountKey(email));
      const keys: string[] = [];
      for (const limit of failureLimits) {
        const result = await limit.limiter(request);
        keys.push(result.key);
        if (!result.isAllowed && result.isExceeded) {
          // Over the limit: nothing is hashed, so nothing stays counted (increment-if-below).
          await refundAll(keys);
          refuse(reply, limit, result.ttlInSeconds);
        }
      }
      reserved.set(request, keys);
    },
    async refund(request) {
      await refundAll(reserved.get(request) ?? []);
      reserved.delete(request);
    },
  };
}

/**
 * The limits that count requests per client address alone: the limiter's name (its key prefix),
 * the setting that sizes it, and what a refused client is told.
 */
const PER_CLIENT_LIMITS = {
  signIn: {
    name: "signin:ip",
    setting: "signInPerClient",
    message: "Too many sign-in attempts from this address",
  },
  signUp: {
    name: "signup:ip",
    setting: "signUpPerClient",
    message: "Too many sign-ups from this address",
  },
  // Public files read from the bucket (no CDN in front of it).
  publicFiles: {
    name: "files:ip",
    setting: "publicFilesPerClient",
    message: "Too many file requests from this address",
  },
} as const satisfies Record<
  string,
  { name: string; setting: keyof RateLimitSettings; message: string }
>;

/** One of PER_CLIENT_LIMITS, on its own: its setting's number of requests per window. */
function perClientRateLimit(
  app: FastifyInstance,
  context: RouteContext,
  which: keyof typeof PER_CLIENT_LIMITS,
) {
  const { name, setting, message } = PER_CLIENT_LIMITS[which];
  const limits = context.settings.rateLimits;
  return enforce([
    { limiter: limiter(app, name, limits[setting], limits.windowMs, client), message, field: null },
  ]);
}

/** Every attempt per client, then the account's failures (reserved here, refunded by the route). */
export function signInRateLimit(
  app: FastifyInstance,
  context: RouteContext,
  failures: PasswordFailures,
) {
  const perClient = perClientRateLimit(app, context, "signIn");
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await perClient(request, reply);
    await failures.reserve(request, reply, (request.body as { email: string }).email);
  };
}

export const signUpRateLimit = (app: FastifyInstance, context: RouteContext) =>
  perClientRateLimit(app, context, "signUp");

export const publicFilesRateLimit = (app: FastifyInstance, context: RouteContext) =>
  perClientRateLimit(app, context, "publicFiles");

/**
 * Every email or password change per client and per account, right or wrong. Called by the route
 * once the session is the account's: a stranger's request uses up nobody's limit.
 */
export function accountChangeRateLimit(app: FastifyInstance, context: RouteContext) {
  const limits = context.settings.rateLimits;
  return enforce([
    {
      limiter: limiter(
        app,
        "account-change:ip",
        limits.accountChangesPerClient,
        limits.windowMs,
        client,
      ),
      message: "Too many account changes from this address",
      field: null,
    },
    {
      limiter: limiter(
        app,
        "account-change:user",
        limits.accountChangesPerUser,
        limits.windowMs,
        (request) => (request.params as { id: string }).id,
      ),
      message: "Too many account changes for this account",
      field: null,
    },
  ]);
}
