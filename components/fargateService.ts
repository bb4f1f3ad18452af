import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { MAX_STOP_TIMEOUT_SECONDS } from "../contract";
import { FARGATE_MEMORY_BY_CPU, LOG_RETENTION_DAYS } from "./awsLimits";
import type { FargateCapacityProvider } from "./cluster";
import { serviceTrustPolicy } from "./rolePolicy";
import { awaitStart, markStarted } from "./serviceStarts";
import { physicalName, type Tags, type Tier, tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import { throwIfInvalid } from "./validation";
import { contextOf, type AwsContext } from "./awsContext";

/** The one container of every task; load balancers name it to reach its port. */
export const CONTAINER_NAME = "app";
/** Fargate's upper limit for a container's stop timeout (the contract's, where deadlines are set). */
export { MAX_STOP_TIMEOUT_SECONDS };
/** ECS limits a task definition family to 255 characters. */
const MAX_FAMILY_LENGTH = 255;
/** The root filesystem is read-only; this volume on the task's ephemeral storage is its only scratch space. */
const SCRATCH_VOLUME = { name: "scratch", containerPath: "/tmp" } as const;
/** Log lines buffered in memory while CloudWatch Logs is slow, so the app never blocks on stdout. */
const LOG_BUFFER_SIZE = "25m";
/** Deploys start new tasks before stopping old ones, so capacity never drops during a rollout. */
const DEPLOYMENT_MINIMUM_HEALTHY_PERCENT = 100;
const DEPLOYMENT_MAXIMUM_PERCENT = 200;
/** app/Dockerfile builds for linux/amd64. */
const CPU_ARCHITECTURE = "X86_64";
const ANYWHERE = "0.0.0.0/0";
const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Target tracking scales out within a minute, and in slowly so a short lull keeps warm tasks. */
const SCALE_OUT_COOLDOWN_SECONDS = 60;
const SCALE_IN_COOLDOWN_SECONDS = 300;

/** A value the task reads from Secrets Manager when it starts. */
export interface SecretReference {
  /** The secret's full ARN. */
  arn: pulumi.Input<string>;
  /**
   * A key of the secret's JSON value (ECS `valueFrom` becomes `${arn}:${jsonKey}::`); without it
   * the variable gets the whole value.
   * @example "password"
   */
  jsonKey?: string;
}

/** Per-child hooks to change a resource's arguments before it is created. */
export interface FargateServiceTransforms {
  securityGroup?: Transform<aws.ec2.SecurityGroupArgs>;
  logGroup?: Transform<aws.cloudwatch.LogGroupArgs>;
  executionRole?: Transform<aws.iam.RoleArgs>;
  taskRole?: Transform<aws.iam.RoleArgs>;
  taskDefinition?: Transform<aws.ecs.TaskDefinitionArgs>;
  service?: Transform<aws.ecs.ServiceArgs>;
  scalableTarget?: Transform<aws.appautoscaling.TargetArgs>;
}

/** What every Fargate service of the app takes: where it runs, what it runs, and how far it scales. */
export interface FargateServiceArgs {
  /** The ECS cluster (ComputeCluster's `arn` and `name`). */
  cluster: { arn: pulumi.Input<string>; name: pulumi.Input<string> };
  /** The VPC of `subnetIds`; the tasks' security group is created in it. */
  vpcId: pulumi.Input<string>;
  /** Private subnets (egress through NAT). Tasks never get a public IP. */
  subnetIds: pulumi.Input<string>[];
  /**
   * The app's image; a digest-pinned URI makes every image change a deploy.
   * @example "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:..."
   */
  image: pulumi.Input<string>;
  /**
   * The app's role, passed to the image's entrypoint (docs/CONTRACT.md).
   * @example ["worker"]
   */
  command: string[];
  /** CPU units per task (1024 = one vCPU): 256, 512, 1024, 2048 or 4096. */
  cpu: number;
  /** Memory per task in MiB; must be a size Fargate offers for `cpu`. */
  memory: number;
  /** The fewest tasks the autoscaler keeps, also the count of the first deploy. */
  minTasks: number;
  /** The most tasks the autoscaler may run. */
  maxTasks: number;
  /**
   * Plain environment variables: endpoints and names, never secrets.
   * @default {}
   */
  environment?: Record<string, pulumi.Input<string>>;
  /**
   * Variables read from Secrets Manager when a task starts, by variable name. The execution role
   * may read exactly these secrets.
   * @default {}
   * @example { DATABASE_PASSWORD: { arn: database.masterUserSecretArn, jsonKey: "password" } }
   */
  secrets?: Record<string, SecretReference>;
  /**
   * The customer-managed KMS keys the secrets are encrypted with; the execution role may decrypt
   * with exactly these, and only through Secrets Manager.
   * @default []
   */
  secretKmsKeyArns?: pulumi.Input<string>[];
  /**
   * The secrets the execution role may read, when they must outlive a change of `secrets` (a
   * pattern that covers a secret created later, such as the RDS master secret after a failover).
   * @default the ARNs of `secrets`
   * @example ["arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db-*"]
   */
  secretGrantArns?: pulumi.Input<string>[];
  /** How long the container logs are kept, in days (a period CloudWatch Logs accepts). */
  logRetentionDays: number;
  /**
   * The customer-managed KMS key the container logs are encrypted with (its policy must let this
   * region's CloudWatch Logs use it: components/kmsKey.ts logsKeyUsers). Unset: CloudWatch Logs'
   * own encryption.
   */
  logKmsKeyArn?: pulumi.Input<string>;
  /**
   * Run on Fargate Spot: about 70% cheaper, but AWS may stop a task with two minutes' notice.
   * Changing it rolls the tasks over to the other capacity provider.
   * @default false
   */
  useSpot?: boolean;
  /**
   * The deploy step the tasks need done first: the migrate run's task id (MigrationRun), which
   * the service takes as its `migrated-by` tag, so it is created and updated only after that run
   * succeeded. Not for a one-off task.
   * @default none: the service waits for nothing
   */
  migratedBy?: pulumi.Input<string>;
  /**
   * The account, partition and region the resources live in (components/awsContext.ts).
   * @default looked up through the component's provider (STS in its region)
   */
  context?: AwsContext;
  /** Change the arguments of a child resource before it is created. */
  transform?: FargateServiceTransforms;
}

/** The service tag that names the migrate run its tasks waited for (`migratedBy`). */
export const MIGRATED_BY_TAG = "migrated-by";

/**
 * What a concrete service adds to the shared task and service: how work reaches its tasks (a load
 * balancer, a queue). The service creates it after `FargateTasks` and gives it to `define()`.
 */
export interface WorkSource {
  /** Variables the container needs to find its work; they win over `environment`. */
  environment: Record<string, pulumi.Input<string>>;
  /** The ports the container listens on. */
  containerPorts?: number[];
  /** Target groups that send traffic to the tasks. */
  loadBalancers?: aws.types.input.ecs.ServiceLoadBalancer[];
  /** How long ECS ignores failing load balancer health checks of a new task. */
  healthCheckGracePeriodSeconds?: number;
  /**
   * How long ECS waits after SIGTERM before it kills the container: the role's deadline from the
   * contract (contract/process.ts), which the app's own deadline nests inside.
   */
  stopTimeoutSeconds: number;
  /** What the service must wait for (ECS rejects a target group no listener uses yet). */
  dependsOn?: pulumi.Resource[];
}

/**
 * Validates the arguments every Fargate service shares.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateFargateServiceArgs(args: FargateServiceArgs): string[] {
  const problems: string[] = [];
  const memorySizes = FARGATE_MEMORY_BY_CPU[args.cpu];
  if (memorySizes === undefined) {
    problems.push(
      `cpu: ${args.cpu} is not a Fargate CPU size; use one of ${Object.keys(FARGATE_MEMORY_BY_CPU).join(", ")}`,
    );
  } else if (!memorySizes.includes(args.memory)) {
    problems.push(
      `memory: ${args.memory} MiB does not fit cpu ${args.cpu} on Fargate; use one of ${memorySizes.join(", ")}`,
    );
  }
  if (!Number.isInteger(args.minTasks) || args.minTasks < 0) {
    problems.push(`minTasks: ${args.minTasks} must be a whole number, 0 or more`);
  }
  if (!Number.isInteger(args.maxTasks) || args.maxTasks < 1) {
    problems.push(`maxTasks: ${args.maxTasks} must be a whole number, 1 or more`);
  }
  if (args.minTasks > args.maxTasks) {
    problems.push(
      `minTasks: ${args.minTasks} is greater than maxTasks (${args.maxTasks}); lower minTasks or raise maxTasks`,
    );
  }
  if (args.subnetIds.length === 0) {
    problems.push("subnetIds: empty; name the private subnets the tasks run in");
  }
  if (args.command.length === 0) {
    problems.push('command: empty; name the app\'s role, such as ["web"] or ["worker"]');
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(args.logRetentionDays)) {
    problems.push(
      `logRetentionDays: ${args.logRetentionDays} is not a period CloudWatch Logs keeps; use one of ${LOG_RETENTION_DAYS.join(", ")}`,
    );
  }
  const environment = Object.keys(args.environment ?? {});
  for (const name of [...environment, ...Object.keys(args.secrets ?? {})]) {
    if (!VARIABLE_NAME_PATTERN.test(name)) {
      problems.push(
        `environment/secrets: "${name}" is not a variable name; use letters, digits and _`,
      );
    }
  }
  for (const [name, secret] of Object.entries(args.secrets ?? {})) {
    if (environment.includes(name)) {
      problems.push(
        `secrets.${name}: also set in environment; a variable comes from one or the other`,
      );
    }
    if (secret.jsonKey === "") {
      problems.push(`secrets.${name}.jsonKey: empty; omit it to use the secret's whole value`);
    }
  }
  return problems;
}

/** The ECS resources of a started service (`FargateTasks.define()`, then `start()`). */
export interface RunningTasks {
  taskDefinition: aws.ecs.TaskDefinition;
  service: aws.ecs.Service;
  scalableTarget: aws.appautoscaling.Target;
}

/**
 * What every Fargate service of the app is made of (after CDK's ecs-patterns), as a part its
 * component owns: every resource is a child of `owner`. It works in three steps, because what
 * brings work to the tasks (a load balancer, a queue) needs the tasks' security group and role,
 * the task definition needs what that work source tells the container, and the service must wait
 * for every grant on the task role, which other components make once the role exists:
 *
 * 1. the constructor creates
 *    - a security group for the tasks: egress allowed, no ingress (the owner adds what it needs);
 *    - a log group with retention, which the container writes to through awslogs (non-blocking);
 *    - an execution role (pull the image, write logs, read exactly the given secrets and decrypt
 *      them with exactly the given keys) and a task role that starts empty: the owner of each
 *      resource the app uses grants it access (for example `QueueWorkers.grantSendMessages`);
 * 2. `define(source)` creates the task definition: one container, read-only root filesystem with
 *    a scratch `/tmp`, an init process that forwards SIGTERM, and the role's stop timeout
 *    (`source.stopTimeoutSeconds`). A one-off task (a deploy step) stops here;
 * 3. `start(grants)` creates
 *    - the ECS service in private subnets without public IPs, waiting for the task role's
 *      `grants` and `source.dependsOn`, rolled out with a circuit breaker
 *      that rolls back, and `minTasks` tasks on the first deploy only: afterwards the count belongs
 *      to the autoscaler (`desiredCount` changes are ignored), so a deploy never scales a busy
 *      service down;
 *    - an Application Auto Scaling target from `minTasks` to `maxTasks`, for the owner's policies.
 *
 * The app publishes its metrics as CloudWatch embedded-metric-format log lines, which need no
 * permission beyond writing logs.
 *
 * Cost (us-east-1, Linux/x86): $0.0405 per vCPU-hour and $0.0044 per GB-hour, so a 0.25 vCPU /
 * 0.5 GB task is about $9 a month and a 1 vCPU / 2 GB task about $36; Spot is about 70% less.
 * Logs are $0.50 per GB ingested.
 */
export class FargateTasks {
  /** The tasks' security group, for rules of the tiers they connect to. */
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly executionRole: aws.iam.Role;
  /** The role the app runs as, for grants by the owners of what it uses. */
  readonly taskRole: aws.iam.Role;

  private readonly context: ReturnType<typeof contextOf>;
  /** What the execution role may do: a task definition waits for it (see createTaskDefinition). */
  private readonly executionGrants: pulumi.Resource[] = [];
  private defined: { source: WorkSource; taskDefinition: aws.ecs.TaskDefinition } | undefined;
  private running: RunningTasks | undefined;

  constructor(
    private readonly owner: pulumi.ComponentResource,
    private readonly name: string,
    private readonly args: FargateServiceArgs,
    private readonly tags: Tags,
  ) {
    this.context = this.lookUpContext();
    this.securityGroup = this.createSecurityGroup();
    this.logGroup = this.createLogGroup();
    this.executionRole = this.createExecutionRole();
    this.taskRole = this.createTaskRole();
  }

  /**
   * Creates the task definition, fed by `source`; once. A service then runs it (`start()`); a
   * one-off task, such as a deploy step, is started by something else (`aws ecs run-task`).
   */
  define(source: WorkSource): aws.ecs.TaskDefinition {
    if (this.defined !== undefined) {
      throw new Error(`${this.name}: FargateTasks already has its task definition`);
    }
    const taskDefinition = this.createTaskDefinition(source);
    this.defined = { source, taskDefinition };
    return taskDefinition;
  }

  /**
   * Creates the service that runs the task definition, and its scalable target; once, after
   * `define()`. The service waits for `grants`, every policy on the task role (ECS starts no task
   * before its role may read what the app reads at start), besides `source.dependsOn`.
   */
  start(grants: readonly pulumi.Resource[]): RunningTasks {
    if (this.defined === undefined) {
      throw new Error(`${this.name}: FargateTasks.start() before define(); define the task first`);
    }
    if (this.running !== undefined) {
      throw new Error(
        `${this.name}: FargateTasks.start() was already called; a service starts once`,
      );
    }
    const { source, taskDefinition } = this.defined;
    const service = this.createService(source, taskDefinition, grants);
    const scalableTarget = this.createScalableTarget(service);
    this.running = { taskDefinition, service, scalableTarget };
    return this.running;
  }

  /** The resources made before start(), for the `nodes` of the tier these tasks serve. */
  get nodes() {
    return {
      securityGroup: this.securityGroup,
      logGroup: this.logGroup,
      executionRole: this.executionRole,
      taskRole: this.taskRole,
      taskDefinition: this.defined?.taskDefinition,
    };
  }

  private lookUpContext(): ReturnType<typeof contextOf> {
    return contextOf(this.args.context, { parent: this.owner });
  }

  private createSecurityGroup(): aws.ec2.SecurityGroup {
    const { name, args, tags } = this;
    const group = new aws.ec2.SecurityGroup(
      `${name}-tasks-sg`,
      transform(args.transform?.securityGroup, {
        vpcId: args.vpcId,
        description: "Fargate tasks: outbound only, inbound from their load balancer if any",
        tags: { ...tags, Name: `${name}-tasks` },
      }),
      { parent: this.owner },
    );
    // Tasks call AWS APIs through NAT and reach the data tier, whose own groups decide who gets in.
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-tasks-egress`,
      {
        securityGroupId: group.id,
        ipProtocol: "-1",
        cidrIpv4: ANYWHERE,
        description: "AWS APIs, the data tier and the internet (through NAT)",
        tags,
      },
      { parent: this.owner },
    );
    return group;
  }

  private createLogGroup(): aws.cloudwatch.LogGroup {
    const { name, args, tags } = this;
    return new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      transform(args.transform?.logGroup, {
        retentionInDays: args.logRetentionDays,
        ...(args.logKmsKeyArn === undefined ? {} : { kmsKeyId: args.logKmsKeyArn }),
        tags,
      }),
      { parent: this.owner },
    );
  }

  private createExecutionRole(): aws.iam.Role {
    const { name, args, context, tags } = this;
    const role = new aws.iam.Role(
      `${name}-execution-role`,
      transform(args.transform?.executionRole, {
        description: `${name}: lets ECS pull the image, write the logs and read the task's secrets`,
        assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com"),
        tags,
      }),
      { parent: this.owner },
    );
    const managed = new aws.iam.RolePolicyAttachment(
      `${name}-execution-role`,
      {
        role: role.name,
        policyArn: pulumi.interpolate`arn:${context.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
      },
      { parent: this.owner },
    );
    this.executionGrants.push(managed);
    const secretArns =
      args.secretGrantArns ?? Object.values(args.secrets ?? {}).map((secret) => secret.arn);
    const kmsKeyArns = args.secretKmsKeyArns ?? [];
    if (secretArns.length > 0) {
      const secrets = new aws.iam.RolePolicy(
        `${name}-execution-secrets`,
        {
          role: role.name,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "ReadTaskSecrets",
                Effect: "Allow",
                Action: "secretsmanager:GetSecretValue",
                Resource: secretArns,
              },
              ...(kmsKeyArns.length > 0
                ? [
                    {
                      Sid: "DecryptTaskSecrets",
                      Effect: "Allow",
                      Action: "kms:Decrypt",
                      Resource: kmsKeyArns,
                      // Only as Secrets Manager decrypts a secret for the role, never directly.
                      Condition: {
                        StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" },
                      },
                    },
                  ]
                : []),
            ],
          }),
        },
        { parent: this.owner },
      );
      this.executionGrants.push(secrets);
    }
    return role;
  }

  private createTaskRole(): aws.iam.Role {
    const { name, args, context, tags } = this;
    return new aws.iam.Role(
      `${name}-task-role`,
      transform(args.transform?.taskRole, {
        description: `${name}: what the app may do; each resource's owner grants its own access`,
        // Only ECS acting for this account's tasks in this region may assume it (confused deputy).
        assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com", {
          ArnLike: {
            "aws:SourceArn": pulumi.interpolate`arn:${context.partition}:ecs:${context.region}:${context.accountId}:*`,
          },
          StringEquals: { "aws:SourceAccount": context.accountId },
        }),
        tags,
      }),
      { parent: this.owner },
    );
  }

  private createTaskDefinition(source: WorkSource): aws.ecs.TaskDefinition {
    const { name, args, context, tags } = this;
    const environment = { ...args.environment, ...source.environment };
    const secrets = args.secrets ?? {};
    const container = {
      name: CONTAINER_NAME,
      image: args.image,
      command: args.command,
      essential: true,
      portMappings: (source.containerPorts ?? []).map((containerPort) => ({
        containerPort,
        protocol: "tcp",
      })),
      // Sorted, so that the same variables always render the same definition (no spurious revision).
      environment: Object.keys(environment)
        .sort()
        .map((variable) => ({ name: variable, value: environment[variable] })),
      secrets: Object.keys(secrets)
        .sort()
        .map((variable) => ({ name: variable, valueFrom: secretValueFrom(secrets[variable]!) })),
      // The app writes nothing outside /tmp on the stack (DATA_DIR is for the embedded mode only).
      readonlyRootFilesystem: true,
      mountPoints: [
        { sourceVolume: SCRATCH_VOLUME.name, containerPath: SCRATCH_VOLUME.containerPath },
      ],
      // An init process as PID 1 forwards SIGTERM to the app and reaps zombies.
      linuxParameters: { initProcessEnabled: true },
      stopTimeout: source.stopTimeoutSeconds,
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": this.logGroup.name,
          "awslogs-region": context.region,
          "awslogs-stream-prefix": args.command[0],
          mode: "non-blocking",
          "max-buffer-size": LOG_BUFFER_SIZE,
        },
      },
    };
    return new aws.ecs.TaskDefinition(
      `${name}-taskdef`,
      transform(args.transform?.taskDefinition, {
        family: physicalName([pulumi.getProject(), pulumi.getStack(), name], MAX_FAMILY_LENGTH),
        cpu: String(args.cpu),
        memory: String(args.memory),
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: CPU_ARCHITECTURE },
        executionRoleArn: this.executionRole.arn,
        taskRoleArn: this.taskRole.arn,
        volumes: [{ name: SCRATCH_VOLUME.name }],
        containerDefinitions: pulumi.jsonStringify([container]),
        tags,
      }),
      // Its tasks start as soon as the service points at it: only once the execution role may read
      // their secrets under the keys they are now encrypted with (a secret moved to another key
      // and its grant change in the same deploy), pull the image and write the logs.
      { parent: this.owner, dependsOn: this.executionGrants },
    );
  }

  private createService(
    source: WorkSource,
    taskDefinition: aws.ecs.TaskDefinition,
    grants: readonly pulumi.Resource[],
  ): aws.ecs.Service {
    const { name, args, tags } = this;
    const capacityProvider: FargateCapacityProvider = args.useSpot ? "FARGATE_SPOT" : "FARGATE";
    const { loadBalancers, healthCheckGracePeriodSeconds, dependsOn = [] } = source;
    return new aws.ecs.Service(
      `${name}-service`,
      transform(args.transform?.service, {
        cluster: args.cluster.arn,
        taskDefinition: taskDefinition.arn,
        // The first deploy's count only: later ones leave it to the autoscaler (ignoreChanges below).
        desiredCount: args.minTasks,
        capacityProviderStrategies: [{ capacityProvider, weight: 1 }],
        // Lets a change of capacity provider (useSpot) roll out in place instead of replacing the service.
        forceNewDeployment: true,
        networkConfiguration: {
          subnets: args.subnetIds,
          securityGroups: [this.securityGroup.id],
          assignPublicIp: false,
        },
        ...(loadBalancers ? { loadBalancers, healthCheckGracePeriodSeconds } : {}),
        deploymentCircuitBreaker: { enable: true, rollback: true },
        deploymentMinimumHealthyPercent: DEPLOYMENT_MINIMUM_HEALTHY_PERCENT,
        deploymentMaximumPercent: DEPLOYMENT_MAXIMUM_PERCENT,
        // A deploy that the circuit breaker rolls back fails `pulumi up` instead of passing quietly.
        waitForSteadyState: true,
        propagateTags: "SERVICE",
        enableEcsManagedTags: true,
        enableExecuteCommand: false,
        tags:
          args.migratedBy === undefined ? tags : { ...tags, [MIGRATED_BY_TAG]: args.migratedBy },
      }),
      {
        parent: this.owner,
        ignoreChanges: ["desiredCount"],
        // Plain resources: Pulumi walks an Output's value deeply, and a resource reaches the whole program.
        dependsOn: [...dependsOn, ...grants],
      },
    );
  }

  private createScalableTarget(service: aws.ecs.Service): aws.appautoscaling.Target {
    const { name, args, tags } = this;
    return new aws.appautoscaling.Target(
      `${name}-scaling`,
      transform(args.transform?.scalableTarget, {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`service/${args.cluster.name}/${service.name}`,
        minCapacity: args.minTasks,
        maxCapacity: args.maxTasks,
        tags,
      }),
      { parent: this.owner },
    );
  }
}

/**
 * The base of the app's long-running Fargate services (WebService, QueueWorkers): their shared
 * tasks (FargateTasks) and outputs, in the two steps every such service goes through.
 *
 * 1. Construction: the tasks' security group, log group and roles; then what the concrete service
 *    puts in front of its tasks (a load balancer, a queue); then its task definition
 *    (`defineTasks`). The task role now exists, so other components can grant it access.
 * 2. `start(grants)`, which the composition calls once every grant of the task role exists: the
 *    ECS service, waiting for those grants, its scalable target, and the concrete service's
 *    scaling policies (`createScalingPolicies`, called here, never from the constructor).
 *
 * A service constructed and never started fails the program when it ends: otherwise the stack
 * would lack its ECS service, and whatever reads `serviceName` would wait forever.
 */
export abstract class FargateService<Args extends FargateServiceArgs = FargateServiceArgs>
  extends pulumi.ComponentResource
{
  /** The ECS service's name, known once the service is started. */
  readonly serviceName: pulumi.Output<string>;
  /** The tasks' security group, for rules of the tiers they connect to. */
  readonly securityGroupId: pulumi.Output<string>;
  /** The role the app runs as, for grants by the owners of what it uses (before `start`). */
  readonly taskRoleName: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;

  protected readonly args: Args;
  /** The tags of the tier the service belongs to, for the concrete service's own resources. */
  protected readonly tags: Tags;
  protected readonly tasks: FargateTasks;
  private readonly resolveServiceName: (name: pulumi.Output<string>) => void;
  private running: RunningTasks | undefined;
  private scalingPolicies: aws.appautoscaling.Policy[] = [];

  /**
   * @param kind the concrete class, for the type token and the errors ("WebService")
   * @param tier the tier its resources are tagged with
   * @param problems what the concrete service's validator found in `args`; any is thrown
   */
  protected constructor(
    kind: string,
    tier: Tier,
    private readonly serviceResourceName: string,
    args: Args,
    problems: readonly string[],
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(`zero-to-millions:components:${kind}`, serviceResourceName, {}, opts);
    throwIfInvalid(kind, serviceResourceName, problems);
    this.args = args;
    this.tags = tierTags(tier);
    this.tasks = new FargateTasks(this, serviceResourceName, args, this.tags);
    this.securityGroupId = this.tasks.securityGroup.id;
    this.taskRoleName = this.tasks.taskRole.name;
    this.taskRoleArn = this.tasks.taskRole.arn;
    this.logGroupName = this.tasks.logGroup.name;
    [this.serviceName, this.resolveServiceName] = pulumi.deferredOutput<string>();
    awaitStart(this, serviceResourceName);
  }

  /**
   * Starts the service: creates the ECS service, which waits for `grants` (every policy on the
   * task role made outside this component: `taskRoleName`'s grants) besides what the service
   * itself needs, its scalable target and its scaling policies. Call it once, after the last grant.
   */
  start(grants: readonly pulumi.Resource[]): void {
    this.running = this.tasks.start(grants);
    markStarted(this);
    this.resolveServiceName(this.running.service.name);
    this.scalingPolicies = this.createScalingPolicies(this.serviceResourceName, this.running);
  }

  /** The underlying resources, for what the arguments do not cover (the service's once started). */
  get nodes() {
    return { ...this.tasks.nodes, ...this.running, scalingPolicies: this.scalingPolicies };
  }

  /** Creates the task definition, fed by `source` (what the concrete service brings its tasks). */
  protected defineTasks(source: WorkSource): void {
    this.tasks.define(source);
  }

  /** Registers the outputs every service has, and `outputs`, the concrete service's own. */
  protected registerServiceOutputs(outputs: pulumi.Inputs): void {
    this.registerOutputs({
      serviceName: this.serviceName,
      securityGroupId: this.securityGroupId,
      taskRoleArn: this.taskRoleArn,
      ...outputs,
    });
  }

  /** How the service scales between `minTasks` and `maxTasks`: policies on `running.scalableTarget`. */
  protected abstract createScalingPolicies(
    name: string,
    running: RunningTasks,
  ): aws.appautoscaling.Policy[];

  /**
   * A target-tracking policy on `target` (the started service's), with the cooldowns every
   * service shares: `tracking` says which metric and what value.
   */
  protected createTargetTracking(
    name: string,
    target: aws.appautoscaling.Target,
    tracking: Omit<
      aws.types.input.appautoscaling.PolicyTargetTrackingScalingPolicyConfiguration,
      "scaleOutCooldown" | "scaleInCooldown"
    >,
  ): aws.appautoscaling.Policy {
    return new aws.appautoscaling.Policy(
      name,
      {
        policyType: "TargetTrackingScaling",
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          ...tracking,
          scaleOutCooldown: SCALE_OUT_COOLDOWN_SECONDS,
          scaleInCooldown: SCALE_IN_COOLDOWN_SECONDS,
        },
      },
      { parent: this },
    );
  }
}

/** ECS `valueFrom`: the secret's ARN, or `${arn}:${jsonKey}::` for one key of a JSON secret. */
function secretValueFrom(secret: SecretReference): pulumi.Input<string> {
  return secret.jsonKey === undefined
    ? secret.arn
    : pulumi.interpolate`${secret.arn}:${secret.jsonKey}::`;
}
