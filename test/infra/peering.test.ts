import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RegionPeering, type RegionPeeringArgs } from "../../components/peering";
import { render } from "../../harness/component";
import type { RenderContext } from "../../harness/component";

function peeringArgs({ provider, providerFor }: RenderContext): RegionPeeringArgs {
  return {
    requester: {
      provider: providerFor("eu-west-1"),
      region: "eu-west-1",
      vpcId: "vpc-secondary",
      routeTableIds: ["rtb-private-a"],
      reachableCidrs: ["10.1.16.0/20"],
    },
    accepter: {
      provider,
      region: "us-east-1",
      vpcId: "vpc-primary",
      routeTableIds: ["rtb-isolated"],
      reachableCidrs: ["10.0.32.0/20"],
    },
  };
}

describe("RegionPeering: the requester stands without the accepter's region", () => {
  it("GIVEN a peering WHEN the program runs THEN no lookup goes through the accepter's provider (a failover plans with the accepter's region lost)", async () => {
    const { calls, ofType } = await render((context) => {
      new RegionPeering("peering", peeringArgs(context));
    });
    const [connection] = ofType("aws:ec2/vpcPeeringConnection:VpcPeeringConnection");
    assert.equal(connection?.region, "eu-west-1");
    assert.equal(connection?.inputs.peerRegion, "us-east-1");
    assert.match(String(connection?.inputs.peerOwnerId), /^\d{12}$/);
    assert.ok(calls.length > 0, "the spec sees the lookups it checks");
    assert.deepEqual(
      calls.filter((call) => call.region === "us-east-1").map((call) => call.token),
      [],
    );
  });
});
