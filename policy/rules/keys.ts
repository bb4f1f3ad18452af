/**
 * KMS: every symmetric encryption key the program creates rotates its key material, and every key
 * has an explicit key policy that opens it to no one outside the account's chosen principals.
 *
 * Rotation is free and invisible to callers (KMS keeps the old material to decrypt what it
 * encrypted). Asymmetric and HMAC keys cannot rotate, so the rule judges symmetric encryption keys
 * only, the default kind.
 */
import * as aws from "@pulumi/aws";
import {
  type ResourceValidationPolicy,
  type StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import { deliversLogs } from "./audit";
import { isBucket, settingsOf } from "./storage";
import { UNKNOWN, anyLink, policyStatements, read, readPlain, violation } from "../values";

/** The key spec of a symmetric encryption key, the only kind KMS rotates automatically. */
const SYMMETRIC_KEY_SPEC = "SYMMETRIC_DEFAULT";
const ENCRYPTION_USAGE = "ENCRYPT_DECRYPT";

export const kmsKeyRotation: ResourceValidationPolicy = {
  name: "kms-key-rotation",
  description: "Symmetric KMS encryption keys have automatic key rotation on.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.kms.Key, (key, args, reportViolation) => {
    const spec = read(() => key.customerMasterKeySpec);
    const usage = read(() => key.keyUsage);
    if (spec === UNKNOWN || usage === UNKNOWN) return;
    if ((spec ?? SYMMETRIC_KEY_SPEC) !== SYMMETRIC_KEY_SPEC) return;
    if ((usage ?? ENCRYPTION_USAGE) !== ENCRYPTION_USAGE) return;
    const rotation = read(() => key.enableKeyRotation);
    if (rotation === true || rotation === UNKNOWN) return;
    reportViolation(
      violation(
        args,
        "its key material never rotates",
        "set enableKeyRotation: true (KMS then rotates the material yearly at no extra cost; components/kmsKey.ts does)",
      ),
    );
  }),
};

/**
 * Condition keys that pin a statement to one caller. A service principal without one would let
 * that service use the key on behalf of any account's resources (the confused deputy).
 */
const PINNING_CONDITION_KEYS = [
  "aws:sourcearn",
  "aws:sourceaccount",
  "kms:encryptioncontext:aws:logs:arn",
  "kms:viaservice",
  "kms:callerarn",
  "kms:grantisforawsresource",
];

export const kmsKeyExplicitPolicy: ResourceValidationPolicy = {
  name: "kms-key-explicit-policy",
  description:
    "Every KMS key has an explicit key policy: no statement allows everyone, and every service principal is pinned to this account's resources by a condition.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.kms.Key, (key, args, reportViolation) => {
    const document = readPlain(() => key.policy);
    if (document === UNKNOWN) return;
    const statements = document === undefined ? undefined : policyStatements(document);
    if (statements === undefined || statements.length === 0) {
      reportViolation(
        violation(
          args,
          "it has no key policy of its own, so KMS's default lets any IAM policy in the account use it",
          "create it with components/kmsKey.ts createKmsKey, which writes the account's administrators and the key's users (services with conditions) into its policy",
        ),
      );
      return;
    }
    for (const statement of statements.filter((s) => s.effect === "Allow")) {
      if (statement.principals.includes("*")) {
        reportViolation(
          violation(
            args,
            `its policy allows ${statement.actions.join(", ")} to everyone (Principal "*")`,
            'name the roles or services that use the key instead of "*"',
          ),
        );
      }
      const services = statement.principals.filter((p) => p.startsWith("Service:"));
      const pinned = statement.conditionKeys.some((k) => PINNING_CONDITION_KEYS.includes(k));
      if (services.length > 0 && !pinned) {
        reportViolation(
          violation(
            args,
            `its policy lets ${services.join(", ")} use it without a condition naming this account's resources`,
            "add aws:SourceArn / aws:SourceAccount (or the service's encryption context) to the statement",
          ),
        );
      }
    }
  }),
};

export const logGroupCustomerKey: ResourceValidationPolicy = {
  name: "log-group-customer-key",
  description:
    "Every CloudWatch log group is encrypted under a customer-managed KMS key (kmsKeyId), whose policy the account controls.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.cloudwatch.LogGroup, (group, args, report) => {
    const key = read(() => group.kmsKeyId);
    if (key === UNKNOWN || (typeof key === "string" && key !== "")) return;
    report(
      violation(
        args,
        "it is encrypted only with CloudWatch Logs' own key, which the account cannot audit, restrict or revoke",
        "set kmsKeyId to a key of the log group's region whose policy lets logs.<region>.amazonaws.com use it (components/kmsKey.ts logsKeyUsers; stacks/region.ts creates one per region)",
      ),
    );
  }),
};

export const ecrCustomerKey: ResourceValidationPolicy = {
  name: "ecr-customer-key",
  description: "Every ECR repository encrypts its images under a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.ecr.Repository, (repository, args, report) => {
    const settings = readPlain(() => repository.encryptionConfigurations);
    if (settings === UNKNOWN) return;
    const first = (Array.isArray(settings) ? settings[0] : undefined) as
      { encryptionType?: unknown; kmsKey?: unknown } | undefined;
    if (first?.encryptionType === "KMS" && typeof first.kmsKey === "string" && first.kmsKey !== "")
      return;
    report(
      violation(
        args,
        "its images are encrypted with an AWS-owned key (AES256, or KMS without a key of the account's)",
        'set encryptionConfigurations to [{ encryptionType: "KMS", kmsKey }] with a key from components/kmsKey.ts (this replaces the repository: push the image again)',
      ),
    );
  }),
};

export const s3CustomerKey: StackValidationPolicy = {
  name: "s3-customer-key",
  description:
    "Every S3 bucket except log buckets (ELB and S3 log delivery need SSE-S3) encrypts by default under a customer-managed KMS key (SSE-KMS).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    for (const bucket of args.resources.filter(isBucket)) {
      if (deliversLogs(bucket, args.resources)) continue;
      const configurations = settingsOf(bucket, args.resources, [
        aws.s3.BucketServerSideEncryptionConfiguration,
      ]);
      const underKey = anyLink(
        configurations.map(({ settings: configuration, link }) => {
          const rules = readPlain(() => configuration.props.rules);
          if (rules === UNKNOWN) return "unknown";
          const byDefault = (Array.isArray(rules) ? rules : []).map(
            (rule: { applyServerSideEncryptionByDefault?: Record<string, unknown> }) =>
              rule.applyServerSideEncryptionByDefault,
          );
          return byDefault.some(
            (setting) =>
              setting?.sseAlgorithm === "aws:kms" &&
              typeof setting.kmsMasterKeyId === "string" &&
              setting.kmsMasterKeyId !== "",
          )
            ? link
            : "no";
        }),
      );
      if (underKey !== "no") continue;
      report(
        violation(
          bucket,
          "its objects are not encrypted under a key the account controls",
          'set its BucketServerSideEncryptionConfiguration to sseAlgorithm "aws:kms" with kmsMasterKeyId and bucketKeyEnabled (components/privateBucket.ts encryptBucket); a log bucket instead lets its log-delivery service write in its policy',
        ),
        bucket.urn,
      );
    }
  },
};
