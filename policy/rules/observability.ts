/**
 * Observability: logs are not kept (and paid for) forever, and every alarm tells someone.
 *
 * Log groups need no encryption rule: CloudWatch Logs always encrypts them at rest (with
 * AWS-owned keys unless kmsKeyId names a customer-managed one), and that cannot be turned off.
 */
import * as aws from "@pulumi/aws";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { resourceRule } from "../resourceRule";
import { UNKNOWN, read, readSetting, violation } from "../values";

export const logGroupRetention = resourceRule({
  name: "log-group-retention",
  description: "Every CloudWatch log group expires its events after a set number of days.",
  resource: aws.cloudwatch.LogGroup,
  check: (group) => {
    const days = read(() => group.retentionInDays);
    if (days === UNKNOWN || (typeof days === "number" && days > 0)) return undefined;
    return {
      problem: "it keeps log events forever",
      fix: "set retentionInDays (e.g. 7 or 30 in dev, 90 or more in prod); stored logs cost about $0.03 per GB-month",
    };
  },
});

export const alarmHasAction: ResourceValidationPolicy = {
  name: "alarm-has-action",
  description: "Every CloudWatch alarm has actions enabled and at least one alarm action.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (!args.isType(aws.cloudwatch.MetricAlarm) && !args.isType(aws.cloudwatch.CompositeAlarm))
      return;
    const enabled = read(() => args.props.actionsEnabled as unknown);
    const count = read(() => (args.props.alarmActions as unknown[] | undefined)?.length ?? 0);
    if (enabled === UNKNOWN || count === UNKNOWN) return;
    if (enabled !== false && count > 0) return;
    reportViolation(
      violation(
        args,
        enabled === false
          ? "its actions are disabled, so it fires silently"
          : "it has no alarm action, so it fires silently",
        "send it to the region's alarm topic (alarmActions: [topic.arn], okActions too to hear when it clears) and leave actionsEnabled on",
      ),
    );
  },
};

/**
 * RDS exports each log type in `enabledCloudwatchLogsExports` to `/aws/rds/instance/<id>/<type>`,
 * creating the group itself, kept forever, unless the program created it first.
 */
export const rdsLogGroupsManaged: StackValidationPolicy = {
  name: "rds-log-groups-managed",
  description:
    "Every log an RDS instance exports to CloudWatch Logs goes to a log group the program creates (with a retention), not one RDS creates and keeps forever.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const groups = new Set(
      args.resources
        .filter((resource) => resource.isType(aws.cloudwatch.LogGroup))
        .map((resource) => readSetting(resource, "name"))
        .filter((name): name is string => typeof name === "string"),
    );
    for (const instance of args.resources.filter((resource) => resource.isType(aws.rds.Instance))) {
      const exports = readSetting(instance, "enabledCloudwatchLogsExports");
      const identifier = read(() => instance.props.identifier as unknown);
      if (!Array.isArray(exports) || exports.length === 0 || identifier === UNKNOWN) continue;
      for (const log of exports.map(String)) {
        const expected = `/aws/rds/instance/${String(identifier)}/${log}`;
        if (typeof identifier === "string" && groups.has(expected)) continue;
        reportViolation(
          violation(
            instance,
            typeof identifier === "string"
              ? `it exports its ${log} log, but the stack has no log group ${expected}, so RDS creates one that keeps every event forever`
              : `it exports its ${log} log under an identifier RDS or autonaming picks, so no log group can be created for it first and RDS creates one that keeps every event forever`,
            `give the instance an identifier and create aws.cloudwatch.LogGroup "/aws/rds/instance/<identifier>/${log}" with retentionInDays, and make the instance depend on it`,
          ),
          instance.urn,
        );
      }
    }
  },
};

export const albProdAccessLogs = resourceRule({
  name: "alb-prod-access-logs",
  description: "In prod, application load balancers write access logs to S3.",
  resource: aws.lb.LoadBalancer,
  prodOnly: true,
  check: (lb) => {
    const kind = read(() => lb.loadBalancerType);
    if (kind !== undefined && kind !== "application") return undefined;
    const enabled = read(() => lb.accessLogs?.enabled);
    const bucket = read(() => lb.accessLogs?.bucket);
    if (enabled === UNKNOWN || bucket === UNKNOWN) return undefined;
    if (enabled === true && typeof bucket === "string" && bucket !== "") return undefined;
    return {
      problem:
        "the prod load balancer writes no access logs, so a bad request or a client's errors leave no trace",
      fix: "set accessLogs { bucket, prefix, enabled: true } to a bucket in its region with SSE-S3 encryption that ELB may write to (components/accessLogBucket.ts)",
    };
  },
});

export const rdsProdEnhancedMonitoring = resourceRule({
  name: "rds-prod-enhanced-monitoring",
  description: "In prod, RDS instances report OS metrics through Enhanced Monitoring.",
  resource: aws.rds.Instance,
  prodOnly: true,
  check: (instance) => {
    const interval = read(() => instance.monitoringInterval);
    const role = read(() => instance.monitoringRoleArn);
    if (interval === UNKNOWN || role === UNKNOWN) return undefined;
    if (typeof interval === "number" && interval > 0 && typeof role === "string") return undefined;
    return {
      problem:
        "the prod instance has no Enhanced Monitoring, so CPU steal, memory and per-process load are invisible",
      fix: "set monitoringInterval (60 is enough) and monitoringRoleArn to a role monitoring.rds.amazonaws.com may assume, with AmazonRDSEnhancedMonitoringRole attached",
    };
  },
});
