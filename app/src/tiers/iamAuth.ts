/**
 * IAM database authentication: instead of a password, each new connection presents a token signed
 * with the task role's credentials (valid 15 minutes, only to open a connection). Signing is local:
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

export interface IamTokenOptions {
  /** The region when the host is not an RDS endpoint name (a proxy, a CNAME): AWS_REGION. */
  fallbackRegion: string | undefined;
  /** The default provider chain (the task role) unless given (tests). */
  credentials?: SignerConfig["credentials"];
}

/** pg's `password` hook for one pool: a fresh token for every new connection. */
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
  const signer = new Signer({
    hostname: target.host,
    port: target.port,
    username: target.user,
    region,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  return () => signer.getAuthToken();
}
