import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, isAbsolute, join } from "node:path";
import { CloudFrontClient, CreateInvalidationCommand } from "@aws-sdk/client-cloudfront";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DnsValidatedCertificate } from "./certificate";
import { type Tags, tierTags } from "./tags";
import { type Transform, transform } from "./transform";

/** Files that keep their names across builds: short TTL, and invalidated when they change. */
export const ENTRY_FILES = ["index.html", "manifest.json"] as const;
const MANIFEST_FILE = "manifest.json";
const ROOT_OBJECT = "index.html";
/** The paths CloudFront forgets when the entry files change (`/` is cached apart from /index.html). */
export const ENTRY_PATHS = ["/", ...ENTRY_FILES.map((file) => `/${file}`)];
/** Content-hashed names never change content, so browsers and edges may keep them for a year. */
export const IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable";
/** Where the app keeps users' files in the bucket (docs/CONTRACT.md). */
export const APP_FILE_PREFIXES = ["uploads/", "thumbnails/"] as const;
/** Old versions of overwritten or deleted objects are kept this long, to undo mistakes. */
const NONCURRENT_VERSION_EXPIRATION_DAYS = 30;
/** Parts of uploads the browser never completed are removed after this many days. */
const INCOMPLETE_UPLOAD_EXPIRATION_DAYS = 7;
/** How long browsers may cache a CORS preflight answer. */
const CORS_MAX_AGE_SECONDS = 3600;
/** No floor on TTLs, so the origin's Cache-Control (a minute for index.html) is obeyed. */
const MIN_TTL_SECONDS = 0;
/**
 * The replica is only tried when the primary bucket's region answers with a server error. Not on
 * 403/404: without s3:ListBucket a missing object is a 403, and the replica holds a (slightly
 * late) copy of the same objects, so retrying there would double every miss and find nothing.
 */
const FAILOVER_STATUS_CODES = [500, 502, 503, 504];
const ORIGIN_IDS = {
  primary: "assets-primary",
  replica: "assets-replica",
  group: "assets",
} as const;
const DOMAIN_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
};
const DEFAULT_CONTENT_TYPE = "application/octet-stream";

export interface CdnProviders {
  /** The primary region: the assets bucket, its replication, and grants. */
  primary: aws.Provider;
  /** The secondary region: the replica bucket. */
  secondary: aws.Provider;
  /** us-east-1: CloudFront is global, but its API (and its certificates) live there. */
  usEast1: aws.Provider;
}

export interface CdnArgs {
  providers: CdnProviders;
  /**
   * The app's static build: `manifest.json` (source name → content-hashed name), the hashed files,
   * and `index.html`. Checked before anything is created.
   * @example "app/public/dist"
   */
  staticFilesDir: string;
  /** Which edge locations serve users: PriceClass_100 (North America, Europe) is the cheapest. */
  priceClass: "PriceClass_100" | "PriceClass_200" | "PriceClass_All";
  /** How long edges keep objects that send no Cache-Control (the app's uploads and thumbnails). */
  defaultTtlSeconds: number;
  /** The longest edges keep anything, whatever the object asks for. */
  maxTtlSeconds: number;
  /** How long browsers and edges keep the entry files (index.html, manifest.json). */
  entryTtlSeconds: number;
  /**
   * The app's origins, allowed to PUT (presigned uploads) and GET the bucket from the browser.
   * Empty: no CORS rules at all.
   * @example ["https://app.example.com"]
   */
  corsAllowedOrigins: pulumi.Input<string>[];
  /**
   * A name of its own (e.g. static.example.com) in a zone: adds a us-east-1 certificate, TLS 1.2
   * (2021 ciphers) as the minimum, and A/AAAA aliases. Unset: the distribution's cloudfront.net name.
   */
  customDomain?: { name: string; zoneId: pulumi.Input<string> };
  /**
   * Replicate the bucket to the secondary region and fail over to it when the primary's S3 errors.
   * @default true
   */
  enableReplication?: boolean;
  /**
   * Put TTLs on the cache behaviour (`forwardedValues`) instead of a cache policy, for AWS
   * emulators that do not implement cache policies (moto).
   * @default false
   */
  useLegacyCacheSettings?: boolean;
  /**
   * Let `pulumi destroy` delete the buckets with everything in them, users' uploads included.
   * For dev stacks; without it, destroying fails while the buckets hold objects.
   * @default false
   */
  forceDestroy?: boolean;
  /** Change the arguments of a child resource before it is created. */
  transform?: {
    bucket?: Transform<aws.s3.BucketArgs>;
    distribution?: Transform<aws.cloudfront.DistributionArgs>;
  };
}

/** One file of the static build as it is uploaded. */
export interface StaticFile {
  /** The object key: the name the page asks for. */
  key: string;
  /** The file on disk. */
  path: string;
  contentType: string;
  cacheControl: string;
  /** Entry files keep their name across builds (short TTL, invalidated on change). */
  entry: boolean;
}

/**
 * Validates the arguments, the static build included, before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateCdnArgs(args: CdnArgs): string[] {
  const problems = staticFilesProblems(args.staticFilesDir);
  for (const key of ["defaultTtlSeconds", "maxTtlSeconds", "entryTtlSeconds"] as const) {
    if (!Number.isInteger(args[key]) || args[key] < 0) {
      problems.push(`${key}: ${args[key]} must be a whole number of seconds, 0 or more`);
    }
  }
  if (args.defaultTtlSeconds > args.maxTtlSeconds) {
    problems.push(
      `defaultTtlSeconds: ${args.defaultTtlSeconds} is above maxTtlSeconds (${args.maxTtlSeconds}); lower it or raise maxTtlSeconds`,
    );
  }
  if (args.customDomain !== undefined && !DOMAIN_PATTERN.test(args.customDomain.name)) {
    problems.push(
      `customDomain.name: "${args.customDomain.name}" must be a lowercase DNS name such as static.example.com`,
    );
  }
  return problems;
}

function staticFilesProblems(dir: string): string[] {
  const where = `staticFilesDir: "${dir}"`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    return [
      `${where} is not a folder; run \`npm run build:public\` or point it at the static build`,
    ];
  }
  const problems: string[] = [];
  if (!existsSync(join(dir, ROOT_OBJECT)))
    problems.push(`${where} has no ${ROOT_OBJECT} (the distribution's root object)`);
  const manifest = readManifest(dir);
  if (typeof manifest === "string") return [...problems, `${where}: ${manifest}`];
  for (const [source, hashed] of Object.entries(manifest)) {
    if (isAbsolute(hashed) || hashed.split(/[/\\]/).includes("..") || hashed.includes("\\")) {
      problems.push(
        `${where}: manifest entry "${source}" → "${hashed}" must be a relative path inside the folder`,
      );
    } else if (!existsSync(join(dir, hashed))) {
      problems.push(
        `${where}: manifest entry "${source}" → "${hashed}" names a file that does not exist; rebuild the static files`,
      );
    }
  }
  return problems;
}

/** The manifest's mapping, or a problem describing why it cannot be read. */
function readManifest(dir: string): Record<string, string> | string {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return `has no ${MANIFEST_FILE} (source name → content-hashed name)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    return `${MANIFEST_FILE} is not JSON (${(error as Error).message})`;
  }
  const valid =
    typeof parsed === "object" &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((value) => typeof value === "string" && value.length > 0);
  return valid
    ? (parsed as Record<string, string>)
    : `${MANIFEST_FILE} must map each source name to a hashed file name`;
}

/**
 * The files to upload from a valid static build: each hashed file of the manifest with a year's
 * immutable caching, and the entry files with `entryTtlSeconds`.
 */
export function staticFilesIn(dir: string, entryTtlSeconds: number): StaticFile[] {
  const manifest = readManifest(dir);
  if (typeof manifest === "string") throw new Error(`staticFilesDir: "${dir}": ${manifest}`);
  const hashed = [...new Set(Object.values(manifest))].sort().map((key) => ({
    key,
    path: join(dir, key),
    contentType: contentTypeOf(key),
    cacheControl: IMMUTABLE_CACHE_CONTROL,
    entry: false,
  }));
  const entries = ENTRY_FILES.map((key) => ({
    key,
    path: join(dir, key),
    contentType: contentTypeOf(key),
    cacheControl: `public, max-age=${entryTtlSeconds}`,
    entry: true,
  }));
  return [...hashed, ...entries];
}

/** The Content-Type S3 serves a file with, from its extension. */
export function contentTypeOf(key: string): string {
  return CONTENT_TYPES[extname(key).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}

/** A digest of the entry files' names and contents: it changes exactly when they do. */
export function entryContentHash(files: readonly StaticFile[]): string {
  const hash = createHash("sha256");
  for (const file of files.filter((candidate) => candidate.entry)) {
    hash.update(`${file.key}\0`).update(readFileSync(file.path)).update("\0");
  }
  return hash.digest("hex");
}

/**
 * The CDN for static files and users' uploads: a private, versioned, encrypted S3 bucket (with a
 * replica in the secondary region) behind CloudFront, which alone may read it (Origin Access
 * Control) and fails over to the replica when the primary's S3 errors.
 *
 * - The static build is uploaded under its content-hashed names with a year's immutable caching;
 *   index.html and manifest.json get `entryTtlSeconds` and are invalidated when they change.
 * - HTTPS only (HTTP redirects), compressed, IPv6, HTTP/3; TLS 1.2 (2021 ciphers) as the minimum
 *   on a custom domain.
 * - Encryption is SSE-S3 (AES-256), not KMS: reading through OAC and replicating across regions
 *   with KMS needs key policies for CloudFront and a key per region, for no gain here.
 * - `grantReadWrite` lets the app's role read and write its prefixes (uploads/, thumbnails/).
 *
 * `/api/*` is not routed through this distribution: the app's API lives at the root of
 * `app.<domain>`, which GeoDNS sends straight to the regional load balancers, so regional routing
 * and failover stay in one place (Route53); the CDN serves static files and thumbnails only.
 *
 * @example
 * ```ts
 * const cdn = new Cdn("cdn", {
 *   providers: { primary, secondary, usEast1 },
 *   staticFilesDir: "app/public/dist",
 *   priceClass: "PriceClass_100",
 *   defaultTtlSeconds: 86400, maxTtlSeconds: 31536000, entryTtlSeconds: 60,
 *   corsAllowedOrigins: ["https://app.example.com"],
 *   customDomain: { name: "static.example.com", zoneId: zone.zoneId },
 * });
 * cdn.grantReadWrite("web-primary", webRole.name);
 * ```
 *
 * The invalidation runs with the deploying machine's AWS credentials (the AWS SDK's default chain),
 * not the aws provider's settings.
 *
 * Cost: CloudFront about $0.085 per GB and $0.01 per 10,000 HTTPS requests (North America and
 * Europe); S3 $0.023 per GB-month, twice with the replica, plus $0.02 per GB replicated. An idle
 * dev stack costs cents a month.
 */
export class Cdn extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** The replica's name; undefined when replication is disabled. */
  readonly replicaBucketName: pulumi.Output<string> | undefined;
  readonly distributionId: pulumi.Output<string>;
  readonly distributionArn: pulumi.Output<string>;
  /** The name users reach: the custom domain, or the distribution's cloudfront.net name. */
  readonly domainName: pulumi.Output<string>;
  readonly cloudfrontDomainName: pulumi.Output<string>;

  private readonly componentName: string;
  private readonly providers: CdnProviders;
  private readonly bucket: aws.s3.Bucket;
  private readonly replica: aws.s3.Bucket | undefined;
  private readonly distribution: aws.cloudfront.Distribution;

  constructor(name: string, args: CdnArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:Cdn", name, {}, opts);
    const problems = validateCdnArgs(args);
    if (problems.length > 0) {
      throw new Error(`Cdn "${name}": invalid arguments:\n  - ${problems.join("\n  - ")}`);
    }
    const files = staticFilesIn(args.staticFilesDir, args.entryTtlSeconds);
    const tags = tierTags("cdn");
    this.componentName = name;
    this.providers = args.providers;

    const primary = this.createBucket(`${name}-bucket`, args.providers.primary, args, tags);
    const replica =
      (args.enableReplication ?? true)
        ? this.createBucket(`${name}-replica`, args.providers.secondary, args, tags)
        : undefined;
    const replication = replica ? this.createReplication(name, primary, replica, tags) : undefined;
    this.createCors(name, primary, args);
    const certificate = args.customDomain
      ? this.createCertificate(name, args.customDomain)
      : undefined;
    this.distribution = this.createDistribution(name, args, primary, replica, certificate, tags);
    for (const bucket of [primary, replica]) if (bucket) this.allowDistributionOnly(bucket);
    if (args.customDomain) this.createAliasRecords(name, args.customDomain);
    const entryObjects = this.uploadStaticFiles(name, files, primary, replication);
    this.invalidateEntryPaths(name, files, entryObjects);

    this.bucket = primary.bucket;
    this.replica = replica?.bucket;
    this.bucketName = primary.bucket.bucket;
    this.bucketArn = primary.bucket.arn;
    this.replicaBucketName = replica?.bucket.bucket;
    this.distributionId = this.distribution.id;
    this.distributionArn = this.distribution.arn;
    this.cloudfrontDomainName = this.distribution.domainName;
    this.domainName = args.customDomain
      ? pulumi.output(args.customDomain.name)
      : this.distribution.domainName;
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      replicaBucketName: this.replicaBucketName,
      distributionId: this.distributionId,
      distributionArn: this.distributionArn,
      domainName: this.domainName,
      cloudfrontDomainName: this.cloudfrontDomainName,
    });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return { bucket: this.bucket, replica: this.replica, distribution: this.distribution };
  }

  /**
   * Lets a role read and write the app's files (uploads/ and thumbnails/) in the primary bucket,
   * and nothing else: no listing, no deleting, no static files.
   * @param name a suffix for the policy's name, unique per grant (e.g. "web-primary")
   */
  grantReadWrite(name: string, roleName: pulumi.Input<string>): aws.iam.RolePolicy {
    return new aws.iam.RolePolicy(
      `${this.componentName}-${name}`,
      {
        role: roleName,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AppFiles",
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject"],
              Resource: APP_FILE_PREFIXES.map(
                (prefix) => pulumi.interpolate`${this.bucketArn}/${prefix}*`,
              ),
            },
            {
              // Without it S3 answers 403, not 404, for a key that does not exist, and the app
              // cannot tell "not uploaded yet" from "not allowed". This bucket only: an s3:prefix
              // condition would not help, since a HEAD or GET of one key carries no prefix.
              Sid: "AppFilesExist",
              Effect: "Allow",
              Action: "s3:ListBucket",
              Resource: this.bucketArn,
            },
          ],
        }),
      },
      { parent: this, provider: this.providers.primary },
    );
  }

  private createBucket(
    name: string,
    provider: aws.Provider,
    args: CdnArgs,
    tags: Tags,
  ): GuardedBucket {
    const opts = { parent: this, provider };
    const bucket = new aws.s3.Bucket(
      name,
      transform(args.transform?.bucket, { forceDestroy: args.forceDestroy ?? false, tags }),
      opts,
    );
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      opts,
    );
    // ACLs off: the bucket owner owns every object, access is decided by policies alone.
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      opts,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      opts,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      },
      opts,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-old-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_VERSION_EXPIRATION_DAYS },
            abortIncompleteMultipartUpload: {
              daysAfterInitiation: INCOMPLETE_UPLOAD_EXPIRATION_DAYS,
            },
          },
        ],
      },
      { ...opts, dependsOn: [versioning] },
    );
    return { name, bucket, versioning, publicAccessBlock, provider };
  }

  private createReplication(
    name: string,
    source: GuardedBucket,
    destination: GuardedBucket,
    tags: Tags,
  ): aws.s3.BucketReplicationConfig {
    const opts = { parent: this, provider: this.providers.primary };
    const role = new aws.iam.Role(
      `${name}-replication`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "s3.amazonaws.com" },
              Action: "sts:AssumeRole",
            },
          ],
        }),
        tags,
      },
      opts,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-replication`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
              Resource: source.bucket.arn,
            },
            {
              Effect: "Allow",
              Action: [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
              ],
              Resource: pulumi.interpolate`${source.bucket.arn}/*`,
            },
            {
              Effect: "Allow",
              Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
              Resource: pulumi.interpolate`${destination.bucket.arn}/*`,
            },
          ],
        }),
      },
      opts,
    );
    return new aws.s3.BucketReplicationConfig(
      `${name}-replication`,
      {
        bucket: source.bucket.id,
        role: role.arn,
        rules: [
          {
            id: "everything",
            status: "Enabled",
            filter: {},
            // Deletes reach the replica too, so a failover never serves what was removed.
            deleteMarkerReplication: { status: "Enabled" },
            destination: { bucket: destination.bucket.arn, storageClass: "STANDARD" },
          },
        ],
      },
      // S3 refuses replication until both buckets are versioned.
      { ...opts, dependsOn: [source.versioning, destination.versioning, policy] },
    );
  }

  private createCors(name: string, primary: GuardedBucket, args: CdnArgs): void {
    if (args.corsAllowedOrigins.length === 0) return;
    new aws.s3.BucketCorsConfiguration(
      `${name}-bucket-cors`,
      {
        bucket: primary.bucket.id,
        corsRules: [
          {
            allowedMethods: ["GET", "PUT"],
            allowedOrigins: args.corsAllowedOrigins,
            allowedHeaders: ["*"],
            exposeHeaders: ["ETag"],
            maxAgeSeconds: CORS_MAX_AGE_SECONDS,
          },
        ],
      },
      { parent: this, provider: primary.provider },
    );
  }

  private createCertificate(
    name: string,
    domain: NonNullable<CdnArgs["customDomain"]>,
  ): DnsValidatedCertificate {
    return new DnsValidatedCertificate(
      `${name}-certificate`,
      { domainName: domain.name, zoneId: domain.zoneId },
      { parent: this, provider: this.providers.usEast1 },
    );
  }

  private createDistribution(
    name: string,
    args: CdnArgs,
    primary: GuardedBucket,
    replica: GuardedBucket | undefined,
    certificate: DnsValidatedCertificate | undefined,
    tags: Tags,
  ): aws.cloudfront.Distribution {
    const opts = { parent: this, provider: this.providers.usEast1 };
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
    const origin = (originId: string, bucket: GuardedBucket) => ({
      originId,
      domainName: bucket.bucket.bucketRegionalDomainName,
      originAccessControlId: accessControl.id,
    });
    return new aws.cloudfront.Distribution(
      `${name}-distribution`,
      transform(args.transform?.distribution, {
        enabled: true,
        comment: `${name}: static files and uploads`,
        origins: replica
          ? [origin(ORIGIN_IDS.primary, primary), origin(ORIGIN_IDS.replica, replica)]
          : [origin(ORIGIN_IDS.primary, primary)],
        originGroups: replica
          ? [
              {
                originId: ORIGIN_IDS.group,
                failoverCriteria: { statusCodes: FAILOVER_STATUS_CODES },
                members: [{ originId: ORIGIN_IDS.primary }, { originId: ORIGIN_IDS.replica }],
              },
            ]
          : [],
        defaultRootObject: ROOT_OBJECT,
        defaultCacheBehavior: {
          targetOriginId: replica ? ORIGIN_IDS.group : ORIGIN_IDS.primary,
          viewerProtocolPolicy: "redirect-to-https",
          // Origin groups serve only reads; OPTIONS answers CORS preflights.
          allowedMethods: ["GET", "HEAD", "OPTIONS"],
          cachedMethods: ["GET", "HEAD"],
          compress: true,
          ...this.cacheSettings(name, args),
        },
        priceClass: args.priceClass,
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        aliases: args.customDomain ? [args.customDomain.name] : [],
        viewerCertificate: certificate
          ? {
              acmCertificateArn: certificate.certificateArn,
              sslSupportMethod: "sni-only",
              minimumProtocolVersion: "TLSv1.2_2021",
            }
          : { cloudfrontDefaultCertificate: true },
        restrictions: { geoRestriction: { restrictionType: "none" } },
        tags,
      }),
      opts,
    );
  }

  /** A cache policy with the TTLs, or the same TTLs on the behaviour for emulators without cache policies. */
  private cacheSettings(
    name: string,
    args: CdnArgs,
  ): Pick<
    aws.types.input.cloudfront.DistributionDefaultCacheBehavior,
    "cachePolicyId" | "forwardedValues" | "minTtl" | "defaultTtl" | "maxTtl"
  > {
    if (args.useLegacyCacheSettings ?? false) {
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
      { parent: this, provider: this.providers.usEast1 },
    );
    return { cachePolicyId: policy.id };
  }

  /** Only this distribution may read the bucket, and only over TLS. */
  private allowDistributionOnly(target: GuardedBucket): void {
    const { bucket } = target;
    new aws.s3.BucketPolicy(
      `${target.name}-policy`,
      {
        bucket: bucket.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "CloudFrontReadsThroughOac",
              Effect: "Allow",
              Principal: { Service: "cloudfront.amazonaws.com" },
              Action: "s3:GetObject",
              Resource: pulumi.interpolate`${bucket.arn}/*`,
              Condition: { StringEquals: { "AWS:SourceArn": this.distribution.arn } },
            },
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      // S3 rejects policy changes while the bucket's public access block is being applied.
      { parent: this, provider: target.provider, dependsOn: [target.publicAccessBlock] },
    );
  }

  private createAliasRecords(name: string, domain: NonNullable<CdnArgs["customDomain"]>): void {
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
              name: this.distribution.domainName,
              zoneId: this.distribution.hostedZoneId,
              evaluateTargetHealth: false,
            },
          ],
        },
        { parent: this, provider: this.providers.usEast1 },
      );
    }
  }

  /**
   * Uploads the build to the primary bucket: the hashed files first, then the entry files that
   * name them, so no page ever points at a file not uploaded yet. Returns the entry files' objects.
   */
  private uploadStaticFiles(
    name: string,
    files: readonly StaticFile[],
    primary: GuardedBucket,
    replication: aws.s3.BucketReplicationConfig | undefined,
  ): aws.s3.BucketObjectv2[] {
    // S3 replicates only objects written after replication is configured.
    const afterReplication = replication ? [replication] : [];
    const upload = (file: StaticFile, dependsOn: pulumi.Resource[]) =>
      new aws.s3.BucketObjectv2(
        `${name}-file-${file.key}`,
        {
          bucket: primary.bucket.id,
          key: file.key,
          source: new pulumi.asset.FileAsset(file.path),
          contentType: file.contentType,
          cacheControl: file.cacheControl,
        },
        // Browsers holding the previous index.html still ask for the previous hashed names, so
        // a new build leaves old hashed files in place (a few KB each) instead of deleting them.
        { parent: this, provider: primary.provider, dependsOn, retainOnDelete: !file.entry },
      );
    const hashed = files
      .filter((file) => !file.entry)
      .map((file) => upload(file, afterReplication));
    return files
      .filter((file) => file.entry)
      .map((file) => upload(file, [...afterReplication, ...hashed]));
  }

  private invalidateEntryPaths(
    name: string,
    files: readonly StaticFile[],
    entryObjects: aws.s3.BucketObjectv2[],
  ): void {
    new CloudFrontInvalidation(
      `${name}-invalidation`,
      {
        distributionId: this.distribution.id,
        paths: ENTRY_PATHS,
        contentHash: entryContentHash(files),
      },
      { parent: this, dependsOn: entryObjects },
    );
  }
}

/** A bucket with the guards other children depend on. */
interface GuardedBucket {
  /** The bucket's logical name, the prefix of its guards' names. */
  name: string;
  bucket: aws.s3.Bucket;
  versioning: aws.s3.BucketVersioning;
  publicAccessBlock: aws.s3.BucketPublicAccessBlock;
  provider: aws.Provider;
}

interface InvalidationInputs {
  distributionId: string;
  paths: string[];
  contentHash: string;
}

export interface CloudFrontInvalidationArgs {
  distributionId: pulumi.Input<string>;
  paths: string[];
  /** A digest of what the paths serve; a new value invalidates them again. */
  contentHash: string;
}

/** CreateInvalidation on create; a change of inputs replaces; delete only forgets. */
const invalidationProvider: pulumi.dynamic.ResourceProvider<
  InvalidationInputs,
  InvalidationInputs
> = {
  async create(inputs) {
    // CloudFront's API lives in us-east-1 whatever the distribution serves.
    const client = new CloudFrontClient({ region: "us-east-1" });
    const answer = await client.send(
      new CreateInvalidationCommand({
        DistributionId: inputs.distributionId,
        InvalidationBatch: {
          // Unique per run: the same content deployed again after a rollback must invalidate again.
          CallerReference: `${inputs.contentHash.slice(0, 16)}-${Date.now()}`,
          Paths: { Quantity: inputs.paths.length, Items: inputs.paths },
        },
      }),
    );
    const id = answer.Invalidation?.Id;
    if (id === undefined)
      throw new Error(`CloudFront accepted no invalidation for ${inputs.distributionId}`);
    return { id, outs: inputs };
  },
  async diff(_id, olds, news) {
    const changed =
      olds.contentHash !== news.contentHash ||
      olds.distributionId !== news.distributionId ||
      olds.paths.join() !== news.paths.join();
    return {
      changes: changed,
      replaces: changed ? ["contentHash"] : [],
      deleteBeforeReplace: false,
    };
  },
  async delete() {},
};

/**
 * Invalidates paths of a distribution, once per distinct `contentHash` (the AWS provider has no
 * resource for it). A new hash or distribution replaces the resource, which invalidates again;
 * deleting it does nothing, as an invalidation cannot be undone. It calls CloudFront with the
 * AWS SDK's default credentials (AWS_ENDPOINT_URL reaches an emulator).
 */
export class CloudFrontInvalidation extends pulumi.dynamic.Resource {
  declare readonly distributionId: pulumi.Output<string>;
  declare readonly contentHash: pulumi.Output<string>;

  constructor(
    name: string,
    args: CloudFrontInvalidationArgs,
    opts: pulumi.CustomResourceOptions = {},
  ) {
    super(invalidationProvider, name, { ...args }, opts, "cloudfront", "Invalidation");
  }
}
