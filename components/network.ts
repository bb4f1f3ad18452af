import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { parseIpv4Block, subBlock } from "./cidr";
import { tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import { throwIfInvalid } from "./validation";
import { rolePolicy, serviceTrustPolicy } from "./rolePolicy";

/** Subnets are carved from the VPC range in blocks this many bits longer than the VPC prefix. */
const SUBNET_NEWBITS = 4;
/** Block offsets of each subnet kind inside the VPC range (room for up to four AZs each). */
const SUBNET_BLOCK_OFFSET = { public: 0, private: 4, isolated: 8 } as const;
const MAX_AVAILABILITY_ZONES = 3;
/** The VPC prefixes allowed: AWS's largest VPC (/16), and the smallest with room for the layout's blocks. */
export const MIN_VPC_PREFIX = 16;
export const MAX_VPC_PREFIX = 20;
const MIN_AVAILABILITY_ZONES = 2;
const ANYWHERE = "0.0.0.0/0";

export type NatGateways = "single" | "perAz";

export interface NetworkArgs {
  /**
   * The VPC's IPv4 range, from /16 to /20. Each subnet gets 1/16th of it.
   *
   * Changing it replaces the VPC and everything in it.
   * @example "10.20.0.0/16"
   */
  cidrBlock: string;
  /**
   * How many availability zones to spread subnets over (2 or 3).
   *
   * Lowering it replaces the subnets of the dropped zones and what runs in them.
   * @default 2
   */
  availabilityZoneCount?: number;
  /**
   * The zones' names, one per `availabilityZoneCount`, in subnet order. Given, the network looks
   * nothing up: it plans while the region's EC2 API is unreachable, and a zone that turns
   * impaired cannot move its subnets elsewhere. Changing a name replaces that zone's subnets and
   * what runs in them.
   * @default the region's first available zones, looked up (DescribeAvailabilityZones)
   * @example ["us-east-1a", "us-east-1b", "us-east-1c"]
   */
  availabilityZones?: string[];
  /**
   * `single`: one NAT gateway for the whole VPC (cheap; private subnets lose egress if its zone fails).
   * `perAz`: one per availability zone (sturdy; each zone keeps egress on its own).
   * @default "perAz"
   */
  natGateways?: NatGateways;
  /**
   * Record every accepted and rejected flow to CloudWatch Logs.
   * @default true
   */
  enableFlowLogs?: boolean;
  /**
   * How long flow logs are kept.
   * @default 30
   */
  flowLogRetentionDays?: number;
  /**
   * The customer-managed KMS key the flow log group is encrypted with (its policy must let this
   * region's CloudWatch Logs use it: components/kmsKey.ts logsKeyUsers). Unset: CloudWatch Logs'
   * own encryption.
   */
  flowLogKmsKeyArn?: pulumi.Input<string>;
  /**
   * The region of the component's provider (the S3 endpoint's service is named after it).
   * @default looked up through the component's provider
   */
  region?: pulumi.Input<string>;
  /** Change the arguments of a child resource before it is created. */
  transform?: {
    vpc?: Transform<aws.ec2.VpcArgs>;
    subnet?: Transform<aws.ec2.SubnetArgs>;
    natGateway?: Transform<aws.ec2.NatGatewayArgs>;
    flowLog?: Transform<aws.ec2.FlowLogArgs>;
  };
}

/** The subnet ranges of each kind, one per availability zone. */
export interface SubnetLayout {
  public: string[];
  private: string[];
  isolated: string[];
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateNetworkArgs(args: NetworkArgs): string[] {
  const problems: string[] = [];
  const cidrProblem = vpcCidrProblem(args.cidrBlock);
  if (cidrProblem !== undefined) problems.push(`cidrBlock: ${cidrProblem}`);
  const zones = args.availabilityZoneCount ?? MIN_AVAILABILITY_ZONES;
  if (
    !Number.isInteger(zones) ||
    zones < MIN_AVAILABILITY_ZONES ||
    zones > MAX_AVAILABILITY_ZONES
  ) {
    problems.push(
      `availabilityZoneCount: ${zones} must be ${MIN_AVAILABILITY_ZONES} or ${MAX_AVAILABILITY_ZONES} (the load balancer and multi-AZ databases need two)`,
    );
  }
  if (args.availabilityZones !== undefined) {
    if (args.availabilityZones.length !== zones) {
      problems.push(
        `availabilityZones: ${args.availabilityZones.length} names for availabilityZoneCount ${zones}; give one name per zone`,
      );
    }
    if (new Set(args.availabilityZones).size !== args.availabilityZones.length) {
      problems.push(
        `availabilityZones: ${args.availabilityZones.join(", ")} names a zone twice; each subnet needs its own zone`,
      );
    }
  }
  return problems;
}

/**
 * What is wrong with `value` as a VPC range this component accepts (an IPv4 CIDR block, no host
 * bits set, from /16 to /20), or undefined when nothing is.
 */
export function vpcCidrProblem(value: string): string | undefined {
  const block = parseIpv4Block(value);
  return block !== undefined && block.prefix >= MIN_VPC_PREFIX && block.prefix <= MAX_VPC_PREFIX
    ? undefined
    : `"${value}" must be an IPv4 CIDR from /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX} with no host bits set, such as 10.0.0.0/16`;
}

/** Splits a VPC range into public, private and isolated subnet ranges, one of each per zone. */
export function subnetLayout(cidrBlock: string, zoneCount: number): SubnetLayout {
  const vpc = parseIpv4Block(cidrBlock);
  if (vpc === undefined) throw new Error(`cidrBlock: "${cidrBlock}" is not an IPv4 CIDR block`);
  const block = (index: number) => subBlock(vpc, SUBNET_NEWBITS, index);
  const zones = Array.from({ length: zoneCount }, (_, zone) => zone);
  return {
    public: zones.map((zone) => block(SUBNET_BLOCK_OFFSET.public + zone)),
    private: zones.map((zone) => block(SUBNET_BLOCK_OFFSET.private + zone)),
    isolated: zones.map((zone) => block(SUBNET_BLOCK_OFFSET.isolated + zone)),
  };
}

/**
 * The network of one region: a VPC with three kinds of subnet in each availability zone.
 *
 * - public: the load balancer and NAT gateways; routes to the internet gateway.
 * - private: the app's tasks; egress through NAT, no public addresses.
 * - isolated: databases and caches; no route to or from the internet at all.
 *
 * S3 traffic takes a gateway endpoint (free, and it keeps image layers and uploads off NAT).
 * The VPC's default security group is emptied so nothing can use it by accident.
 *
 * @example
 * ```ts
 * const network = new Network("primary-network", {
 *   cidrBlock: "10.20.0.0/16",
 *   availabilityZoneCount: 3,
 *   natGateways: "perAz",
 * }, { provider });
 * ```
 *
 * Cost: NAT gateways dominate, about $33 a month each plus $0.045 per GB processed
 * (us-east-1): `single` about $35, `perAz` in three zones about $100, before traffic.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly cidrBlock: string;
  readonly availabilityZones: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly isolatedSubnetIds: pulumi.Output<string>[];
  /** The ranges of the private subnets, where the app runs (for rules in other regions). */
  readonly privateSubnetCidrs: string[];
  /** The ranges of the isolated subnets, where the data tier runs. */
  readonly isolatedSubnetCidrs: string[];
  /** Route tables of the private subnets (one per zone) and of the isolated subnets, for peering routes. */
  readonly privateRouteTableIds: pulumi.Output<string>[];
  readonly isolatedRouteTableIds: pulumi.Output<string>[];

  private readonly vpc: aws.ec2.Vpc;
  private readonly natGatewayResources: aws.ec2.NatGateway[];
  private readonly flowLogResource: aws.ec2.FlowLog | undefined;

  constructor(name: string, args: NetworkArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:Network", name, {}, opts);
    throwIfInvalid("Network", name, validateNetworkArgs(args));
    const zoneCount = args.availabilityZoneCount ?? MIN_AVAILABILITY_ZONES;
    const layout = subnetLayout(args.cidrBlock, zoneCount);
    const tags = tierTags("network");

    this.cidrBlock = args.cidrBlock;
    this.privateSubnetCidrs = layout.private;
    this.isolatedSubnetCidrs = layout.isolated;
    this.availabilityZones =
      args.availabilityZones?.map((zone) => pulumi.output(zone)) ?? this.lookUpZones(zoneCount);
    this.vpc = this.createVpc(name, args, tags);
    const internetGateway = this.createInternetGateway(name, tags);
    const publicSubnets = this.createSubnets(name, "public", layout.public, args, tags);
    const privateSubnets = this.createSubnets(name, "private", layout.private, args, tags);
    const isolatedSubnets = this.createSubnets(name, "isolated", layout.isolated, args, tags);
    this.createPublicRoutes(name, publicSubnets, internetGateway, tags);
    this.natGatewayResources = this.createNatGateways(
      name,
      args.natGateways ?? "perAz",
      publicSubnets,
      args,
      tags,
    );
    const privateRouteTables = this.createPrivateRoutes(name, privateSubnets, tags);
    const isolatedRouteTable = this.createIsolatedRoutes(name, isolatedSubnets, tags);
    this.createS3Endpoint(name, args, [...privateRouteTables, isolatedRouteTable], tags);
    this.lockDefaultSecurityGroup(name, tags);
    this.flowLogResource =
      (args.enableFlowLogs ?? true) ? this.createFlowLogs(name, args, tags) : undefined;

    this.vpcId = this.vpc.id;
    this.publicSubnetIds = publicSubnets.map((subnet) => subnet.id);
    this.privateSubnetIds = privateSubnets.map((subnet) => subnet.id);
    this.isolatedSubnetIds = isolatedSubnets.map((subnet) => subnet.id);
    this.privateRouteTableIds = privateRouteTables.map((table) => table.id);
    this.isolatedRouteTableIds = [isolatedRouteTable.id];
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      isolatedSubnetIds: this.isolatedSubnetIds,
    });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return { vpc: this.vpc, natGateways: this.natGatewayResources, flowLog: this.flowLogResource };
  }

  private lookUpZones(zoneCount: number): pulumi.Output<string>[] {
    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: this });
    return Array.from({ length: zoneCount }, (_, index) =>
      zones.names.apply((names) => {
        const zone = names[index];
        if (zone === undefined) {
          throw new Error(
            `the region has ${names.length} availability zones; availabilityZoneCount asks for ${zoneCount}`,
          );
        }
        return zone;
      }),
    );
  }

  private createVpc(name: string, args: NetworkArgs, tags: Record<string, string>): aws.ec2.Vpc {
    return new aws.ec2.Vpc(
      `${name}-vpc`,
      transform(args.transform?.vpc, {
        cidrBlock: args.cidrBlock,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { ...tags, Name: `${name}-vpc` },
      }),
      { parent: this },
    );
  }

  private createInternetGateway(
    name: string,
    tags: Record<string, string>,
  ): aws.ec2.InternetGateway {
    return new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId: this.vpc.id, tags: { ...tags, Name: `${name}-igw` } },
      { parent: this },
    );
  }

  private createSubnets(
    name: string,
    kind: keyof SubnetLayout,
    cidrs: string[],
    args: NetworkArgs,
    tags: Record<string, string>,
  ): aws.ec2.Subnet[] {
    return cidrs.map(
      (cidrBlock, zone) =>
        new aws.ec2.Subnet(
          `${name}-${kind}-${zone}`,
          transform(args.transform?.subnet, {
            vpcId: this.vpc.id,
            cidrBlock,
            availabilityZone: this.availabilityZones[zone],
            // Nothing launched here gets a public address by default, not even in public subnets.
            mapPublicIpOnLaunch: false,
            tags: { ...tags, Name: `${name}-${kind}-${zone}`, "subnet-kind": kind },
          }),
          { parent: this },
        ),
    );
  }

  private createPublicRoutes(
    name: string,
    subnets: aws.ec2.Subnet[],
    internetGateway: aws.ec2.InternetGateway,
    tags: Record<string, string>,
  ): void {
    const table = this.createRouteTable(`${name}-public-rt`, `${name}-public`, tags);
    new aws.ec2.Route(
      `${name}-public-internet`,
      { routeTableId: table.id, destinationCidrBlock: ANYWHERE, gatewayId: internetGateway.id },
      { parent: this },
    );
    this.associate(name, "public", subnets, () => table);
  }

  private createNatGateways(
    name: string,
    mode: NatGateways,
    publicSubnets: aws.ec2.Subnet[],
    args: NetworkArgs,
    tags: Record<string, string>,
  ): aws.ec2.NatGateway[] {
    const subnets = mode === "single" ? publicSubnets.slice(0, 1) : publicSubnets;
    return subnets.map((subnet, zone) => {
      const address = new aws.ec2.Eip(
        `${name}-nat-eip-${zone}`,
        { domain: "vpc", tags: { ...tags, Name: `${name}-nat-${zone}` } },
        { parent: this },
      );
      return new aws.ec2.NatGateway(
        `${name}-nat-${zone}`,
        transform(args.transform?.natGateway, {
          subnetId: subnet.id,
          allocationId: address.id,
          tags: { ...tags, Name: `${name}-nat-${zone}` },
        }),
        { parent: this },
      );
    });
  }

  private createPrivateRoutes(
    name: string,
    subnets: aws.ec2.Subnet[],
    tags: Record<string, string>,
  ): aws.ec2.RouteTable[] {
    const tables = subnets.map((_, zone) => {
      // With a single NAT gateway every zone shares it; otherwise each zone uses its own.
      const nat = this.natGatewayResources[zone] ?? this.natGatewayResources[0]!;
      const table = this.createRouteTable(
        `${name}-private-rt-${zone}`,
        `${name}-private-${zone}`,
        tags,
      );
      new aws.ec2.Route(
        `${name}-private-nat-${zone}`,
        { routeTableId: table.id, destinationCidrBlock: ANYWHERE, natGatewayId: nat.id },
        { parent: this },
      );
      return table;
    });
    this.associate(name, "private", subnets, (zone) => tables[zone]!);
    return tables;
  }

  private createIsolatedRoutes(
    name: string,
    subnets: aws.ec2.Subnet[],
    tags: Record<string, string>,
  ): aws.ec2.RouteTable {
    const table = this.createRouteTable(`${name}-isolated-rt`, `${name}-isolated`, tags);
    this.associate(name, "isolated", subnets, () => table);
    return table;
  }

  /**
   * A route table with no inline `routes`: every route is a separate aws.ec2.Route (here, and the
   * peering's in another component). The provider manages an inline list authoritatively, so a
   * refresh of a table that had one would plan to delete every route added beside it.
   */
  private createRouteTable(
    logicalName: string,
    nameTag: string,
    tags: Record<string, string>,
  ): aws.ec2.RouteTable {
    return new aws.ec2.RouteTable(
      logicalName,
      { vpcId: this.vpc.id, tags: { ...tags, Name: nameTag } },
      { parent: this },
    );
  }

  private associate(
    name: string,
    kind: keyof SubnetLayout,
    subnets: aws.ec2.Subnet[],
    tableFor: (zone: number) => aws.ec2.RouteTable,
  ): void {
    subnets.forEach(
      (subnet, zone) =>
        new aws.ec2.RouteTableAssociation(
          `${name}-${kind}-rta-${zone}`,
          { subnetId: subnet.id, routeTableId: tableFor(zone).id },
          { parent: this },
        ),
    );
  }

  private createS3Endpoint(
    name: string,
    args: NetworkArgs,
    routeTables: aws.ec2.RouteTable[],
    tags: Record<string, string>,
  ): void {
    const region = args.region ?? aws.getRegionOutput({}, { parent: this }).region;
    const endpoint = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: this.vpc.id,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
        vpcEndpointType: "Gateway",
        tags: { ...tags, Name: `${name}-s3` },
      },
      { parent: this },
    );
    // Separate associations, not inline routeTableIds (which the provider manages as the whole list).
    routeTables.forEach(
      (table, index) =>
        new aws.ec2.VpcEndpointRouteTableAssociation(
          `${name}-s3-${index}`,
          { vpcEndpointId: endpoint.id, routeTableId: table.id },
          { parent: this },
        ),
    );
  }

  private lockDefaultSecurityGroup(name: string, tags: Record<string, string>): void {
    // Adopting the default group with no rules removes its allow-all; every tier has its own group.
    new aws.ec2.DefaultSecurityGroup(
      `${name}-default-sg`,
      {
        vpcId: this.vpc.id,
        ingress: [],
        egress: [],
        tags: { ...tags, Name: `${name}-default-locked` },
      },
      { parent: this },
    );
  }

  private createFlowLogs(
    name: string,
    args: NetworkArgs,
    tags: Record<string, string>,
  ): aws.ec2.FlowLog {
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        retentionInDays: args.flowLogRetentionDays ?? 30,
        ...(args.flowLogKmsKeyArn === undefined ? {} : { kmsKeyId: args.flowLogKmsKeyArn }),
        tags,
      },
      { parent: this },
    );
    const role = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: serviceTrustPolicy("vpc-flow-logs.amazonaws.com"),
        tags,
      },
      { parent: this },
    );
    rolePolicy(
      `${name}-flow-logs`,
      role.id,
      [
        {
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: [logGroup.arn, pulumi.interpolate`${logGroup.arn}:*`],
        },
      ],
      { parent: this },
    );
    return new aws.ec2.FlowLog(
      `${name}-flow-log`,
      transform(args.transform?.flowLog, {
        vpcId: this.vpc.id,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: logGroup.arn,
        iamRoleArn: role.arn,
        tags,
      }),
      { parent: this },
    );
  }
}
