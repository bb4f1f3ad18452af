import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { type ComponentTaskEnvironment, WORKER_CONCURRENCY, workerShutdown } from "../contract";
import { wholeNumberProblems } from "./validation";
import {
  MAX_VISIBILITY_TIMEOUT_SECONDS,
  VISIBILITY_MARGIN_SECONDS,
  visibilityTimeoutSeconds,
} from "./awsLimits";
import {
  FargateService,
  type FargateServiceArgs,
  type FargateServiceTransforms,
  type RunningTasks,
  validateFargateServiceArgs,
  type WorkSource,
} from "./fargateService";
import type { Tags } from "./tags";
import { type Transform, transform } from "./transform";
import { rolePolicy } from "./rolePolicy";
import {
  createDeadLetterQueue,
  MAX_RECEIVE_COUNT,
  MAX_RETENTION_DAYS,
  RECEIVE_WAIT_TIME_SECONDS,
  SECONDS_PER_DAY,
} from "./deadLetterQueue";

/** SQS publishes its queue metrics once a minute. */
const METRIC_PERIOD_SECONDS = 60;
/** Time for a woken task to start and take jobs before the wake-up adds another. */
const WAKE_UP_COOLDOWN_SECONDS = 180;

/** Per-child hooks, the shared ones included. */
export interface QueueWorkersTransforms extends FargateServiceTransforms {
  queue?: Transform<aws.sqs.QueueArgs>;
  deadLetterQueue?: Transform<aws.sqs.QueueArgs>;
}

export interface QueueWorkersArgs extends FargateServiceArgs {
  /**
   * The longest one job may run. The queue's visibility timeout is this plus a margin, so a
   * running job is never handed to a second worker; a worker that dies mid-job has its message
   * retried after that time.
   * @example 60
   */
  jobTimeoutSeconds: number;
  /** How long a job takes on average; with `latencyGoalSeconds` it sets the backlog per task. */
  averageJobSeconds: number;
  /** How long a job may wait in the queue before it starts, at most, under steady load. */
  latencyGoalSeconds: number;
  /** Deliveries of one message before it goes to the dead-letter queue (1 to 1000). */
  maxReceiveCount: number;
  /** Days an unprocessed message stays in the queue (1 to 14). */
  messageRetentionDays: number;
  /** Change the arguments of a child resource before it is created. */
  transform?: QueueWorkersTransforms;
}

/**
 * Jobs one worker task gets through per second: it runs `concurrency` jobs at once (the app's
 * worker, contract/process.ts), each taking `averageJobSeconds`. BENCHMARKS.md compares this with
 * the rate benchmark 4 measures.
 */
export function jobsPerSecondPerTask(
  args: Pick<QueueWorkersArgs, "averageJobSeconds">,
  concurrency: number = WORKER_CONCURRENCY,
): number {
  return concurrency / args.averageJobSeconds;
}

/**
 * The jobs one worker task may hold (waiting or in progress) and still start each within the
 * latency goal (AWS's "acceptable backlog per instance"): latencyGoal × the task's jobs per second
 * (`jobsPerSecondPerTask`), rounded down, at least 1.
 */
export function backlogPerTaskTarget(
  args: Pick<QueueWorkersArgs, "latencyGoalSeconds" | "averageJobSeconds">,
  concurrency: number = WORKER_CONCURRENCY,
): number {
  // latencyGoal × concurrency / averageJob, multiplied first: 30 × (10 / 3) would floor to 99.
  return Math.max(1, Math.floor((args.latencyGoalSeconds * concurrency) / args.averageJobSeconds));
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateQueueWorkersArgs(args: QueueWorkersArgs): string[] {
  const problems = validateFargateServiceArgs(args);
  const maxJobTimeout = MAX_VISIBILITY_TIMEOUT_SECONDS - VISIBILITY_MARGIN_SECONDS;
  if (
    !Number.isInteger(args.jobTimeoutSeconds) ||
    args.jobTimeoutSeconds < 1 ||
    args.jobTimeoutSeconds > maxJobTimeout
  ) {
    problems.push(
      `jobTimeoutSeconds: ${args.jobTimeoutSeconds} must be a whole number from 1 to ${maxJobTimeout} (SQS's longest visibility timeout, less a ${VISIBILITY_MARGIN_SECONDS} s margin)`,
    );
  }
  if (!(args.averageJobSeconds > 0)) {
    problems.push(`averageJobSeconds: ${args.averageJobSeconds} must be above 0`);
  } else if (args.averageJobSeconds > args.jobTimeoutSeconds) {
    problems.push(
      `averageJobSeconds: ${args.averageJobSeconds} is longer than jobTimeoutSeconds (${args.jobTimeoutSeconds}); raise the timeout`,
    );
  }
  if (!(args.latencyGoalSeconds > 0)) {
    problems.push(`latencyGoalSeconds: ${args.latencyGoalSeconds} must be above 0`);
  }
  problems.push(
    ...wholeNumberProblems("maxReceiveCount", args.maxReceiveCount, 1, MAX_RECEIVE_COUNT),
  );
  problems.push(
    ...wholeNumberProblems(
      "messageRetentionDays",
      args.messageRetentionDays,
      1,
      MAX_RETENTION_DAYS,
    ),
  );
  return problems;
}

/** The queues the workers consume. */
interface JobQueues {
  queue: aws.sqs.Queue;
  deadLetterQueue: aws.sqs.Queue;
  /** The task role's grant on both queues, which the service waits for. */
  consumeJobs: aws.iam.RolePolicy;
}

/**
 * The job queue of one region and the workers that drain it: an SQS queue with a dead-letter
 * queue, and a Fargate service running the app's `worker` command (see FargateTasks for the
 * shared task, roles and deploy settings, and FargateService for `start`).
 *
 * - Both queues are encrypted (SQS-managed keys). A message delivered `maxReceiveCount` times
 *   moves to the dead-letter queue, which accepts messages from this queue only and keeps them
 *   14 days. Receives long-poll (20 s), so idle workers cost almost no requests.
 * - The workers' task role may receive, delete and extend jobs of this queue and nothing else;
 *   `grantSendMessages()` lets another role (the web tier's) enqueue.
 * - Scaling on backlog per task (AWS's "scaling based on Amazon SQS"): target tracking keeps
 *   (waiting + in-flight messages) / running tasks at `backlogPerTaskTarget()`, which counts the
 *   jobs a task runs at once (the contract's WORKER_CONCURRENCY). In-flight messages
 *   count so that a burst a worker has already received does not look like an empty queue. The
 *   running task count comes from Container Insights (on in ComputeCluster by default).
 * - Stopping: a worker finishes the jobs in hand; its deadlines come from the contract's
 *   `workerShutdown(jobTimeoutSeconds)` (the app exits before ECS's stop timeout).
 * - With `minTasks` 0, target tracking has nothing to divide by once the service is at zero, so an
 *   alarm ("messages wait and none is in flight": nobody is working) adds one task through a step
 *   policy, and target tracking takes over from there.
 *
 * @example
 * ```ts
 * const workers = new QueueWorkers("primary-workers", {
 *   cluster: { arn: cluster.arn, name: cluster.name },
 *   vpcId: network.vpcId,
 *   subnetIds: network.privateSubnetIds,
 *   image, command: ["worker"], cpu: 512, memory: 1024, minTasks: 0, maxTasks: 20,
 *   logRetentionDays: 30, useSpot: true,
 *   jobTimeoutSeconds: 60, averageJobSeconds: 2, latencyGoalSeconds: 30,
 *   maxReceiveCount: 5, messageRetentionDays: 4,
 * }, { provider });
 * workers.grantSendMessages("web-sends-jobs", web.taskRoleName);
 * // ...grants on workers.taskRoleName, then:
 * workers.start([cacheGrant, filesGrant]);
 * ```
 *
 * Cost: SQS is $0.40 per million requests after the first million a month (an idle worker's long
 * polls are about 130,000); the wake-up alarm about $0.30 a month; tasks as in FargateTasks, and
 * nothing at all while a `minTasks: 0` service sleeps.
 */
export class QueueWorkers extends FargateService<QueueWorkersArgs> {
  readonly queueUrl: pulumi.Output<string>;
  readonly queueArn: pulumi.Output<string>;
  /** The `QueueName` dimension of the queue's CloudWatch metrics. */
  readonly queueName: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  readonly deadLetterQueueArn: pulumi.Output<string>;
  readonly deadLetterQueueName: pulumi.Output<string>;

  private readonly queues: JobQueues;

  constructor(name: string, args: QueueWorkersArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("QueueWorkers", "queue", name, args, validateQueueWorkersArgs(args), opts);
    this.queues = this.createQueues(name, args, this.tags);
    this.defineTasks(this.workSource(args));

    const { queue, deadLetterQueue } = this.queues;
    this.queueUrl = queue.url;
    this.queueArn = queue.arn;
    this.queueName = queue.name;
    this.deadLetterQueueUrl = deadLetterQueue.url;
    this.deadLetterQueueArn = deadLetterQueue.arn;
    this.deadLetterQueueName = deadLetterQueue.name;
    this.registerServiceOutputs({
      queueUrl: this.queueUrl,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
    });
  }

  /** The underlying resources, for what the arguments do not cover. */
  override get nodes() {
    return { ...super.nodes, ...this.queues };
  }

  /**
   * Lets another role enqueue jobs: `sqs:SendMessage` (batches included) and
   * `sqs:GetQueueAttributes` on this queue only.
   * @param name a unique name for the policy, such as `primary-web-sends-jobs`
   * @param roleName the role to grant, such as `web.taskRoleName`
   */
  grantSendMessages(name: string, roleName: pulumi.Input<string>): aws.iam.RolePolicy {
    return rolePolicy(
      name,
      roleName,
      [
        {
          Sid: "SendJobs",
          Effect: "Allow",
          Action: ["sqs:SendMessage", "sqs:GetQueueAttributes"],
          Resource: this.queueArn,
        },
      ],
      { parent: this },
    );
  }

  private createQueues(name: string, args: QueueWorkersArgs, tags: Tags): JobQueues {
    const deadLetterQueue = createDeadLetterQueue(
      this,
      name,
      args.transform?.deadLetterQueue,
      tags,
    );
    const queue = new aws.sqs.Queue(
      `${name}-queue`,
      transform(args.transform?.queue, {
        sqsManagedSseEnabled: true,
        visibilityTimeoutSeconds: visibilityTimeoutSeconds(args.jobTimeoutSeconds),
        messageRetentionSeconds: args.messageRetentionDays * SECONDS_PER_DAY,
        receiveWaitTimeSeconds: RECEIVE_WAIT_TIME_SECONDS,
        redrivePolicy: pulumi.jsonStringify({
          deadLetterTargetArn: deadLetterQueue.arn,
          maxReceiveCount: args.maxReceiveCount,
        }),
        tags,
      }),
      { parent: this },
    );
    // A separate resource: set on the dead-letter queue itself it would need the queue's ARN
    // before the queue, which needs the dead-letter queue's ARN, exists.
    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-sources`,
      {
        queueUrl: deadLetterQueue.url,
        redriveAllowPolicy: pulumi.jsonStringify({
          redrivePermission: "byQueue",
          sourceQueueArns: [queue.arn],
        }),
      },
      { parent: this },
    );
    const consumeJobs = rolePolicy(
      `${name}-consume-jobs`,
      this.taskRoleName,
      [
        {
          Sid: "ConsumeJobs",
          Effect: "Allow",
          Action: [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
          ],
          Resource: queue.arn,
        },
        {
          // A job that can never succeed goes to the dead-letter queue at once (the app finds
          // it through the queue's redrive policy), instead of after every retry.
          Sid: "DeadLetterUnprocessableJobs",
          Effect: "Allow",
          Action: ["sqs:GetQueueUrl", "sqs:SendMessage"],
          Resource: deadLetterQueue.arn,
        },
      ],
      { parent: this },
    );
    return { queue, deadLetterQueue, consumeJobs };
  }

  /** What the tasks get from the queue: its URL, and the deadlines to finish the jobs in hand. */
  private workSource(args: QueueWorkersArgs): WorkSource {
    const shutdown = workerShutdown(args.jobTimeoutSeconds);
    const environment: ComponentTaskEnvironment<"worker", pulumi.Input<string>> = {
      QUEUE_URL: this.queues.queue.url,
      SHUTDOWN_DEADLINE_SECONDS: String(shutdown.appSeconds),
    };
    return {
      environment,
      stopTimeoutSeconds: shutdown.stopTimeoutSeconds,
      // No task starts before its role may receive from the queue.
      dependsOn: [this.queues.consumeJobs],
    };
  }

  /** Backlog per task, and a wake-up from zero tasks when `minTasks` is 0. */
  protected override createScalingPolicies(
    name: string,
    { service, scalableTarget }: RunningTasks,
  ): aws.appautoscaling.Policy[] {
    const backlog = this.createBacklogPolicy(name, this.args, scalableTarget, service);
    if (this.args.minTasks > 0) return [backlog];
    return [backlog, this.createWakeUp(name, scalableTarget, this.tags)];
  }

  private createBacklogPolicy(
    name: string,
    args: QueueWorkersArgs,
    target: aws.appautoscaling.Target,
    service: aws.ecs.Service,
  ): aws.appautoscaling.Policy {
    const queueName = this.queues.queue.name;
    const queueMetric = (id: string, metricName: string) => ({
      id,
      metricStat: {
        metric: {
          namespace: "AWS/SQS",
          metricName,
          dimensions: [{ name: "QueueName", value: queueName }],
        },
        stat: "Sum",
      },
      returnData: false,
    });
    return this.createTargetTracking(`${name}-backlog-scaling`, target, {
      targetValue: backlogPerTaskTarget(args),
      customizedMetricSpecification: {
        metrics: [
          queueMetric("waiting", "ApproximateNumberOfMessagesVisible"),
          queueMetric("inflight", "ApproximateNumberOfMessagesNotVisible"),
          {
            id: "tasks",
            metricStat: {
              metric: {
                namespace: "ECS/ContainerInsights",
                metricName: "RunningTaskCount",
                dimensions: [
                  { name: "ClusterName", value: args.cluster.name },
                  { name: "ServiceName", value: service.name },
                ],
              },
              stat: "Average",
            },
            returnData: false,
          },
          {
            id: "backlog_per_task",
            label: "Jobs per running worker task",
            // No data while no task runs (division by zero): the wake-up alarm covers that case.
            expression: "(waiting + inflight) / tasks",
            returnData: true,
          },
        ],
      },
    });
  }

  private createWakeUp(
    name: string,
    target: aws.appautoscaling.Target,
    tags: Tags,
  ): aws.appautoscaling.Policy {
    const policy = new aws.appautoscaling.Policy(
      `${name}-wake-up`,
      {
        policyType: "StepScaling",
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        stepScalingPolicyConfiguration: {
          // One more task, not an exact count: it must never scale a working service down.
          adjustmentType: "ChangeInCapacity",
          cooldown: WAKE_UP_COOLDOWN_SECONDS,
          metricAggregationType: "Maximum",
          stepAdjustments: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
        },
      },
      { parent: this },
    );
    const queueName = this.queues.queue.name;
    const queueMetric = (id: string, metricName: string) => ({
      id,
      metric: {
        namespace: "AWS/SQS",
        metricName,
        dimensions: { QueueName: queueName },
        period: METRIC_PERIOD_SECONDS,
        stat: "Maximum",
      },
    });
    new aws.cloudwatch.MetricAlarm(
      `${name}-wake-up`,
      {
        alarmDescription: "Jobs are waiting and none is in progress: start a worker",
        metricQueries: [
          queueMetric("waiting", "ApproximateNumberOfMessagesVisible"),
          queueMetric("inflight", "ApproximateNumberOfMessagesNotVisible"),
          {
            id: "unattended",
            label: "Jobs waiting with no worker on them",
            expression: "IF(waiting > 0 AND inflight == 0, 1, 0)",
            returnData: true,
          },
        ],
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: "notBreaching",
        alarmActions: [policy.arn],
        tags,
      },
      { parent: this },
    );
    return policy;
  }
}
