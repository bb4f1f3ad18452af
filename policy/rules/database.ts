/**
 * RDS: encrypted, never public, backed up; in prod also multi-AZ, protected from deletion and
 * snapshotted on the way out.
 *
 * A read replica (`replicateSourceDb` set) takes its data, backups and encryption from its source,
 * so the backup, final-snapshot, multi-AZ and deletion-protection rules judge writers only: a
 * lost replica is rebuilt from the writer.
 */
import * as aws from "@pulumi/aws";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { type Environment, environmentConfig, environmentOf } from "../environment";
import { type Finding, resourceRule, unlessOn } from "../resourceRule";
import { UNKNOWN, nonEmptyString, read, violation } from "../values";

/** Fewest days of automated backups per environment (prod: AWS Security Hub RDS.11's default). */
export const MINIMUM_BACKUP_RETENTION_DAYS: Readonly<Record<Environment, number>> = {
  dev: 1,
  localstack: 1,
  prod: 7,
};

/** A replica names its source; while the source's identifier is unknown it is still a replica. */
function isReplica(instance: { replicateSourceDb?: string }): boolean {
  const source = read(() => instance.replicateSourceDb);
  return source === UNKNOWN || nonEmptyString(source) !== undefined;
}

export const rdsEncryptedAtRest = resourceRule({
  name: "rds-encrypted-at-rest",
  description:
    "RDS instances encrypt their storage: writers set storageEncrypted; replicas set it or name the KMS key of their region.",
  resource: aws.rds.Instance,
  check: (instance) => {
    const encrypted = read(() => instance.storageEncrypted);
    if (encrypted === true || encrypted === UNKNOWN) return undefined;
    const key = read(() => instance.kmsKeyId);
    // A cross-region replica ignores storageEncrypted and is encrypted by its kmsKeyId.
    if (isReplica(instance) && (key === UNKNOWN || nonEmptyString(key) !== undefined))
      return undefined;
    return {
      problem: "its storage is not encrypted at rest",
      fix: "set storageEncrypted: true (with kmsKeyId for a customer-managed key); an existing instance cannot be encrypted in place, so restore an encrypted copy of its snapshot",
    };
  },
});

export const rdsNotPubliclyAccessible = resourceRule({
  name: "rds-not-publicly-accessible",
  description: "RDS instances have no public endpoint.",
  resource: aws.rds.Instance,
  check: (instance) =>
    read(() => instance.publiclyAccessible) !== true
      ? undefined
      : {
          problem: "it is publicly accessible",
          fix: "set publiclyAccessible: false and keep it in isolated subnets; the app reaches it through its security group",
        },
});

export const rdsAutomatedBackups: ResourceValidationPolicy = {
  name: "rds-automated-backups",
  description: `RDS writers keep automated backups: at least ${MINIMUM_BACKUP_RETENTION_DAYS.dev} day in dev, ${MINIMUM_BACKUP_RETENTION_DAYS.prod} in prod.`,
  enforcementLevel: "mandatory",
  configSchema: environmentConfig,
  validateResource: validateResourceOfType(aws.rds.Instance, (instance, args, reportViolation) => {
    if (isReplica(instance)) return;
    const days = read(() => instance.backupRetentionPeriod);
    if (days === UNKNOWN) return;
    const environment = environmentOf(args);
    const minimum = MINIMUM_BACKUP_RETENTION_DAYS[environment];
    if (typeof days === "number" && days >= minimum) return;
    reportViolation(
      violation(
        args,
        days === undefined
          ? "its backup retention is not set"
          : `it keeps automated backups for ${days} days; ${environment} needs at least ${minimum}`,
        `set backupRetentionPeriod to ${minimum} or more (up to 35)`,
      ),
    );
  }),
};

/** A prod rule that every RDS writer (replicas are rebuilt from it) has the switch `setting` on. */
function prodWriterSwitch(rule: {
  name: string;
  description: string;
  setting: "multiAz" | "deletionProtection";
  finding: Finding;
}): ResourceValidationPolicy {
  return resourceRule({
    name: rule.name,
    description: rule.description,
    resource: aws.rds.Instance,
    prodOnly: true,
    check: (instance) =>
      isReplica(instance)
        ? undefined
        : unlessOn(
            read(() => instance[rule.setting]),
            rule.finding,
          ),
  });
}

export const rdsProdMultiAz = prodWriterSwitch({
  name: "rds-prod-multi-az",
  description:
    "In prod, RDS writers run multi-AZ, so a zone failure fails over instead of stopping writes.",
  setting: "multiAz",
  finding: {
    problem: "the prod writer runs in a single availability zone",
    fix: "set multiAz: true (a standby in another zone; about double the instance cost)",
  },
});

export const rdsProdDeletionProtection = prodWriterSwitch({
  name: "rds-prod-deletion-protection",
  description: "In prod, RDS writers have deletion protection.",
  setting: "deletionProtection",
  finding: {
    problem: "the prod writer can be deleted by one destroy or replacement",
    fix: "set deletionProtection: true (turn it off in a separate update before an intended deletion)",
  },
});

export const rdsProdFinalSnapshot = resourceRule({
  name: "rds-prod-final-snapshot",
  description: "In prod, deleting an RDS writer leaves a final snapshot.",
  resource: aws.rds.Instance,
  prodOnly: true,
  check: (instance) => {
    if (isReplica(instance)) return undefined;
    const skip = read(() => instance.skipFinalSnapshot);
    const identifier = read(() => instance.finalSnapshotIdentifier);
    if (skip === UNKNOWN || identifier === UNKNOWN) return undefined;
    if (skip === true)
      return {
        problem: "deleting the prod writer would keep no final snapshot",
        fix: "set skipFinalSnapshot: false and a finalSnapshotIdentifier",
      };
    if (nonEmptyString(identifier) === undefined)
      return {
        problem: "it keeps a final snapshot but names none, so deleting it fails",
        fix: "set finalSnapshotIdentifier (unique per deletion, e.g. with a random suffix)",
      };
    return undefined;
  },
});
