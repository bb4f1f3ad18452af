/** Where both Fargate tiers' specs (web and workers) start from: the dev tasks' placement and size. */
import type { FargateServiceArgs } from "../../../components/fargateService";

/** The database password's secret, as every task receives it. */
export const PASSWORD_SECRET =
  "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf";

/** The dev cluster, private subnets, image, task size and log retention; each tier adds its own. */
export function devTasks(): Pick<
  FargateServiceArgs,
  "cluster" | "vpcId" | "subnetIds" | "image" | "cpu" | "memory" | "logRetentionDays"
> {
  return {
    cluster: { arn: "arn:aws:ecs:us-east-1:123456789012:cluster/app", name: "app" },
    vpcId: "vpc-123",
    subnetIds: ["subnet-private-a", "subnet-private-b"],
    image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:0123",
    cpu: 256,
    memory: 512,
    logRetentionDays: 7,
  };
}
