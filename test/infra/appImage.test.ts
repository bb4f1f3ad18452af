/**
 * The app image: pushed to a repository in each region (no registry replication, which is
 * asynchronous and one configuration per registry), with tags that a rollback may push again
 * and repositories that a destroy can delete.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppImage } from "../../components/appImage";
import { render, resolve } from "../../harness/component";

const REPOSITORY = "aws:ecr/repository:Repository";

describe("AppImage: GIVEN a primary and a secondary registry", () => {
  const build = () =>
    render(
      ({ providerFor }) =>
        new AppImage("app", {
          context: ".",
          dockerfile: "app/Dockerfile",
          tag: "src-0123456789abcdef",
          registries: { primary: providerFor("us-east-1"), secondary: providerFor("eu-west-1") },
        }),
    );

  it("THEN each region has a repository of its own and nothing replicates between them", async () => {
    const { ofType } = await build();
    assert.deepEqual(
      ofType(REPOSITORY)
        .map((repository) => repository.region)
        .sort(),
      ["eu-west-1", "us-east-1"],
    );
    assert.deepEqual(ofType("aws:ecr/replicationConfiguration:ReplicationConfiguration"), []);
  });

  it("THEN each region's image is pushed to that region's repository, and its URI is by digest", async () => {
    const { value: image, ofType } = await build();
    for (const [label, region] of [
      ["primary", "us-east-1"],
      ["secondary", "eu-west-1"],
    ] as const) {
      const uri = await resolve(image.imageUris[label]!);
      assert.match(
        uri,
        new RegExp(`^\\d{12}\\.dkr\\.ecr\\.${region}\\.amazonaws\\.com/.+@sha256:`),
      );
    }
    assert.equal(ofType("awsx:ecr:Image").length, 2);
  });

  it("THEN a rollback may push an earlier tag again, and a destroy deletes repositories that hold images", async () => {
    const { ofType } = await build();
    for (const repository of ofType(REPOSITORY)) {
      assert.equal(repository.inputs.imageTagMutability, "MUTABLE", repository.name);
      assert.equal(repository.inputs.forceDelete, true, repository.name);
    }
  });

  it("THEN each repository keeps the last builds (the reach of a rollback) and expires untagged images", async () => {
    const { ofType } = await build();
    const policies = ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy");
    assert.equal(policies.length, 2);
    for (const policy of policies) {
      const { rules } = JSON.parse(String(policy.inputs.policy)) as {
        rules: Array<{ selection: Record<string, unknown> }>;
      };
      assert.deepEqual(
        rules.map((rule) => [rule.selection.tagStatus, rule.selection.countType]),
        [
          ["untagged", "sinceImagePushed"],
          ["tagged", "imageCountMoreThan"],
        ],
      );
      assert.deepEqual(rules[1]!.selection.tagPrefixList, ["src-"]);
    }
  });

  it("GIVEN no registry THEN it throws, naming the argument", async () => {
    await render(() => {
      assert.throws(
        () => new AppImage("app", { context: ".", dockerfile: "D", tag: "t", registries: {} }),
        /registries is empty/,
      );
      return null;
    });
  });
});
