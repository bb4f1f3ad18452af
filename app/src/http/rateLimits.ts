/**
 * Rate limits on the two routes that cost a password hash: sign-in (per client address and per
 * account) and sign-up (per client address). Counting is @fastify/rate-limit's; the counters live
 * in the cache tier, so on the full stack every task and instance shares them (Redis), and when
 * embedded they are in-process. If the shared store fails (or its circuit breaker is open) the
 * counters fall back to this process's memory: limits loosen to per task, they never vanish.
 *
 * The limits run after validation (preHandler): a malformed request costs no hash and is not
 * counted, and the per-account key needs the parsed email.
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
  /** Sign-in attempts per client address per window (any accounts). */
  signInPerClient: number;
  /** Sign-in attempts per account per window (from any addresses): stops distributed guessing. */
  signInPerAccount: number;
  /** Sign-ups per client address per window. */
  signUpPerClient: number;
}

/** Generous for people (a shared office address, a forgotten password), tight for a guesser. */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  windowMs: 15 * 60 * 1000,
  signInPerClient: 50,
  signInPerAccount: 10,
  signUpPerClient: 20,
};

/** A @fastify/rate-limit store over the cache tier, with an in-process fallback. */
function cacheStore(cache: Cache, logger: Logger) {
  const fallback = createMemoryCache();
  const degraded = new DegradedReporter(logger, "rate-limits");
  return class CacheRateLimitStore implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      const counted = (result: { count: number; ttlMs: number }) =>
        callback(null, { current: result.count, ttl: result.ttlMs });
      cache
        .increment(`ratelimit:${key}`, timeWindow)
        .then((result) => {
          degraded.succeeded();
          counted(result);
        })
        .catch((error: unknown) => {
          degraded.failed(error, "shared rate-limit counters unavailable; counting per process");
          fallback.increment(key, timeWindow).then(counted, callback);
        });
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

export async function registerRateLimits(
  app: FastifyInstance,
  cache: Cache,
  logger: Logger,
): Promise<void> {
  // global: false: only the routes below are limited, through createRateLimit.
  await app.register(fastifyRateLimit, { global: false, store: cacheStore(cache, logger) });
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

/** Runs the limiters in order; the first one exceeded answers 429 with Retry-After. */
function enforce(limits: { limiter: Limiter; message: string; field: string | null }[]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    for (const { limiter: check, message, field } of limits) {
      const result = await check(request);
      if (result.isAllowed || !result.isExceeded) continue;
      reply.header("retry-after", String(Math.max(1, result.ttlInSeconds)));
      throw new HttpError(
        429,
        "rate_limited",
        `${message}; try again in ${Math.max(1, result.ttlInSeconds)} seconds.`,
        field,
      );
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

export function signInRateLimit(app: FastifyInstance, context: RouteContext) {
  const limits = context.settings.rateLimits;
  return enforce([
    {
      limiter: limiter(app, "signin:ip", limits.signInPerClient, limits.windowMs, client),
      message: "Too many sign-in attempts from this address",
      field: null,
    },
    {
      limiter: limiter(app, "signin:account", limits.signInPerAccount, limits.windowMs, (r) =>
        accountKey((r.body as { email: string }).email),
      ),
      message: "Too many sign-in attempts for this account",
      field: "email",
    },
  ]);
}

export function signUpRateLimit(app: FastifyInstance, context: RouteContext) {
  const limits = context.settings.rateLimits;
  return enforce([
    {
      limiter: limiter(app, "signup:ip", limits.signUpPerClient, limits.windowMs, client),
      message: "Too many sign-ups from this address",
      field: null,
    },
  ]);
}
