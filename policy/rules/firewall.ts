/**
 * The edge firewall: what the internet reaches directly (internet-facing application load
 * balancers and CloudFront distributions) sits behind an AWS WAF web ACL. A stack rule, since
 * a load balancer's ACL is a separate resource (aws.wafv2.WebAclAssociation) that names it.
 */
import * as aws from "@pulumi/aws";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { environmentConfig, environmentOf } from "../environment";
import { UNKNOWN, anyLink, nonEmptyString, readSetting, refersTo, violation } from "../values";

/** An application load balancer facing the internet (the defaults: application, not internal). */
function isInternetFacingAlb(resource: PolicyResource): boolean {
  if (!resource.isType(aws.lb.LoadBalancer)) return false;
  const kind = readSetting(resource, "loadBalancerType");
  const internal = readSetting(resource, "internal");
  return (
    (kind === undefined || kind === "application") && (internal === undefined || internal === false)
  );
}

export const webAclOnPublicEdge: StackValidationPolicy = {
  name: "web-acl-on-public-edge",
  description:
    "Every internet-facing application load balancer is associated with an AWS WAF web ACL, and every CloudFront distribution names one (webAclId).",
  enforcementLevel: "mandatory",
  configSchema: environmentConfig,
  validateStack: (args, reportViolation) => {
    // The emulators build no web ACLs (stacks/emulator.ts: they would evaluate none of the rules).
    if (environmentOf(args) === "localstack") return;
    const associations = args.resources.filter((resource) =>
      resource.isType(aws.wafv2.WebAclAssociation),
    );
    for (const alb of args.resources.filter(isInternetFacingAlb)) {
      const link = anyLink(
        associations.map((association) => refersTo(association, "resourceArn", alb, ["arn", "id"])),
      );
      if (link !== "no") continue;
      reportViolation(
        violation(
          alb,
          "it faces the internet with no web ACL in front of it",
          "associate it with a REGIONAL web ACL of its own region (components/webAcl.ts: new WebAcl(...).associate(role, alb.arn))",
        ),
        alb.urn,
      );
    }
    for (const distribution of args.resources.filter((resource) =>
      resource.isType(aws.cloudfront.Distribution),
    )) {
      const webAclId = readSetting(distribution, "webAclId");
      if (webAclId === UNKNOWN || nonEmptyString(webAclId) !== undefined) continue;
      reportViolation(
        violation(
          distribution,
          "it serves the internet with no web ACL in front of it",
          "set webAclId to the ARN of a CLOUDFRONT-scope web ACL in us-east-1 (Cdn's webAclArn)",
        ),
        distribution.urn,
      );
    }
  },
};
