import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import type { AlarmSpec, DashboardRow, ObservabilityTransforms } from "./monitoring";
import {
  alarmEmailProblems,
  FIVE_MINUTES,
  metric,
  MINUTE,
  MonitoringComponent,
} from "./monitoring";
import {
  webAclAlarmSpec,
  webAclDashboardRow,
  type WebAclWatch,
  webAclWatchProblems,
} from "./observability";
import { type Transform, transform } from "./transform";
import { throwIfInvalid } from "./validation";
import type { AwsContext } from "./awsContext";

/** Route53 health-check, CloudFront and CloudFront web ACL metrics are published in us-east-1 only. */
const GLOBAL_METRICS_REGION = "us-east-1";
const DEFAULT_CDN_5XX_PERCENT = 5;

export interface GlobalObservabilityArgs {
  /**
   * The account, partition and region the resources live in (components/awsContext.ts).
   * @default looked up through the component's provider (STS in its region)
   */
  context?: AwsContext;
  /** Subscribes this address to the alarm topic (AWS emails a confirmation link first). */
  alarmEmail?: string;
  /**
   * The CloudFront distribution to watch; unset without a CDN (a stage below the CDN's): no CDN
   * row, 5xx alarm or additional-metrics subscription. Setting it later adds them in place.
   */
  distributionId?: pulumi.Input<string>;
  /** The Route53 health checks of the regions' load balancers; empty when the stack has no domain. */
  healthChecks: Array<{ role: "primary" | "secondary"; id: pulumi.Input<string> }>;
  /** The hosted zone Route53 signs (DnsSec), whose DNSSEC errors raise alarms; unset: none. */
  dnssecZoneId?: pulumi.Input<string>;
  /**
   * The share of CloudFront responses that may be 5xx, in percent, before the alarm fires.
   * @default 5
   */
  cdn5xxPercent?: number;
  /** The distribution's web ACL (WebAcl.metrics, scope CLOUDFRONT), when it has one. */
  webAcl?: WebAclWatch;
  /** Change the arguments of a child resource before it is created. */
  transform?: ObservabilityTransforms & {
    monitoringSubscription?: Transform<aws.cloudfront.MonitoringSubscriptionArgs>;
  };
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateGlobalObservabilityArgs(args: GlobalObservabilityArgs): string[] {
  const problems = [...alarmEmailProblems(args.alarmEmail), ...webAclWatchProblems(args.webAcl)];
  const roles = args.healthChecks.map((check) => check.role);
  if (new Set(roles).size !== roles.length) {
    problems.push(
      `healthChecks: roles ${roles.join(", ")} repeat; pass at most one health check per region role`,
    );
  }
  const percent = args.cdn5xxPercent ?? DEFAULT_CDN_5XX_PERCENT;
  if (!Number.isFinite(percent) || percent <= 0 || percent > 100) {
    problems.push(`cdn5xxPercent: ${percent} must be above 0 and at most 100`);
  }
  return problems;
}

function globalDashboardRows(args: GlobalObservabilityArgs): DashboardRow[] {
  const distributionId = args.distributionId;
  const cdn = (id: pulumi.Input<string>, name: string, stat: string, label: string) =>
    metric("AWS/CloudFront", name, { DistributionId: id, Region: "Global" }, stat, label);
  const healthChecks: DashboardRow[] =
    args.healthChecks.length === 0
      ? []
      : [
          {
            title: "Regions (Route53 health checks: 1 healthy, 0 failing)",
            graphs: [
              {
                title: "Health check status",
                lines: args.healthChecks.map((check) =>
                  metric(
                    "AWS/Route53",
                    "HealthCheckStatus",
                    { HealthCheckId: check.id },
                    "Minimum",
                    check.role,
                  ),
                ),
              },
            ],
          },
        ];
  return [
    ...healthChecks,
    ...(distributionId === undefined
      ? []
      : [
          {
            title: "CDN (CloudFront)",
            graphs: [
              { title: "Requests", lines: [cdn(distributionId, "Requests", "Sum", "requests")] },
              {
                title: "Error rate (%)",
                lines: [
                  cdn(distributionId, "4xxErrorRate", "Average", "4xx"),
                  cdn(distributionId, "5xxErrorRate", "Average", "5xx"),
                  cdn(distributionId, "TotalErrorRate", "Average", "total"),
                ],
              },
              {
                title: "Cache hit rate (%)",
                lines: [cdn(distributionId, "CacheHitRate", "Average", "hit rate")],
              },
            ],
          },
        ]),
    ...(args.webAcl ? [webAclDashboardRow(args.webAcl)] : []),
  ];
}

/**
 * Route53's DNSSEC errors (published in us-east-1 per signed zone): a failure here is a domain
 * that validating resolvers may soon refuse to resolve at all (SERVFAIL), so any one alarms.
 */
function dnssecAlarmSpecs(zoneId: pulumi.Input<string>): AlarmSpec[] {
  const zone = { HostedZoneId: zoneId };
  return [
    {
      role: "dnssec-internal-failure",
      what: "Route53 cannot sign the zone (DNSSECInternalFailure): signatures expire and validating resolvers stop answering for the domain.",
      lookAt:
        "the zone's DNSSEC signing status in the Route53 console and the key-signing key's KMS key (enabled, policy unchanged)",
      line: metric("AWS/Route53", "DNSSECInternalFailure", zone, "Maximum"),
      comparison: "GreaterThanThreshold",
      threshold: 0,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching", // published only while the zone is signed
    },
    {
      role: "dnssec-ksk-needs-action",
      what: "A key-signing key needs action (DNSSECKeySigningKeysNeedingAction): its KMS key is disabled, deleted, or no longer lets Route53 sign.",
      lookAt:
        "the key-signing key's status in Route53 and its KMS key's state and key policy (dnssec-route53.amazonaws.com)",
      line: metric("AWS/Route53", "DNSSECKeySigningKeysNeedingAction", zone, "Maximum"),
      comparison: "GreaterThanThreshold",
      threshold: 0,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching", // published only while the zone is signed
    },
  ];
}

function globalAlarmSpecs(args: GlobalObservabilityArgs): AlarmSpec[] {
  const percent = args.cdn5xxPercent ?? DEFAULT_CDN_5XX_PERCENT;
  return [
    ...args.healthChecks.map((check): AlarmSpec => ({
      role: `health-check-${check.role}`,
      what: `Route53 finds the ${check.role} region's load balancer unhealthy and sends its users to the other region.`,
      lookAt: `the ${check.role} region's dashboard and its web service's events`,
      line: metric("AWS/Route53", "HealthCheckStatus", { HealthCheckId: check.id }, "Minimum"),
      comparison: "LessThanThreshold",
      threshold: 1,
      periodSeconds: MINUTE,
      evaluationPeriods: 2,
      treatMissingData: "breaching", // Route53 reports every minute while the check exists; silence must not look healthy
    })),
    ...(args.dnssecZoneId === undefined ? [] : dnssecAlarmSpecs(args.dnssecZoneId)),
    ...(args.distributionId === undefined
      ? []
      : [
          {
            role: "cdn-5xx-rate",
            what: `Over ${percent}% of CloudFront responses are 5xx.`,
            lookAt: "the S3 origins (bucket policy, replication status) and CloudFront's logs",
            line: metric(
              "AWS/CloudFront",
              "5xxErrorRate",
              { DistributionId: args.distributionId, Region: "Global" },
              "Average",
            ),
            comparison: "GreaterThanThreshold",
            threshold: percent,
            periodSeconds: FIVE_MINUTES,
            evaluationPeriods: 2,
            treatMissingData: "notBreaching", // CloudFront publishes only when it serves requests
          } satisfies AlarmSpec,
        ]),
    ...(args.webAcl ? [webAclAlarmSpec(args.webAcl)] : []),
  ];
}

/**
 * What spans the regions: a dashboard of the Route53 health checks in front of the regions and of
 * the CDN (requests, error rates, cache hit rate), with alarms on failing health checks and on
 * CloudFront 5xx, all notifying one SNS topic when they fire and when they recover.
 *
 * Create it with a us-east-1 provider: Route53 health-check metrics and CloudFront metrics exist
 * only there, and alarms can only watch metrics of their own region.
 *
 * @example
 * ```ts
 * new GlobalObservability("global-observability", {
 *   alarmEmail: "ops@example.com",
 *   distributionId: cdn.distributionId,
 *   healthChecks: [{ role: "primary", id: primaryCheckId }, { role: "secondary", id: secondaryCheckId }],
 * }, { provider: usEast1 });
 * ```
 *
 * Cost: about $7 a month: the dashboard $3 beyond an account's first three, CloudFront's
 * additional metrics (needed for the cache hit rate) about $2.40 per distribution, $0.10 per
 * alarm, the topic's KMS key $1.
 */
export class GlobalObservability extends MonitoringComponent {
  private readonly monitoringSubscription: aws.cloudfront.MonitoringSubscription | undefined;

  constructor(
    name: string,
    args: GlobalObservabilityArgs,
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    throwIfInvalid("GlobalObservability", name, validateGlobalObservabilityArgs(args));
    super(
      "zero-to-millions:components:GlobalObservability",
      name,
      {
        region: GLOBAL_METRICS_REGION,
        whyRegion: "Route53 health-check and CloudFront metrics exist only there",
        alarmEmail: args.alarmEmail,
        rows: globalDashboardRows(args),
        alarms: globalAlarmSpecs(args),
        transform: args.transform,
        context: args.context,
      },
      opts,
    );
    this.monitoringSubscription =
      args.distributionId === undefined
        ? undefined
        : this.enableCdnAdditionalMetrics(name, args.distributionId, args.transform);
  }

  /** The underlying resources, for what the arguments do not cover. */
  override get nodes() {
    return { ...super.nodes, monitoringSubscription: this.monitoringSubscription };
  }

  /** CacheHitRate is one of the distribution's additional metrics, off until subscribed. */
  private enableCdnAdditionalMetrics(
    name: string,
    distributionId: pulumi.Input<string>,
    transforms: GlobalObservabilityArgs["transform"],
  ): aws.cloudfront.MonitoringSubscription {
    return new aws.cloudfront.MonitoringSubscription(
      `${name}-cdn-metrics`,
      transform(transforms?.monitoringSubscription, {
        distributionId,
        monitoringSubscription: {
          realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: "Enabled" },
        },
      }),
      { parent: this },
    );
  }
}
