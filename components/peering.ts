import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { tierTags } from "./tags";
import { throwIfInvalid } from "./validation";

/** One side of the peering: a VPC, the route tables that get a route to the other side, and its ranges. */
export interface PeeringSide {
  /** The provider of the side's region (peering spans two regions, so one component needs both). */
  provider: aws.Provider;
  region: string;
  vpcId: pulumi.Input<string>;
  /** Route tables that get a route to `reachableCidrs` of the other side. */
  routeTableIds: pulumi.Input<string>[];
  /** The ranges of this side the other side may reach. */
  reachableCidrs: string[];
}

export interface RegionPeeringArgs {
  /** The side that asks for the connection (the secondary region: its app writes to the primary's database). */
  requester: PeeringSide;
  /** The side that accepts it (the primary region). */
  accepter: PeeringSide;
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateRegionPeeringArgs(args: RegionPeeringArgs): string[] {
  const problems: string[] = [];
  if (args.requester.region === args.accepter.region) {
    problems.push(
      `requester.region and accepter.region are both ${args.accepter.region}; peering here joins two regions`,
    );
  }
  for (const side of ["requester", "accepter"] as const) {
    if (args[side].reachableCidrs.length === 0)
      problems.push(`${side}.reachableCidrs: empty; name the ranges the other side may reach`);
  }
  return problems;
}

/**
 * A cross-region VPC peering connection with routes in both directions, limited to the ranges
 * each side may reach (the seeds' multi-data-center step: the secondary region's app writes to
 * the primary's database writer over AWS's backbone, never over the internet).
 *
 * Security groups cannot reference groups across regions, so the data tier admits the other
 * region by CIDR where the stack composes it. Both sides are in one account: the requester's
 * provider names it, so the requester's side plans and applies while the accepter's region is
 * unreachable (the failover of README: Deploying).
 *
 * @example
 * ```ts
 * new RegionPeering("peering", {
 *   requester: { provider: secondary, region: "eu-west-1", vpcId, routeTableIds, reachableCidrs: privateCidrs },
 *   accepter: { provider: primary, region: "us-east-1", vpcId, routeTableIds, reachableCidrs: isolatedCidrs },
 * });
 * ```
 *
 * Cost: no hourly charge; cross-region data transfer at about $0.02 per GB.
 */
export class RegionPeering extends pulumi.ComponentResource {
  readonly connectionId: pulumi.Output<string>;

  constructor(name: string, args: RegionPeeringArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:RegionPeering", name, {}, opts);
    throwIfInvalid("RegionPeering", name, validateRegionPeeringArgs(args));
    const connection = this.createConnection(name, args);
    const accepted = this.acceptConnection(name, args, connection);
    this.createRoutes(name, "requester", args.requester, args.accepter.reachableCidrs, accepted);
    this.createRoutes(name, "accepter", args.accepter, args.requester.reachableCidrs, accepted);
    this.connectionId = connection.id;
    this.registerOutputs({ connectionId: this.connectionId });
  }

  private createConnection(name: string, args: RegionPeeringArgs): aws.ec2.VpcPeeringConnection {
    // One account holds both sides, so the requester's own provider names it: the requester's
    // region plans and applies with the accepter's region unreachable (a regional failover).
    const account = aws.getCallerIdentityOutput(
      {},
      { parent: this, provider: args.requester.provider },
    );
    return new aws.ec2.VpcPeeringConnection(
      `${name}-connection`,
      {
        vpcId: args.requester.vpcId,
        peerVpcId: args.accepter.vpcId,
        peerRegion: args.accepter.region,
        peerOwnerId: account.accountId,
        // Cross-region peering cannot be auto-accepted by the requester; the accepter below does it.
        autoAccept: false,
        tags: { ...tierTags("network"), Name: name },
      },
      { parent: this, provider: args.requester.provider },
    );
  }

  private acceptConnection(
    name: string,
    args: RegionPeeringArgs,
    connection: aws.ec2.VpcPeeringConnection,
  ): aws.ec2.VpcPeeringConnectionAccepter {
    return new aws.ec2.VpcPeeringConnectionAccepter(
      `${name}-accepter`,
      {
        vpcPeeringConnectionId: connection.id,
        autoAccept: true,
        tags: { ...tierTags("network"), Name: name },
      },
      { parent: this, provider: args.accepter.provider },
    );
  }

  private createRoutes(
    name: string,
    sideName: "requester" | "accepter",
    side: PeeringSide,
    destinations: string[],
    accepted: aws.ec2.VpcPeeringConnectionAccepter,
  ): void {
    side.routeTableIds.forEach((routeTableId, table) =>
      destinations.forEach(
        (destinationCidrBlock, destination) =>
          new aws.ec2.Route(
            `${name}-${sideName}-${table}-${destination}`,
            {
              routeTableId,
              destinationCidrBlock,
              vpcPeeringConnectionId: accepted.vpcPeeringConnectionId,
            },
            { parent: this, provider: side.provider },
          ),
      ),
    );
  }
}
