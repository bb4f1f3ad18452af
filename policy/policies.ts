/**
 * Every rule of the pack, in one list: this module constructs nothing, so tests import it freely
 * (policy/index.ts is the one place that turns the list into a running PolicyPack).
 */
import type { Policies } from "@pulumi/policy";
import {
  elasticacheEncryptedAtRest,
  elasticacheEncryptedInTransit,
  elasticacheProdAutomaticFailover,
  elasticacheNoStaticPassword,
} from "./rules/cache";
import { ecsNoPublicIp, ecsTaskLogging } from "./rules/compute";
import { webAclOnPublicEdge } from "./rules/firewall";
import {
  rdsAutomatedBackups,
  rdsEncryptedAtRest,
  rdsNotPubliclyAccessible,
  rdsProdDeletionProtection,
  rdsProdFinalSnapshot,
  rdsProdMultiAz,
} from "./rules/database";
import { iamNoStarOnStar, iamS3ReadWithList } from "./rules/identity";
import {
  cloudfrontAccessLogs,
  route53QueryLogs,
  route53ZoneDnssec,
  s3ProdServerAccessLogs,
} from "./rules/audit";
import {
  ecrCustomerKey,
  kmsKeyExplicitPolicy,
  kmsKeyRotation,
  logGroupCustomerKey,
  s3CustomerKey,
} from "./rules/keys";
import { securityGroupNoWorldIngress } from "./rules/network";
import { physicalNamesScoped } from "./rules/naming";
import { noAuthoritativeInlineLists, route53RecordOneOwner } from "./rules/ownership";
import {
  alarmHasAction,
  albProdAccessLogs,
  logGroupRetention,
  rdsLogGroupsManaged,
  rdsProdEnhancedMonitoring,
} from "./rules/observability";
import { sqsDeadLetterQueue, sqsEncryptedAtRest } from "./rules/queue";
import {
  s3AclsDisabled,
  s3EncryptedAtRest,
  s3NoPublicGrants,
  s3PublicAccessBlocked,
} from "./rules/storage";
import {
  albDropsInvalidHeaders,
  cloudfrontHttpsOnly,
  cloudfrontSecurityHeaders,
  httpListenerRedirects,
  httpListenerWithoutTls,
  listenerModernTls,
} from "./rules/web";

export const PACK_NAME = "zero-to-millions-guardrails";

export const policies: Policies = [
  // Data: encrypted, private, backed up, and sturdier in prod.
  rdsEncryptedAtRest,
  rdsNotPubliclyAccessible,
  rdsAutomatedBackups,
  rdsProdMultiAz,
  rdsProdDeletionProtection,
  rdsProdFinalSnapshot,
  elasticacheEncryptedAtRest,
  elasticacheEncryptedInTransit,
  elasticacheProdAutomaticFailover,
  elasticacheNoStaticPassword,
  kmsKeyRotation,
  kmsKeyExplicitPolicy,
  logGroupCustomerKey,
  ecrCustomerKey,
  s3CustomerKey,
  sqsEncryptedAtRest,
  sqsDeadLetterQueue,
  s3EncryptedAtRest,
  s3PublicAccessBlocked,
  s3NoPublicGrants,
  s3AclsDisabled,
  // Edges: what the internet reaches, and how.
  securityGroupNoWorldIngress,
  albDropsInvalidHeaders,
  listenerModernTls,
  httpListenerRedirects,
  httpListenerWithoutTls,
  cloudfrontHttpsOnly,
  cloudfrontSecurityHeaders,
  webAclOnPublicEdge,
  // Audit: every way in is logged, the zone is signed.
  cloudfrontAccessLogs,
  s3ProdServerAccessLogs,
  route53QueryLogs,
  route53ZoneDnssec,
  // Compute, identity, observability.
  ecsNoPublicIp,
  ecsTaskLogging,
  iamNoStarOnStar,
  iamS3ReadWithList,
  logGroupRetention,
  alarmHasAction,
  rdsLogGroupsManaged,
  albProdAccessLogs,
  rdsProdEnhancedMonitoring,
  // Day two: what a refresh, a replacement or a destroy would break.
  noAuthoritativeInlineLists,
  route53RecordOneOwner,
  physicalNamesScoped,
];

/** The rules whose demands depend on the environment (their config has `environment`). */
export const environmentPolicyNames: string[] = policies
  .filter((policy) => policy.configSchema?.properties.environment !== undefined)
  .map((policy) => policy.name);
