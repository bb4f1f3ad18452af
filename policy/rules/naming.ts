/**
 * Physical names the program chooses are unique to its project and stack.
 *
 * Many AWS names are unique per account and region (a KMS alias, a cache replication group's id,
 * a queue, a role) or per partition (a bucket). `<stack>-<name>` collides as soon as two projects
 * have a `prod` stack in one account: the second `up` fails, or worse, adopts or overwrites the
 * first one's resource. A name left to Pulumi's autonaming (`<logical name>-<7 hex>`) is unique
 * by its random suffix and passes.
 */
import * as aws from "@pulumi/aws";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type ResourceClass, read, violation } from "../values";

/** A resource type and the input that holds the physical name the program may choose. */
export interface NamedInput {
  type: ResourceClass;
  property: string;
}

/** The physical names of the resource types this program creates (and their close relatives). */
export const PHYSICAL_NAME_INPUTS: readonly NamedInput[] = [
  { type: aws.kms.Alias, property: "name" },
  { type: aws.elasticache.ReplicationGroup, property: "replicationGroupId" },
  { type: aws.elasticache.SubnetGroup, property: "name" },
  { type: aws.elasticache.ParameterGroup, property: "name" },
  { type: aws.rds.Instance, property: "identifier" },
  { type: aws.rds.Instance, property: "finalSnapshotIdentifier" },
  { type: aws.rds.SubnetGroup, property: "name" },
  { type: aws.rds.ParameterGroup, property: "name" },
  { type: aws.s3.Bucket, property: "bucket" },
  { type: aws.s3.BucketV2, property: "bucket" },
  { type: aws.sqs.Queue, property: "name" },
  { type: aws.sns.Topic, property: "name" },
  { type: aws.iam.Role, property: "name" },
  { type: aws.iam.Policy, property: "name" },
  { type: aws.secretsmanager.Secret, property: "name" },
  { type: aws.ecr.Repository, property: "name" },
  { type: aws.ecs.Cluster, property: "name" },
  { type: aws.ecs.TaskDefinition, property: "family" },
  { type: aws.lb.LoadBalancer, property: "name" },
  { type: aws.lb.TargetGroup, property: "name" },
  { type: aws.cloudwatch.LogGroup, property: "name" },
  { type: aws.cloudwatch.MetricAlarm, property: "name" },
  { type: aws.cloudwatch.Dashboard, property: "dashboardName" },
  { type: aws.cloudfront.CachePolicy, property: "name" },
  { type: aws.cloudfront.OriginAccessControl, property: "name" },
  { type: aws.cloudfront.Function, property: "name" },
];

/** What a name must contain to be this stack's: `<project>` and `<stack>`, as physicalName writes them. */
export function scopeOf(urn: string): { project: string; stack: string } | undefined {
  const match = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(urn);
  if (!match) return undefined;
  const normalize = (part: string) =>
    part
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-|-$/g, "");
  return { stack: normalize(match[1]!), project: normalize(match[2]!) };
}

/** Pulumi's autonaming: the logical name, a hyphen and seven random hex characters. */
function isAutonamed(value: string, logicalName: string): boolean {
  const escaped = logicalName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped}-?[0-9a-f]{7}$`, "i").test(value);
}

export const physicalNamesScoped: ResourceValidationPolicy = {
  name: "physical-names-scoped",
  description:
    "Physical names the program chooses (aliases, cache group ids, buckets, queues, roles, ...) carry the project and the stack, so stacks and projects sharing an account never collide.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const scope = scopeOf(args.urn);
    if (scope === undefined) return;
    for (const { type, property } of PHYSICAL_NAME_INPUTS) {
      if (!args.isType(type)) continue;
      const value = read(() => (args.props as Record<string, unknown>)[property]);
      if (typeof value !== "string" || value === "") continue;
      if (isAutonamed(value, args.name)) continue;
      const name = value.toLowerCase();
      const missing = [scope.project, scope.stack].filter((part) => !name.includes(part));
      if (missing.length === 0) continue;
      reportViolation(
        violation(
          args,
          `its ${property} "${value}" lacks ${missing.map((part) => `"${part}"`).join(" and ")}, so another ${missing.includes(scope.project) ? "project's stack of the same name" : "stack"} in the account collides with it`,
          `build it with stackPhysicalName (components/tags.ts), which writes <project>-<stack>-<name> within the length limit, or leave ${property} unset for Pulumi's autonaming`,
        ),
      );
    }
  },
};
