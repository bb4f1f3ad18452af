import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "../../components/aws";
import { render } from "../../harness/component";

/** A component whose child's name ignores the component's own name (the defect this guards). */
class Owner extends pulumi.ComponentResource {
  constructor(name: string, childName: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:harness:Owner", name, {}, opts);
    new aws.sqs.Queue(childName, {}, { parent: this });
  }
}

describe("synth harness: URNs as the engine forms them", () => {
  it("GIVEN two components of one type whose children share a name WHEN rendered THEN the render fails naming the URN (the engine refuses the second)", async () => {
    await assert.rejects(
      render(({ provider }) => {
        new Owner("primary", "jobs", { provider });
        new Owner("secondary", "jobs", { provider });
      }),
      /two resources have the same URN, which the engine refuses: urn:pulumi:test::zero-to-millions::test:harness:Owner\$aws:sqs\/queue:Queue::jobs\./,
    );
  });

  it("GIVEN the children named after their parents WHEN rendered THEN both exist", async () => {
    const { ofType } = await render(({ provider }) => {
      new Owner("primary", "primary-jobs", { provider });
      new Owner("secondary", "secondary-jobs", { provider });
    });
    assert.deepEqual(
      ofType("aws:sqs/queue:Queue")
        .map((queue) => queue.name)
        .sort(),
      ["primary-jobs", "secondary-jobs"],
    );
  });
});
