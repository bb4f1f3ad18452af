/**
 * The @pulumi/aws modules the program uses, each loaded on its own. The package's index loads every
 * one of its ~250 services (about 380 files) on each `pulumi preview`, `pulumi up` and synth, a
 * few hundred milliseconds of CPU before the program does anything; these are a fifth of that
 * (issue 17, BENCHMARKS.md "Synthesis"). The program imports this as `aws`, so `aws.ec2.Vpc` and
 * `aws.Provider` read as they would from the package, and are the very same classes.
 *
 * A service the program starts using is added here (the typecheck names it when it is missing).
 */
export * as acm from "@pulumi/aws/acm";
export * as appautoscaling from "@pulumi/aws/appautoscaling";
export * as cloudfront from "@pulumi/aws/cloudfront";
export * as cloudwatch from "@pulumi/aws/cloudwatch";
export * as dynamodb from "@pulumi/aws/dynamodb";
export * as ec2 from "@pulumi/aws/ec2";
export * as ecr from "@pulumi/aws/ecr";
export * as ecs from "@pulumi/aws/ecs";
export * as elasticache from "@pulumi/aws/elasticache";
export * as elb from "@pulumi/aws/elb";
export * as iam from "@pulumi/aws/iam";
export * as kms from "@pulumi/aws/kms";
export * as lb from "@pulumi/aws/lb";
export * as rds from "@pulumi/aws/rds";
export * as route53 from "@pulumi/aws/route53";
export * as s3 from "@pulumi/aws/s3";
export * as secretsmanager from "@pulumi/aws/secretsmanager";
export * as sns from "@pulumi/aws/sns";
export * as sqs from "@pulumi/aws/sqs";
export * as vpc from "@pulumi/aws/vpc";
export * as wafv2 from "@pulumi/aws/wafv2";
export { Provider, type ProviderArgs } from "@pulumi/aws/provider";
export { getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
export { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
export { getPartitionOutput } from "@pulumi/aws/getPartition";
export { getRegionOutput } from "@pulumi/aws/getRegion";
export type { Region } from "@pulumi/aws/types/enums";
export type * as types from "@pulumi/aws/types";
