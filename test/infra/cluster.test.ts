import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ComputeCluster } from "../../components/cluster";
import { render, resolve } from "../../harness/component";

const CLUSTER = "aws:ecs/cluster:Cluster";
const CAPACITY = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders";

describe("ComputeCluster", () => {
  it("GIVEN defaults THEN Container Insights is on and both Fargate capacity providers are attached, on demand by default", async () => {
    const { ofType } = await render(({ provider }) => new ComputeCluster("c", {}, { provider }));
    const [cluster] = ofType(CLUSTER);
    assert.deepEqual(cluster!.inputs.settings, [{ name: "containerInsights", value: "enabled" }]);
    assert.equal((cluster!.inputs.tags as Record<string, string>).tier, "web");
    const [capacity] = ofType(CAPACITY);
    assert.deepEqual(capacity!.inputs.capacityProviders, ["FARGATE", "FARGATE_SPOT"]);
    assert.deepEqual(capacity!.inputs.defaultCapacityProviderStrategies, [
      { capacityProvider: "FARGATE", weight: 1 },
    ]);
  });

  it("GIVEN enableContainerInsights false THEN Container Insights is off", async () => {
    const { ofType } = await render(
      ({ provider }) => new ComputeCluster("c", { enableContainerInsights: false }, { provider }),
    );
    assert.deepEqual(ofType(CLUSTER)[0]!.inputs.settings, [
      { name: "containerInsights", value: "disabled" },
    ]);
  });

  it("GIVEN a cluster WHEN a service reads arn and name THEN they name the cluster the capacity providers are attached to", async () => {
    const { value: cluster, ofType } = await render(
      ({ provider }) => new ComputeCluster("c", {}, { provider }),
    );
    const recorded = ofType(CLUSTER)[0]!;
    assert.equal(await resolve(cluster.name), recorded.state.name);
    assert.equal(await resolve(cluster.arn), recorded.state.arn);
    assert.equal(ofType(CAPACITY)[0]!.inputs.clusterName, recorded.state.name);
    assert.match(await resolve(cluster.arn), /^arn:aws:ecs:us-east-1:\d{12}:cluster\//);
  });

  it("GIVEN a transform WHEN the cluster is created THEN it changes the cluster's arguments", async () => {
    const { ofType } = await render(
      ({ provider }) =>
        new ComputeCluster("c", { transform: { cluster: { name: "custom" } } }, { provider }),
    );
    assert.equal(ofType(CLUSTER)[0]!.inputs.name, "custom");
  });
});
