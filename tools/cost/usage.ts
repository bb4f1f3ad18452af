/**
 * What the estimate assumes about traffic: the charges that depend on use (data processed and
 * transferred, logs, requests, stored bytes) are computed from these numbers, never from the synth.
 *
 * Use scales with capacity: each running web task is assumed to serve the traffic below, so the
 * minimum estimate is a quiet month at the autoscalers' minimum and the maximum a busy month at
 * their maximum. Capacity charges (hours of NAT gateways, load balancers, tasks, databases, cache
 * nodes) come from the synth alone. After changing a number, run `npm run docs:cost` (the README
 * shows the table).
 */
/** The shape of the assumptions; what each number means is in {@link USAGE_NOTES}. */
export interface UsageAssumptions {
  readonly web: {
    readonly requestsPerSecondPerTask: number;
    readonly kbPerRequest: number;
    readonly responseShare: number;
  };
  readonly cdn: { readonly gbPerWebTaskMonth: number; readonly requestsPerGb: number };
  readonly uploads: { readonly gbPerWebTaskMonth: number; readonly monthsKept: number };
  readonly database: {
    readonly walGbPerWebTaskMonth: number;
    readonly logsGbPerInstanceMonth: number;
  };
  readonly crossRegion: { readonly peeringGbPerWebTaskMonth: number };
  readonly queue: {
    readonly jobsPerWebTaskMonth: number;
    readonly requestsPerJob: number;
    readonly idleReceivesPerWorkerTaskMonth: number;
  };
  readonly logs: {
    readonly webGbPerTaskMonth: number;
    readonly workerGbPerTaskMonth: number;
    readonly flowLogGbPerTaskMonth: number;
    readonly flowLogBaseGbPerVpcMonth: number;
    readonly otherGbPerGroupMonth: number;
  };
  readonly nat: { readonly gbPerTaskMonth: number };
  readonly containerInsights: {
    readonly metricsPerCluster: number;
    readonly metricsPerService: number;
    readonly gbPerTaskMonth: number;
  };
  readonly images: {
    readonly imageGb: number;
    readonly imagesKept: number;
    readonly deploysPerMonth: number;
  };
  readonly dynamodb: {
    readonly writeUnitsPerWebTaskSecond: number;
    readonly readUnitsPerWebTaskSecond: number;
    readonly storedGb: number;
  };
}

export const USAGE: UsageAssumptions = {
  web: { requestsPerSecondPerTask: 20, kbPerRequest: 6, responseShare: 0.8 },
  cdn: { gbPerWebTaskMonth: 50, requestsPerGb: 10_000 },
  uploads: { gbPerWebTaskMonth: 5, monthsKept: 12 },
  database: { walGbPerWebTaskMonth: 10, logsGbPerInstanceMonth: 0.5 },
  crossRegion: { peeringGbPerWebTaskMonth: 5 },
  queue: {
    jobsPerWebTaskMonth: 500_000,
    requestsPerJob: 3,
    idleReceivesPerWorkerTaskMonth: 131_400,
  },
  logs: {
    webGbPerTaskMonth: 3,
    workerGbPerTaskMonth: 1,
    flowLogGbPerTaskMonth: 1,
    flowLogBaseGbPerVpcMonth: 1,
    otherGbPerGroupMonth: 0.5,
  },
  nat: { gbPerTaskMonth: 5 },
  containerInsights: { metricsPerCluster: 8, metricsPerService: 11, gbPerTaskMonth: 0.2 },
  images: { imageGb: 0.3, imagesKept: 10, deploysPerMonth: 20 },
  dynamodb: { writeUnitsPerWebTaskSecond: 5, readUnitsPerWebTaskSecond: 20, storedGb: 10 },
};

/**
 * What each number of {@link USAGE} means, by its path (the README's assumptions table and
 * `--json` read it; a test checks every number has one).
 */
export const USAGE_NOTES: Readonly<Record<string, string>> = {
  "web.requestsPerSecondPerTask":
    "requests per second one web task serves, averaged over the month",
  "web.kbPerRequest": "KB in plus out per request through the load balancer (1 GB an hour = 1 LCU)",
  "web.responseShare": "share of those bytes that are responses to the internet",
  "cdn.gbPerWebTaskMonth": "GB of static files and photos CloudFront serves per web task-month",
  "cdn.requestsPerGb": "CloudFront requests per GB served (objects of 100 KB on average)",
  "uploads.gbPerWebTaskMonth":
    "GB of photos uploaded per web task-month, replicated to the other region",
  "uploads.monthsKept": "months of uploads a bucket holds (its storage)",
  "database.walGbPerWebTaskMonth":
    "the stated write volume: GB of WAL per web task-month, all of it sent to each cross-region replica",
  "database.logsGbPerInstanceMonth":
    "GB of PostgreSQL logs exported to CloudWatch per instance-month",
  "crossRegion.peeringGbPerWebTaskMonth":
    "GB over VPC peering per web task-month outside the writer's region (writes, reads of the writer)",
  "queue.jobsPerWebTaskMonth": "jobs queued per web task-month",
  "queue.requestsPerJob": "SQS requests per job (send, receive, delete)",
  "queue.idleReceivesPerWorkerTaskMonth": "long-poll receives per worker task-month (one per 20 s)",
  "logs.webGbPerTaskMonth": "GB of logs and EMF metrics per web task-month",
  "logs.workerGbPerTaskMonth": "GB of logs per worker task-month",
  "logs.flowLogGbPerTaskMonth": "GB of VPC flow logs per running task-month in the VPC",
  "logs.flowLogBaseGbPerVpcMonth": "GB of VPC flow logs per VPC-month, on top of that",
  "logs.otherGbPerGroupMonth": "GB per month of any other log group",
  "nat.gbPerTaskMonth": "GB through the NAT gateways per task-month (image pulls, AWS APIs)",
  "containerInsights.metricsPerCluster": "Container Insights metrics per cluster",
  "containerInsights.metricsPerService": "Container Insights metrics per service",
  "containerInsights.gbPerTaskMonth": "GB of Container Insights performance events per task-month",
  "images.imageGb": "GB of one app image",
  "images.imagesKept": "images a repository holds (releases and untagged ones not yet expired)",
  "images.deploysPerMonth": "deploys a month, each image replicated to the other region",
  "dynamodb.writeUnitsPerWebTaskSecond":
    "on-demand tables: write request units per web task-second",
  "dynamodb.readUnitsPerWebTaskSecond": "on-demand tables: read request units per web task-second",
  "dynamodb.storedGb": "GB stored per table",
};

/** Every number of a usage object with its dotted path, in declaration order. */
export function usageEntries(usage: UsageAssumptions): [string, number][] {
  return Object.entries(usage).flatMap(([group, values]) =>
    Object.entries(values as Record<string, number>).map(([key, value]): [string, number] => [
      `${group}.${key}`,
      value,
    ]),
  );
}

/** What the estimate leaves out, stated once (README and `--json` carry it). */
export const NOT_COUNTED = [
  "free tiers and the first-3-free CloudWatch dashboards (an account-wide allowance)",
  "RDS backups within the free allowance (backup storage up to the provisioned storage) and ElastiCache's one free snapshot",
  "gp3 IOPS and throughput above the included baseline",
  "requests and API calls below a dollar a month at the stated volume (KMS, Secrets Manager, SNS, S3 behind CloudFront)",
  "Savings Plans, Reserved Instances and other discounts; taxes",
  "CloudFront edges outside North America and Europe (priced at the NA/EU rate)",
];
