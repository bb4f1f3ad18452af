/**
 * The localstack environment deploys to an AWS emulator (moto or LocalStack) instead of AWS: which
 * parts of the stack the emulator serves, and the provider settings that send every AWS API the
 * stack calls to it, and nothing else (README: "Integration tests").
 */
import type * as aws from "../components/aws";
import type { EmulatorFlavor, StackConfig } from "./configSchema";

/** Emulators take any credentials; these are their documented convention, not a secret. */
const EMULATOR_ACCESS_KEY = "test";
const EMULATOR_SECRET_KEY = "test";

/**
 * The provider's endpoint keys of the AWS APIs behind the data tier, the app tiers, the CDN and
 * observability: LocalStack's free plan lacks ECS, ELBv2, Application Auto Scaling, RDS,
 * ElastiCache and CloudFront, and the components that use the free APIs (SQS, S3, SNS, KMS,
 * CloudWatch) hold one of those too.
 */
const TIER_SERVICES = [
  "appautoscaling",
  "cloudfront",
  "cloudwatch",
  // The sessions table and its replica in each region.
  "dynamodb",
  "ecs",
  "elasticache",
  "elbv2",
  "iam",
  "kms",
  "logs",
  "rds",
  "s3",
  "secretsmanager",
  "sns",
  "sqs",
  "sts",
] as const;

/**
 * Features of AWS the stack uses where they exist, and works without where an emulator lacks them
 * (README: "Integration tests"): moto has no ElastiCache parameter groups, CloudFront origin
 * groups, cache policies or monitoring subscriptions. Neither emulator puts web ACLs in front of
 * anything (moto 5.2 stores WAFv2 ACLs but evaluates none of their rules), so an emulated ACL
 * would prove nothing the synth specs do not: emulator stacks build none.
 */
export type EmulatedFeature =
  | "elastiCacheParameterGroups"
  | "cloudFrontOriginGroups"
  | "cloudFrontCachePolicies"
  | "cloudFrontMonitoringSubscriptions"
  | "webAcls";

/**
 * What each flavor serves of those. LocalStack's paid plan is held to moto's set, so that the
 * integration suite checks one shape on both; its free plan deploys none of the tiers that use them.
 */
const EMULATOR_FEATURES: Readonly<Record<EmulatorFlavor, readonly EmulatedFeature[]>> = {
  moto: [],
  localstack: [],
  "localstack-free": [],
};

/** Whether the stack's AWS serves `feature`: AWS always; an emulator per its flavor. */
export function serves(config: StackConfig, feature: EmulatedFeature): boolean {
  return (
    config.emulator === undefined || EMULATOR_FEATURES[config.emulator.flavor].includes(feature)
  );
}

/**
 * Whether the stack deploys every tier. False on LocalStack's free plan, which gets the networks,
 * their peering and the DNS zone only.
 */
export function deploysEveryTier(config: StackConfig): boolean {
  return config.emulator?.flavor !== "localstack-free";
}

/**
 * Why a region runs without its cache on this emulator, or undefined when it has one. moto keeps
 * no cache clusters for a replication group's members, which the AWS provider reads back after
 * creating a group, so the cache tier cannot be deployed there; the app then keeps its cache in
 * each process (no REDIS_URL), as it does without Redis anywhere.
 */
export function cacheSkippedReason(config: StackConfig): string | undefined {
  if (config.emulator?.flavor !== "moto") return undefined;
  return "emulator.flavor moto keeps no cache clusters for a replication group's members, which the AWS provider reads after creating a group; the app keeps its cache in process";
}

/**
 * Why the stack runs without the edges' audit trail (CloudFront access logs through CloudWatch's
 * vended-log deliveries, Route53 query logs, DNSSEC signing) on this emulator, or undefined
 * on AWS: the emulators implement neither log deliveries nor DNSSEC key-signing keys.
 */
export function edgeAuditSkippedReason(config: StackConfig): string | undefined {
  if (config.emulator === undefined) return undefined;
  return `emulator.flavor ${config.emulator.flavor} implements neither CloudWatch log deliveries nor Route53 DNSSEC signing`;
}

/** The AWS APIs the stack calls, as the provider's endpoint keys, sorted. */
export function servicesUsed(config: StackConfig): string[] {
  const services = new Set<string>(["ec2"]);
  const add = (...names: string[]) => names.forEach((name) => services.add(name));
  if (config.network.enableFlowLogs) add("logs", "iam");
  if (config.dns.domain) add("route53");
  if (deploysEveryTier(config)) {
    // Secrets Manager serves every stack (the cookie-signing key's copy in each region).
    const cacheServices = ["elasticache"];
    add(...TIER_SERVICES.filter((service) => !cacheServices.includes(service)));
    if (cacheSkippedReason(config) === undefined) add(...cacheServices);
    if (config.dns.domain) add("acm");
    // Never to AWS with the emulator's fake credentials: WAF calls go to the emulator too.
    if (serves(config, "webAcls")) add("wafv2");
    if (!config.image.uri) add("ecr");
  }
  return [...services].sort();
}

/**
 * Provider settings for the emulator, none without one: every API the stack calls at its
 * endpoint (path-style S3, since buckets are no DNS names there), fixed credentials, and no
 * credential, metadata or account-id checks, which would go to AWS.
 */
export function emulatorProviderArgs(config: StackConfig): Partial<aws.ProviderArgs> {
  if (!config.emulator) return {};
  const { endpoint } = config.emulator;
  return {
    accessKey: EMULATOR_ACCESS_KEY,
    secretKey: EMULATOR_SECRET_KEY,
    skipCredentialsValidation: true,
    skipMetadataApiCheck: true,
    skipRequestingAccountId: true,
    s3UsePathStyle: true,
    endpoints: [Object.fromEntries(servicesUsed(config).map((service) => [service, endpoint]))],
  };
}
