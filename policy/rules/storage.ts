/**
 * S3: every bucket encrypted by default, shut to the public by a public-access block, with ACLs
 * disabled, and no grant or policy statement that opens it to everyone.
 *
 * In @pulumi/aws v7 a bucket's settings are separate resources that name it in their `bucket`
 * input (its id, which is its name), so these rules look across the stack for them.
 */
import * as aws from "@pulumi/aws";
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import {
  type Link,
  type Maybe,
  type ResourceClass,
  UNKNOWN,
  anyLink,
  policyStatements,
  read,
  readPlain,
  refersTo,
  violation,
} from "../values";

/** Canned ACLs that grant reading or writing to anyone (or any AWS account). */
export const PUBLIC_CANNED_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const PUBLIC_GRANTEES = [
  "http://acs.amazonaws.com/groups/global/AllUsers",
  "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];
/**
 * Condition keys that pin a statement with a `*` principal to known callers; S3 itself does not
 * count a statement restricted by one of them as public.
 */
export const RESTRICTING_CONDITION_KEYS = [
  "aws:sourcearn",
  "aws:sourceaccount",
  "aws:sourceowner",
  "aws:sourcevpc",
  "aws:sourcevpce",
  "aws:sourceip",
  "aws:principalarn",
  "aws:principalaccount",
  "aws:principalorgid",
  "aws:principalorgpaths",
  "aws:userid",
];
const PUBLIC_ACCESS_BLOCK_FLAGS = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
] as const;

/** An S3 bucket, of either resource class the provider offers. */
export const isBucket = (resource: { isType: PolicyResource["isType"] }) =>
  resource.isType(aws.s3.Bucket) || resource.isType(aws.s3.BucketV2);

/** How sure it is that `property` of `resource` names `bucket` (by the bucket's id or name). */
export function namesBucket(
  resource: PolicyResource,
  bucket: PolicyResource,
  property = "bucket",
): Link {
  return refersTo(resource, property, bucket, ["id", "bucket"]);
}

/** The bucket settings resources of some kinds that name `bucket`, with how sure the link is. */
export function settingsOf(
  bucket: PolicyResource,
  resources: PolicyResource[],
  kinds: ResourceClass[],
): Array<{ settings: PolicyResource; link: Link }> {
  return resources
    .filter((resource) => kinds.some((kind) => resource.isType(kind)))
    .map((settings) => ({ settings, link: namesBucket(settings, bucket) }))
    .filter(({ link }) => link !== "no");
}

export const s3EncryptedAtRest: StackValidationPolicy = {
  name: "s3-encrypted-at-rest",
  description:
    "Every S3 bucket has a default server-side encryption configuration (SSE-S3 or SSE-KMS), stated in the program.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    // Not the bucket's own serverSideEncryptionConfiguration output: that is what S3 reports, and
    // S3 encrypts every bucket by default, so it cannot tell a chosen configuration from none.
    for (const bucket of args.resources.filter(isBucket)) {
      const configured = anyLink(
        settingsOf(bucket, args.resources, [
          aws.s3.BucketServerSideEncryptionConfiguration,
          aws.s3.BucketServerSideEncryptionConfigurationV2,
        ]).map(({ link }) => link),
      );
      if (configured !== "no") continue;
      reportViolation(
        violation(
          bucket,
          "it has no default encryption configuration",
          'add an aws.s3.BucketServerSideEncryptionConfiguration for it (sseAlgorithm "aws:kms" with a key, or "AES256")',
        ),
        bucket.urn,
      );
    }
  },
};

export const s3PublicAccessBlocked: StackValidationPolicy = {
  name: "s3-public-access-blocked",
  description:
    "Every S3 bucket has a public-access block with all four settings on, so no ACL or policy can make it public.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const bucket of args.resources.filter(isBucket)) {
      const blocks = settingsOf(bucket, args.resources, [aws.s3.BucketPublicAccessBlock]);
      const verdicts = blocks.map(({ settings, link }): { link: Link; off: Maybe<string[]> } => ({
        link,
        off: flagsOff(settings),
      }));
      const complete = verdicts.some(
        ({ link, off }) => link === "yes" && off !== UNKNOWN && off.length === 0,
      );
      const undecided = verdicts.some(({ link, off }) => link === "unknown" || off === UNKNOWN);
      if (complete || undecided) continue;
      const linked = verdicts.find(({ link }) => link === "yes");
      const off = linked && linked.off !== UNKNOWN ? linked.off : [];
      reportViolation(
        violation(
          bucket,
          linked
            ? `its public-access block leaves ${off.join(", ")} off`
            : "it has no public-access block",
          `add an aws.s3.BucketPublicAccessBlock for it with ${PUBLIC_ACCESS_BLOCK_FLAGS.join(", ")} all true (CloudFront reads through origin access control, which needs none of them off)`,
        ),
        bucket.urn,
      );
    }
  },
};

function flagsOff(block: PolicyResource): Maybe<string[]> {
  const values = PUBLIC_ACCESS_BLOCK_FLAGS.map((flag) => ({
    flag,
    value: read(() => block.props[flag] as unknown),
  }));
  if (values.some(({ value }) => value === UNKNOWN)) return UNKNOWN;
  return values.filter(({ value }) => value !== true).map(({ flag }) => flag);
}

export const s3AclsDisabled: StackValidationPolicy = {
  name: "s3-acls-disabled",
  description:
    "Every S3 bucket has ownership controls set to BucketOwnerEnforced: ACLs are off and access is decided by policies alone.",
  // Advisory: with the public-access block on, ACLs cannot make a bucket public; this only keeps
  // access in one place. CloudFront's legacy standard logs still need a bucket with ACLs.
  enforcementLevel: "advisory",
  validateStack: (args, reportViolation) => {
    for (const bucket of args.resources.filter(isBucket)) {
      const controls = settingsOf(bucket, args.resources, [aws.s3.BucketOwnershipControls]);
      const enforced = anyLink(
        controls.map(({ settings, link }) => {
          const ownership = read(
            () =>
              (settings.props.rule as { objectOwnership?: unknown } | undefined)?.objectOwnership,
          );
          if (ownership === UNKNOWN) return "unknown";
          return ownership === "BucketOwnerEnforced" ? link : "no";
        }),
      );
      if (enforced !== "no") continue;
      reportViolation(
        violation(
          bucket,
          "ACLs are not disabled on it",
          'add an aws.s3.BucketOwnershipControls for it with rule.objectOwnership "BucketOwnerEnforced"',
        ),
        bucket.urn,
      );
    }
  },
};

export const s3NoPublicGrants: ResourceValidationPolicy = {
  name: "s3-no-public-grants",
  description:
    "No S3 ACL grants access to everyone or to any AWS account, and no bucket policy allows a `*` principal without a condition that pins the caller.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const problems = [
      ...(isBucket(args) || args.isType(aws.s3.BucketAcl) || args.isType(aws.s3.BucketAclV2)
        ? aclProblems(args)
        : []),
      ...(isBucket(args) || args.isType(aws.s3.BucketPolicy) ? policyProblems(args) : []),
    ];
    for (const problem of problems) {
      reportViolation(
        violation(
          args,
          problem,
          "keep the bucket private: serve objects through CloudFront with origin access control, or hand out presigned URLs",
        ),
      );
    }
  },
};

function aclProblems(args: ResourceValidationArgs): string[] {
  const problems: string[] = [];
  const acl = read(() => args.props.acl as unknown);
  if (typeof acl === "string" && PUBLIC_CANNED_ACLS.includes(acl)) {
    problems.push(`its canned ACL "${acl}" is public`);
  }
  // Grantee by grantee: a canonical user id that preview does not know must not hide the others.
  const grantees = read(() =>
    ((args.props.grants ?? args.props.accessControlPolicy?.grants ?? []) as GrantProps[]).map(
      (grant) => read(() => grant.uri ?? grant.grantee?.uri),
    ),
  );
  if (grantees === UNKNOWN) return problems;
  for (const uri of grantees) {
    if (typeof uri === "string" && PUBLIC_GRANTEES.includes(uri)) {
      problems.push(`it grants access to ${uri}`);
    }
  }
  return problems;
}

/** A grant on a bucket (`uri`) or in a bucket ACL (`grantee.uri`). */
interface GrantProps {
  uri?: unknown;
  grantee?: { uri?: unknown };
}

function policyProblems(args: ResourceValidationArgs): string[] {
  const document = readPlain(() => args.props.policy);
  if (document === UNKNOWN || document === undefined) return [];
  return (policyStatements(document) ?? [])
    .filter(
      (statement) =>
        statement.effect === "Allow" &&
        statement.principals.includes("*") &&
        !statement.conditionKeys.some((key) => RESTRICTING_CONDITION_KEYS.includes(key)),
    )
    .map(
      (statement) =>
        `its policy allows ${statement.actions.join(", ") || "actions"} to everyone (Principal "*")`,
    );
}
