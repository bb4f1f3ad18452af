/**
 * ElastiCache replication groups: encrypted at rest and in transit; in prod, a replica takes over
 * when the primary fails. (A cache has no public endpoint setting: who may reach it is decided by
 * its security group, which security-group-no-world-ingress checks.)
 */
import * as aws from "@pulumi/aws";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { environmentConfig, environmentOf } from "../environment";
import { UNKNOWN, read, violation } from "../values";

export const elasticacheEncryptedAtRest: ResourceValidationPolicy = {
  name: "elasticache-encrypted-at-rest",
  description: "ElastiCache replication groups encrypt their data and snapshots at rest.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(
    aws.elasticache.ReplicationGroup,
    (group, args, reportViolation) => {
      const encrypted = read(() => group.atRestEncryptionEnabled);
      if (encrypted === true || encrypted === UNKNOWN) return;
      reportViolation(
        violation(
          args,
          "its data and snapshots are not encrypted at rest",
          "set atRestEncryptionEnabled: true (with kmsKeyId for a customer-managed key); this replaces the replication group",
        ),
      );
    },
  ),
};

export const elasticacheEncryptedInTransit: ResourceValidationPolicy = {
  name: "elasticache-encrypted-in-transit",
  description: "ElastiCache replication groups accept TLS connections only.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(
    aws.elasticache.ReplicationGroup,
    (group, args, reportViolation) => {
      const enabled = read(() => group.transitEncryptionEnabled);
      const mode = read(() => group.transitEncryptionMode);
      if (enabled === UNKNOWN || mode === UNKNOWN) return;
      if (enabled === true && mode !== "preferred") return;
      reportViolation(
        violation(
          args,
          enabled === true
            ? 'transitEncryptionMode "preferred" still accepts plaintext connections'
            : "it accepts plaintext connections",
          'set transitEncryptionEnabled: true with transitEncryptionMode "required" (or unset), and connect with TLS (rediss://)',
        ),
      );
    },
  ),
};

export const elasticacheProdAutomaticFailover: ResourceValidationPolicy = {
  name: "elasticache-prod-automatic-failover",
  description: "In prod, ElastiCache replication groups fail over to a replica automatically.",
  enforcementLevel: "mandatory",
  configSchema: environmentConfig,
  validateResource: validateResourceOfType(
    aws.elasticache.ReplicationGroup,
    (group, args, reportViolation) => {
      if (environmentOf(args) !== "prod") return;
      const failover = read(() => group.automaticFailoverEnabled);
      if (failover === true || failover === UNKNOWN) return;
      reportViolation(
        violation(
          args,
          "the prod cache has no automatic failover, so losing its primary node stops writes",
          "set automaticFailoverEnabled: true and multiAzEnabled: true, with at least one replica (numCacheClusters of 2 or more)",
        ),
      );
    },
  ),
};

export const elasticacheNoStaticPassword: ResourceValidationPolicy = {
  name: "elasticache-no-static-password",
  description:
    "ElastiCache replication groups take no AUTH token: clients sign in through a user group (IAM authentication).",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(
    aws.elasticache.ReplicationGroup,
    (group, args, reportViolation) => {
      const token = read(() => group.authToken);
      const userGroups = read(() => group.userGroupIds);
      if (token === UNKNOWN || userGroups === UNKNOWN) return;
      if (token !== undefined && token !== null && token !== "") {
        reportViolation(
          violation(
            args,
            "it takes an AUTH token, a long-lived password shared by every client",
            'remove authToken and set userGroupIds to a user group whose app user has authenticationMode { type: "iam" } (authTokenUpdateStrategy "DELETE" moves an existing group in place)',
          ),
        );
        return;
      }
      if (Array.isArray(userGroups) && userGroups.length > 0) return;
      reportViolation(
        violation(
          args,
          "it has no user group, so any client that reaches it signs in as the default user",
          'set userGroupIds to a user group whose app user has authenticationMode { type: "iam" } and whose default user is off',
        ),
      );
    },
  ),
};
