/**
 * What the data-tier components (Database, Cache) share: who may connect to them, and the KMS key
 * each encrypts its data and secrets with.
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { parseIpv4Block } from "./cidr";
import { createKmsKey } from "./kmsKey";
import { type Tags, type Tier, tierTags } from "./tags";
import type { Transform } from "./transform";
import { throwIfInvalid } from "./validation";
import type { AwsAccount } from "./awsContext";

/** Who may connect: another security group in this VPC, or address ranges (another region over peering). */
export type IngressSource = { securityGroupId: pulumi.Input<string> } | { cidrBlocks: string[] };

/** Problems with address ranges given to `allowFrom`; empty when they are valid. */
export function cidrProblems(cidrBlocks: string[], what: string): string[] {
  if (cidrBlocks.length === 0) return ["cidrBlocks is empty; name at least one range"];
  return cidrBlocks.flatMap((cidr) => {
    const block = parseIpv4Block(cidr);
    if (block === undefined) return [`"${cidr}" is not an IPv4 CIDR such as 10.21.64.0/20`];
    if (block.prefix === 0) return [`"${cidr}" would open the ${what} to every address`];
    return [];
  });
}

export interface IngressRulesArgs {
  /** The component that owns the security group; the rules are its children. */
  owner: pulumi.ComponentResource;
  /** The component's name, which the rules' names and errors start with. */
  ownerName: string;
  /** What the component is, for error messages ("database", "cache"). */
  what: string;
  tier: Tier;
  securityGroupId: pulumi.Input<string>;
  port: number;
  /** A short, unique label for the rules, such as `web`. */
  label: string;
  source: IngressSource;
  description: string;
}

/** One TCP ingress rule on `port` per source group or range. Throws on invalid ranges, before any rule exists. */
export function createIngressRules(args: IngressRulesArgs): aws.vpc.SecurityGroupIngressRule[] {
  const prefix = `${args.ownerName}-from-${args.label}`;
  const rule = (name: string, from: Partial<aws.vpc.SecurityGroupIngressRuleArgs>) =>
    new aws.vpc.SecurityGroupIngressRule(
      name,
      {
        securityGroupId: args.securityGroupId,
        ipProtocol: "tcp",
        fromPort: args.port,
        toPort: args.port,
        description: args.description,
        tags: tierTags(args.tier),
        ...from,
      },
      { parent: args.owner },
    );
  if ("securityGroupId" in args.source) {
    return [rule(prefix, { referencedSecurityGroupId: args.source.securityGroupId })];
  }
  throwIfInvalid(
    args.owner.constructor.name,
    args.ownerName,
    cidrProblems(args.source.cidrBlocks, args.what).map(
      (problem) => `allowFrom("${args.label}"): ${problem}`,
    ),
  );
  return args.source.cidrBlocks.map((cidrIpv4, index) => rule(`${prefix}-${index}`, { cidrIpv4 }));
}

/** The component's data key: rotating, with a readable alias (see createKmsKey). */
export function createEncryptionKey(
  owner: pulumi.ComponentResource,
  name: string,
  description: string,
  hook: Transform<aws.kms.KeyArgs> | undefined,
  tags: Tags,
  account: AwsAccount | undefined,
): aws.kms.Key {
  return createKmsKey(owner, name, {
    description,
    alias: true,
    tags,
    ...(account === undefined ? {} : { account }),
    ...(hook === undefined ? {} : { transform: hook }),
  });
}
