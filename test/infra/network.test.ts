import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Network,
  type NetworkArgs,
  subnetLayout,
  validateNetworkArgs,
} from "../../components/network";
import { render, resolve } from "../../harness/component";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";

describe("Network: subnet layout", () => {
  const cases: Array<[string, number, Partial<ReturnType<typeof subnetLayout>>]> = [
    [
      "10.20.0.0/16",
      2,
      {
        public: ["10.20.0.0/20", "10.20.16.0/20"],
        private: ["10.20.64.0/20", "10.20.80.0/20"],
        isolated: ["10.20.128.0/20", "10.20.144.0/20"],
      },
    ],
    [
      "10.0.0.0/20",
      3,
      {
        public: ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"],
        isolated: ["10.0.8.0/24", "10.0.9.0/24", "10.0.10.0/24"],
      },
    ],
  ];
  for (const [cidr, zones, expected] of cases) {
    it(`GIVEN ${cidr} over ${zones} zones THEN each kind gets one non-overlapping block per zone`, () => {
      const layout = subnetLayout(cidr, zones);
      for (const [kind, blocks] of Object.entries(expected)) {
        assert.deepEqual(layout[kind as keyof typeof layout], blocks);
      }
      const all = [...layout.public, ...layout.private, ...layout.isolated];
      assert.equal(new Set(all).size, all.length);
    });
  }
});

describe("Network: argument validation", () => {
  const cases: Array<[string, Parameters<typeof validateNetworkArgs>[0], RegExp | null]> = [
    ["a valid /16 over 3 zones", { cidrBlock: "10.0.0.0/16", availabilityZoneCount: 3 }, null],
    [
      "a /8 (too large to plan)",
      { cidrBlock: "10.0.0.0/8" },
      /cidrBlock: "10.0.0.0\/8" must be an IPv4 CIDR from \/16 to \/20/,
    ],
    ["text that is no CIDR", { cidrBlock: "ten/16" }, /cidrBlock/],
    [
      "host bits set (AWS would round the range down)",
      { cidrBlock: "10.0.1.0/16" },
      /cidrBlock: "10.0.1.0\/16" .*no host bits set/,
    ],
    [
      "one zone",
      { cidrBlock: "10.0.0.0/16", availabilityZoneCount: 1 },
      /availabilityZoneCount: 1 must be 2 or 3/,
    ],
    [
      "four zones",
      { cidrBlock: "10.0.0.0/16", availabilityZoneCount: 4 },
      /availabilityZoneCount: 4/,
    ],
    [
      "named zones, one per zone",
      {
        cidrBlock: "10.0.0.0/16",
        availabilityZoneCount: 2,
        availabilityZones: ["eu-west-1a", "eu-west-1c"],
      },
      null,
    ],
    [
      "fewer zone names than zones",
      { cidrBlock: "10.0.0.0/16", availabilityZoneCount: 3, availabilityZones: ["eu-west-1a"] },
      /availabilityZones: 1 names for availabilityZoneCount 3/,
    ],
    [
      "a zone named twice",
      {
        cidrBlock: "10.0.0.0/16",
        availabilityZoneCount: 2,
        availabilityZones: ["eu-west-1a", "eu-west-1a"],
      },
      /availabilityZones: eu-west-1a, eu-west-1a names a zone twice/,
    ],
  ];
  itValidatesEachCase(validateNetworkArgs, cases);

  itThrowsBeforeAnyChild(
    ({ provider }) => new Network("bad", { cidrBlock: "10.0.0.0/8" }, { provider }),
    /Network "bad": invalid arguments/,
  );
});

/** The component synthesized as "net" with `args`, in us-east-1. */
const renderNetwork = (args: NetworkArgs) =>
  render(({ provider }) => new Network("net", args, { provider }));

describe("Network: resources", () => {
  it("GIVEN perAz NAT over 3 zones THEN each private subnet routes to the NAT gateway of its own zone", async () => {
    const { value: network, ofType } = await renderNetwork({
      cidrBlock: "10.20.0.0/16",
      availabilityZoneCount: 3,
      natGateways: "perAz",
    });
    assert.equal(ofType("aws:ec2/subnet:Subnet").length, 9);
    const nats = ofType("aws:ec2/natGateway:NatGateway");
    assert.equal(nats.length, 3);
    const privateTables = ofType("aws:ec2/routeTable:RouteTable").filter((t) =>
      t.name.startsWith("net-private-rt"),
    );
    const routes = ofType("aws:ec2/route:Route");
    const natIds = privateTables.map(
      (table) =>
        routes.find(
          (route) =>
            route.inputs.routeTableId === table.id &&
            route.inputs.destinationCidrBlock === "0.0.0.0/0",
        )?.inputs.natGatewayId,
    );
    assert.equal(new Set(natIds).size, 3);
    assert.ok(natIds.every((id) => nats.some((nat) => nat.id === id)));
    assert.deepEqual(await resolve(network.availabilityZones[2]!), "us-east-1c");
  });

  it("GIVEN named zones and the region THEN the subnets go there and nothing is looked up (the network plans while its region's APIs are unreachable)", async () => {
    const zones = ["us-east-1a", "us-east-1d"];
    const { ofType, calls } = await render(
      ({ provider }) =>
        new Network(
          "net",
          {
            cidrBlock: "10.10.0.0/16",
            availabilityZoneCount: 2,
            availabilityZones: zones,
            region: "us-east-1",
          },
          { provider },
        ),
    );
    const subnets = ofType("aws:ec2/subnet:Subnet");
    for (const kind of ["public", "private", "isolated"]) {
      assert.deepEqual(
        subnets
          .filter((subnet) => subnet.name.startsWith(`net-${kind}-`))
          .map((subnet) => subnet.inputs.availabilityZone),
        zones,
        kind,
      );
    }
    assert.equal(
      ofType("aws:ec2/vpcEndpoint:VpcEndpoint")[0]!.inputs.serviceName,
      "com.amazonaws.us-east-1.s3",
    );
    assert.deepEqual(calls, []);
  });

  it("GIVEN a single NAT THEN every private route table shares it and isolated subnets have no route out", async () => {
    const { ofType } = await renderNetwork({
      cidrBlock: "10.10.0.0/16",
      availabilityZoneCount: 2,
      natGateways: "single",
    });
    assert.equal(ofType("aws:ec2/natGateway:NatGateway").length, 1);
    const isolated = ofType("aws:ec2/routeTable:RouteTable").find(
      (t) => t.name === "net-isolated-rt",
    )!;
    assert.equal(isolated.inputs.routes, undefined);
    assert.deepEqual(
      ofType("aws:ec2/route:Route").filter((route) => route.inputs.routeTableId === isolated.id),
      [],
    );
  });

  it("GIVEN any network THEN no route table or endpoint manages its list inline, so routes added beside them (peering) survive a refresh", async () => {
    const { ofType } = await renderNetwork({ cidrBlock: "10.10.0.0/16", natGateways: "perAz" });
    for (const table of ofType("aws:ec2/routeTable:RouteTable")) {
      assert.equal(table.inputs.routes, undefined, table.name);
    }
    const endpoint = ofType("aws:ec2/vpcEndpoint:VpcEndpoint")[0]!;
    assert.equal(endpoint.inputs.routeTableIds, undefined);
    const associated = ofType(
      "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
    ).map((association) => association.inputs.routeTableId);
    const privateAndIsolated = ofType("aws:ec2/routeTable:RouteTable")
      .filter((table) => !table.name.includes("public"))
      .map((table) => table.id);
    assert.deepEqual([...associated].sort(), [...privateAndIsolated].sort());
  });

  it("GIVEN defaults THEN subnets never assign public IPs, the default SG is emptied, S3 has a gateway endpoint and flow logs are kept", async () => {
    const { ofType } = await renderNetwork({ cidrBlock: "10.10.0.0/16", flowLogRetentionDays: 14 });
    for (const subnet of ofType("aws:ec2/subnet:Subnet"))
      assert.equal(subnet.inputs.mapPublicIpOnLaunch, false);
    const defaultSg = ofType("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")[0]!;
    assert.deepEqual([defaultSg.inputs.ingress, defaultSg.inputs.egress], [[], []]);
    assert.equal(
      ofType("aws:ec2/vpcEndpoint:VpcEndpoint")[0]!.inputs.serviceName,
      "com.amazonaws.us-east-1.s3",
    );
    assert.equal(ofType("aws:ec2/flowLog:FlowLog")[0]!.inputs.trafficType, "ALL");
    assert.equal(ofType("aws:cloudwatch/logGroup:LogGroup")[0]!.inputs.retentionInDays, 14);
  });
});
