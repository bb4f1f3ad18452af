/**
 * The CDN's CloudFront distribution: Origin Access Control signing every request to the private
 * buckets, origin groups that fail over between the buckets (the static files read first from the
 * primary bucket, the app's files from the bucket uploads land in), a cache policy (or, for emulators
 * without cache policies, the same TTLs on the behaviour), HTTPS only, and the A/AAAA aliases of a
 * custom domain.
 *
 * Functions creating children of the calling component (`parent`), so the resources keep the
 * names and URNs they had inside `Cdn`.
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import type { PrivateBucket } from "./privateBucket";
import type { Tags } from "./tags";
import { type Transform, transform } from "./transform";

/** No floor on TTLs, so the origin's Cache-Control (a minute for index.html) is obeyed. */
const MIN_TTL_SECONDS = 0;
/**
 * The replica is only tried when the primary bucket's region answers with a server error. Not on
 * 403/404: without s3:ListBucket a missing object is a 403, and the replica holds a (slightly
 * late) copy of the same objects, so retrying there would double every miss and find nothing.
 */
const FAILOVER_STATUS_CODES = [500, 502, 503, 504];
/**
 * HSTS for a year, subdomains included: the same policy the app sends (app/src/http/security.ts).
 * No `preload`: that is a promise to browsers' preload lists the domain's owner makes, not the program.
 */
const HSTS_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;
const ORIGIN_IDS = {
  primary: "assets-primary",
  replica: "assets-replica",
  /** The static files: the primary bucket first, the only one the deploy uploads them to. */
  group: "assets",
  /** The app's files: the bucket uploads land in first. */
  appFilesGroup: "app-files",
} as const;

export interface DistributionArgs {
  /** us-east-1: CloudFront's API. */
  provider: aws.Provider;
  primary: PrivateBucket;
  /** Fail over between the buckets when one's S3 errors. */
  replica: PrivateBucket | undefined;
  /** The bucket uploads land in, tried first for `appFilePrefixes` (the other is the failover). */
  uploadsTo: "primary" | "replica";
  /** Key prefixes of the app's files (e.g. `uploads/`), read through their own origin group. */
  appFilePrefixes: readonly string[];
  /** The page served for `/`. */
  rootObject: string;
  priceClass: "PriceClass_100" | "PriceClass_200" | "PriceClass_All";
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  useLegacyCacheSettings: boolean;
  /** A custom name and its us-east-1 certificate; unset: the cloudfront.net name. */
  customDomain: { name: string; certificateArn: pulumi.Input<string> } | undefined;
  tags: Tags;
  /** A CLOUDFRONT-scope web ACL's ARN; unset: none. */
  webAclArn: pulumi.Input<string> | undefined;
  transform?: Transform<aws.cloudfront.DistributionArgs> | undefined;
}

/**
 * The Content-Security-Policy of the page CloudFront serves: the app's own directives
 * (app/src/http/security.ts, @fastify/helmet), with the CDN's origins for what the app takes from
 * config. The page loads only its own hashed files; uploads go to a bucket's regional name with
 * presigned URLs.
 */
export function staticSiteCsp(uploadOrigins: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    ["connect-src 'self'", ...uploadOrigins].join(" "),
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * `${name}-headers`: the security headers every response carries, overriding whatever an object's
 * metadata says: HSTS, nosniff, frames denied, no referrer, and the page's CSP.
 */
function createSecurityHeaders(
  parent: pulumi.Resource,
  name: string,
  args: DistributionArgs,
): aws.cloudfront.ResponseHeadersPolicy {
  return new aws.cloudfront.ResponseHeadersPolicy(
    `${name}-headers`,
    {
      comment: `${name}: security headers of the static page (mirrors the app's)`,
      securityHeadersConfig: {
        strictTransportSecurity: {
          accessControlMaxAgeSec: HSTS_MAX_AGE_SECONDS,
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: "DENY", override: true },
        referrerPolicy: { referrerPolicy: "no-referrer", override: true },
        contentSecurityPolicy: {
          // Uploads go to either bucket's regional name: the replica's after a failover.
          contentSecurityPolicy: pulumi
            .all(
              [args.primary, ...(args.replica ? [args.replica] : [])].map(
                (bucket) => bucket.bucket.bucketRegionalDomainName,
              ),
            )
            .apply((domains) => staticSiteCsp(domains.map((domain) => `https://${domain}`))),
          override: true,
        },
      },
    },
    { parent, provider: args.provider },
  );
}

/**
 * `${name}-oac`, `${name}-cache` (unless legacy settings), `${name}-headers` and
 * `${name}-distribution`.
 */
export function createDistribution(
  parent: pulumi.Resource,
  name: string,
  args: DistributionArgs,
): aws.cloudfront.Distribution {
  const opts = { parent, provider: args.provider };
  const accessControl = new aws.cloudfront.OriginAccessControl(
    `${name}-oac`,
    {
      description: `${name}: CloudFront signs every request to the assets buckets`,
      originAccessControlOriginType: "s3",
      signingBehavior: "always",
      signingProtocol: "sigv4",
    },
    opts,
  );
  const origin = (originId: string, bucket: PrivateBucket) => ({
    originId,
    domainName: bucket.bucket.bucketRegionalDomainName,
    originAccessControlId: accessControl.id,
  });
  const { primary, replica, customDomain } = args;
  const group = (originId: string, first: "primary" | "replica") => ({
    originId,
    failoverCriteria: { statusCodes: FAILOVER_STATUS_CODES },
    members: (first === "replica"
      ? [ORIGIN_IDS.replica, ORIGIN_IDS.primary]
      : [ORIGIN_IDS.primary, ORIGIN_IDS.replica]
    ).map((member) => ({ originId: member })),
  });
  const behaviour = {
    viewerProtocolPolicy: "redirect-to-https",
    // Origin groups serve only reads; OPTIONS answers CORS preflights.
    allowedMethods: ["GET", "HEAD", "OPTIONS"],
    cachedMethods: ["GET", "HEAD"],
    compress: true,
    responseHeadersPolicyId: createSecurityHeaders(parent, name, args).id,
    ...cacheSettings(parent, name, args),
  };
  return new aws.cloudfront.Distribution(
    `${name}-distribution`,
    transform(args.transform, {
      enabled: true,
      comment: `${name}: static files and uploads`,
      origins: replica
        ? [origin(ORIGIN_IDS.primary, primary), origin(ORIGIN_IDS.replica, replica)]
        : [origin(ORIGIN_IDS.primary, primary)],
      // Each file is read first from the bucket it is written to: the other has it only once S3
      // has replicated it, and until then answers 403, which is no reason to fail over.
      originGroups: replica
        ? [group(ORIGIN_IDS.group, "primary"), group(ORIGIN_IDS.appFilesGroup, args.uploadsTo)]
        : [],
      defaultRootObject: args.rootObject,
      defaultCacheBehavior: {
        targetOriginId: replica ? ORIGIN_IDS.group : ORIGIN_IDS.primary,
        ...behaviour,
      },
      // A failover reorders the app files' group only; without a replica there is nothing to order.
      orderedCacheBehaviors: replica
        ? args.appFilePrefixes.map((prefix) => ({
            pathPattern: `${prefix}*`,
            targetOriginId: ORIGIN_IDS.appFilesGroup,
            ...behaviour,
          }))
        : [],
      priceClass: args.priceClass,
      httpVersion: "http2and3",
      isIpv6Enabled: true,
      aliases: customDomain ? [customDomain.name] : [],
      viewerCertificate: customDomain
        ? {
            acmCertificateArn: customDomain.certificateArn,
            sslSupportMethod: "sni-only",
            minimumProtocolVersion: "TLSv1.2_2021",
          }
        : { cloudfrontDefaultCertificate: true },
      restrictions: { geoRestriction: { restrictionType: "none" } },
      // For WAFv2 the ACL's ARN, not its id (the provider's webAclId documentation).
      ...(args.webAclArn === undefined ? {} : { webAclId: args.webAclArn }),
      tags: args.tags,
    }),
    opts,
  );
}

/** A cache policy with the TTLs, or the same TTLs on the behaviour for emulators without cache policies. */
function cacheSettings(
  parent: pulumi.Resource,
  name: string,
  args: DistributionArgs,
): Pick<
  aws.types.input.cloudfront.DistributionDefaultCacheBehavior,
  "cachePolicyId" | "forwardedValues" | "minTtl" | "defaultTtl" | "maxTtl"
> {
  if (args.useLegacyCacheSettings) {
    return {
      forwardedValues: { queryString: false, cookies: { forward: "none" } },
      minTtl: MIN_TTL_SECONDS,
      defaultTtl: args.defaultTtlSeconds,
      maxTtl: args.maxTtlSeconds,
    };
  }
  const policy = new aws.cloudfront.CachePolicy(
    `${name}-cache`,
    {
      comment: `${name}: static files and uploads, keyed on the path alone`,
      minTtl: MIN_TTL_SECONDS,
      defaultTtl: args.defaultTtlSeconds,
      maxTtl: args.maxTtlSeconds,
      parametersInCacheKeyAndForwardedToOrigin: {
        cookiesConfig: { cookieBehavior: "none" },
        headersConfig: { headerBehavior: "none" },
        queryStringsConfig: { queryStringBehavior: "none" },
        enableAcceptEncodingGzip: true,
        enableAcceptEncodingBrotli: true,
      },
    },
    { parent, provider: args.provider },
  );
  return { cachePolicyId: policy.id };
}

/** `${name}-alias-a` and `-alias-aaaa`: the custom domain pointing at the distribution. */
export function createAliasRecords(
  parent: pulumi.Resource,
  name: string,
  {
    domain,
    distribution,
    provider,
  }: {
    domain: { name: string; zoneId: pulumi.Input<string> };
    distribution: aws.cloudfront.Distribution;
    provider: aws.Provider;
  },
): void {
  for (const type of ["A", "AAAA"] as const) {
    new aws.route53.Record(
      `${name}-alias-${type.toLowerCase()}`,
      {
        zoneId: domain.zoneId,
        name: domain.name,
        type,
        // CloudFront aliases cannot evaluate target health; the distribution is always "healthy".
        aliases: [
          {
            name: distribution.domainName,
            zoneId: distribution.hostedZoneId,
            evaluateTargetHealth: false,
          },
        ],
      },
      { parent, provider },
    );
  }
}
