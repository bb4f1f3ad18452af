import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { DnsValidatedCertificate } from "./certificate";
import { createAliasRecords, createDistribution } from "./cdnDistribution";
import { CloudFrontInvalidation } from "./dynamic/cloudFrontInvalidation";
import {
  allowBrowserAccess,
  allowDistributionOnly,
  createPrivateBucket,
  encryptBucket,
  onlyThroughS3For,
  type PrivateBucket,
  replicateBucket,
} from "./privateBucket";
import {
  ENTRY_PATHS,
  entryContentHash,
  ROOT_OBJECT,
  type StaticFile,
  staticFilesIn,
  staticFilesProblems,
} from "./staticSite";
import { createKmsKey } from "./kmsKey";
import { tierTags } from "./tags";
import type { Transform } from "./transform";
import { domainNameProblems, throwIfInvalid } from "./validation";
import type { AwsAccount } from "./awsContext";

/** Where the app keeps users' files in the bucket (docs/CONTRACT.md). */
export const APP_FILE_PREFIXES = ["uploads/", "thumbnails/"] as const;
/** The app's files browsers may read through the CDN: thumbnails; uploaded originals stay private. */
export const PUBLIC_APP_FILE_PREFIXES = ["thumbnails/"] as const;
/** The app's files no one reads through the CDN (the app alone reads them, with its own grant). */
export const PRIVATE_APP_FILE_PREFIXES = APP_FILE_PREFIXES.filter(
  (prefix) => !(PUBLIC_APP_FILE_PREFIXES as readonly string[]).includes(prefix),
);

export interface CdnProviders {
  /** The primary region: the assets bucket, its replication, and grants. */
  primary: aws.Provider;
  /** The secondary region: the replica bucket. */
  secondary: aws.Provider;
  /** us-east-1: CloudFront is global, but its API (and its certificates) live there. */
  usEast1: aws.Provider;
}

/**
 * The CloudFront distribution in front of the buckets (stage 4 on, README: The path). Adding it to
 * a stack that has the buckets adds resources and updates the buckets' and keys' policies in place
 * (CloudFront's read grants); removing it deletes the distribution only.
 */
export interface CdnDistributionArgs {
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
   * A name of its own (e.g. static.example.com) in a zone: adds a us-east-1 certificate, TLS 1.2
   * (2021 ciphers) as the minimum, and A/AAAA aliases. Unset: the distribution's cloudfront.net name.
   */
  customDomain?: { name: string; zoneId: pulumi.Input<string> };
  /**
   * Put TTLs on the cache behaviour (`forwardedValues`) instead of a cache policy, for AWS
   * emulators that do not implement cache policies (moto).
   * @default false
   */
  useLegacyCacheSettings?: boolean;
  /**
   * The ARN of a CLOUDFRONT-scope AWS WAF web ACL (in us-east-1) to put in front of the
   * distribution (its `webAclId`). Changing it updates the distribution in place.
   */
  webAclArn?: pulumi.Input<string>;
}

export interface CdnArgs {
  /**
   * The account the resources live in (components/awsContext.ts).
   * @default looked up through each resource's provider (STS in its region)
   */
  account?: AwsAccount;
  providers: CdnProviders;
  /**
   * The app's origins, allowed to PUT (presigned uploads) and GET the bucket from the browser.
   * Empty: no CORS rules at all.
   * @example ["https://app.example.com"]
   */
  corsAllowedOrigins: pulumi.Input<string>[];
  /**
   * Replicate the bucket to the secondary region (and, with a distribution, fail over to it when
   * the primary's S3 errors).
   * @default true
   */
  enableReplication?: boolean;
  /**
   * The bucket the app writes uploads to (the stack: the one in the region holding the database
   * writer). The public app files' origin group (`thumbnails/*`; originals are never served) tries it first, so a file is
   * served from where it landed: replication runs from the primary bucket to the replica only, and
   * the bucket without the file answers 403 (no s3:ListBucket), which is no reason to fail over.
   * The static files stay primary-first: the deploy uploads them there. `replica` needs
   * `enableReplication`. Changing it reorders that origin group in place (the distribution is
   * updated, not replaced).
   * @default "primary"
   */
  uploadsTo?: "primary" | "replica";
  /**
   * Let `pulumi destroy` delete the buckets with everything in them, users' uploads included.
   * For dev stacks; without it, the buckets (with their guards and encryption) and their KMS keys
   * are retained on delete: S3 refuses to delete a bucket holding objects, and a key scheduled for
   * deletion would take the objects with it. Delete retained ones by hand (README: destroying).
   * @default false
   */
  forceDestroy?: boolean;
  /**
   * CloudFront in front of the buckets. Unset: the buckets alone (stages 1-3), and the app serves
   * its public files and its page itself.
   * @default undefined
   */
  distribution?: CdnDistributionArgs;
  /** Change the arguments of a child resource before it is created. */
  transform?: {
    bucket?: Transform<aws.s3.BucketArgs>;
    distribution?: Transform<aws.cloudfront.DistributionArgs>;
  };
}

/**
 * Validates the arguments, the static build included, before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateCdnArgs(args: CdnArgs): string[] {
  const problems: string[] = [];
  if (args.uploadsTo === "replica" && args.enableReplication === false) {
    problems.push(
      `uploadsTo: "replica" needs the replica bucket; set enableReplication to true or uploadsTo to "primary"`,
    );
  }
  const cdn = args.distribution;
  if (cdn === undefined) return problems;
  problems.push(...staticFilesProblems(cdn.staticFilesDir, "distribution.staticFilesDir"));
  for (const key of ["defaultTtlSeconds", "maxTtlSeconds", "entryTtlSeconds"] as const) {
    if (!Number.isInteger(cdn[key]) || cdn[key] < 0) {
      problems.push(
        `distribution.${key}: ${cdn[key]} must be a whole number of seconds, 0 or more`,
      );
    }
  }
  if (cdn.defaultTtlSeconds > cdn.maxTtlSeconds) {
    problems.push(
      `distribution.defaultTtlSeconds: ${cdn.defaultTtlSeconds} is above maxTtlSeconds (${cdn.maxTtlSeconds}); lower it or raise maxTtlSeconds`,
    );
  }
  if (cdn.customDomain !== undefined) {
    problems.push(
      ...domainNameProblems(
        "distribution.customDomain.name",
        cdn.customDomain.name,
        "static.example.com",
      ),
    );
  }
  return problems;
}

/**
 * Users' files and the CDN in front of them: a private, versioned, encrypted S3 bucket (with a
 * replica in the secondary region) for the app's uploads and thumbnails at every stage, and, with
 * `distribution` (stage 4 on), CloudFront for the static page and the thumbnails, which alone may
 * read the buckets (Origin Access Control) and fails over to the replica when the primary's S3
 * errors. Without a distribution the app serves its page and its thumbnails itself.
 *
 * - The bucket and its guards, keys, replication and CORS do not depend on `distribution`: adding
 *   or removing it never replaces them (test/stack/stages.test.ts proves it over the synth).
 * - The static build is uploaded under its content-hashed names with a year's immutable caching;
 *   index.html and manifest.json get `entryTtlSeconds` and are invalidated when they change.
 * - HTTPS only (HTTP redirects), compressed, IPv6, HTTP/3; TLS 1.2 (2021 ciphers) as the minimum
 *   on a custom domain.
 * - Encrypted with SSE-KMS under a customer-managed key per region (with S3 bucket keys), whose
 *   policy lets CloudFront decrypt for this distribution only (once it exists); replicas are
 *   re-encrypted under the replica's key. Each bucket logs its requests (`logServerAccess`).
 * - `grantReadWrite` lets the app's role read and write its prefixes (uploads/, thumbnails/).
 *
 * `/api/*` is not routed through this distribution: the app's API lives at the root of
 * `app.<domain>`, which GeoDNS sends straight to the regional load balancers, so regional routing
 * and failover stay in one place (Route53); the CDN serves static files and thumbnails only.
 *
 * The component keeps its type and child names from when it was the CDN alone, so stacks deployed
 * with a CDN keep their buckets' URNs (Pulumi would otherwise delete and recreate them).
 *
 * @example
 * ```ts
 * const cdn = new Cdn("cdn", {
 *   providers: { primary, secondary, usEast1 },
 *   corsAllowedOrigins: ["https://app.example.com"],
 *   distribution: {
 *     staticFilesDir: "app/public/dist",
 *     priceClass: "PriceClass_100",
 *     defaultTtlSeconds: 86400, maxTtlSeconds: 31536000, entryTtlSeconds: 60,
 *     customDomain: { name: "static.example.com", zoneId: zone.zoneId },
 *   },
 * });
 * cdn.grantReadWrite("web-primary", webRole.name);
 * ```
 *
 * The invalidation runs with the deploying machine's AWS credentials (the AWS SDK's default chain),
 * not the aws provider's settings.
 *
 * Cost: S3 $0.023 per GB-month, twice with the replica, plus $0.02 per GB replicated, and $1 a
 * month per KMS key; with the distribution, CloudFront about $0.085 per GB and $0.01 per 10,000
 * HTTPS requests (North America and Europe). Idle, it costs its keys ($1 a month each) and cents.
 */
export class Cdn extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** The replica's name; undefined when replication is disabled. */
  readonly replicaBucketName: pulumi.Output<string> | undefined;
  /** The bucket the app's uploads go to (`uploadsTo`), which the CDN reads the app's files from first. */
  readonly uploadsTo: "primary" | "replica";
  /** The distribution's id, ARN and names; undefined without `distribution`. */
  readonly edge:
    | {
        distributionId: pulumi.Output<string>;
        distributionArn: pulumi.Output<string>;
        /** The name users reach: the custom domain, or the distribution's cloudfront.net name. */
        domainName: pulumi.Output<string>;
        cloudfrontDomainName: pulumi.Output<string>;
      }
    | undefined;

  private readonly componentName: string;
  private readonly account: AwsAccount | undefined;
  private readonly providers: CdnProviders;
  private readonly bucket: aws.s3.Bucket;
  private readonly replica: aws.s3.Bucket | undefined;
  private readonly distribution: aws.cloudfront.Distribution | undefined;
  private readonly kmsKey: aws.kms.Key;
  private readonly replicaKmsKey: aws.kms.Key | undefined;

  constructor(name: string, args: CdnArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:Cdn", name, {}, opts);
    throwIfInvalid("Cdn", name, validateCdnArgs(args));
    const cdn = args.distribution;
    const files = cdn ? staticFilesIn(cdn.staticFilesDir, cdn.entryTtlSeconds) : [];
    const tags = tierTags("cdn");
    this.componentName = name;
    this.account = args.account;
    this.providers = args.providers;

    const bucketArgs = (provider: aws.Provider) => ({
      provider,
      forceDestroy: args.forceDestroy ?? false,
      tags,
      transform: args.transform?.bucket,
    });
    const primary = createPrivateBucket(this, `${name}-bucket`, bucketArgs(args.providers.primary));
    const replica =
      (args.enableReplication ?? true)
        ? createPrivateBucket(this, `${name}-replica`, bucketArgs(args.providers.secondary))
        : undefined;
    // Browsers upload to either bucket with presigned URLs: the replica's after a failover.
    for (const bucket of [primary, replica]) {
      if (bucket) allowBrowserAccess(this, bucket, args.corsAllowedOrigins);
    }
    this.distribution = cdn
      ? this.createEdge(name, cdn, { primary, replica }, args, tags)
      : undefined;
    // Each bucket's policy: TLS only, and with a distribution, its reads (never of the originals).
    const bucketPolicies = [primary, replica].flatMap((bucket) =>
      bucket
        ? [allowDistributionOnly(this, bucket, this.distribution?.arn, PRIVATE_APP_FILE_PREFIXES)]
        : [],
    );
    // Keys after the distribution: their policies name it, the one reader besides the app.
    // A bucket `pulumi destroy` keeps keeps its key too: objects under a deleted key are lost.
    const retainKeys = !(args.forceDestroy ?? false);
    this.kmsKey = this.createBucketKey(`${name}-bucket`, args.providers.primary, tags, retainKeys);
    const encryption = [encryptBucket(this, primary, this.kmsKey.arn)];
    const replicaKey = replica
      ? this.createBucketKey(`${name}-replica`, args.providers.secondary, tags, retainKeys)
      : undefined;
    if (replica && replicaKey) encryption.push(encryptBucket(this, replica, replicaKey.arn));
    const replication =
      replica && replicaKey
        ? replicateBucket(this, name, {
            source: { bucket: primary, kmsKeyArn: this.kmsKey.arn },
            destination: { bucket: replica, kmsKeyArn: replicaKey.arn },
            tags,
            dependsOn: encryption,
          })
        : undefined;
    if (this.distribution) {
      const entryObjects = this.uploadStaticFiles(name, files, primary, [
        ...encryption,
        ...(replication ? [replication] : []),
      ]);
      this.invalidateEntryPaths(name, files, this.distribution, entryObjects);
    }

    this.bucket = primary.bucket;
    this.replica = replica?.bucket;
    this.replicaKmsKey = replicaKey;
    this.bucketName = primary.bucket.bucket;
    this.bucketArn = primary.bucket.arn;
    this.replicaBucketName = replica?.bucket.bucket;
    this.uploadsTo = args.uploadsTo ?? "primary";
    this.edge = this.distribution
      ? {
          distributionId: this.distribution.id,
          distributionArn: this.distribution.arn,
          cloudfrontDomainName: this.distribution.domainName,
          // Known only once CloudFront may read the buckets (their policies and keys name it):
          // a task handed the name before would link to files the edge answers 403 for, and
          // caches. S3 applies a bucket policy without waiting for it to propagate.
          domainName: pulumi
            .all([
              cdn?.customDomain ? cdn.customDomain.name : this.distribution.domainName,
              ...bucketPolicies.map((policy) => policy.id),
              this.kmsKey.arn,
              ...(replicaKey ? [replicaKey.arn] : []),
            ])
            .apply(([domainName]) => domainName),
        }
      : undefined;
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      replicaBucketName: this.replicaBucketName,
      distributionId: this.edge?.distributionId,
      distributionArn: this.edge?.distributionArn,
      domainName: this.edge?.domainName,
      cloudfrontDomainName: this.edge?.cloudfrontDomainName,
    });
  }

  /** The distribution with its certificate and alias records, reading the buckets through OAC. */
  private createEdge(
    name: string,
    cdn: CdnDistributionArgs,
    { primary, replica }: { primary: PrivateBucket; replica: PrivateBucket | undefined },
    args: CdnArgs,
    tags: Record<string, string>,
  ): aws.cloudfront.Distribution {
    const certificate = cdn.customDomain
      ? new DnsValidatedCertificate(
          `${name}-certificate`,
          { domainName: cdn.customDomain.name, zoneId: cdn.customDomain.zoneId },
          { parent: this, provider: args.providers.usEast1 },
        )
      : undefined;
    const distribution = createDistribution(this, name, {
      provider: args.providers.usEast1,
      primary,
      replica,
      uploadsTo: args.uploadsTo ?? "primary",
      appFilePrefixes: PUBLIC_APP_FILE_PREFIXES,
      rootObject: ROOT_OBJECT,
      priceClass: cdn.priceClass,
      defaultTtlSeconds: cdn.defaultTtlSeconds,
      maxTtlSeconds: cdn.maxTtlSeconds,
      useLegacyCacheSettings: cdn.useLegacyCacheSettings ?? false,
      customDomain:
        cdn.customDomain && certificate
          ? { name: cdn.customDomain.name, certificateArn: certificate.certificateArn }
          : undefined,
      tags,
      webAclArn: cdn.webAclArn,
      transform: args.transform?.distribution,
    });
    if (cdn.customDomain) {
      createAliasRecords(this, name, {
        domain: cdn.customDomain,
        distribution,
        provider: args.providers.usEast1,
      });
    }
    return distribution;
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return { bucket: this.bucket, replica: this.replica, distribution: this.distribution };
  }

  /**
   * Lets a role read and write the app's files (uploads/ and thumbnails/) in the primary bucket
   * and in its replica, and nothing else: no deleting, no static files, and listing only so that a
   * missing key is a 404. The replica is granted ahead of time: with `database.writerRegion:
   * secondary` the app uploads there, and a failover then changes no IAM policy (IAM's control
   * plane is in us-east-1).
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
              Resource: [this.bucket, ...(this.replica ? [this.replica] : [])].flatMap((bucket) =>
                APP_FILE_PREFIXES.map((prefix) => pulumi.interpolate`${bucket.arn}/${prefix}*`),
              ),
            },
            {
              // Without it S3 answers 403, not 404, for a key that does not exist, and the app
              // cannot tell "not uploaded yet" from "not allowed". These buckets only (the replica
              // takes uploads after a failover): an s3:prefix condition would not help, since a
              // HEAD or GET of one key carries no prefix.
              Sid: "AppFilesExist",
              Effect: "Allow",
              Action: "s3:ListBucket",
              Resource: [this.bucket, ...(this.replica ? [this.replica] : [])].map(
                (bucket) => bucket.arn,
              ),
            },
            {
              // SSE-KMS: reading decrypts, writing (presigned PUTs too) asks for a data key;
              // only through S3, for these buckets (the replica's key too, for after a failover).
              Sid: "AppFilesKey",
              Effect: "Allow",
              Action: ["kms:Decrypt", "kms:GenerateDataKey"],
              Resource: [this.kmsKey, ...(this.replicaKmsKey ? [this.replicaKmsKey] : [])].map(
                (key) => key.arn,
              ),
              Condition: onlyThroughS3For([this.bucket, ...(this.replica ? [this.replica] : [])]),
            },
          ],
        }),
      },
      { parent: this, provider: this.providers.primary },
    );
  }

  /**
   * A bucket's key, in its region: the app's roles use it through S3 (`grantReadWrite`), the
   * replication role through its IAM policy, and CloudFront (once the distribution exists) reads
   * through OAC for this distribution only (CloudFront Developer Guide, "Restricting access to an Amazon S3 origin":
   * SSE-KMS needs kms:Decrypt for cloudfront.amazonaws.com with the distribution as SourceArn).
   */
  private createBucketKey(
    name: string,
    provider: aws.Provider,
    tags: Record<string, string>,
    retainOnDelete: boolean,
  ) {
    return createKmsKey(this, name, {
      description: `${name}: static files and users' uploads`,
      // Without a distribution, no service reads the key as itself; with one, that one alone.
      users: this.distribution
        ? [
            {
              sid: "CloudFrontReadsThroughOac",
              principal: { Service: "cloudfront.amazonaws.com" },
              actions: ["kms:Decrypt"],
              condition: { StringEquals: { "aws:SourceArn": this.distribution.arn } },
            },
          ]
        : [],
      alias: true,
      retainOnDelete,
      provider,
      tags,
      ...(this.account === undefined ? {} : { account: this.account }),
    });
  }

  /**
   * Logs every request to the bucket of `role`'s region (the primary bucket, or its replica) into
   * `target`, under `<prefix><bucket logical name>/` (`${bucket}-access-logs`). S3 delivers server
   * access logs only to a bucket of the same region and account.
   */
  logServerAccess(
    role: "primary" | "secondary",
    target: { bucket: pulumi.Input<string>; prefix: string },
  ): aws.s3.BucketLogging | undefined {
    const source = role === "primary" ? this.bucket : this.replica;
    if (source === undefined) return undefined;
    const logicalName =
      role === "primary" ? `${this.componentName}-bucket` : `${this.componentName}-replica`;
    return new aws.s3.BucketLogging(
      `${logicalName}-access-logs`,
      {
        bucket: source.id,
        targetBucket: target.bucket,
        targetPrefix: `${target.prefix}${logicalName}/`,
      },
      { parent: this, provider: this.providers[role] },
    );
  }

  /**
   * Uploads the build to the primary bucket: the hashed files first, then the entry files that
   * name them, so no page ever points at a file not uploaded yet. Returns the entry files' objects.
   */
  private uploadStaticFiles(
    name: string,
    files: readonly StaticFile[],
    primary: PrivateBucket,
    /** Encryption and replication: S3 encrypts and replicates only objects written after them. */
    afterReplication: pulumi.Resource[],
  ): aws.s3.BucketObjectv2[] {
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
    distribution: aws.cloudfront.Distribution,
    entryObjects: aws.s3.BucketObjectv2[],
  ): void {
    new CloudFrontInvalidation(
      `${name}-invalidation`,
      {
        distributionId: distribution.id,
        paths: ENTRY_PATHS,
        contentHash: entryContentHash(files),
      },
      { parent: this, dependsOn: entryObjects },
    );
  }
}
