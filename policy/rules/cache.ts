/**
 * ElastiCache replication groups: encrypted at rest and in transit; in prod, a replica takes over
 * when the primary fails. (A cache has no public endpoint setting: who may reach it is decided by
 * its security group, which security-group-no-world-ingress checks.)
 */
import * as aws from "@pulumi/aws";
import { resourceRule, unlessOn } from "../resourceRule";
import { UNKNOWN, read } from "../values";

export const elasticacheEncryptedAtRest = resourceRule({
  name: "elasticache-encrypted-at-rest",
  description: "ElastiCache replication groups encrypt their data and snapshots at rest.",
  resource: aws.elasticache.ReplicationGroup,
  check: (group) =>
    unlessOn(
      read(() => group.atRestEncryptionEnabled),
      {
        problem: "its data and snapshots are not encrypted at rest",
        fix: "set atRestEncryptionEnabled: true (with kmsKeyId for a customer-managed key); this replaces the replication group",
      },
    ),
});

export const elasticacheEncryptedInTransit = resourceRule({
  name: "elasticache-encrypted-in-transit",
  description: "ElastiCache replication groups accept TLS connections only.",
  resource: aws.elasticache.ReplicationGroup,
  check: (group) => {
    const enabled = read(() => group.transitEncryptionEnabled);
    const mode = read(() => group.transitEncryptionMode);
    if (enabled === UNKNOWN || mode === UNKNOWN) return undefined;
    if (enabled === true && mode !== "preferred") return undefined;
    return {
      problem:
        enabled === true
          ? 'transitEncryptionMode "preferred" still accepts plaintext connections'
          : "it accepts plaintext connections",
      fix: 'set transitEncryptionEnabled: true with transitEncryptionMode "required" (or unset), and connect with TLS (rediss://)',
    };
  },
});

export const elasticacheProdAutomaticFailover = resourceRule({
  name: "elasticache-prod-automatic-failover",
  description: "In prod, ElastiCache replication groups fail over to a replica automatically.",
  resource: aws.elasticache.ReplicationGroup,
  prodOnly: true,
  check: (group) =>
    unlessOn(
      read(() => group.automaticFailoverEnabled),
      {
        problem:
          "the prod cache has no automatic failover, so losing its primary node stops writes",
        fix: "set automaticFailoverEnabled: true and multiAzEnabled: true, with at least one replica (numCacheClusters of 2 or more)",
      },
    ),
});

export const elasticacheNoStaticPassword = resourceRule({
  name: "elasticache-no-static-password",
  description:
    "ElastiCache replication groups take no AUTH token: clients sign in through a user group (IAM authentication).",
  resource: aws.elasticache.ReplicationGroup,
  check: (group) => {
    const token = read(() => group.authToken);
    const userGroups = read(() => group.userGroupIds);
    if (token === UNKNOWN || userGroups === UNKNOWN) return undefined;
    if (token !== undefined && token !== null && token !== "") {
      return {
        problem: "it takes an AUTH token, a long-lived password shared by every client",
        fix: 'remove authToken and set userGroupIds to a user group whose app user has authenticationMode { type: "iam" } (authTokenUpdateStrategy "DELETE" moves an existing group in place)',
      };
    }
    if (Array.isArray(userGroups) && userGroups.length > 0) return undefined;
    return {
      problem: "it has no user group, so any client that reaches it signs in as the default user",
      fix: 'set userGroupIds to a user group whose app user has authenticationMode { type: "iam" } and whose default user is off',
    };
  },
});
