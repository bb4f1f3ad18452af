/**
 * The capacity a synth allows, at its minimum and its maximum: ECS tasks per service (the
 * autoscaler's bounds, else the desired count), on which Fargate share, and the totals per region
 * that use-based charges scale with (see usage.ts).
 */
import type { References } from "../references";
import type { SynthResource } from "../synth";
import type { Tier } from "../tiers";

/** A quantity at minimum and at maximum capacity. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

export const range = (min: number, max = min): Range => ({ min, max });
export const scale = (r: Range, factor: number): Range => range(r.min * factor, r.max * factor);
export const add = (a: Range, b: Range): Range => range(a.min + b.min, a.max + b.max);
export const ZERO = range(0);

const SERVICE = "aws:ecs/service:Service";
const SCALING_TARGET = "aws:appautoscaling/target:Target";
const ECS_DESIRED_COUNT = "ecs:service:DesiredCount";

export type ServiceRole = "web" | "worker" | "other";

/** One ECS service's size. */
export interface ServiceCapacity {
  readonly service: SynthResource;
  readonly role: ServiceRole;
  readonly region: string;
  readonly tasks: Range;
  /** Tasks on Fargate Spot, of `tasks`. */
  readonly spotTasks: Range;
  readonly vcpu: number;
  readonly memoryGb: number;
  readonly architecture: "x86" | "arm";
}

interface Strategy {
  capacityProvider: string;
  weight?: number;
  base?: number;
}

/** How many of `tasks` ECS places on Fargate Spot: each provider's base first, then by weight. */
export function spotTaskCount(strategies: readonly Strategy[], tasks: number): number {
  if (strategies.length === 0) return 0;
  const isSpot = (s: Strategy) => s.capacityProvider === "FARGATE_SPOT";
  let remaining = tasks;
  let spot = 0;
  for (const strategy of strategies) {
    const base = Math.min(strategy.base ?? 0, remaining);
    if (isSpot(strategy)) spot += base;
    remaining -= base;
  }
  const totalWeight = strategies.reduce((sum, s) => sum + (s.weight ?? 0), 0);
  if (totalWeight === 0) return spot;
  const spotWeight = strategies.filter(isSpot).reduce((sum, s) => sum + (s.weight ?? 0), 0);
  return spot + remaining * (spotWeight / totalWeight);
}

/** The capacity of every ECS service in a synth, and the per-region totals use scales with. */
export class Capacity {
  readonly services: readonly ServiceCapacity[];

  constructor(
    resources: readonly SynthResource[],
    references: References,
    tierOf: (resource: SynthResource) => Tier | undefined,
  ) {
    const targets = resources.filter(
      (r) => r.type === SCALING_TARGET && r.inputs.scalableDimension === ECS_DESIRED_COUNT,
    );
    this.services = resources
      .filter((r) => r.type === SERVICE)
      .map((service) => {
        const target = targets.find((t) => references.referencedBy(t).includes(service));
        const desired = Number(service.inputs.desiredCount ?? 1);
        const tasks = target
          ? range(Number(target.inputs.minCapacity), Number(target.inputs.maxCapacity))
          : range(desired);
        const strategies = (service.inputs.capacityProviderStrategies ?? []) as Strategy[];
        const taskDefinition = references.resolve(service.inputs.taskDefinition);
        if (!taskDefinition) {
          throw new Error(
            `ECS service ${service.name}: its task definition is not in the synth, so its size is unknown`,
          );
        }
        const platform = taskDefinition.inputs.runtimePlatform as
          { cpuArchitecture?: string } | undefined;
        const tier = tierOf(service);
        return {
          service,
          role: tier === "web" ? "web" : tier === "queue" ? "worker" : "other",
          region: service.region ?? "",
          tasks,
          spotTasks: range(
            spotTaskCount(strategies, tasks.min),
            spotTaskCount(strategies, tasks.max),
          ),
          vcpu: Number(taskDefinition.inputs.cpu) / 1024,
          memoryGb: Number(taskDefinition.inputs.memory) / 1024,
          architecture: platform?.cpuArchitecture === "ARM64" ? "arm" : "x86",
        } satisfies ServiceCapacity;
      });
  }

  private sum(filter: (s: ServiceCapacity) => boolean): Range {
    return this.services.filter(filter).reduce((total, s) => add(total, s.tasks), ZERO);
  }

  /** Web tasks in one region, or in the whole stack. */
  webTasks(region?: string): Range {
    return this.sum((s) => s.role === "web" && (region === undefined || s.region === region));
  }

  workerTasks(region?: string): Range {
    return this.sum((s) => s.role === "worker" && (region === undefined || s.region === region));
  }

  /** Every task in a region (NAT traffic and flow logs scale with it). */
  tasks(region: string): Range {
    return this.sum((s) => s.region === region);
  }

  of(service: SynthResource): ServiceCapacity {
    const found = this.services.find((s) => s.service === service);
    if (!found) throw new Error(`${service.name} is not an ECS service`);
    return found;
  }
}
