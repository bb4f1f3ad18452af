import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
  backlogPerTaskTarget,
  QueueWorkers,
  type QueueWorkersArgs,
  validateQueueWorkersArgs,
} from "../../components/queueWorkers";
import { WORKER_CONCURRENCY, workerShutdown } from "../../contract";
import { render, resolve } from "../../harness/component";
import type { RecordedResource } from "../../harness/mocks";
import { devTasks, PASSWORD_SECRET } from "./support/fargate";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";
import { T } from "./support/types";

const WEB_TASK_ROLE = "web-task-role-1234567";

/** The dev workers; each test states what it changes. */
function workerArgs(overrides: Partial<QueueWorkersArgs> = {}): QueueWorkersArgs {
  return {
    ...devTasks(),
    command: ["worker"],
    minTasks: 0,
    maxTasks: 2,
    environment: { AWS_REGION: "us-east-1", ASSETS_BUCKET: "assets" },
    secrets: { DATABASE_PASSWORD: { arn: PASSWORD_SECRET, jsonKey: "password" } },
    useSpot: true,
    jobTimeoutSeconds: 60,
    averageJobSeconds: 2,
    latencyGoalSeconds: 60,
    maxReceiveCount: 5,
    messageRetentionDays: 4,
    ...overrides,
  };
}

interface Statement {
  Action: string | string[];
  Resource: string | string[];
}
const statementsOf = (policy: RecordedResource) =>
  (JSON.parse(String(policy.inputs.policy)) as { Statement: Statement[] }).Statement;

/** Builds and starts QueueWorkers (optionally granting the web role), recording each child's resource options. */
async function renderWorkers(overrides: Partial<QueueWorkersArgs> = {}, grantWeb = false) {
  const options = new Map<string, pulumi.ResourceOptions>();
  const rendered = await render(({ provider }) => {
    const record: pulumi.ResourceTransformation = ({ type, name, opts }) => {
      options.set(`${type}::${name}`, opts);
      return undefined;
    };
    const workers = new QueueWorkers("workers", workerArgs(overrides), {
      provider,
      transformations: [record],
    });
    if (grantWeb) workers.grantSendMessages("web-sends-jobs", WEB_TASK_ROLE);
    workers.start([]);
    return workers;
  });
  return {
    ...rendered,
    optionsOf: (type: string, name: string) => options.get(`${type}::${name}`)!,
  };
}

describe("QueueWorkers: derived numbers", () => {
  const backlogs: Array<[number, number, number, number]> = [
    // latency goal, average job, jobs run at once, jobs one task may hold
    [60, 2, 1, 30],
    [30, 2, 1, 15],
    [30, 2, 10, 150],
    [10, 3, 10, 33],
    [5, 0.5, 1, 10],
    [1, 2, 1, 1],
    [1, 20, 10, 1],
  ];
  for (const [latencyGoalSeconds, averageJobSeconds, concurrency, expected] of backlogs) {
    it(`GIVEN a ${latencyGoalSeconds} s latency goal, ${averageJobSeconds} s jobs and ${concurrency} at once THEN a task may hold ${expected}`, () => {
      assert.equal(
        backlogPerTaskTarget({ latencyGoalSeconds, averageJobSeconds }, concurrency),
        expected,
      );
    });
  }

  it("GIVEN no concurrency THEN the backlog counts the jobs the app's worker runs at once (the contract's)", () => {
    assert.equal(
      backlogPerTaskTarget({ latencyGoalSeconds: 30, averageJobSeconds: 2 }),
      backlogPerTaskTarget({ latencyGoalSeconds: 30, averageJobSeconds: 2 }, WORKER_CONCURRENCY),
    );
  });
});

describe("QueueWorkers: argument validation", () => {
  const cases: Array<[string, Partial<QueueWorkersArgs>, RegExp | null]> = [
    ["the dev shape", {}, null],
    [
      "the prod shape",
      {
        cpu: 512,
        memory: 1024,
        minTasks: 1,
        maxTasks: 20,
        messageRetentionDays: 14,
        useSpot: false,
      },
      null,
    ],
    [
      "minTasks above maxTasks",
      { minTasks: 3, maxTasks: 2 },
      /minTasks: 3 is greater than maxTasks \(2\)/,
    ],
    ["no worker allowed at all", { maxTasks: 0 }, /maxTasks: 0 must be a whole number, 1 or more/],
    [
      "memory that does not fit the CPU",
      { cpu: 512, memory: 512 },
      /memory: 512 MiB does not fit cpu 512/,
    ],
    [
      "a message never retried",
      { maxReceiveCount: 0 },
      /maxReceiveCount: 0 must be a whole number from 1 to 1000/,
    ],
    ["more receives than SQS allows", { maxReceiveCount: 1001 }, /maxReceiveCount: 1001/],
    [
      "a retention SQS cannot keep",
      { messageRetentionDays: 15 },
      /messageRetentionDays: 15 must be a whole number from 1 to 14/,
    ],
    [
      "a job timeout beyond the visibility limit",
      { jobTimeoutSeconds: 43_200 },
      /jobTimeoutSeconds: 43200 must be a whole number from 1 to 43170/,
    ],
    [
      "jobs longer on average than their timeout",
      { averageJobSeconds: 90 },
      /averageJobSeconds: 90 is longer than jobTimeoutSeconds \(60\)/,
    ],
    ["no latency goal", { latencyGoalSeconds: 0 }, /latencyGoalSeconds: 0 must be above 0/],
    ["no average job time", { averageJobSeconds: 0 }, /averageJobSeconds: 0 must be above 0/],
  ];
  itValidatesEachCase((overrides) => validateQueueWorkersArgs(workerArgs(overrides)), cases);

  itThrowsBeforeAnyChild(
    ({ provider }) => new QueueWorkers("bad", workerArgs({ maxReceiveCount: 0 }), { provider }),
    /QueueWorkers "bad": invalid arguments:\n {2}- maxReceiveCount: 0/,
  );
});

describe("QueueWorkers: queues", () => {
  it("GIVEN the job queue THEN it is encrypted, long-polls, keeps messages the configured days and hides a job for its timeout plus a margin", async () => {
    const { value: workers, named } = await renderWorkers({
      jobTimeoutSeconds: 120,
      messageRetentionDays: 4,
    });
    const queue = named("workers-queue", T.queue);
    assert.deepEqual(
      [
        queue.inputs.sqsManagedSseEnabled,
        queue.inputs.receiveWaitTimeSeconds,
        queue.inputs.messageRetentionSeconds,
        queue.inputs.visibilityTimeoutSeconds,
      ],
      [true, 20, 4 * 86_400, 150],
    );
    assert.equal(await resolve(workers.queueUrl), queue.state.url);
  });

  it("GIVEN maxReceiveCount THEN a message delivered that often moves to the encrypted dead-letter queue, kept 14 days", async () => {
    const { value: workers, named } = await renderWorkers({ maxReceiveCount: 7 });
    const deadLetter = named("workers-dlq", T.queue);
    assert.deepEqual(
      [deadLetter.inputs.sqsManagedSseEnabled, deadLetter.inputs.messageRetentionSeconds],
      [true, 14 * 86_400],
    );
    const redrive = JSON.parse(
      String(named("workers-queue", T.queue).inputs.redrivePolicy),
    ) as unknown;
    assert.deepEqual(redrive, {
      deadLetterTargetArn: await resolve(workers.deadLetterQueueArn),
      maxReceiveCount: 7,
    });
  });

  it("GIVEN the dead-letter queue THEN it accepts messages from this queue only", async () => {
    const { value: workers, ofType } = await renderWorkers();
    const [allow] = ofType(T.redriveAllow);
    assert.equal(allow!.inputs.queueUrl, await resolve(workers.deadLetterQueueUrl));
    assert.deepEqual(JSON.parse(String(allow!.inputs.redriveAllowPolicy)), {
      redrivePermission: "byQueue",
      sourceQueueArns: [await resolve(workers.queueArn)],
    });
  });
});

describe("QueueWorkers: permissions", () => {
  it("GIVEN the workers' task role THEN it may consume jobs of its own queue, dead-letter the ones that can never succeed, and touch nothing else", async () => {
    const { value: workers, ofType } = await renderWorkers();
    const taskRoleName = await resolve(workers.taskRoleName);
    const policies = ofType(T.rolePolicy).filter((policy) => policy.inputs.role === taskRoleName);
    assert.equal(policies.length, 1);
    assert.deepEqual(
      statementsOf(policies[0]!).map((s) => [s.Action, s.Resource]),
      [
        [
          [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
          ],
          await resolve(workers.queueArn),
        ],
        [["sqs:GetQueueUrl", "sqs:SendMessage"], await resolve(workers.deadLetterQueueArn)],
      ],
    );
    assert.deepEqual(
      ofType(T.attachment).filter((attachment) => attachment.inputs.role === taskRoleName),
      [],
    );
  });

  it("GIVEN grantSendMessages for the web role THEN that role may send to this queue (and read its attributes) only", async () => {
    const { value: workers, named } = await renderWorkers({}, true);
    const grant = named("web-sends-jobs", T.rolePolicy);
    assert.equal(grant.inputs.role, WEB_TASK_ROLE);
    assert.deepEqual(
      statementsOf(grant).map((s) => [s.Action, s.Resource]),
      [[["sqs:SendMessage", "sqs:GetQueueAttributes"], await resolve(workers.queueArn)]],
    );
    assert.equal(grant.parent, (await resolve(workers.urn)) as string);
  });

  it("GIVEN the workers THEN nothing may connect to them", async () => {
    const { value: workers, ofType } = await renderWorkers();
    const group = await resolve(workers.securityGroupId);
    assert.deepEqual(
      ofType(T.ingress).filter((rule) => rule.inputs.securityGroupId === group),
      [],
    );
    assert.equal(
      (ofType(T.service)[0]!.inputs.networkConfiguration as { assignPublicIp: boolean })
        .assignPublicIp,
      false,
    );
  });
});

describe("QueueWorkers: task and service", () => {
  it("GIVEN the worker command THEN the container runs it with its queue's URL, the shared env and secrets by reference", async () => {
    const { value: workers, ofType } = await renderWorkers();
    const [container] = JSON.parse(
      String(ofType(T.taskDefinition)[0]!.inputs.containerDefinitions),
    ) as Array<{
      command: string[];
      environment: Array<{ name: string; value: string }>;
      secrets: Array<{ name: string; valueFrom: string }>;
      portMappings: unknown[];
      stopTimeout: number;
    }>;
    assert.deepEqual(container!.command, ["worker"]);
    assert.deepEqual(container!.environment, [
      { name: "ASSETS_BUCKET", value: "assets" },
      { name: "AWS_REGION", value: "us-east-1" },
      { name: "QUEUE_URL", value: await resolve(workers.queueUrl) },
      { name: "SHUTDOWN_DEADLINE_SECONDS", value: String(workerShutdown(60).appSeconds) },
    ]);
    assert.deepEqual(container!.secrets, [
      { name: "DATABASE_PASSWORD", valueFrom: `${PASSWORD_SECRET}:password::` },
    ]);
    assert.deepEqual(container!.portMappings, []);
    assert.equal(container!.stopTimeout, workerShutdown(60).stopTimeoutSeconds);
  });

  it("GIVEN useSpot and minTasks 0 THEN the service runs on Spot, starts with no task and leaves the count to the autoscaler", async () => {
    const { ofType, optionsOf } = await renderWorkers({ useSpot: true, minTasks: 0 });
    const service = ofType(T.service)[0]!;
    assert.deepEqual(service.inputs.capacityProviderStrategies, [
      { capacityProvider: "FARGATE_SPOT", weight: 1 },
    ]);
    assert.equal(service.inputs.desiredCount, 0);
    assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
    assert.deepEqual(optionsOf(T.service, "workers-service").ignoreChanges, ["desiredCount"]);
    assert.equal(service.inputs.loadBalancers, undefined);
  });
});

describe("QueueWorkers: autoscaling", () => {
  type Metric = {
    id: string;
    expression?: string;
    returnData: boolean;
    metricStat?: {
      metric: {
        namespace: string;
        metricName: string;
        dimensions: Array<{ name: string; value: string }>;
      };
      stat: string;
    };
  };
  type Tracking = { targetValue: number; customizedMetricSpecification: { metrics: Metric[] } };

  it("GIVEN min and max THEN the scalable target spans them", async () => {
    const { ofType } = await renderWorkers({ minTasks: 1, maxTasks: 20 });
    const target = ofType(T.scalableTarget)[0]!;
    assert.deepEqual([target.inputs.minCapacity, target.inputs.maxCapacity], [1, 20]);
  });

  it("GIVEN the latency goal and job time THEN target tracking keeps the queue's messages per running task at the backlog target", async () => {
    const { value: workers, named } = await renderWorkers({
      latencyGoalSeconds: 30,
      averageJobSeconds: 2,
    });
    const policy = named("workers-backlog-scaling", T.scalingPolicy);
    assert.equal(policy.inputs.policyType, "TargetTrackingScaling");
    const config = policy.inputs.targetTrackingScalingPolicyConfiguration as Tracking;
    // 10 jobs at once, 2 s each: a task gets through 5 a second, 150 within the 30 s goal.
    assert.equal(config.targetValue, (30 * WORKER_CONCURRENCY) / 2);
    const metrics = config.customizedMetricSpecification.metrics;
    const [queueName, serviceName] = await Promise.all([
      resolve(workers.queueName),
      resolve(workers.serviceName),
    ]);
    const stat = (id: string) => metrics.find((m) => m.id === id)!.metricStat!;
    assert.deepEqual(
      [
        stat("waiting").metric.namespace,
        stat("waiting").metric.metricName,
        stat("waiting").metric.dimensions,
      ],
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", [{ name: "QueueName", value: queueName }]],
    );
    assert.equal(stat("inflight").metric.metricName, "ApproximateNumberOfMessagesNotVisible");
    assert.deepEqual(
      [
        stat("tasks").metric.namespace,
        stat("tasks").metric.metricName,
        stat("tasks").metric.dimensions,
      ],
      [
        "ECS/ContainerInsights",
        "RunningTaskCount",
        [
          { name: "ClusterName", value: "app" },
          { name: "ServiceName", value: serviceName },
        ],
      ],
    );
    const returned = metrics.filter((m) => m.returnData);
    assert.deepEqual(
      returned.map((m) => m.expression),
      ["(waiting + inflight) / tasks"],
    );
  });

  it("GIVEN minTasks 0 THEN an alarm on waiting jobs with none in progress adds one task through a step policy", async () => {
    const { value: workers, named, ofType } = await renderWorkers({ minTasks: 0 });
    const wakeUp = named("workers-wake-up", T.scalingPolicy);
    assert.equal(wakeUp.inputs.policyType, "StepScaling");
    assert.deepEqual(wakeUp.inputs.stepScalingPolicyConfiguration, {
      adjustmentType: "ChangeInCapacity",
      cooldown: 180,
      metricAggregationType: "Maximum",
      stepAdjustments: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
    });
    const [alarm] = ofType(T.alarm);
    const wakeUpArn = await resolve(workers.nodes.scalingPolicies[1]!.arn);
    assert.deepEqual(alarm!.inputs.alarmActions, [wakeUpArn]);
    assert.deepEqual(
      [alarm!.inputs.comparisonOperator, alarm!.inputs.threshold],
      ["GreaterThanOrEqualToThreshold", 1],
    );
    const queries = alarm!.inputs.metricQueries as Array<{
      id: string;
      expression?: string;
      returnData?: boolean;
      metric?: { metricName: string; dimensions: Record<string, string> };
    }>;
    const queueName = await resolve(workers.queueName);
    assert.deepEqual(
      queries
        .filter((q) => q.metric)
        .map((q) => [q.id, q.metric!.metricName, q.metric!.dimensions.QueueName]),
      [
        ["waiting", "ApproximateNumberOfMessagesVisible", queueName],
        ["inflight", "ApproximateNumberOfMessagesNotVisible", queueName],
      ],
    );
    assert.deepEqual(
      queries.filter((q) => q.returnData).map((q) => q.expression),
      ["IF(waiting > 0 AND inflight == 0, 1, 0)"],
    );
  });

  it("GIVEN minTasks 1 THEN there is no wake-up: a worker is always there", async () => {
    const { ofType } = await renderWorkers({ minTasks: 1 });
    assert.deepEqual(
      ofType(T.scalingPolicy).map((policy) => policy.name),
      ["workers-backlog-scaling"],
    );
    assert.deepEqual(ofType(T.alarm), []);
  });
});

describe("QueueWorkers: tags", () => {
  it("GIVEN any taggable child THEN it carries the queue tier", async () => {
    const { resources } = await renderWorkers({}, true);
    const untagged = resources.filter(
      (r) =>
        r.type.startsWith("aws:") &&
        r.inputs.tags !== undefined &&
        (r.inputs.tags as Record<string, string>).tier !== "queue",
    );
    assert.deepEqual(
      untagged.map((r) => r.name),
      [],
    );
  });
});
