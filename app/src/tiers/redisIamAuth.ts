/**
 * ElastiCache IAM authentication: the cache has no password. The app signs in as its ElastiCache
 * user with a token it signs itself (SigV4, the task role's credentials), valid 15 minutes and only
 * to sign in. Signing is local: no secret to read, nothing to rotate, nothing in another region.
 *
 * ElastiCache ends an IAM-authenticated connection after 12 hours unless it signs in again
 * (AUTH) with a fresh token, and refuses an expired token on a reconnect; so the token is renewed
 * well before it expires, and each renewal also re-authenticates the live connection
 * (app/src/tiers/redis.ts).
 */
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { Sha256 } from "@smithy/core/checksum";
import { HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

/** How long ElastiCache accepts a token after it was signed (its upper limit). */
export const ELASTICACHE_TOKEN_LIFETIME_SECONDS = 900;
/**
 * Renewed after 10 of its 15 minutes: a reconnect always signs in with at least 5 minutes of
 * validity left, and a failed renewal has two more tries before the token in use expires.
 */
export const ELASTICACHE_TOKEN_REFRESH_MS = 10 * 60_000;

export interface ElastiCacheTokenOptions {
  /** The replication group id (REDIS_IAM_CACHE_ID), lowercase as ElastiCache keeps it. */
  cacheId: string;
  /** The ElastiCache user (REDIS_IAM_USER); for IAM users its id and name are the same. */
  userId: string;
  /** The cache's region (the task's: each region's app uses its own cache). */
  region: string;
  /** The default provider chain (the task role) unless given (tests). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** The signing time; now unless given (tests). */
  now?: () => Date;
}

/** A source of sign-in credentials for one Redis user, renewed every `refreshEveryMs`. */
export interface RedisTokenSource {
  username: string;
  token: () => Promise<string>;
  refreshEveryMs: number;
}

/**
 * Signs one token: a presigned `GET http://<cacheId>/?Action=connect&User=<userId>` for the
 * `elasticache` service, without its scheme (AWS ElastiCache guide, "Authenticating with IAM").
 */
export async function signElastiCacheToken(options: ElastiCacheTokenOptions): Promise<string> {
  const signer = new SignatureV4({
    service: "elasticache",
    region: options.region,
    credentials: options.credentials ?? fromNodeProviderChain(),
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: "GET",
    protocol: "http:",
    hostname: options.cacheId,
    path: "/",
    query: { Action: "connect", User: options.userId },
    headers: { host: options.cacheId },
  });
  const presigned = await signer.presign(request, {
    expiresIn: ELASTICACHE_TOKEN_LIFETIME_SECONDS,
    ...(options.now === undefined ? {} : { signingDate: options.now() }),
  });
  const query = Object.entries(presigned.query ?? {})
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join("&");
  return `${options.cacheId}/?${query}`;
}

/** The token source the app's Redis connection uses with IAM authentication. */
export function elastiCacheTokenSource(options: ElastiCacheTokenOptions): RedisTokenSource {
  // One provider for the process: the chain caches the task role's credentials between tokens.
  const credentials = options.credentials ?? fromNodeProviderChain();
  return {
    username: options.userId,
    token: () => signElastiCacheToken({ ...options, credentials }),
    refreshEveryMs: ELASTICACHE_TOKEN_REFRESH_MS,
  };
}
