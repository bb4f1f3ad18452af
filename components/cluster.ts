import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { tierTags } from "./tags";
import { type Transform, transform } from "./transform";

/** The capacity providers every Fargate service of the cluster may name. */
export const FARGATE_CAPACITY_PROVIDERS = ["FARGATE", "FARGATE_SPOT"] as const;
export type FargateCapacityProvider = (typeof FARGATE_CAPACITY_PROVIDERS)[number];

export interface ComputeClusterArgs {
  /**
   * Collect per-service and per-task metrics (CPU, memory, running task count) in the
   * `ECS/ContainerInsights` namespace. QueueWorkers scales on its `RunningTaskCount`, so keep it
   * on for a cluster that runs workers.
   * @default true
   */
  enableContainerInsights?: boolean;
  /** Change the arguments of a child resource before it is created. */
  transform?: {
    cluster?: Transform<aws.ecs.ClusterArgs>;
  };
}

/**
 * An ECS cluster for the app's Fargate services (the web tier and the queue workers of one region).
 *
 * A cluster costs nothing by itself; it groups services, turns on Container Insights and makes
 * `FARGATE` and `FARGATE_SPOT` available to every service in it (on demand unless a service asks
 * for Spot).
 *
 * `arn` and `name` resolve only once the capacity providers are attached, so a service created
 * with them never asks for a provider the cluster does not have yet.
 *
 * @example
 * ```ts
 * const cluster = new ComputeCluster("primary-cluster", {}, { provider });
 * new WebService("primary-web", { cluster: { arn: cluster.arn, name: cluster.name }, ... }, { provider });
 * ```
 *
 * Cost: the cluster is free; Container Insights bills its metrics and performance logs, roughly
 * $1 to $3 a month per service at this size (more with many tasks).
 */
export class ComputeCluster extends pulumi.ComponentResource {
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;

  private readonly cluster: aws.ecs.Cluster;
  private readonly capacityProviders: aws.ecs.ClusterCapacityProviders;

  constructor(
    name: string,
    args: ComputeClusterArgs = {},
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    super("zero-to-millions:components:ComputeCluster", name, {}, opts);
    // The cluster exists for the app tier; the web and worker services in it tag themselves.
    const tags = tierTags("web");

    this.cluster = this.createCluster(name, args, tags);
    this.capacityProviders = this.attachCapacityProviders(name);

    this.name = this.capacityProviders.clusterName;
    this.arn = pulumi
      .all([this.cluster.arn, this.capacityProviders.clusterName])
      .apply(([arn]) => arn);
    this.registerOutputs({ arn: this.arn, name: this.name });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return { cluster: this.cluster, capacityProviders: this.capacityProviders };
  }

  private createCluster(
    name: string,
    args: ComputeClusterArgs,
    tags: Record<string, string>,
  ): aws.ecs.Cluster {
    return new aws.ecs.Cluster(
      `${name}-ecs`,
      transform(args.transform?.cluster, {
        settings: [
          {
            name: "containerInsights",
            value: (args.enableContainerInsights ?? true) ? "enabled" : "disabled",
          },
        ],
        tags,
      }),
      { parent: this },
    );
  }

  private attachCapacityProviders(name: string): aws.ecs.ClusterCapacityProviders {
    return new aws.ecs.ClusterCapacityProviders(
      `${name}-capacity`,
      {
        clusterName: this.cluster.name,
        capacityProviders: [...FARGATE_CAPACITY_PROVIDERS],
        // A service that names no strategy runs on demand; Spot is opt-in per service.
        defaultCapacityProviderStrategies: [{ capacityProvider: "FARGATE", weight: 1 }],
      },
      { parent: this },
    );
  }
}
