/**
 * What the data-tier components (Database, Cache) share: who may connect to them, and the KMS key
 * each encrypts its data and secrets with.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { stackPhysicalName, type Tags, type Tier, tierTags } from "./tags";
import { type Transform, transform } from "./transform";

/** How long a deleted key can still be recovered (and data encrypted with it read). */
export const KMS_DELETION_WINDOW_DAYS = 30;
/** KMS alias names are at most 256 characters, `alias/` included. */
const MAX_ALIAS_NAME_LENGTH = 250;

/** Who may connect: another security group in this VPC, or address ranges (another region over peering). */
export type IngressSource = { securityGroupId: pulumi.Input<string> } | { cidrBlocks: string[] };

/** Problems with address ranges given to `allowFrom`; empty when they are valid. */
export function cidrProblems(cidrBlocks: string[], what: string): string[] {
  if (cidrBlocks.length === 0) return ["cidrBlocks is empty; name at least one range"];
  return cidrBlocks.flatMap((cidr) => {
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr)) {
      return [`"${cidr}" is not an IPv4 CIDR such as 10.21.64.0/20`];
    }
    if (cidr.endsWith("/0")) return [`"${cidr}" would open the ${what} to every address`];
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
  const problems = cidrProblems(args.source.cidrBlocks, args.what);
  if (problems.length > 0) {
    throw new Error(
      `${args.owner.constructor.name} "${args.ownerName}": allowFrom("${args.label}"): ${problems.join("; ")}`,
    );
  }
  return args.source.cidrBlocks.map((cidrIpv4, index) => rule(`${prefix}-${index}`, { cidrIpv4 }));
}

/** A rotating customer-managed key with a readable alias, child of `owner`. */
export function createEncryptionKey(
  owner: pulumi.ComponentResource,
  name: string,
  description: string,
  hook: Transform<aws.kms.KeyArgs> | undefined,
  tags: Tags,
): aws.kms.Key {
  const key = new aws.kms.Key(
    `${name}-key`,
    transform(hook, {
      description,
      enableKeyRotation: true,
      deletionWindowInDays: KMS_DELETION_WINDOW_DAYS,
      tags,
    }),
    { parent: owner },
  );
  new aws.kms.Alias(
    `${name}-key`,
    {
      name: `alias/${stackPhysicalName([name], MAX_ALIAS_NAME_LENGTH)}`,
      targetKeyId: key.keyId,
    },
    { parent: owner },
  );
  return key;
}
