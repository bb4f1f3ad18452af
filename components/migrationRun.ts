/**
 * The deploy step that runs the migrate task and waits for it, so that the web and worker tasks,
 * which only verify the schema (DATABASE_MIGRATIONS=verify) and log in as the role the migrate
 * task creates, never start before it: they take this resource's output as an input.
 *
 * A Pulumi dynamic resource: `create` and `update` call ECS RunTask with the migrate task
 * definition in the writer's region, wait for the task to stop, and fail the `up` with the
 * container's exit code or ECS's reason. It runs again whenever the task definition changes
 * (a new image is a new task definition revision), and not otherwise. `delete` does nothing.
 *
 * Cost: the migrate task's Fargate seconds per deploy that changes the image; nothing else.
 */
import * as pulumi from "@pulumi/pulumi";

/** Where and what to run: the migrate task's `run-task` arguments (MigrationTask outputs). */
export interface MigrationRunInputs {
  /** The writer's region; the ECS client is made for it, never from the ambient region. */
  region: string;
  clusterArn: string;
  taskDefinitionArn: string;
  /** The private subnets of the app tasks (egress through NAT). */
  subnetIds: string[];
  securityGroupId: string;
  /** The container whose exit code decides success (the task definition's only container). */
  containerName: string;
}

export interface MigrationRunOutputs extends MigrationRunInputs {
  /** The ECS task id of the run that succeeded (the last segment of its ARN). */
  taskId: string;
}

/** The ECS calls the run makes; `@aws-sdk/client-ecs`'s client in deploys, a fake in tests. */
export interface MigrationEcs {
  runTask(input: {
    cluster: string;
    taskDefinition: string;
    launchType: "FARGATE";
    count: 1;
    startedBy: string;
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: string[];
        securityGroups: string[];
        assignPublicIp: "DISABLED";
      };
    };
  }): Promise<{
    tasks?: Array<{ taskArn?: string }>;
    failures?: Array<{ arn?: string; reason?: string; detail?: string }>;
  }>;
  describeTasks(input: { cluster: string; tasks: string[] }): Promise<{
    tasks?: Array<{
      lastStatus?: string;
      stopCode?: string;
      stoppedReason?: string;
      containers?: Array<{ name?: string; exitCode?: number; reason?: string }>;
    }>;
  }>;
}

/** How the run waits; injected so tests need no real time. */
export interface MigrationClock {
  sleep(ms: number): Promise<void>;
}

/** ECS's `startedBy`, so the run is recognisable in the console and CloudTrail. */
export const MIGRATION_STARTED_BY = "pulumi-migrate";
/** How often the run asks ECS whether the task has stopped. */
export const MIGRATION_POLL_MS = 6_000;
/**
 * The longest the run waits for the task to stop: Fargate's start (image pull, up to minutes)
 * plus the migrations themselves; a deploy whose migration takes longer should run it by hand.
 */
export const MIGRATION_TIMEOUT_MS = 30 * 60_000;

/**
 * Runs the migrate task once and waits until it stops.
 * @returns the task id when the container exited 0.
 * @throws naming the task and ECS's reason when it was not placed, never started, exited non-zero,
 * or did not stop within `MIGRATION_TIMEOUT_MS`.
 */
export async function runMigrationTask(
  ecs: MigrationEcs,
  inputs: MigrationRunInputs,
  clock: MigrationClock,
): Promise<string> {
  const started = await ecs.runTask({
    cluster: inputs.clusterArn,
    taskDefinition: inputs.taskDefinitionArn,
    launchType: "FARGATE",
    count: 1,
    startedBy: MIGRATION_STARTED_BY,
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: inputs.subnetIds,
        securityGroups: [inputs.securityGroupId],
        assignPublicIp: "DISABLED",
      },
    },
  });
  const taskArn = started.tasks?.[0]?.taskArn;
  if (taskArn === undefined) {
    const reasons = (started.failures ?? [])
      .map((failure) => [failure.reason, failure.detail].filter(Boolean).join(": "))
      .join("; ");
    throw new Error(
      `migrate task ${inputs.taskDefinitionArn} in ${inputs.region}: ECS did not start it (${reasons || "no reason given"}). Fix: see the reason, then run pulumi up again.`,
    );
  }
  const taskId = taskArn.split("/").pop() ?? taskArn;
  for (let waited = 0; waited <= MIGRATION_TIMEOUT_MS; waited += MIGRATION_POLL_MS) {
    await clock.sleep(MIGRATION_POLL_MS);
    const { tasks } = await ecs.describeTasks({ cluster: inputs.clusterArn, tasks: [taskArn] });
    const task = tasks?.[0];
    if (task?.lastStatus !== "STOPPED") continue;
    const container = task.containers?.find((c) => c.name === inputs.containerName);
    if (container?.exitCode === 0) return taskId;
    const why =
      container?.exitCode === undefined
        ? `it never ran (${[task.stopCode, task.stoppedReason, container?.reason].filter(Boolean).join(": ") || "no reason given"})`
        : `it exited with code ${container.exitCode}`;
    throw new Error(
      `migrate task ${taskId} in ${inputs.region}: ${why}; the web and worker tasks were not changed. Fix: read the task's log (log group of the migrate task), fix the migration or its cause, then run pulumi up again.`,
    );
  }
  throw new Error(
    `migrate task ${taskId} in ${inputs.region}: still running after ${MIGRATION_TIMEOUT_MS / 60_000} minutes; the web and worker tasks were not changed. Fix: watch the task in the ECS console; when it has stopped with code 0, run pulumi up again.`,
  );
}

/** Whether a change of inputs runs the migrations again: a new task definition (image) does. */
export function migrationRerunNeeded(olds: MigrationRunInputs, news: MigrationRunInputs): boolean {
  return olds.taskDefinitionArn !== news.taskDefinitionArn;
}

async function runInRegion(inputs: MigrationRunInputs): Promise<MigrationRunOutputs> {
  // Loaded when the provider runs, so the serialized provider carries no client.
  const { ECSClient, RunTaskCommand, DescribeTasksCommand } = await import("@aws-sdk/client-ecs");
  const client = new ECSClient({ region: inputs.region });
  const ecs: MigrationEcs = {
    runTask: (input) => client.send(new RunTaskCommand(input)),
    describeTasks: (input) => client.send(new DescribeTasksCommand(input)),
  };
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const taskId = await runMigrationTask(ecs, inputs, { sleep });
  return { ...inputs, taskId };
}

const migrationProvider: pulumi.dynamic.ResourceProvider<MigrationRunInputs, MigrationRunOutputs> =
  {
    async create(inputs) {
      const outs = await runInRegion(inputs);
      return { id: `${inputs.region}-migrate`, outs };
    },
    async diff(_id, olds, news) {
      const changes = migrationRerunNeeded(olds, news) || olds.region !== news.region;
      return { changes };
    },
    async update(_id, olds, news) {
      if (!migrationRerunNeeded(olds, news) && olds.region === news.region) {
        return { outs: { ...news, taskId: olds.taskId } };
      }
      return { outs: await runInRegion(news) };
    },
    async delete() {},
  };

export interface MigrationRunArgs {
  region: pulumi.Input<string>;
  clusterArn: pulumi.Input<string>;
  taskDefinitionArn: pulumi.Input<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  containerName: pulumi.Input<string>;
}

/**
 * Runs the migrate task at every deploy that changes it, before whatever takes `taskId`.
 *
 * @example
 * ```ts
 * const run = new MigrationRun("primary-migrate-run", { region: "us-east-1",
 *   clusterArn: cluster.arn, taskDefinitionArn: migration.taskDefinitionArn,
 *   subnetIds: network.privateSubnetIds, securityGroupId: migration.securityGroupId,
 *   containerName: CONTAINER_NAME }, { parent: this });
 * // a service that needs the schema: tags: { "migrated-by": run.taskId }
 * ```
 */
export class MigrationRun extends pulumi.dynamic.Resource {
  declare readonly taskId: pulumi.Output<string>;

  constructor(name: string, args: MigrationRunArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(migrationProvider, name, { ...args, taskId: undefined }, opts, "migrate", "MigrationRun");
  }
}
