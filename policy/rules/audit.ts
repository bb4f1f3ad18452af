/**
 * Every way in is logged, and the zone's answers are signed: CloudFront's access logs, the asset
 * buckets' server access logs (prod), Route53's query logs, and DNSSEC on a zone the stack creates.
 *
 * The emulator stack (environment localstack) runs without them (stacks/emulator.ts:
 * edgeAuditSkippedReason), so these rules read the environment.
 */
import * as aws from "@pulumi/aws";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { environmentConfig, environmentOf } from "../environment";
import {
  type Link,
  UNKNOWN,
  anyLink,
  policyStatements,
  read,
  readPlain,
  refersTo,
  violation,
} from "../values";
import { isBucket, namesBucket, settingsOf } from "./storage";

/** Services that deliver logs into a bucket: a bucket whose policy lets one write is a log bucket. */
export const LOG_DELIVERY_PRINCIPALS = [
  "Service:logging.s3.amazonaws.com",
  "Service:logdelivery.elasticloadbalancing.amazonaws.com",
  "Service:delivery.logs.amazonaws.com",
];

/** Resources of `kind` whose `property` points at `target`, combined. */
function linked(
  resources: PolicyResource[],
  kind: Parameters<PolicyResource["isType"]>[0],
  property: string,
  target: PolicyResource,
  identifiers: readonly string[],
  accept: (resource: PolicyResource) => boolean = () => true,
): Link {
  return anyLink(
    resources
      .filter((resource) => resource.isType(kind) && accept(resource))
      .map((resource) => refersTo(resource, property, target, identifiers)),
  );
}

export const cloudfrontAccessLogs: StackValidationPolicy = {
  name: "cloudfront-access-logs",
  description:
    "Every CloudFront distribution delivers its access logs: standard logging v2 (a CloudWatch log delivery of its ACCESS_LOGS) or legacy logging to S3.",
  enforcementLevel: "mandatory",
  configSchema: environmentConfig,
  validateStack: (args, reportViolation) => {
    if (environmentOf(args) === "localstack") return;
    const deliveries = args.resources.filter((r) => r.isType(aws.cloudwatch.LogDelivery));
    for (const distribution of args.resources.filter((r) =>
      r.isType(aws.cloudfront.Distribution),
    )) {
      const legacy = read(() => distribution.props.loggingConfig?.bucket as unknown);
      if (legacy === UNKNOWN || (typeof legacy === "string" && legacy !== "")) continue;
      const sources = args.resources.filter(
        (r) =>
          r.isType(aws.cloudwatch.LogDeliverySource) &&
          read(() => r.props.logType as unknown) !== "CONNECTION_LOGS" &&
          refersTo(r, "resourceArn", distribution, ["arn"]) !== "no",
      );
      const delivered = anyLink(
        sources.flatMap((source) =>
          deliveries.map((delivery) => refersTo(delivery, "deliverySourceName", source, ["name"])),
        ),
      );
      if (delivered !== "no") continue;
      reportViolation(
        violation(
          distribution,
          "no one could tell who fetched what from it: its access logs go nowhere",
          "deliver its ACCESS_LOGS with an aws.cloudwatch.LogDeliverySource, LogDeliveryDestination and LogDelivery (components/edgeLogs.ts)",
        ),
        distribution.urn,
      );
    }
  },
};

export const route53QueryLogs: StackValidationPolicy = {
  name: "route53-query-logs",
  description:
    "Every public hosted zone the stack creates logs its DNS queries (aws.route53.QueryLog).",
  enforcementLevel: "mandatory",
  configSchema: environmentConfig,
  validateStack: (args, reportViolation) => {
    if (environmentOf(args) === "localstack") return;
    for (const zone of publicZones(args.resources)) {
      if (linked(args.resources, aws.route53.QueryLog, "zoneId", zone, ["zoneId", "id"]) !== "no")
        continue;
      reportViolation(
        violation(
          zone,
          "its DNS queries are not logged",
          "add an aws.route53.QueryLog writing to a log group in us-east-1 that route53.amazonaws.com may write to (components/edgeLogs.ts)",
        ),
        zone.urn,
      );
    }
  },
};

/**
 * The tag of a zone its stack declares unsigned on purpose (`dns.dnssec: off`, set by
 * components/dnsZone.ts DNSSEC_OFF_TAG; a test checks the two agree). Policy config is per
 * environment, not per stack, so the intent travels on the zone itself.
 */
export const DNSSEC_OFF_TAG = { key: "dnssec", value: "off" } as const;

export const route53ZoneDnssec: StackValidationPolicy = {
  name: "route53-zone-dnssec",
  description: `Every public hosted zone the stack creates is signed with DNSSEC (an aws.route53.HostedZoneDnsSec signing it), unless the zone is tagged ${DNSSEC_OFF_TAG.key}=${DNSSEC_OFF_TAG.value} (the stack's dns.dnssec: off).`,
  enforcementLevel: "mandatory",
  configSchema: environmentConfig,
  validateStack: (args, reportViolation) => {
    if (environmentOf(args) === "localstack") return;
    for (const zone of publicZones(args.resources)) {
      const tags = readPlain(() => zone.props.tags as unknown);
      const declaredOff =
        typeof tags === "object" &&
        tags !== null &&
        (tags as Record<string, unknown>)[DNSSEC_OFF_TAG.key] === DNSSEC_OFF_TAG.value;
      if (declaredOff) continue;
      const signing = linked(
        args.resources,
        aws.route53.HostedZoneDnsSec,
        "hostedZoneId",
        zone,
        ["zoneId", "id"],
        (settings) => {
          const status = read(() => settings.props.signingStatus as unknown);
          return status === UNKNOWN || status === undefined || status === "SIGNING";
        },
      );
      if (signing !== "no") continue;
      reportViolation(
        violation(
          zone,
          "its answers are not signed, so a resolver cannot tell them from forged ones",
          `sign it with an aws.route53.KeySigningKey on an ECC_NIST_P256 key in us-east-1 and an aws.route53.HostedZoneDnsSec (components/dnsSec.ts), then publish the DS record at the registrar; or, to leave it unsigned on purpose, set dns.dnssec: off (tags it ${DNSSEC_OFF_TAG.key}=${DNSSEC_OFF_TAG.value})`,
        ),
        zone.urn,
      );
    }
  },
};

export const s3ProdServerAccessLogs: StackValidationPolicy = {
  name: "s3-prod-server-access-logs",
  description:
    "In prod, every S3 bucket except the log buckets themselves writes server access logs (aws.s3.BucketLogging) to another bucket.",
  enforcementLevel: "mandatory",
  configSchema: environmentConfig,
  validateStack: (args, reportViolation) => {
    if (environmentOf(args) !== "prod") return;
    const loggings = args.resources.filter((r) => r.isType(aws.s3.BucketLogging));
    for (const bucket of args.resources.filter(isBucket)) {
      const targeted = anyLink(
        loggings.map((logging) => namesBucket(logging, bucket, "targetBucket")),
      );
      const isLogBucket = targeted !== "no" || deliversLogs(bucket, args.resources);
      const own = settingsOf(bucket, loggings, [aws.s3.BucketLogging]);
      if (isLogBucket) {
        const intoItself = own.some(
          ({ settings }) => namesBucket(settings, bucket, "targetBucket") === "yes",
        );
        if (!intoItself) continue;
        reportViolation(
          violation(
            bucket,
            "it logs its own server access into itself: every log write is logged again, without end",
            "leave log buckets without server access logging (their readers are audited by CloudTrail), or log to another bucket",
          ),
          bucket.urn,
        );
        continue;
      }
      if (own.length > 0) continue;
      reportViolation(
        violation(
          bucket,
          "reads and writes of its objects leave no trace",
          "add an aws.s3.BucketLogging targeting the region's log bucket, whose policy lets logging.s3.amazonaws.com write (components/accessLogBucket.ts)",
        ),
        bucket.urn,
      );
    }
  },
};

/** Zones the stack creates that are public (no VPC attached). */
function publicZones(resources: PolicyResource[]): PolicyResource[] {
  return resources.filter((resource) => {
    if (!resource.isType(aws.route53.Zone)) return false;
    const vpcs = readPlain(() => resource.props.vpcs);
    return vpcs === UNKNOWN || !Array.isArray(vpcs) || vpcs.length === 0;
  });
}

/** Whether a bucket policy lets a log-delivery service write into `bucket`. */
export function deliversLogs(bucket: PolicyResource, resources: PolicyResource[]): boolean {
  return settingsOf(bucket, resources, [aws.s3.BucketPolicy]).some(({ settings: policy }) => {
    const document = readPlain(() => policy.props.policy);
    if (document === UNKNOWN) return true;
    return (policyStatements(document) ?? []).some(
      (statement) =>
        statement.effect === "Allow" &&
        statement.principals.some((principal) => LOG_DELIVERY_PRINCIPALS.includes(principal)),
    );
  });
}
