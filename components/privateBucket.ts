/**
 * The private S3 bucket of users' files (and the CDN's static files): versioned, encrypted under a customer-managed key, no ACLs, every public path blocked,
 * old versions and abandoned uploads expired; its cross-region replication, its CORS rules for
 * browser uploads, and its policy (TLS only; with a CDN, one CloudFront distribution alone reads it).
 *
 * These are functions creating children of the calling component (`parent`), not a component of
 * their own, so the resources keep the names and URNs they had inside `Cdn`.
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import type { Tags } from "./tags";
import { type Transform, transform } from "./transform";

/** Old versions of overwritten or deleted objects are kept this long, to undo mistakes. */
const NONCURRENT_VERSION_EXPIRATION_DAYS = 30;
/** Parts of uploads the browser never completed are removed after this many days. */
const INCOMPLETE_UPLOAD_EXPIRATION_DAYS = 7;
/** How long browsers may cache a CORS preflight answer. */
const CORS_MAX_AGE_SECONDS = 3600;

/** A bucket with the guards other children depend on. */
export interface PrivateBucket {
  /** The bucket's logical name, the prefix of its guards' names. */
  name: string;
  bucket: aws.s3.Bucket;
  versioning: aws.s3.BucketVersioning;
  publicAccessBlock: aws.s3.BucketPublicAccessBlock;
  provider: aws.Provider;
  /** Whether a delete leaves the bucket and its guards in AWS (`retainOnDelete`). */
  retained: boolean;
}

export interface PrivateBucketArgs {
  /** The bucket's region. */
  provider: aws.Provider;
  /**
   * Let `pulumi destroy` delete the bucket with its objects. Without it the bucket and its guards
   * are retained on delete: S3 refuses to delete a bucket holding objects (every version counts),
   * and a delete that failed there would leave the rest of the stack half removed.
   */
  forceDestroy: boolean;
  tags: Tags;
  transform?: Transform<aws.s3.BucketArgs> | undefined;
}

/**
 * The bucket `name` and its guards (`${name}-public-access`, -ownership, -versioning, -lifecycle).
 * Its default encryption comes from `encryptBucket`, once its key exists.
 */
export function createPrivateBucket(
  parent: pulumi.Resource,
  name: string,
  args: PrivateBucketArgs,
): PrivateBucket {
  const retained = !args.forceDestroy;
  // The bucket and what keeps it private, versioned and expiring stay together in AWS.
  const opts = { parent, provider: args.provider, retainOnDelete: retained };
  const bucket = new aws.s3.Bucket(
    name,
    transform(args.transform, { forceDestroy: args.forceDestroy, tags: args.tags }),
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
  return { name, bucket, versioning, publicAccessBlock, provider: args.provider, retained };
}

/**
 * Encrypts new objects of `target` with `kmsKeyArn` (SSE-KMS) by default (`${target.name}-encryption`),
 * with an S3 bucket key: S3 asks KMS for a data key per bucket and period instead of per object,
 * which cuts KMS requests (and their cost) by up to 99%. Switching from SSE-S3 updates the
 * configuration in place; objects written before keep SSE-S3, which OAC reads without a key.
 */
export function encryptBucket(
  parent: pulumi.Resource,
  target: PrivateBucket,
  kmsKeyArn: pulumi.Input<string>,
): aws.s3.BucketServerSideEncryptionConfiguration {
  return new aws.s3.BucketServerSideEncryptionConfiguration(
    `${target.name}-encryption`,
    {
      bucket: target.bucket.id,
      rules: [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: "aws:kms",
            kmsMasterKeyId: kmsKeyArn,
          },
          bucketKeyEnabled: true,
        },
      ],
    },
    // A retained bucket keeps encrypting under its key, which is retained with it.
    { parent, provider: target.provider, retainOnDelete: target.retained },
  );
}

/** A bucket and the key its objects are encrypted with. */
export interface EncryptedBucket {
  bucket: PrivateBucket;
  kmsKeyArn: pulumi.Input<string>;
}

/**
 * The condition of a grant on a bucket's KMS key: only as S3 uses it, for these buckets' data (the
 * encryption context is the bucket's ARN under a bucket key, an object's without one).
 */
export function onlyThroughS3For(buckets: { arn: pulumi.Input<string> }[]) {
  return {
    StringLike: { "kms:ViaService": "s3.*.amazonaws.com" },
    ArnLike: {
      "kms:EncryptionContext:aws:s3:arn": buckets.flatMap((bucket) => [
        bucket.arn,
        pulumi.interpolate`${bucket.arn}/*`,
      ]),
    },
  };
}

/**
 * Replicates every object (and delete marker) of `source` to `destination`, with a role of its
 * own in the source's region (`${name}-replication`: the role, its policy and the configuration).
 */
export function replicateBucket(
  parent: pulumi.Resource,
  name: string,
  {
    source: encryptedSource,
    destination: encryptedDestination,
    tags,
    dependsOn,
  }: {
    source: EncryptedBucket;
    destination: EncryptedBucket;
    tags: Tags;
    /** The buckets' encryption configurations: replication of SSE-KMS objects needs the keys set. */
    dependsOn: pulumi.Resource[];
  },
): aws.s3.BucketReplicationConfig {
  const source = encryptedSource.bucket;
  const destination = encryptedDestination.bucket;
  const opts = { parent, provider: source.provider };
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
          {
            // Reads SSE-KMS objects of the source, only as S3 does it for this bucket.
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: encryptedSource.kmsKeyArn,
            Condition: onlyThroughS3For([source.bucket]),
          },
          {
            // Writes the replicas under the destination's own key (S3 User Guide, "Replicating
            // objects created with server-side encryption (SSE-C, SSE-S3, SSE-KMS, DSSE-KMS)").
            Effect: "Allow",
            Action: ["kms:Encrypt", "kms:GenerateDataKey"],
            Resource: encryptedDestination.kmsKeyArn,
            Condition: onlyThroughS3For([destination.bucket]),
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
          // S3 skips SSE-KMS objects unless told to replicate them, and then needs the replica's key.
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
          destination: {
            bucket: destination.bucket.arn,
            storageClass: "STANDARD",
            encryptionConfiguration: { replicaKmsKeyId: encryptedDestination.kmsKeyArn },
          },
        },
      ],
    },
    // S3 refuses replication until both buckets are versioned.
    { ...opts, dependsOn: [source.versioning, destination.versioning, policy, ...dependsOn] },
  );
}

/**
 * Lets pages from `origins` GET and PUT (presigned uploads) objects from the browser
 * (`${target.name}-cors`). No origins: no CORS rules at all.
 */
export function allowBrowserAccess(
  parent: pulumi.Resource,
  target: PrivateBucket,
  origins: pulumi.Input<string>[],
): void {
  if (origins.length === 0) return;
  new aws.s3.BucketCorsConfiguration(
    `${target.name}-cors`,
    {
      bucket: target.bucket.id,
      corsRules: [
        {
          allowedMethods: ["GET", "PUT"],
          allowedOrigins: origins,
          allowedHeaders: ["*"],
          exposeHeaders: ["ETag"],
          maxAgeSeconds: CORS_MAX_AGE_SECONDS,
        },
      ],
    },
    { parent, provider: target.provider },
  );
}

/**
 * The bucket's policy (`${target.name}-policy`): requests without TLS are denied, and with a
 * distribution, `distributionArn` alone among services may read it, never under `privatePrefixes`.
 * Without one (stages below the CDN) only the account's roles with their own grants read it; the
 * distribution's statements join the same policy in place when it comes.
 */
export function allowDistributionOnly(
  parent: pulumi.Resource,
  target: PrivateBucket,
  distributionArn: pulumi.Input<string> | undefined,
  privatePrefixes: readonly string[] = [],
): aws.s3.BucketPolicy {
  const { bucket } = target;
  const cloudFrontReads =
    distributionArn === undefined
      ? []
      : [
          {
            Sid: "CloudFrontReadsThroughOac",
            Effect: "Allow",
            Principal: { Service: "cloudfront.amazonaws.com" },
            Action: "s3:GetObject",
            Resource: pulumi.interpolate`${bucket.arn}/*`,
            Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
          },
          // An explicit deny wins over the allow above: these keys never leave through the CDN.
          ...(privatePrefixes.length > 0
            ? [
                {
                  Sid: "CloudFrontNeverReadsPrivateFiles",
                  Effect: "Deny",
                  Principal: { Service: "cloudfront.amazonaws.com" },
                  Action: "s3:GetObject",
                  Resource: privatePrefixes.map(
                    (prefix) => pulumi.interpolate`${bucket.arn}/${prefix}*`,
                  ),
                },
              ]
            : []),
        ];
  return new aws.s3.BucketPolicy(
    `${target.name}-policy`,
    {
      bucket: bucket.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          ...cloudFrontReads,
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
    { parent, provider: target.provider, dependsOn: [target.publicAccessBlock] },
  );
}
