/**
 * The audit trail of the global edges, in us-east-1: who asked CloudFront for what, and who asked
 * the hosted zone for which name.
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { LOG_RETENTION_DAYS } from "./awsLimits";
import { stackPhysicalName, tierTags } from "./tags";
import { accountOf, type AwsAccount } from "./awsContext";

/** CloudWatch Logs log group names are at most 512 characters. */
const MAX_LOG_GROUP_NAME_LENGTH = 512;
/** Vended-log delivery sources and destinations are named with at most 60 characters. */
const MAX_DELIVERY_NAME_LENGTH = 60;
/**
 * The service CloudWatch's vended logs deliver as (CloudFront standard logging v2): the log
 * group's resource policy must let it write (CloudWatch Logs User Guide, "Logs sent to CloudWatch
 * Logs").
 */
const VENDED_LOGS_PRINCIPAL = "delivery.logs.amazonaws.com";
/** The service that writes DNS query logs (Route53 Developer Guide, "Logging DNS queries"). */
const ROUTE53_PRINCIPAL = "route53.amazonaws.com";
/** CloudFront's access logs as a vended-log source (CloudWatch PutDeliverySource's logType). */
const CLOUDFRONT_LOG_TYPE = "ACCESS_LOGS";

export interface EdgeLogsArgs {
  /**
   * Days every edge log is kept (a period CloudWatch Logs accepts).
   * @example 90
   */
  retentionDays: number;
  /** The CloudFront distribution whose access logs are delivered (standard logging v2). */
  distributionArn: pulumi.Input<string>;
  /**
   * The public hosted zone whose DNS queries are logged: one the stack created. Unset without one
   * (no domain, or an existing zone: Route53 allows one query-logging configuration per zone, and
   * that one is its owner's).
   */
  zone?: { zoneId: pulumi.Input<string>; domain: string };
  /**
   * The customer-managed key in us-east-1 both log groups are encrypted with; its policy must let
   * us-east-1's CloudWatch Logs use it (components/kmsKey.ts logsKeyUsers). Changing it updates the
   * log groups in place (new events only; older ones stay under the old key).
   */
  kmsKeyArn: pulumi.Input<string>;
  /**
   * The account the resources live in (components/awsContext.ts).
   * @default looked up through the component's provider (STS in its region)
   */
  account?: AwsAccount;
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateEdgeLogsArgs(args: EdgeLogsArgs): string[] {
  if ((LOG_RETENTION_DAYS as readonly number[]).includes(args.retentionDays)) return [];
  return [
    `retentionDays: ${args.retentionDays} is not a period CloudWatch Logs keeps; use one of ${LOG_RETENTION_DAYS.join(", ")}`,
  ];
}

/**
 * CloudFront's access logs and Route53's DNS query logs, each in a log group of its own in
 * us-east-1, encrypted under a customer-managed key, expiring after `retentionDays`.
 *
 * Why log groups, not the S3 log buckets:
 * - Route53 query logs go to CloudWatch Logs only, in us-east-1 (Route53 API Reference,
 *   CreateQueryLoggingConfig), through a resource policy that lets route53.amazonaws.com write.
 * - CloudFront's legacy standard logs need a bucket with ACLs enabled (CloudFront grants its
 *   awslogsdelivery account FULL_CONTROL on each object), which the log buckets refuse
 *   (BucketOwnerEnforced). Standard logging v2 (CloudWatch vended logs: a delivery source, a
 *   destination and a delivery) needs no ACLs, and its source must be created in us-east-1.
 *
 * Must be created with a us-east-1 provider. Cost: vended CloudFront logs
 * $0.50 per GB delivered to CloudWatch Logs, query logs $0.50 per GB ingested, storage $0.03 per
 * GB-month.
 *
 * @example
 * ```ts
 * new EdgeLogs("edge-logs", { retentionDays: 90, distributionArn: cdn.distributionArn,
 *   zone: { zoneId: zone.zoneId, domain: "example.com" }, kmsKeyArn: edgeLogsKey.arn },
 *   { provider: usEast1 });
 * ```
 */
export class EdgeLogs extends pulumi.ComponentResource {
  readonly cdnLogGroupName: pulumi.Output<string>;
  /** Undefined without a zone. */
  readonly dnsLogGroupName: pulumi.Output<string> | undefined;

  constructor(name: string, args: EdgeLogsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:EdgeLogs", name, {}, opts);
    const problems = validateEdgeLogsArgs(args);
    if (problems.length > 0) {
      throw new Error(`EdgeLogs "${name}": invalid arguments:\n  - ${problems.join("\n  - ")}`);
    }
    const tags = tierTags("observability");
    const account = accountOf(args.account, { parent: this });
    const logGroup = (role: string, groupName: string) =>
      new aws.cloudwatch.LogGroup(
        `${name}-${role}`,
        {
          name: groupName,
          retentionInDays: args.retentionDays,
          kmsKeyId: args.kmsKeyArn,
          tags,
        },
        { parent: this },
      );

    // Vended logs' groups under /aws/vendedlogs/ keep CloudWatch's resource policy small.
    const cdnLogs = logGroup(
      "cdn",
      `/aws/vendedlogs/cloudfront/${stackPhysicalName([name], MAX_LOG_GROUP_NAME_LENGTH)}`,
    );
    const dnsLogs = args.zone
      ? logGroup(
          "dns",
          `/aws/route53/${stackPhysicalName([args.zone.domain], MAX_LOG_GROUP_NAME_LENGTH)}`,
        )
      : undefined;
    const policy = this.allowDelivery(name, account, cdnLogs, dnsLogs, args.zone?.zoneId);
    this.deliverCdnLogs(name, args.distributionArn, cdnLogs, policy, tags);
    if (args.zone && dnsLogs) {
      new aws.route53.QueryLog(
        `${name}-dns`,
        { zoneId: args.zone.zoneId, cloudwatchLogGroupArn: dnsLogs.arn },
        // Route53 checks that it may write when the configuration is created.
        { parent: this, dependsOn: [policy] },
      );
    }

    this.cdnLogGroupName = cdnLogs.name;
    this.dnsLogGroupName = dnsLogs?.name;
    this.registerOutputs({
      cdnLogGroupName: this.cdnLogGroupName,
      dnsLogGroupName: this.dnsLogGroupName,
    });
  }

  /** One resource policy (the account has 10 per region) letting each service write its group only. */
  private allowDelivery(
    name: string,
    account: { accountId: pulumi.Output<string>; partition: pulumi.Output<string> },
    cdnLogs: aws.cloudwatch.LogGroup,
    dnsLogs: aws.cloudwatch.LogGroup | undefined,
    zoneId: pulumi.Input<string> | undefined,
  ): aws.cloudwatch.LogResourcePolicy {
    const write = ["logs:CreateLogStream", "logs:PutLogEvents"];
    return new aws.cloudwatch.LogResourcePolicy(
      `${name}-delivery`,
      {
        policyName: stackPhysicalName([name, "delivery"], MAX_LOG_GROUP_NAME_LENGTH),
        policyDocument: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "CloudFrontAccessLogs",
              Effect: "Allow",
              Principal: { Service: VENDED_LOGS_PRINCIPAL },
              Action: write,
              Resource: pulumi.interpolate`${cdnLogs.arn}:log-stream:*`,
              Condition: {
                StringEquals: { "aws:SourceAccount": account.accountId },
                ArnLike: {
                  "aws:SourceArn": pulumi.interpolate`arn:${account.partition}:logs:us-east-1:${account.accountId}:*`,
                },
              },
            },
            ...(dnsLogs && zoneId !== undefined
              ? [
                  {
                    Sid: "Route53QueryLogs",
                    Effect: "Allow",
                    Principal: { Service: ROUTE53_PRINCIPAL },
                    Action: write,
                    Resource: pulumi.interpolate`${dnsLogs.arn}:*`,
                    Condition: {
                      StringEquals: { "aws:SourceAccount": account.accountId },
                      ArnLike: {
                        "aws:SourceArn": pulumi.interpolate`arn:${account.partition}:route53:::hostedzone/${zoneId}`,
                      },
                    },
                  },
                ]
              : []),
          ],
        }),
      },
      { parent: this },
    );
  }

  /** CloudFront standard logging v2: the distribution as a source, the log group as destination. */
  private deliverCdnLogs(
    name: string,
    distributionArn: pulumi.Input<string>,
    logGroup: aws.cloudwatch.LogGroup,
    policy: aws.cloudwatch.LogResourcePolicy,
    tags: Record<string, string>,
  ): aws.cloudwatch.LogDelivery {
    const source = new aws.cloudwatch.LogDeliverySource(
      `${name}-cdn`,
      {
        name: stackPhysicalName([name, "cdn"], MAX_DELIVERY_NAME_LENGTH),
        logType: CLOUDFRONT_LOG_TYPE,
        resourceArn: distributionArn,
        tags,
      },
      { parent: this },
    );
    const destination = new aws.cloudwatch.LogDeliveryDestination(
      `${name}-cdn`,
      {
        name: stackPhysicalName([name, "cdn"], MAX_DELIVERY_NAME_LENGTH),
        outputFormat: "json",
        deliveryDestinationConfiguration: { destinationResourceArn: logGroup.arn },
        tags,
      },
      { parent: this },
    );
    return new aws.cloudwatch.LogDelivery(
      `${name}-cdn`,
      {
        deliverySourceName: source.name,
        deliveryDestinationArn: destination.arn,
        tags,
      },
      { parent: this, dependsOn: [policy] },
    );
  }
}
