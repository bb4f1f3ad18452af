import type * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { MAX_STOP_TIMEOUT_SECONDS } from "../contract";
import {
  type FargateServiceArgs,
  type FargateServiceTransforms,
  FargateTasks,
  validateFargateServiceArgs,
} from "./fargateService";
import { tierTags } from "./tags";
import { throwIfInvalid } from "./validation";

export interface MigrationTaskArgs extends Omit<
  FargateServiceArgs,
  "minTasks" | "maxTasks" | "useSpot" | "migratedBy" | "transform"
> {
  transform?: Omit<FargateServiceTransforms, "service" | "scalableTarget">;
  /**
   * Whether the task runs in this region (it holds the writer): only then is its task definition
   * created. Without it, the roles, security group and log group exist all the same, so that a
   * failover, which moves the task definition, creates and changes no IAM resource (IAM's control
   * plane is in us-east-1, maybe the lost region).
   * @default true
   */
  runsHere?: boolean;
}

/** A one-off task is never a service: these only satisfy the shared validator. */
const ONE_OFF = { minTasks: 0, maxTasks: 1 } as const;

/** The shared Fargate arguments of a one-off task. */
function asFargateArgs(args: MigrationTaskArgs): FargateServiceArgs {
  const { runsHere: _runsHere, ...fargate } = args;
  return { ...fargate, ...ONE_OFF, useSpot: false };
}

/**
 * Validates the arguments before any resource exists.
 * @returns every problem, each naming the argument and the fix; empty when valid.
 */
export function validateMigrationTaskArgs(args: MigrationTaskArgs): string[] {
  return validateFargateServiceArgs(asFargateArgs(args));
}

/**
 * The deploy step that changes the database: a task definition for the app's `migrate` command,
 * run once per deploy before the new web and worker tasks (`aws ecs run-task`, README:
 * Deploying). It is the only task with the master credential: it applies the migrations and
 * creates the app's own role with row access only, which the web and worker tasks log in as.
 * The command is idempotent, so a retried deploy runs it again safely.
 *
 * On the full stack it runs in the region holding the writer, in the app subnets, with its own
 * security group (admitted by the database like the app's) and roles: its execution role may read
 * the master secret, its task role may do nothing. The other region has the same roles and security
 * group without a task definition (`runsHere: false`), ready for a failover.
 *
 * Outputs are what `run-task` needs: the cluster, the task definition, subnets and security group.
 *
 * Cost: Fargate per second while it runs (seconds per deploy); nothing between deploys.
 */
export class MigrationTask extends pulumi.ComponentResource {
  /** Undefined where the task does not run (`runsHere: false`). */
  readonly taskDefinitionArn: pulumi.Output<string> | undefined;
  readonly securityGroupId: pulumi.Output<string>;
  readonly taskRoleName: pulumi.Output<string>;

  private readonly tasks: FargateTasks;
  private readonly taskDefinition: aws.ecs.TaskDefinition | undefined;

  constructor(name: string, args: MigrationTaskArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:MigrationTask", name, {}, opts);
    throwIfInvalid("MigrationTask", name, validateMigrationTaskArgs(args));
    this.tasks = new FargateTasks(this, name, asFargateArgs(args), tierTags("database"));
    // A migration in hand gets the longest stop timeout Fargate allows to finish its transaction.
    this.taskDefinition =
      (args.runsHere ?? true)
        ? this.tasks.define({ environment: {}, stopTimeoutSeconds: MAX_STOP_TIMEOUT_SECONDS })
        : undefined;
    this.taskDefinitionArn = this.taskDefinition?.arn;
    this.securityGroupId = this.tasks.securityGroup.id;
    this.taskRoleName = this.tasks.taskRole.name;
    this.registerOutputs({
      ...(this.taskDefinitionArn ? { taskDefinitionArn: this.taskDefinitionArn } : {}),
      securityGroupId: this.securityGroupId,
    });
  }

  get nodes() {
    return {
      ...this.tasks.nodes,
      taskDefinition: this.taskDefinition,
    };
  }
}
