/**
 * ECS: tasks get no public address (they sit in private subnets behind the load balancer), and
 * every container ships its logs somewhere.
 */
import * as aws from "@pulumi/aws";
import { resourceRule } from "../resourceRule";
import { UNKNOWN, parseJson, read } from "../values";

export const ecsNoPublicIp = resourceRule({
  name: "ecs-no-public-ip",
  description: "ECS services do not give their tasks public IP addresses.",
  resource: aws.ecs.Service,
  check: (service) =>
    read(() => service.networkConfiguration?.assignPublicIp) !== true
      ? undefined
      : {
          problem: "its tasks get public IP addresses",
          fix: "set networkConfiguration.assignPublicIp: false and run the tasks in private subnets (they reach out through NAT and take traffic from the load balancer)",
        },
});

/**
 * The containers of a task definition that send their logs nowhere; undefined when the
 * definitions are not a JSON array of containers.
 */
export function containersWithoutLogging(containerDefinitions: unknown): string[] | undefined {
  const containers = parseJson(containerDefinitions);
  if (!Array.isArray(containers)) return undefined;
  return (
    containers as Array<{ name?: unknown; logConfiguration?: { logDriver?: unknown } }>
  ).flatMap((container, index) => {
    if (typeof container?.logConfiguration?.logDriver === "string") return [];
    return [typeof container?.name === "string" ? container.name : `#${index}`];
  });
}

export const ecsTaskLogging = resourceRule({
  name: "ecs-task-logging",
  description: "Every container of an ECS task definition has a log configuration.",
  resource: aws.ecs.TaskDefinition,
  check: (task) => {
    const definitions = read(() => task.containerDefinitions);
    if (definitions === UNKNOWN) return undefined;
    const silent = containersWithoutLogging(definitions);
    const fix =
      'give each container a logConfiguration (logDriver "awslogs" with awslogs-group, awslogs-region and awslogs-stream-prefix)';
    if (silent === undefined)
      return { problem: "its containerDefinitions are not a JSON array of containers", fix };
    if (silent.length > 0)
      return { problem: `container(s) ${silent.join(", ")} send their logs nowhere`, fix };
    return undefined;
  },
});
