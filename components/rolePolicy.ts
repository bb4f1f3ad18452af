import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";

/** One statement of an IAM policy document; its values may be outputs (ARNs of new resources). */
export type PolicyStatement = Record<string, unknown>;

/**
 * An inline policy on `role` that allows `statements`: how a component grants a role (its own, or
 * the role of a tier that uses it) exactly what it needs.
 */
export function rolePolicy(
  name: string,
  role: pulumi.Input<string>,
  statements: PolicyStatement[],
  opts: pulumi.CustomResourceOptions,
): aws.iam.RolePolicy {
  return new aws.iam.RolePolicy(
    name,
    { role, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }) },
    opts,
  );
}

/**
 * A role's trust policy: `service` (such as `ecs-tasks.amazonaws.com`) may assume the role, and
 * only under `condition` when one is given (the confused-deputy guard: whose calls it acts for).
 */
export function serviceTrustPolicy(
  service: string,
  condition?: Record<string, unknown>,
): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        ...(condition === undefined ? {} : { Condition: condition }),
      },
    ],
  });
}
