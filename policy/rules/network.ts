/**
 * Security groups: nothing is open to the whole internet, except an application load balancer's
 * group on 80 and 443. Looks at separate ingress rules (aws.vpc.SecurityGroupIngressRule,
 * aws.ec2.SecurityGroupRule) and at rules written inline in a group.
 */
import * as aws from "@pulumi/aws";
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import {
  type Link,
  type Maybe,
  UNKNOWN,
  anyLink,
  isWorldCidr,
  read,
  readPlain,
  refersTo,
  sameTarget,
  violation,
} from "../values";

/** The only ports the internet may reach, and only on a load balancer's group. */
export const WEB_PORTS = [80, 443];
const TCP = ["tcp", "6"];

/** One ingress permission that admits the whole internet. */
export interface WorldIngress {
  /** The resource that holds the permission: a rule, or a group with inline rules. */
  holder: PolicyResource;
  /** How to find the group it opens: a rule names it in `securityGroupId`; a group is itself. */
  group: "securityGroupId" | "self";
  cidr: string;
  protocol: string;
  fromPort: number | undefined;
  toPort: number | undefined;
}

interface RuleFields {
  cidrs: unknown[];
  protocol: unknown;
  fromPort: unknown;
  toPort: unknown;
}

/** Ingress permissions open to the world in the stack; UNKNOWN entries are left out. */
export function worldIngress(resources: PolicyResource[]): WorldIngress[] {
  return resources.flatMap((resource): WorldIngress[] => {
    if (resource.isType(aws.vpc.SecurityGroupIngressRule)) {
      const rule = readPlain(() => ({
        cidrs: [resource.props.cidrIpv4, resource.props.cidrIpv6],
        protocol: resource.props.ipProtocol,
        fromPort: resource.props.fromPort,
        toPort: resource.props.toPort,
      }));
      return open(resource, "securityGroupId", rule as Maybe<RuleFields>);
    }
    if (resource.isType(aws.ec2.SecurityGroupRule)) {
      if (read(() => resource.props.type as unknown) !== "ingress") return [];
      const rule = readPlain(() => ({
        cidrs: [...(resource.props.cidrBlocks ?? []), ...(resource.props.ipv6CidrBlocks ?? [])],
        protocol: resource.props.protocol,
        fromPort: resource.props.fromPort,
        toPort: resource.props.toPort,
      }));
      return open(resource, "securityGroupId", rule as Maybe<RuleFields>);
    }
    if (resource.isType(aws.ec2.SecurityGroup) || resource.isType(aws.ec2.DefaultSecurityGroup)) {
      // Each inline rule on its own: another rule's unknown group id must not hide this one.
      const inline = read(() =>
        ((resource.props.ingress ?? []) as Array<Record<string, unknown>>).map((rule) =>
          readPlain(() => ({
            cidrs: [...asArray(rule.cidrBlocks), ...asArray(rule.ipv6CidrBlocks)],
            protocol: rule.protocol,
            fromPort: rule.fromPort,
            toPort: rule.toPort,
          })),
        ),
      );
      if (inline === UNKNOWN) return [];
      return inline.flatMap((rule) => open(resource, "self", rule as Maybe<RuleFields>));
    }
    return [];
  });
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function open(
  holder: PolicyResource,
  group: WorldIngress["group"],
  rule: Maybe<RuleFields>,
): WorldIngress[] {
  if (rule === UNKNOWN) return [];
  const port = (value: unknown) => (typeof value === "number" ? value : undefined);
  return rule.cidrs.filter(isWorldCidr).map((cidr) => ({
    holder,
    group,
    cidr: String(cidr),
    protocol: String(rule.protocol ?? "-1").toLowerCase(),
    fromPort: port(rule.fromPort),
    toPort: port(rule.toPort),
  }));
}

/** True when the permission covers exactly one of the web ports over TCP. */
export function isWebPortOnly(
  ingress: Pick<WorldIngress, "protocol" | "fromPort" | "toPort">,
): boolean {
  return (
    TCP.includes(ingress.protocol) &&
    ingress.fromPort !== undefined &&
    ingress.fromPort === ingress.toPort &&
    WEB_PORTS.includes(ingress.fromPort)
  );
}

function portsText({ protocol, fromPort, toPort }: WorldIngress): string {
  if (protocol === "-1" || protocol === "all") return "every port and protocol";
  if (fromPort === undefined || fromPort === toPort)
    return `${protocol} port ${fromPort ?? "(any)"}`;
  return `${protocol} ports ${fromPort}-${toPort}`;
}

const isApplicationLoadBalancer = (resource: PolicyResource) => {
  if (!resource.isType(aws.lb.LoadBalancer)) return false;
  const kind = read(() => resource.props.loadBalancerType as unknown);
  return kind === undefined || kind === UNKNOWN || kind === "application";
};

/** Whether the group the permission opens is attached to an application load balancer. */
function opensLoadBalancerGroup(ingress: WorldIngress, resources: PolicyResource[]): Link {
  const loadBalancers = resources.filter(isApplicationLoadBalancer);
  const securityGroupsOf = (value: unknown) => (Array.isArray(value) ? value : []);
  if (ingress.group === "self") {
    return anyLink(
      loadBalancers.map((lb) =>
        refersTo(lb, "securityGroups", ingress.holder, ["id"], securityGroupsOf),
      ),
    );
  }
  return anyLink(
    loadBalancers.map((lb) =>
      sameTarget(
        { resource: ingress.holder, property: "securityGroupId" },
        { resource: lb, property: "securityGroups", values: securityGroupsOf },
      ),
    ),
  );
}

export const securityGroupNoWorldIngress: StackValidationPolicy = {
  name: "security-group-no-world-ingress",
  description:
    "No security group admits 0.0.0.0/0 or ::/0, except an application load balancer's group on TCP 80 and 443.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    for (const ingress of worldIngress(args.resources)) {
      const webPort = isWebPortOnly(ingress);
      if (webPort && opensLoadBalancerGroup(ingress, args.resources) !== "no") continue;
      reportViolation(
        violation(
          ingress.holder,
          webPort
            ? `it admits ${ingress.cidr} on ${portsText(ingress)} to a group that is no load balancer's`
            : `it admits ${ingress.cidr} on ${portsText(ingress)}`,
          "admit the security group that needs access (referencedSecurityGroupId) or a narrow CIDR; only an application load balancer's group may take the internet, on 80 and 443",
        ),
        ingress.holder.urn,
      );
    }
  },
};
