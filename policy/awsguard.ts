/**
 * The @pulumi/awsguard rules that apply to the resource types this program uses, run as part of
 * this pack.
 *
 * AwsGuard is itself a PolicyPack, and a process may construct only one, so the pack takes its
 * rule objects instead. awsguard 0.3 was written against @pulumi/aws v4; a rule of it runs only
 * where its type token is still the one v7 uses (RDS instances, KMS keys) and it reads properties
 * that still mean the same. `AWSGUARD_SKIPPED` says why each other rule is left out.
 *
 * Adopted rules get this pack's enforcement level, fixed settings, and messages that name the
 * resource and the fix like the pack's own.
 */
import type {
  EnforcementLevel,
  ResourceValidation,
  ResourceValidationPolicy,
} from "@pulumi/policy";
import * as awsguardDatabase from "@pulumi/awsguard/database";
import * as awsguardSecurity from "@pulumi/awsguard/security";
import { violation } from "./values";

// awsguard's security module loads aws-sdk v2, which prints an end-of-support notice on the next
// tick; the adopted rule never calls AWS.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";

// The modules export their rule objects at run time; their typings mark them internal.
const database = awsguardDatabase as unknown as Record<
  string,
  ResourceValidationPolicy | undefined
>;
const security = awsguardSecurity as unknown as Record<
  string,
  ResourceValidationPolicy | undefined
>;

interface Adoption {
  enforcementLevel: EnforcementLevel;
  /** What to do about a violation (awsguard's messages only say what is wrong). */
  fix: string;
  /** The rule's settings, fixed here rather than left to pack config. */
  config?: Record<string, unknown>;
}

/** Wraps an awsguard rule: `awsguard-` name, our enforcement level and settings, our message shape. */
export function adopt(
  rule: ResourceValidationPolicy | undefined,
  adoption: Adoption,
): ResourceValidationPolicy {
  if (rule?.validateResource === undefined) {
    throw new Error(
      "@pulumi/awsguard no longer exports an adopted rule; update policy/awsguard.ts",
    );
  }
  const validations = Array.isArray(rule.validateResource)
    ? rule.validateResource
    : [rule.validateResource];
  return {
    name: `awsguard-${rule.name}`,
    description: `${rule.description} (from @pulumi/awsguard)`,
    enforcementLevel: adoption.enforcementLevel,
    validateResource: validations.map(
      (validate): ResourceValidation =>
        (args, reportViolation) =>
          validate(
            { ...args, getConfig: <T extends object>() => ({ ...adoption.config }) as T },
            (message) => reportViolation(violation(args, message.replace(/\.$/, ""), adoption.fix)),
          ),
    ),
  };
}

export const awsguardPolicies: ResourceValidationPolicy[] = [
  adopt(database.rdsStorageEncrypted, {
    enforcementLevel: "mandatory",
    fix: "set storageEncrypted: true (an existing instance is encrypted by restoring an encrypted snapshot copy)",
  }),
  adopt(database.rdsInstancePublicAccess, {
    enforcementLevel: "mandatory",
    fix: "set publiclyAccessible: false",
  }),
  adopt(database.rdsInstanceBackupEnabled, {
    enforcementLevel: "mandatory",
    fix: "set backupRetentionPeriod to 1 or more",
    // Read replicas are backed up through their writer (rds-automated-backups judges writers).
    config: { checkReadReplicas: false },
  }),
  adopt(security.cmkBackingKeyRotationEnabled, {
    enforcementLevel: "mandatory",
    fix: "set enableKeyRotation: true (KMS then rotates the key material yearly at no extra cost)",
  }),
];

/** Every other awsguard 0.3 rule, and why it does not run here. */
export const AWSGUARD_SKIPPED: Readonly<Record<string, string>> = {
  "rds-instance-multi-az-enabled":
    "asks every instance to be multi-AZ, dev and read replicas too; rds-prod-multi-az asks it of prod writers",
  "alb-http-to-https-redirection":
    "targets the v4 token aws:elasticloadbalancingv2/listener:Listener, never the aws:lb/listener:Listener this program creates; lb-http-redirects-to-https does the job",
  "elb-logging-enabled":
    "targets the v4 aws:elasticloadbalancing, aws:elasticloadbalancingv2 and aws:applicationloadbalancing tokens, never aws:lb/loadBalancer:LoadBalancer",
  "elb-deletion-protection-enabled":
    "targets the v4 aws:elasticloadbalancingv2 and aws:applicationloadbalancing tokens, never aws:lb/loadBalancer:LoadBalancer",
  "s3-bucket-logging-enabled":
    "matches aws:s3/bucket:Bucket but reads the v4 inline `loggings` property, which v7 buckets do not have (logging is a separate aws.s3.BucketLogging), so it would flag every bucket",
  "acm-certificate-expiration":
    "calls the ACM API with AWS SDK v2 in the ambient aws:region, which this program never sets (explicit providers), and cannot run offline; it guards imported certificates, and ours are ACM-issued and renew themselves",
  "access-keys-rotated":
    "checks IAM users' access keys through the IAM API; the program creates no IAM users",
  "mfa-enabled-for-iam-console-access": "checks aws.iam.UserLoginProfile; the program creates none",
  "ec2-instance-detailed-monitoring-enabled":
    "checks aws.ec2.Instance; the program runs on Fargate and creates none",
  "ec2-instance-no-public-ip":
    "checks aws.ec2.Instance; the program creates none (ecs-no-public-ip covers the tasks)",
  "ec2-volume-inuse": "checks aws.ec2.Instance; the program creates none",
  "encrypted-volumes": "checks aws.ec2.Instance; the program creates none",
  "efs-encrypted": "checks aws.efs.FileSystem; the program creates none",
  "dynamodb-table-encryption-enabled": "checks aws.dynamodb.Table; the program creates none",
  "redshift-cluster-configuration": "checks aws.redshift.Cluster; the program creates none",
  "redshift-cluster-maintenance-settings": "checks aws.redshift.Cluster; the program creates none",
  "redshift-cluster-public-access": "checks aws.redshift.Cluster; the program creates none",
  "elasticsearch-encrypted-at-rest": "checks aws.elasticsearch.Domain; the program creates none",
  "elasticsearch-in-vpc-only": "checks aws.elasticsearch.Domain; the program creates none",
  "apigateway-stage-cached": "checks API Gateway stages; the program has no API Gateway",
  "apigateway-method-cached-and-encrypted":
    "checks API Gateway method settings; the program has no API Gateway",
  "apigateway-endpoint-type": "checks API Gateway REST APIs; the program has no API Gateway",
};
