/**
 * IAM database authentication: instead of a password, each new connection presents a token signed
 * with the task role's credentials (valid 15 minutes, only to open a connection). A pool reuses its
 * token for `IAM_TOKEN_REUSE_MS`: RDS limits IAM authentication to about 200 new connections a
 * second per instance and advises reusing a token rather than signing one per connection. Signing is local:
 * no secret and no call into another region at task start, so a region's tasks start and scale
 * while the other region is down. The token is signed for the region of the database endpoint it
 * opens (the writer may be in the other region, the readers in this one).
 */
import { Signer, type SignerConfig } from "@aws-sdk/rds-signer";
import type { PostgresTarget } from "../config";

/** ID.HASH.REGION.rds.amazonaws.com, and the .cn partition's form. */
const RDS_HOST = /\.([a-z]{2}(?:-[a-z]+)+-\d+)\.rds\.amazonaws\.com(?:\.cn)?$/;

/** The region of an RDS endpoint, from its host name; undefined for any other host. */
export function rdsEndpointRegion(host: string): string | undefined {
  return RDS_HOST.exec(host)?.[1];
}

/** How long a token lives (RDS: 15 minutes). */
export const IAM_TOKEN_LIFETIME_MS = 15 * 60_000;
/** How long a pool reuses its token: 10 of its 15 minutes, so no connection opens with one about to expire. */
export const IAM_TOKEN_REUSE_MS = 10 * 60_000;

/** What signs tokens for one host, port, user and region (`@aws-sdk/rds-signer`'s Signer). */
export interface TokenSigner {
  getAuthToken(): Promise<string>;
}

export interface IamTokenOptions {
  /** The region when the host is not an RDS endpoint name (a proxy, a CNAME): AWS_REGION. */
  fallbackRegion: string | undefined;
  /** The default provider chain (the task role) unless given (tests). */
  credentials?: SignerConfig["credentials"];
  /** The signer for a target: the SDK's unless given (tests). */
  signer?: (config: SignerConfig) => TokenSigner;
  /** Milliseconds now: `Date.now` unless given (tests). */
  now?: () => number;
}

/**
 * pg's `password` hook for one pool (one host, port, user and region): a token signed at most once
 * per `IAM_TOKEN_REUSE_MS`, shared by the connections that open meanwhile (concurrent ones wait
 * for the same signature). A failed signature is not kept: the next connection signs again.
 */
export function iamTokenPassword(
  target: PostgresTarget,
  options: IamTokenOptions,
): () => Promise<string> {
  const region = rdsEndpointRegion(target.host) ?? options.fallbackRegion;
  if (region === undefined) {
    throw new Error(
      `DATABASE_AUTH=iam: ${target.host} is not an RDS endpoint name and AWS_REGION is unset, so the token's region is unknown`,
    );
  }
  const signerConfig: SignerConfig = {
    hostname: target.host,
    port: target.port,
    username: target.user,
    region,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
  const signer = (options.signer ?? ((config) => new Signer(config)))(signerConfig);
  const now = options.now ?? Date.now;
  let cached: { token: Promise<string>; signedAt: number } | undefined;
  return () => {
    const at = now();
    if (cached === undefined || at - cached.signedAt >= IAM_TOKEN_REUSE_MS) {
      const token = signer.getAuthToken();
      const entry = { token, signedAt: at };
      cached = entry;
      token.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.token;
  };
}
