/**
 * IAM: no identity policy allows every action on every resource, written out (`"*"` on `"*"`) or
 * attached as AWS's AdministratorAccess managed policy.
 */
import * as aws from "@pulumi/aws";
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import {
  type ResourceClass,
  UNKNOWN,
  policyStatements,
  read,
  readPlain,
  violation,
} from "../values";

export const ADMINISTRATOR_ACCESS_ARN = /^arn:aws[\w-]*:iam::aws:policy\/AdministratorAccess$/;
const ALL_ACTIONS = ["*", "*:*"];

/** Statements of a policy document that allow every action on every resource, by index. */
export function starOnStarStatements(document: unknown): number[] {
  return (policyStatements(document) ?? []).flatMap((statement, index) =>
    statement.effect === "Allow" &&
    statement.actions.some((action) => ALL_ACTIONS.includes(action)) &&
    statement.resources.includes("*")
      ? [index]
      : [],
  );
}

/** The policy documents a resource carries, by where they sit (unknown ones are checked at update). */
function documentsOf(args: ResourceValidationArgs): Array<{ where: string; document: unknown }> {
  if (args.isType(aws.iam.Role)) {
    const inline = readPlain(() => args.props.inlinePolicies);
    if (!Array.isArray(inline)) return [];
    return (inline as Array<{ name?: unknown; policy?: unknown }>).map((policy) => ({
      where: `inline policy "${String(policy.name ?? "")}"`,
      document: policy.policy,
    }));
  }
  const withPolicy: ResourceClass[] = [
    aws.iam.Policy,
    aws.iam.RolePolicy,
    aws.iam.UserPolicy,
    aws.iam.GroupPolicy,
  ];
  if (!withPolicy.some((kind) => args.isType(kind))) return [];
  const document = readPlain(() => args.props.policy);
  return document === UNKNOWN ? [] : [{ where: "policy", document }];
}

/** Managed policy ARNs a resource attaches, each read on its own (a custom policy's ARN is unknown in a preview). */
function attachedArns(args: ResourceValidationArgs): unknown[] {
  const arnsIn = (get: () => unknown): unknown[] => {
    const value = read(() => {
      const arns = get();
      if (!Array.isArray(arns)) return [arns];
      // By index: iterating would touch an unknown element outside its own read.
      return Array.from({ length: arns.length }, (_, index) => read(() => arns[index] as unknown));
    });
    return value === UNKNOWN ? [] : value;
  };
  if (args.isType(aws.iam.Role)) return arnsIn(() => args.props.managedPolicyArns);
  const attachments: ResourceClass[] = [
    aws.iam.RolePolicyAttachment,
    aws.iam.UserPolicyAttachment,
    aws.iam.GroupPolicyAttachment,
    aws.iam.PolicyAttachment,
  ];
  return attachments.some((kind) => args.isType(kind)) ? arnsIn(() => args.props.policyArn) : [];
}

export const iamNoStarOnStar: ResourceValidationPolicy = {
  name: "iam-no-star-on-star",
  description:
    'No IAM policy allows every action ("*") on every resource ("*"), and nothing attaches AdministratorAccess.',
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const fix =
      "allow only the actions the principal calls, on the ARNs it needs (e.g. sqs:SendMessage on the queue's ARN), built with pulumi.jsonStringify";
    for (const { where, document } of documentsOf(args)) {
      for (const index of starOnStarStatements(document)) {
        reportViolation(
          violation(args, `statement ${index} of its ${where} allows "*" on "*"`, fix),
        );
      }
    }
    for (const arn of attachedArns(args)) {
      if (typeof arn === "string" && ADMINISTRATOR_ACCESS_ARN.test(arn)) {
        reportViolation(violation(args, "it attaches AdministratorAccess", fix));
      }
    }
  },
};

/** The bucket of an object ARN (`arn:aws:s3:::bucket/key*`); undefined for anything else. */
function bucketOfObjectArn(resource: string): string | undefined {
  return /^arn:aws[\w-]*:s3:::([^/*]+)\/.+$/.exec(resource)?.[1];
}

/**
 * Buckets whose objects a policy document lets the principal read (s3:GetObject, s3:Get*, s3:*)
 * without also letting it list the bucket (s3:ListBucket on `arn:aws:s3:::bucket`).
 */
export function bucketsReadWithoutList(document: unknown): string[] {
  const allows = (policyStatements(document) ?? []).filter((s) => s.effect === "Allow");
  const grants = (action: RegExp) =>
    allows.filter((statement) => statement.actions.some((candidate) => action.test(candidate)));
  const read = grants(/^s3:(GetObject|Get\*|\*)$|^\*$/i).flatMap((statement) =>
    statement.resources.map(bucketOfObjectArn),
  );
  const listed = grants(/^s3:(ListBucket|List\*|\*)$|^\*$/i).flatMap(
    (statement) => statement.resources,
  );
  return [...new Set(read.filter((bucket): bucket is string => bucket !== undefined))].filter(
    (bucket) =>
      !listed.some(
        (resource) =>
          resource === "*" || new RegExp(`^arn:aws[\\w-]*:s3:::${bucket}$`).test(resource),
      ),
  );
}

export const iamS3ReadWithList: ResourceValidationPolicy = {
  name: "iam-s3-read-with-list",
  description:
    "A policy that lets a principal read a bucket's objects also lets it list that bucket, so a missing key is a 404 rather than a 403.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const { where, document } of documentsOf(args)) {
      for (const bucket of bucketsReadWithoutList(document)) {
        reportViolation(
          violation(
            args,
            `its ${where} allows s3:GetObject in bucket ${bucket} but not s3:ListBucket on it, so S3 answers 403 for a key that does not exist and the app cannot tell "missing" from "denied"`,
            `add a statement allowing s3:ListBucket on arn:aws:s3:::${bucket} (the bucket itself, not its objects)`,
          ),
        );
      }
    }
  },
};
