/**
 * What the data-tier components (Database, Cache) share: who may connect to them, the KMS key each
 * encrypts its data and secrets with, and the isolated subnets and security group their nodes live in.
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { parseIpv4Block } from "./cidr";
import { createKmsKey } from "./kmsKey";
import { type Tags, type Tier, tierTags } from "./tags";
import { type Transform, transform } from "./transform";
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

export interface IsolatedTierArgs<GroupArgs extends object, Group> {
  /** The component that owns the key and the groups; they are its children. */
  owner: pulumi.ComponentResource;
  /** The component's name: the key is `${name}`, the groups `${name}-subnets` and `${name}-sg`. */
  name: string;
  /** What the key encrypts, for its description. */
  keyUse: string;
  /** The account the key's policy names; the stack's own when omitted. */
  account: AwsAccount | undefined;
  /** The service's subnet-group resource, such as aws.rds.SubnetGroup. */
  subnetGroupType: new (
    name: string,
    args: GroupArgs,
    opts?: pulumi.CustomResourceOptions,
  ) => Group;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  vpcId: pulumi.Input<string>;
  /** The security group's description, which names the engine. */
  description: string;
  /** The security group's Name tag. */
  nameTag: string;
  tags: Tags;
  transform?: {
    kmsKey?: Transform<aws.kms.KeyArgs>;
    subnetGroup?: Transform<GroupArgs>;
    securityGroup?: Transform<aws.ec2.SecurityGroupArgs>;
  };
}

/**
 * What a data tier's nodes need before they exist: its data key (rotating, with a readable alias;
 * see createKmsKey), a subnet group over the isolated subnets, and a security group
 * with no inline rules (ingress comes from allowFrom() as separate rules, and the provider removes
 * AWS's default allow-all egress at creation: the nodes open no connections of their own).
 */
export function createIsolatedTier<GroupArgs extends object, Group>(
  args: IsolatedTierArgs<GroupArgs, Group>,
): { kmsKey: aws.kms.Key; subnetGroup: Group; securityGroup: aws.ec2.SecurityGroup } {
  // Both providers' subnet-group arguments take these three fields and require no others.
  const subnetGroupArgs = {
    description: `${args.name}: isolated subnets`,
    subnetIds: args.subnetIds,
    tags: args.tags,
  } as GroupArgs;
  const hook = args.transform?.kmsKey;
  return {
    kmsKey: createKmsKey(args.owner, args.name, {
      description: `${args.name}: ${args.keyUse}`,
      alias: true,
      tags: args.tags,
      ...(args.account === undefined ? {} : { account: args.account }),
      ...(hook === undefined ? {} : { transform: hook }),
    }),
    subnetGroup: new args.subnetGroupType(
      `${args.name}-subnets`,
      transform(args.transform?.subnetGroup, subnetGroupArgs),
      { parent: args.owner },
    ),
    securityGroup: new aws.ec2.SecurityGroup(
      `${args.name}-sg`,
      transform(args.transform?.securityGroup, {
        vpcId: args.vpcId,
        description: args.description,
        tags: { ...args.tags, Name: args.nameTag },
      }),
      { parent: args.owner },
    ),
  };
}
