import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { tierTags } from "./tags";
import { accountOf, type AwsAccount } from "./awsContext";

/** The service principal ELB uses to deliver access logs in Regions opened since August 2022. */
const ELB_LOG_DELIVERY_PRINCIPAL = "logdelivery.elasticloadbalancing.amazonaws.com";
/** The service S3 delivers server access logs as (S3 User Guide, "Enabling Amazon S3 server access logging"). */
const S3_LOG_DELIVERY_PRINCIPAL = "logging.s3.amazonaws.com";
/** Where S3 server access logs land: `s3/<source bucket>/...`, apart from the load balancers'. */
const SERVER_ACCESS_LOG_PREFIX = "s3";
/** Uploads ELB abandoned half-way are cleaned up after this. */
const ABORT_INCOMPLETE_UPLOAD_DAYS = 1;

export interface AccessLogBucketArgs {
  /**
   * Days an access log is kept before S3 expires it.
   * @example 90
   */
  retentionDays: number;
  /**
   * The key prefix load balancers write under (`<prefix>/AWSLogs/<account>/...`).
   * @default "alb"
   */
  prefix?: string;
  /**
   * Keep the bucket and its logs when the stack is destroyed (Pulumi's `retainOnDelete`): the logs
   * of an incident outlive the stack that had it, and still expire on their own.
   * @default true
   */
  retainOnDestroy?: boolean;
  /**
   * The account the bucket lives in (components/awsContext.ts).
   * @default looked up through the component's provider (STS in its region)
   */
  account?: AwsAccount;
  /**
   * Elastic Load Balancing's account of the bucket's region, which delivers the logs.
   * @default looked up through the component's provider (`aws.elb.getServiceAccount`)
   */
  elbAccountArn?: pulumi.Input<string>;
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateAccessLogBucketArgs(args: AccessLogBucketArgs): string[] {
  const { retentionDays } = args;
  if (Number.isInteger(retentionDays) && retentionDays >= 1) return [];
  return [`retentionDays: ${retentionDays} must be a whole number of days, 1 or more`];
}

/**
 * A bucket for a region's load balancer access logs: private (public access blocked, ACLs off),
 * encrypted with S3-managed keys (SSE-S3: the only encryption ELB access logs support; a KMS key
 * would make delivery fail), expiring each log after `retentionDays`, and writable by ELB's log
 * delivery only (the region's ELB account for Regions before August 2022, the log delivery
 * service principal after), under `prefix`.
 *
 * @example
 * ```ts
 * const logs = new AccessLogBucket("primary-alb-logs", { retentionDays: 90 }, { provider });
 * new WebService("web", { ..., accessLogs: logs.destination });
 * ```
 *
 * Cost: S3 at $0.023 per GB-month; a busy ALB writes a few GB a month.
 */
export class AccessLogBucket extends pulumi.ComponentResource {
  /** Where a load balancer sends its access logs. */
  readonly destination: { bucket: pulumi.Output<string>; prefix: string };
  /**
   * Where the region's buckets send their S3 server access logs (`aws.s3.BucketLogging`'s
   * `targetBucket` and a `targetPrefix` under `prefix`). This bucket itself logs nowhere: logging
   * it into itself would log every log write, without end.
   */
  readonly serverAccessLogs: { bucket: pulumi.Output<string>; prefix: string };

  private readonly bucket: aws.s3.Bucket;

  constructor(name: string, args: AccessLogBucketArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:AccessLogBucket", name, {}, opts);
    const problems = validateAccessLogBucketArgs(args);
    if (problems.length > 0) {
      throw new Error(
        `AccessLogBucket "${name}": invalid arguments:\n  - ${problems.join("\n  - ")}`,
      );
    }
    const prefix = args.prefix ?? "alb";
    const tags = tierTags("observability");
    const retain = { parent: this, retainOnDelete: args.retainOnDestroy ?? true };
    this.bucket = new aws.s3.Bucket(`${name}-bucket`, { tags }, retain);
    const guards = [
      new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        {
          bucket: this.bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        retain,
      ),
      new aws.s3.BucketOwnershipControls(
        `${name}-ownership`,
        { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        retain,
      ),
      new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-encryption`,
        {
          bucket: this.bucket.id,
          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
        },
        retain,
      ),
      new aws.s3.BucketLifecycleConfiguration(
        `${name}-expiry`,
        {
          bucket: this.bucket.id,
          rules: [
            {
              id: "expire-access-logs",
              status: "Enabled",
              filter: {},
              expiration: { days: args.retentionDays },
              abortIncompleteMultipartUpload: {
                daysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS,
              },
            },
          ],
        },
        retain,
      ),
    ];
    const policy = this.createDeliveryPolicy(name, args, prefix, retain, guards);
    this.destination = {
      // Only once ELB may write there: the load balancer checks access when logging is turned on.
      bucket: pulumi.all([this.bucket.bucket, policy.id]).apply(([bucket]) => bucket),
      prefix,
    };
    this.serverAccessLogs = {
      bucket: this.destination.bucket,
      prefix: `${SERVER_ACCESS_LOG_PREFIX}/`,
    };
    this.registerOutputs({ bucket: this.destination.bucket });
  }

  get nodes() {
    return { bucket: this.bucket };
  }

  private createDeliveryPolicy(
    name: string,
    args: AccessLogBucketArgs,
    prefix: string,
    opts: pulumi.CustomResourceOptions,
    guards: pulumi.Resource[],
  ): aws.s3.BucketPolicy {
    const elbAccountArn =
      args.elbAccountArn ?? aws.elb.getServiceAccountOutput({}, { parent: this }).arn;
    const account = accountOf(args.account, { parent: this });
    const objects = pulumi.interpolate`${this.bucket.arn}/${prefix}/AWSLogs/${account.accountId}/*`;
    return new aws.s3.BucketPolicy(
      `${name}-delivery`,
      {
        bucket: this.bucket.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ElbAccountDelivers",
              Effect: "Allow",
              Principal: { AWS: elbAccountArn },
              Action: "s3:PutObject",
              Resource: objects,
            },
            {
              Sid: "ElbServiceDelivers",
              Effect: "Allow",
              Principal: { Service: ELB_LOG_DELIVERY_PRINCIPAL },
              Action: "s3:PutObject",
              Resource: objects,
            },
            {
              // The bucket stays SSE-S3: S3 server access logs are delivered only to a target
              // bucket whose default encryption is SSE-S3 (no SSE-KMS target is supported, with
              // any key policy), as ELB's logs need too (S3 User Guide, "Enabling Amazon S3
              // server access logging").
              Sid: "S3ServerAccessLogsDeliver",
              Effect: "Allow",
              Principal: { Service: S3_LOG_DELIVERY_PRINCIPAL },
              Action: "s3:PutObject",
              Resource: pulumi.interpolate`${this.bucket.arn}/${SERVER_ACCESS_LOG_PREFIX}/*`,
              Condition: { StringEquals: { "aws:SourceAccount": account.accountId } },
            },
            {
              Sid: "TlsOnly",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      // After the public access block, whose creation would otherwise race the policy.
      { ...opts, dependsOn: guards },
    );
  }
}
