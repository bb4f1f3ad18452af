/**
 * The migrate run: the deploy step that the web and worker services wait for. It runs the task
 * in the writer's region and succeeds only when the container exited 0; anything else fails the
 * `up` before a service changes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MIGRATION_TIMEOUT_MS,
  type MigrationEcs,
  type MigrationRunInputs,
  migrationRerunNeeded,
  runMigrationTask,
} from "../../components/migrationRun";

const INPUTS: MigrationRunInputs = {
  region: "us-west-2",
  clusterArn: "arn:aws:ecs:us-west-2:123456789012:cluster/secondary",
  taskDefinitionArn: "arn:aws:ecs:us-west-2:123456789012:task-definition/migrate:7",
  subnetIds: ["subnet-a", "subnet-b"],
  securityGroupId: "sg-migrate",
  containerName: "app",
};
const TASK_ARN = "arn:aws:ecs:us-west-2:123456789012:task/secondary/abc123";

type RunAnswer = Awaited<ReturnType<MigrationEcs["runTask"]>>;
type Described = NonNullable<Awaited<ReturnType<MigrationEcs["describeTasks"]>>["tasks"]>[number];

/** An ECS that starts the task (or not) and reports `states` one poll at a time. */
function fakeEcs(run: RunAnswer, states: Described[]) {
  const calls: { runTask: unknown[]; describeTasks: unknown[] } = {
    runTask: [],
    describeTasks: [],
  };
  let poll = 0;
  const ecs: MigrationEcs = {
    async runTask(input) {
      calls.runTask.push(input);
      return run;
    },
    async describeTasks(input) {
      calls.describeTasks.push(input);
      const state = states[Math.min(poll, states.length - 1)]!;
      poll += 1;
      return { tasks: [state] };
    },
  };
  return { ecs, calls };
}
const noWait = { sleep: async () => {} };
const started: RunAnswer = { tasks: [{ taskArn: TASK_ARN }] };
const running: Described = { lastStatus: "RUNNING" };
const stopped = (exitCode: number | undefined, extra: Partial<Described> = {}): Described => ({
  lastStatus: "STOPPED",
  containers: [{ name: "app", ...(exitCode === undefined ? {} : { exitCode }) }],
  ...extra,
});

describe("MigrationRun: running the migrate task before the services", () => {
  const cases: Array<[string, RunAnswer, Described[], RegExp | undefined]> = [
    ["the task runs and exits 0", started, [running, running, stopped(0)], undefined],
    [
      "the task exits non-zero",
      started,
      [running, stopped(1)],
      /migrate task abc123 in us-west-2: it exited with code 1; the web and worker tasks were not changed\. Fix: /,
    ],
    [
      "the task never starts (the image cannot be pulled)",
      started,
      [
        stopped(undefined, {
          stopCode: "TaskFailedToStart",
          stoppedReason: "CannotPullContainerError: pull image manifest has been retried",
        }),
      ],
      /it never ran \(TaskFailedToStart: CannotPullContainerError: pull image manifest has been retried\)/,
    ],
    [
      "ECS does not place the task",
      { tasks: [], failures: [{ arn: INPUTS.clusterArn, reason: "MISSING" }] },
      [],
      /ECS did not start it \(MISSING\)\. Fix: /,
    ],
    [
      "the task never stops",
      started,
      [running],
      new RegExp(`still running after ${MIGRATION_TIMEOUT_MS / 60_000} minutes`),
    ],
  ];
  for (const [label, run, states, failure] of cases) {
    it(`GIVEN ${label} THEN the run ${failure ? "fails the up, saying why" : "succeeds with the task id"}`, async () => {
      const { ecs } = fakeEcs(run, states);
      const result = runMigrationTask(ecs, INPUTS, noWait);
      if (failure) await assert.rejects(result, failure);
      else assert.equal(await result, "abc123");
    });
  }

  it("GIVEN a run THEN RunTask gets the migrate task definition on Fargate in the private subnets with its own security group and no public IP", async () => {
    const { ecs, calls } = fakeEcs(started, [stopped(0)]);
    await runMigrationTask(ecs, INPUTS, noWait);
    assert.deepEqual(calls.runTask, [
      {
        cluster: INPUTS.clusterArn,
        taskDefinition: INPUTS.taskDefinitionArn,
        launchType: "FARGATE",
        count: 1,
        startedBy: "pulumi-migrate",
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: ["subnet-a", "subnet-b"],
            securityGroups: ["sg-migrate"],
            assignPublicIp: "DISABLED",
          },
        },
      },
    ]);
    assert.deepEqual(calls.describeTasks, [{ cluster: INPUTS.clusterArn, tasks: [TASK_ARN] }]);
  });

  const reruns: Array<[string, Partial<MigrationRunInputs>, boolean]> = [
    ["the same task definition", {}, false],
    ["a new task definition revision (a new image)", { taskDefinitionArn: "…:migrate:8" }, true],
    ["other subnets only", { subnetIds: ["subnet-c"] }, false],
  ];
  for (const [label, change, rerun] of reruns) {
    it(`GIVEN ${label} THEN the migrations ${rerun ? "run again" : "do not run again"}`, () => {
      assert.equal(migrationRerunNeeded(INPUTS, { ...INPUTS, ...change }), rerun);
    });
  }
});
