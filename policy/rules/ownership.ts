/**
 * One owner per thing AWS holds: lists the provider manages authoritatively (a route table's
 * routes, a security group's rules, ...) are never written inline, and no two resources of the
 * stack write the same DNS record.
 *
 * An inline list is the whole truth to the provider: a `pulumi refresh` (or `up --refresh`) of a
 * route table with inline `routes` plans to delete every route another resource added beside it,
 * such as the cross-region peering routes (terraform-provider-aws,
 * website/docs/r/route_table.html.markdown: "you cannot use a Route Table with in-line routes in
 * conjunction with any Route resources. Doing so will cause a conflict of rule settings and will
 * overwrite rules"). The rule looks at inputs, one resource at a time, and forbids the inline form
 * outright: a stack check sees outputs, where after any refresh the provider reports the routes and
 * rules made by separate resources as the holder's own, so it cannot tell the two forms apart; and
 * the separate resource may live in another component, or another program.
 */
import * as aws from "@pulumi/aws";
import type {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { type ResourceClass, UNKNOWN, read, readPlain, violation } from "../values";

/** A resource type with an authoritative inline list, and the separate resource to use instead. */
export interface InlineList {
  holder: ResourceClass;
  holderName: string;
  property: string;
  /** The separate resource that manages one entry of the list. */
  separate: string;
  /** Where the provider says the two forms conflict (terraform-provider-aws, website/docs/r/). */
  source: string;
}

/**
 * Every authoritative inline list of the resource types this program creates or could plausibly
 * create. AWS's default objects (DefaultSecurityGroup, DefaultRouteTable, DefaultNetworkAcl) are
 * left out: adopting one exists to manage it whole, as the network's locked default group does.
 */
export const INLINE_LISTS: readonly InlineList[] = [
  {
    holder: aws.ec2.RouteTable,
    holderName: "aws.ec2.RouteTable",
    property: "routes",
    separate: "aws.ec2.Route",
    source: "route_table.html.markdown, NOTE on Route Tables and Routes",
  },
  ...(["ingress", "egress"] as const).map((property) => ({
    holder: aws.ec2.SecurityGroup,
    holderName: "aws.ec2.SecurityGroup",
    property,
    separate: `aws.vpc.Security${property === "ingress" ? "Ingress" : "Egress"}Rule`,
    source: "security_group.html.markdown, NOTE on Security Groups and Security Group Rules",
  })),
  ...(["ingress", "egress"] as const).map((property) => ({
    holder: aws.ec2.NetworkAcl,
    holderName: "aws.ec2.NetworkAcl",
    property,
    separate: "aws.ec2.NetworkAclRule",
    source: "network_acl.html.markdown, NOTE on Network ACLs and Network ACL Rules",
  })),
  {
    holder: aws.ec2.VpcEndpoint,
    holderName: "aws.ec2.VpcEndpoint",
    property: "routeTableIds",
    separate: "aws.ec2.VpcEndpointRouteTableAssociation",
    source: "vpc_endpoint.html.markdown, NOTE on VPC Endpoints and VPC Endpoint Associations",
  },
  {
    holder: aws.iam.Role,
    holderName: "aws.iam.Role",
    property: "inlinePolicies",
    separate: "aws.iam.RolePolicy",
    source:
      "iam_role.html.markdown, inline_policy: exclusive management of the role's inline policies",
  },
  {
    holder: aws.iam.Role,
    holderName: "aws.iam.Role",
    property: "managedPolicyArns",
    separate: "aws.iam.RolePolicyAttachment",
    source: "iam_role.html.markdown, managed_policy_arns: exclusive management of attachments",
  },
];

export const noAuthoritativeInlineLists: ResourceValidationPolicy = {
  name: "no-authoritative-inline-lists",
  description:
    "Routes, security group and network ACL rules, endpoint route tables and role policies are separate resources, never inline lists the provider would manage whole.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const list of INLINE_LISTS) {
      if (!args.isType(list.holder)) continue;
      // Shallow: an explicit empty list is authoritative too ("remove every entry"), and a list
      // built from outputs preview does not know is still a list set inline.
      const value = read(() => (args.props as Record<string, unknown>)[list.property]);
      if (value === undefined || value === null) continue;
      reportViolation(
        violation(
          args,
          `it sets ${list.property} inline, which the provider manages as the whole list: a refresh deletes every entry added by ${list.separate} resources beside it (${list.source})`,
          `leave ${list.property} unset and declare each entry as a ${list.separate} with its own logical name`,
        ),
      );
    }
  },
};

/** What identifies one DNS record set: zone, name, type and (for routing policies) set identifier. */
function recordKey(props: Record<string, unknown>): string | undefined {
  const parts = readPlain(() => [props.zoneId, props.name, props.type, props.setIdentifier ?? ""]);
  if (parts === UNKNOWN || !Array.isArray(parts)) return undefined;
  if (parts.slice(0, 3).some((part) => typeof part !== "string" || part === "")) return undefined;
  const [zone, name, type, set] = parts as string[];
  return [zone, name!.toLowerCase().replace(/\.$/, ""), type, set].join(" ");
}

export const route53RecordOneOwner: StackValidationPolicy = {
  name: "route53-record-one-owner",
  description:
    "No two resources write the same Route 53 record (zone, name, type, set identifier): deleting either deletes it for both.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const owners = new Map<string, PolicyResource[]>();
    for (const resource of args.resources) {
      if (!resource.isType(aws.route53.Record)) continue;
      const key = recordKey(resource.props as Record<string, unknown>);
      if (key !== undefined) owners.set(key, [...(owners.get(key) ?? []), resource]);
    }
    for (const [key, [first, ...others]] of owners) {
      if (first === undefined || others.length === 0) continue;
      reportViolation(
        violation(
          first,
          `it writes the record ${key.split(" ").slice(1, 3).join(" ")}, which ${others.map((other) => `"${other.name}"`).join(", ")} also write(s); destroying or replacing any of them deletes it for all, and a certificate that needs it stops renewing`,
          "create the record once and pass it (or its fqdn) to every resource that needs it, e.g. one DNS validation record for the certificates of every region",
        ),
        first.urn,
      );
    }
  },
};
