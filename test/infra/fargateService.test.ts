/**
 * What every long-running Fargate service shares (components/fargateService.ts: FargateService):
 * it is built first, so that other components can grant its task role access, and started once
 * every grant exists, so that no task starts before its role may read what the app reads.
 * QueueWorkers stands for both services here; WebService and QueueWorkers specs cover the rest.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve as resolvePath } from "node:path";
import { describe, it } from "node:test";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { servicesNotStarted } from "../../components/serviceStarts";
import { QueueWorkers, type QueueWorkersArgs } from "../../components/queueWorkers";
import { render } from "../../harness/component";
import { devTasks } from "./support/fargate";
import { T } from "./support/types";

/** The smallest workers: nothing here depends on their queue or scaling. */
function workerArgs(): QueueWorkersArgs {
  return {
    ...devTasks(),
    command: ["worker"],
    minTasks: 0,
    maxTasks: 2,
    jobTimeoutSeconds: 60,
    averageJobSeconds: 2,
    latencyGoalSeconds: 60,
    maxReceiveCount: 5,
    messageRetentionDays: 4,
  };
}

describe("FargateService: built, granted, then started", () => {
  it("GIVEN a policy another component puts on the task role WHEN the service starts with it THEN the ECS service waits for it, named as a resource (no Output to resolve)", async () => {
    const options = new Map<string, pulumi.ResourceOptions>();
    const { named } = await render(({ provider }) => {
      const record: pulumi.ResourceTransformation = ({ type, name, opts }) => {
        options.set(`${type}::${name}`, opts);
        return undefined;
      };
      const workers = new QueueWorkers("workers", workerArgs(), {
        provider,
        transformations: [record],
      });
      const grant = new aws.iam.RolePolicy(
        "workers-reads-files",
        { role: workers.taskRoleName, policy: "{}" },
        { provider },
      );
      workers.start([grant]);
      return workers;
    });
    const service = named("workers-service", T.service);
    const grant = named("workers-reads-files", T.rolePolicy);
    const consumeJobs = named("workers-consume-jobs", T.rolePolicy);
    assert.ok(service.dependsOn.includes(grant.urn), "the grant made outside the component");
    assert.ok(service.dependsOn.includes(consumeJobs.urn), "the component's own grant");
    const dependsOn = options.get(`${T.service}::workers-service`)?.dependsOn;
    assert.ok(Array.isArray(dependsOn) && !pulumi.Output.isInstance(dependsOn));
  });

  it("GIVEN a service built WHEN it is not started yet THEN it is listed as not started, and no ECS service exists; once started, neither holds", async () => {
    let before: string[] = [];
    const { ofType } = await render(({ provider }) => {
      const workers = new QueueWorkers("later-workers", workerArgs(), { provider });
      before = servicesNotStarted();
      assert.equal(workers.nodes.service, undefined);
      workers.start([]);
      return workers;
    });
    assert.deepEqual(before, ["later-workers"]);
    assert.deepEqual(servicesNotStarted(), []);
    assert.equal(ofType(T.service).length, 1);
  });

  it("GIVEN a started service WHEN it is started again THEN it refuses: a service starts once", async () => {
    await render(({ provider }) => {
      const workers = new QueueWorkers("twice-workers", workerArgs(), { provider });
      workers.start([]);
      assert.throws(() => workers.start([]), /twice-workers: .*start\(\) was already called/);
      return workers;
    });
  });

  /** Runs a program that builds a service named `name` and never starts it; `after` runs meanwhile. */
  const programThatNeverStarts = (name: string, after = "") => {
    const program = `
      const pulumi = await import("@pulumi/pulumi");
      const { render } = await import(${JSON.stringify(resolvePath("harness/component.ts"))});
      const { QueueWorkers } = await import(${JSON.stringify(resolvePath("components/queueWorkers.ts"))});
      const rendering = render(({ provider }) => new QueueWorkers(${JSON.stringify(name)}, ${JSON.stringify(workerArgs())}, { provider }));
      ${after}
      await rendering;
    `;
    return spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "--eval", program],
      { encoding: "utf8" },
    );
  };

  it("GIVEN a program that builds a service and never starts it WHEN the program ends THEN it fails, naming the service", () => {
    const run = programThatNeverStarts("forgotten-workers");
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /forgotten-workers: the Fargate service was never started/);
  });

  it("GIVEN a program that failed for another reason before starting its service THEN it still fails, with its own error and not a misleading one about start()", () => {
    const run = programThatNeverStarts("failed-workers", 'pulumi.log.error("the real problem");');
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr + run.stdout, /the real problem/);
    assert.doesNotMatch(run.stderr, /never started/);
  });
});
