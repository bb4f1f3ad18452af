/**
 * Observability: logs are not kept (and paid for) forever, and every alarm tells someone.
 *
 * Log groups need no encryption rule: CloudWatch Logs always encrypts them at rest (with
 * AWS-owned keys unless kmsKeyId names a customer-managed one), and that cannot be turned off.
 */
import * as aws from "@pulumi/aws";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { UNKNOWN, read, violation } from "../values";

export const logGroupRetention: ResourceValidationPolicy = {
  name: "log-group-retention",
  description: "Every CloudWatch log group expires its events after a set number of days.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(
    aws.cloudwatch.LogGroup,
    (group, args, reportViolation) => {
      const days = read(() => group.retentionInDays);
      if (days === UNKNOWN || (typeof days === "number" && days > 0)) return;
      reportViolation(
        violation(
          args,
          "it keeps log events forever",
          "set retentionInDays (e.g. 7 or 30 in dev, 90 or more in prod); stored logs cost about $0.03 per GB-month",
        ),
      );
    },
  ),
};

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
