/**
 * What the estimate assumes about traffic: the charges that depend on use (data processed and
 * transferred, logs, requests, stored bytes) are computed from these numbers, never from the synth.
 *
 * Use scales with capacity: each running web task is assumed to serve the traffic below, so the
 * minimum estimate is a quiet month at the autoscalers' minimum and the maximum a busy month at
 * their maximum. Capacity charges (hours of NAT gateways, load balancers, tasks, databases, cache
 * nodes) come from the synth alone. Change a number here and the README's table with it.
 */
export interface UsageAssumptions {
  readonly web: {
    /** Average requests per second one web task serves over the month. */
    readonly requestsPerSecondPerTask: number;
    /** Average bytes in plus out of one request through the load balancer (KB). */
    readonly kbPerRequest: number;
    /** Share of those bytes that are responses leaving AWS to the internet. */
    readonly responseShare: number;
  };
  readonly cdn: {
    /** Static files and photos served by CloudFront per web task-month (GB). */
    readonly gbPerWebTaskMonth: number;
    /** CloudFront requests per GB served (average object of 100 KB). */
    readonly requestsPerGb: number;
  };
  readonly uploads: {
    /** Photos uploaded per web task-month (GB): stored in S3 and replicated to the other region. */
    readonly gbPerWebTaskMonth: number;
    /** Months of uploads a bucket holds (S3 storage is uploads × this). */
    readonly monthsKept: number;
  };
  readonly database: {
    /**
     * The stated write volume: WAL written per web task-month (GB). Every cross-region read replica
     * receives all of it, billed as inter-region transfer.
     */
    readonly walGbPerWebTaskMonth: number;
    /** PostgreSQL logs exported to CloudWatch per instance-month (GB). */
    readonly logsGbPerInstanceMonth: number;
  };
  readonly crossRegion: {
    /** Traffic between the regions over VPC peering (the secondary's writes and reads of the writer) per web task-month (GB). */
    readonly peeringGbPerWebTaskMonth: number;
  };
  readonly queue: {
    /** Jobs per web task-month; each job is a send, a receive and a delete. */
    readonly jobsPerWebTaskMonth: number;
    /** SQS requests per job. */
    readonly requestsPerJob: number;
    /** Long-poll receives per worker task-month while idle (one per 20 s). */
    readonly idleReceivesPerWorkerTaskMonth: number;
  };
  readonly logs: {
    /** Application logs and metrics (EMF) per web task-month (GB). */
    readonly webGbPerTaskMonth: number;
    /** Per worker task-month (GB). */
    readonly workerGbPerTaskMonth: number;
    /** VPC flow logs per running task-month in the VPC, plus the base below (GB). */
    readonly flowLogGbPerTaskMonth: number;
    readonly flowLogBaseGbPerVpcMonth: number;
    /** Log groups that are none of the above (GB per month). */
    readonly otherGbPerGroupMonth: number;
  };
  readonly nat: {
    /** Bytes through the NAT gateways per task-month: image pulls, AWS APIs, outbound calls (GB). */
    readonly gbPerTaskMonth: number;
  };
  readonly containerInsights: {
    /** Custom metrics Container Insights publishes per cluster and per service. */
    readonly metricsPerCluster: number;
    readonly metricsPerService: number;
    /** Performance log events per task-month (GB). */
    readonly gbPerTaskMonth: number;
  };
  readonly images: {
    /** Size of the app's image (GB). */
    readonly imageGb: number;
    /** Images a repository holds (tagged releases plus untagged ones not yet expired). */
    readonly imagesKept: number;
    /** Deploys a month: each pushes an image that replication copies to the other region. */
    readonly deploysPerMonth: number;
  };
  readonly dynamodb: {
    /** On-demand tables: write and read request units per web task-second, and stored GB. */
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

/** What the estimate leaves out, stated once (README and `--json` carry it). */
export const NOT_COUNTED = [
  "free tiers and the first-3-free CloudWatch dashboards (an account-wide allowance)",
  "RDS backups within the free allowance (backup storage up to the provisioned storage) and ElastiCache's one free snapshot",
  "gp3 IOPS and throughput above the included baseline",
  "requests and API calls below a dollar a month at the stated volume (KMS, Secrets Manager, SNS, S3 behind CloudFront)",
  "Savings Plans, Reserved Instances and other discounts; taxes",
  "CloudFront edges outside North America and Europe (priced at the NA/EU rate)",
];
