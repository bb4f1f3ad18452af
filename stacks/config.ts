/**
 * The stack's configuration: one schema, the defaults of each environment, and one validation
 * that reports every problem at once. Nothing else in the program reads `pulumi.Config`.
 *
 * Every key lives in the project's namespace (`zero-to-millions:<key>`), one key per area
 * (`regions`, `network`, `web`, ...), each a YAML object. A stack file only states what differs
 * from its environment's defaults (`ENVIRONMENT_DEFAULTS` below, documented in the README).
 */
import { z } from "zod";
import {
  FARGATE_MEMORY_BY_CPU,
  LOG_RETENTION_DAYS,
  MAX_VISIBILITY_TIMEOUT_SECONDS,
  VISIBILITY_MARGIN_SECONDS,
  visibilityTimeoutSeconds,
} from "../components/awsLimits"; // AWS's limits, which the components respect too

export const PROJECT = "zero-to-millions";

export const ENVIRONMENTS = ["dev", "prod", "localstack"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Commercial regions with at least three availability zones, Fargate, RDS and ElastiCache. */
export const AWS_REGIONS = [
  "us-east-1",
  "us-east-2",
  "us-west-2",
  "ca-central-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-central-1",
  "eu-north-1",
  "ap-south-1",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-northeast-1",
  "ap-northeast-2",
  "sa-east-1",
] as const;
export type AwsRegion = (typeof AWS_REGIONS)[number];

export const REGION_ROLES = ["primary", "secondary"] as const;
export type RegionRole = (typeof REGION_ROLES)[number];

/**
 * The AWS emulators the localstack environment deploys to, by what they serve (README:
 * "Integration tests"): moto (free; no ElastiCache parameter groups, CloudFront cache policies or
 * CloudFront monitoring subscriptions), LocalStack with a paid plan's auth token, and LocalStack's
 * free plan (no ECS, ELBv2, Application Auto Scaling, RDS, ElastiCache or CloudFront).
 */
export const EMULATOR_FLAVORS = ["moto", "localstack", "localstack-free"] as const;
export type EmulatorFlavor = (typeof EMULATOR_FLAVORS)[number];

/** Route53 geolocation continent codes. */
export const CONTINENT_CODES = ["AF", "AN", "AS", "EU", "OC", "NA", "SA"] as const;

const count = (max: number) => z.number().int().min(0).max(max);
const positiveInt = (max: number) => z.number().int().min(1).max(max);

const cidr = z.string().refine((value) => parseCidr(value) !== undefined, {
  message: "must be an IPv4 CIDR block such as 10.0.0.0/16 with a prefix from /16 to /20",
});

const fargateTask = (role: string) => ({
  cpu: z.number().int().describe(`CPU units per ${role} task (1024 = one vCPU); a Fargate size`),
  memory: z.number().int().describe(`memory (MiB) per ${role} task; must fit \`cpu\` on Fargate`),
  minTasks: count(1000).describe(`the fewest ${role} tasks the autoscaler keeps`),
  maxTasks: positiveInt(1000).describe(`the most ${role} tasks the autoscaler may run`),
});

const logRetention = z
  .number()
  .int()
  .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
    message: `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
  });

const domainName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
    message: "must be a lowercase DNS name such as example.com",
  });

const locationCode = z.string().regex(/^([A-Z]{2}|[A-Z]{2}-[A-Z0-9]{1,3})$/, {
  message: `must be a continent code (${CONTINENT_CODES.join(", ")}) or an ISO 3166 country code`,
});

const dnsLabel = (example: string) =>
  z.string().regex(/^[a-z0-9-]{1,63}$/, { message: `must be one DNS label such as ${example}` });

/** Every key, its type, its limits and what it means (`describe`: the README's reference reads it). */
export const configSchema = z
  .object({
    environment: z
      .enum(ENVIRONMENTS)
      .describe("which defaults apply: dev, prod or localstack (required)"),
    regions: z
      .object({
        primary: z
          .enum(AWS_REGIONS)
          .describe(
            "the region that holds the database writer (until `database.writerRegion` moves it)",
          ),
        secondary: z
          .enum(AWS_REGIONS)
          .describe("the second region: its own web tier, cache and queue, a read replica"),
      })
      .strict(),
    network: z
      .object({
        cidrs: z
          .object({
            primary: cidr.describe("the primary VPC's range (/16 to /20)"),
            secondary: cidr.describe("the secondary VPC's range; must not overlap the primary's"),
          })
          .strict(),
        availabilityZones: z
          .number()
          .int()
          .min(2)
          .max(3)
          .describe("availability zones per region (2 or 3)"),
        natGateways: z
          .enum(["single", "perAz"])
          .describe("one NAT gateway per VPC (cheap) or one per AZ (sturdy)"),
        enableFlowLogs: z.boolean().describe("VPC flow logs to CloudWatch Logs"),
      })
      .strict(),
    image: z
      .object({
        uri: z
          .string()
          .min(1)
          .optional()
          .describe(
            "a prebuilt image (`repo@sha256:…`); an ECR image of the primary region is pulled in the secondary from its ECR replica; unset: built from app/Dockerfile at deploy time",
          ),
      })
      .strict(),
    web: z
      .object({
        ...fargateTask("web"),
        containerPort: z
          .number()
          .int()
          .min(1024)
          .max(65535)
          .describe("the port the app listens on (PORT)"),
        healthCheckPath: z
          .string()
          .regex(/^\/[\w\-/]*$/, { message: "must be a path such as /readyz" })
          .describe("the load balancer's and Route53's health check path"),
        loadBalancingAlgorithm: z
          .enum(["round_robin", "least_outstanding_requests"])
          .describe("how the ALB picks a task"),
        cpuTargetPercent: z
          .number()
          .min(10)
          .max(90)
          .describe("target-tracking goal for average CPU"),
        requestsPerTargetPerMinute: positiveInt(100_000).describe(
          "target-tracking goal for ALB requests per task per minute (a ceiling for floods of cheap requests; CPU tracking leads for typical traffic, see BENCHMARKS.md)",
        ),
        enableDeletionProtection: z.boolean().describe("ALB deletion protection"),
        accessLogRetentionDays: count(3653).describe(
          "days the load balancers' access logs are kept in a bucket per region (0: no access logs)",
        ),
      })
      .strict(),
    workers: z
      .object({
        ...fargateTask("worker"),
        averageJobSeconds: z
          .number()
          .positive()
          .max(900)
          .describe(
            "how long one job takes; with the latency goal it sets the backlog each task may hold",
          ),
        latencyGoalSeconds: z
          .number()
          .positive()
          .max(86_400)
          .describe("how long a job may wait in the queue"),
        jobTimeoutSeconds: positiveInt(40_000).describe(
          "the longest a job may run (sets the queue's visibility timeout)",
        ),
        maxReceiveCount: positiveInt(1000).describe(
          "deliveries before a message moves to the dead-letter queue",
        ),
        messageRetentionDays: positiveInt(14).describe("how long the queue keeps a message"),
        enableSpot: z
          .boolean()
          .describe("run workers on Fargate Spot (cheaper; interrupted jobs are retried)"),
      })
      .strict(),
    database: z
      .object({
        engineVersion: z
          .string()
          .regex(/^\d+(\.\d+)?$/, { message: "must be a PostgreSQL version such as 16 or 16.4" })
          .describe("PostgreSQL version; a major alone takes minor upgrades automatically"),
        instanceClass: z
          .string()
          .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, {
            message: "must be an RDS class such as db.t4g.micro",
          })
          .describe("RDS instance class of the writer and replicas"),
        allocatedStorageGb: z.number().int().min(20).max(65_536).describe("initial gp3 storage"),
        maxAllocatedStorageGb: z
          .number()
          .int()
          .min(20)
          .max(65_536)
          .describe("storage autoscaling ceiling"),
        readReplicas: count(5).describe("read replicas next to the writer, in the primary region"),
        enableMultiAz: z
          .boolean()
          .describe("a standby in another AZ for the writer (and the cross-region replica)"),
        backupRetentionDays: count(35).describe(
          "automated backups (at least 1: replicas need them)",
        ),
        enableDeletionProtection: z.boolean().describe("RDS deletion protection"),
        skipFinalSnapshot: z.boolean().describe("delete without a final snapshot"),
        enablePerformanceInsights: z.boolean().describe("Performance Insights (7 days, free tier)"),
        enhancedMonitoringSeconds: z
          .union(
            [0, 1, 5, 10, 15, 30, 60].map((seconds) => z.literal(seconds)) as [
              z.ZodLiteral<number>,
              z.ZodLiteral<number>,
            ],
          )
          .describe("RDS Enhanced Monitoring granularity in seconds (0: off)"),
        allowMajorVersionUpgrade: z
          .boolean()
          .describe(
            "acknowledges a change of engineVersion's major version for one deploy; otherwise the preview refuses it (README: Deploying)",
          ),
        writerRegion: z
          .enum(REGION_ROLES)
          .describe(
            "where the writer is: `secondary` promotes the secondary's replica when the primary region is lost (README: Deploying)",
          ),
        databaseName: z
          .string()
          .regex(/^[a-z][a-z0-9_]{0,62}$/, { message: "must be a lowercase identifier" })
          .describe("the app's database"),
        masterUsername: z
          .string()
          .regex(/^[a-z][a-z0-9_]{0,15}$/, {
            message: "must be a lowercase identifier of up to 16 characters",
          })
          .describe("the master user; its password is managed by RDS in Secrets Manager"),
      })
      .strict(),
    cache: z
      .object({
        engine: z.enum(["valkey", "redis"]).describe("ElastiCache engine"),
        engineVersion: z
          .string()
          .regex(/^\d+(\.\d+)?$/, { message: "must be a version such as 7.2" })
          .describe("engine version"),
        nodeType: z
          .string()
          .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, {
            message: "must be a node type such as cache.t4g.micro",
          })
          .describe("node type"),
        replicas: count(5).describe(
          "replicas beside the primary node; 1 or more turns on failover and multi-AZ",
        ),
        snapshotRetentionDays: count(35).describe("daily snapshots kept (0: none)"),
        enableParameterGroup: z
          .boolean()
          .describe(
            "a parameter group that evicts least-recently-used keys; off: the engine's default group (evicts only keys with a TTL), for moto",
          ),
        allowReplacement: z
          .boolean()
          .describe(
            "let a deploy replace the cache group (an outage: deleted first, refilled empty); false: Pulumi refuses such a change, and a destroy (README: Deploying)",
          ),
      })
      .strict(),
    logs: z
      .object({
        retentionDays: logRetention.describe("retention of every log group (a CloudWatch value)"),
      })
      .strict(),
    dns: z
      .object({
        domain: domainName
          .optional()
          .describe("the apex domain; unset: no DNS, certificates or HTTPS"),
        zoneId: z
          .string()
          .regex(/^Z[A-Z0-9]{1,31}$/, { message: "must be a Route53 zone id such as Z123ABC" })
          .optional()
          .describe("an existing hosted zone for `domain`; unset: a new zone is created"),
        recordName: dnsLabel("app").describe(
          "the app's name under the domain (app → app.example.com)",
        ),
        routing: z
          .enum(["geolocation", "weighted"])
          .describe("how users are split between the regions"),
        healthCheckPath: z
          .string()
          .regex(/^\/[\w\-/]*$/, { message: "must be a path such as /healthz" })
          .describe(
            "Route53's health check path per region (liveness: a region's readiness depends on the primary's writer)",
          ),
        primaryWeight: count(100).describe(
          "weighted routing: the primary's percent; the secondary gets the rest",
        ),
        locations: z
          .object({
            primary: z
              .array(locationCode)
              .describe("geolocation: continents/countries served by the primary"),
            secondary: z
              .array(locationCode)
              .describe("geolocation: continents/countries served by the secondary"),
          })
          .strict(),
      })
      .strict(),
    cdn: z
      .object({
        recordName: dnsLabel("static").describe(
          "the CDN's name under the domain (static → static.example.com)",
        ),
        priceClass: z
          .enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"])
          .describe("CloudFront edge locations used"),
        defaultTtlSeconds: count(31_536_000).describe("cache TTL when the object says nothing"),
        maxTtlSeconds: count(31_536_000).describe("longest cache TTL"),
        entryTtlSeconds: count(31_536_000).describe(
          "cache TTL of index.html (hashed files are immutable)",
        ),
        forceDestroy: z
          .boolean()
          .describe("let `pulumi destroy` delete the asset buckets with their objects"),
        enableReplication: z
          .boolean()
          .describe(
            "a replica bucket in the secondary region, where CloudFront fails over; off for moto (no CloudFront origin groups)",
          ),
        useLegacyCacheSettings: z
          .boolean()
          .describe(
            "TTLs on the cache behaviour instead of a cache policy, for moto (no cache policies)",
          ),
      })
      .strict(),
    alarms: z
      .object({
        email: z
          .string()
          .email()
          .optional()
          .describe("where alarms are emailed (SNS subscription); unset: none"),
        http5xxPercent: z.number().positive().max(100).describe("ALB target 5xx rate"),
        p99LatencySeconds: z.number().positive().describe("ALB p99 target response time"),
        databaseCpuPercent: z.number().positive().max(100).describe("RDS CPU per instance"),
        databaseFreeStorageGb: z.number().positive().describe("RDS free storage on the writer"),
        replicaLagSeconds: z.number().positive().describe("RDS replica lag"),
        cacheMemoryPercent: z.number().positive().max(100).describe("ElastiCache memory use"),
        cacheEvictionsPerMinute: z.number().min(0).describe("ElastiCache evictions"),
        oldestMessageSeconds: z.number().positive().describe("age of the oldest queued job"),
        enableGlobal: z
          .boolean()
          .describe(
            "the us-east-1 dashboard and alarms over the CDN and the health checks; off for moto (no CloudFront monitoring subscriptions)",
          ),
      })
      .strict(),
    emulator: z
      .object({
        flavor: z
          .enum(EMULATOR_FLAVORS)
          .describe(
            "what the emulator serves: `moto`, `localstack` (a paid plan) or `localstack-free` (networks, peering and DNS zone only)",
          ),
        endpoint: z
          .url({
            protocol: /^https?$/,
            message: "must be an http(s) URL such as http://localhost:4566",
          })
          .describe(
            "where the emulator answers; every AWS endpoint of the stack's providers points here",
          ),
      })
      .strict()
      .optional()
      .describe(
        "the AWS emulator of the localstack environment (required there, refused elsewhere)",
      ),
  })
  .strict();

export type StackConfig = z.infer<typeof configSchema>;
type Defaults = Omit<StackConfig, "environment">;

/**
 * Each environment's defaults. dev is small and cheap (one NAT, no multi-AZ, one web task, workers
 * that scale to zero); prod is sturdy (three AZs, a NAT per AZ, multi-AZ everything, deletion
 * protection). localstack is the smallest shape an AWS emulator accepts, with a reserved domain so
 * that zones, certificates and GeoDNS are deployed too, and what moto lacks switched off.
 */
export const ENVIRONMENT_DEFAULTS: Readonly<Record<Environment, Defaults>> = {
  dev: {
    regions: { primary: "us-east-1", secondary: "us-west-2" },
    network: {
      cidrs: { primary: "10.10.0.0/16", secondary: "10.11.0.0/16" },
      availabilityZones: 2,
      natGateways: "single",
      enableFlowLogs: true,
    },
    image: {},
    web: {
      cpu: 256,
      memory: 512,
      minTasks: 1,
      maxTasks: 4,
      containerPort: 3000,
      healthCheckPath: "/readyz",
      loadBalancingAlgorithm: "round_robin",
      cpuTargetPercent: 60,
      requestsPerTargetPerMinute: 15000,
      enableDeletionProtection: false,
      accessLogRetentionDays: 0,
    },
    workers: {
      cpu: 256,
      memory: 512,
      minTasks: 0,
      maxTasks: 2,
      averageJobSeconds: 2,
      latencyGoalSeconds: 60,
      jobTimeoutSeconds: 60,
      maxReceiveCount: 5,
      messageRetentionDays: 4,
      enableSpot: true,
    },
    database: {
      engineVersion: "16",
      instanceClass: "db.t4g.micro",
      allocatedStorageGb: 20,
      maxAllocatedStorageGb: 50,
      readReplicas: 1,
      enableMultiAz: false,
      backupRetentionDays: 1,
      enableDeletionProtection: false,
      skipFinalSnapshot: true,
      enablePerformanceInsights: true,
      databaseName: "app",
      masterUsername: "app",
      writerRegion: "primary",
      enhancedMonitoringSeconds: 0,
      allowMajorVersionUpgrade: false,
    },
    cache: {
      engine: "valkey",
      engineVersion: "7.2",
      nodeType: "cache.t4g.micro",
      replicas: 0,
      snapshotRetentionDays: 0,
      enableParameterGroup: true,
      allowReplacement: true,
    },
    logs: { retentionDays: 7 },
    dns: {
      recordName: "app",
      routing: "geolocation",
      healthCheckPath: "/healthz",
      primaryWeight: 50,
      locations: { primary: ["NA", "SA"], secondary: ["EU", "AF"] },
    },
    cdn: {
      recordName: "static",
      priceClass: "PriceClass_100",
      defaultTtlSeconds: 86_400,
      maxTtlSeconds: 31_536_000,
      entryTtlSeconds: 60,
      forceDestroy: true,
      enableReplication: true,
      useLegacyCacheSettings: false,
    },
    alarms: {
      http5xxPercent: 5,
      p99LatencySeconds: 2,
      databaseCpuPercent: 90,
      databaseFreeStorageGb: 2,
      replicaLagSeconds: 120,
      cacheMemoryPercent: 90,
      cacheEvictionsPerMinute: 1000,
      oldestMessageSeconds: 900,
      enableGlobal: true,
    },
  },
  prod: {
    regions: { primary: "us-east-1", secondary: "eu-west-1" },
    network: {
      cidrs: { primary: "10.20.0.0/16", secondary: "10.21.0.0/16" },
      availabilityZones: 3,
      natGateways: "perAz",
      enableFlowLogs: true,
    },
    image: {},
    web: {
      cpu: 1024,
      memory: 2048,
      minTasks: 3,
      maxTasks: 30,
      containerPort: 3000,
      healthCheckPath: "/readyz",
      loadBalancingAlgorithm: "least_outstanding_requests",
      cpuTargetPercent: 50,
      requestsPerTargetPerMinute: 60000,
      enableDeletionProtection: true,
      accessLogRetentionDays: 90,
    },
    workers: {
      cpu: 512,
      memory: 1024,
      minTasks: 1,
      maxTasks: 20,
      averageJobSeconds: 2,
      latencyGoalSeconds: 30,
      jobTimeoutSeconds: 60,
      maxReceiveCount: 5,
      messageRetentionDays: 14,
      enableSpot: false,
    },
    database: {
      engineVersion: "16",
      instanceClass: "db.r6g.large",
      allocatedStorageGb: 100,
      maxAllocatedStorageGb: 1000,
      readReplicas: 2,
      enableMultiAz: true,
      backupRetentionDays: 14,
      enableDeletionProtection: true,
      skipFinalSnapshot: false,
      enablePerformanceInsights: true,
      databaseName: "app",
      masterUsername: "app",
      writerRegion: "primary",
      enhancedMonitoringSeconds: 60,
      allowMajorVersionUpgrade: false,
    },
    cache: {
      engine: "valkey",
      engineVersion: "7.2",
      nodeType: "cache.r7g.large",
      replicas: 2,
      snapshotRetentionDays: 7,
      enableParameterGroup: true,
      allowReplacement: false,
    },
    logs: { retentionDays: 90 },
    dns: {
      recordName: "app",
      routing: "geolocation",
      healthCheckPath: "/healthz",
      primaryWeight: 50,
      locations: { primary: ["NA", "SA", "AS", "OC"], secondary: ["EU", "AF"] },
    },
    cdn: {
      recordName: "static",
      priceClass: "PriceClass_All",
      defaultTtlSeconds: 86_400,
      maxTtlSeconds: 31_536_000,
      entryTtlSeconds: 60,
      forceDestroy: false,
      enableReplication: true,
      useLegacyCacheSettings: false,
    },
    alarms: {
      http5xxPercent: 1,
      p99LatencySeconds: 1,
      databaseCpuPercent: 80,
      databaseFreeStorageGb: 10,
      replicaLagSeconds: 30,
      cacheMemoryPercent: 80,
      cacheEvictionsPerMinute: 100,
      oldestMessageSeconds: 300,
      enableGlobal: true,
    },
  },
  localstack: {
    regions: { primary: "us-east-1", secondary: "us-west-2" },
    network: {
      cidrs: { primary: "10.30.0.0/16", secondary: "10.31.0.0/16" },
      availabilityZones: 2,
      natGateways: "single",
      enableFlowLogs: false,
    },
    image: { uri: "public.ecr.aws/docker/library/node:20-slim" },
    web: {
      cpu: 256,
      memory: 512,
      minTasks: 1,
      maxTasks: 2,
      containerPort: 3000,
      healthCheckPath: "/readyz",
      loadBalancingAlgorithm: "round_robin",
      cpuTargetPercent: 60,
      requestsPerTargetPerMinute: 15000,
      enableDeletionProtection: false,
      accessLogRetentionDays: 0,
    },
    workers: {
      cpu: 256,
      memory: 512,
      minTasks: 0,
      maxTasks: 1,
      averageJobSeconds: 2,
      latencyGoalSeconds: 60,
      jobTimeoutSeconds: 30,
      maxReceiveCount: 3,
      messageRetentionDays: 1,
      enableSpot: false,
    },
    database: {
      engineVersion: "16",
      instanceClass: "db.t4g.micro",
      allocatedStorageGb: 20,
      maxAllocatedStorageGb: 20,
      readReplicas: 1,
      enableMultiAz: false,
      backupRetentionDays: 1,
      enableDeletionProtection: false,
      skipFinalSnapshot: true,
      enablePerformanceInsights: false,
      databaseName: "app",
      masterUsername: "app",
      writerRegion: "primary",
      enhancedMonitoringSeconds: 0,
      allowMajorVersionUpgrade: false,
    },
    cache: {
      engine: "redis",
      engineVersion: "7.1",
      nodeType: "cache.t4g.micro",
      replicas: 0,
      snapshotRetentionDays: 0,
      enableParameterGroup: false,
      allowReplacement: true,
    },
    logs: { retentionDays: 1 },
    dns: {
      // A reserved name (RFC 2606): the emulator's zone can never shadow a real one.
      domain: "zero-to-millions.test",
      recordName: "app",
      routing: "geolocation",
      healthCheckPath: "/healthz",
      primaryWeight: 50,
      locations: { primary: ["NA"], secondary: ["EU"] },
    },
    cdn: {
      recordName: "static",
      priceClass: "PriceClass_100",
      defaultTtlSeconds: 60,
      maxTtlSeconds: 3600,
      entryTtlSeconds: 0,
      forceDestroy: true,
      enableReplication: false,
      useLegacyCacheSettings: true,
    },
    alarms: {
      http5xxPercent: 5,
      p99LatencySeconds: 2,
      databaseCpuPercent: 90,
      databaseFreeStorageGb: 1,
      replicaLagSeconds: 120,
      cacheMemoryPercent: 90,
      cacheEvictionsPerMinute: 1000,
      oldestMessageSeconds: 900,
      enableGlobal: false,
    },
    emulator: { flavor: "moto", endpoint: "http://localhost:4566" },
  },
};

/** Thrown when the stack's configuration is invalid; its message lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration for ${PROJECT} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((problem) => `  - ${problem}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/**
 * Validates raw stack configuration (the project's keys without their `zero-to-millions:`
 * prefix, values already parsed from JSON) and fills in the environment's defaults.
 *
 * @throws ConfigError listing every problem with its key path and the allowed values.
 */
export function parseConfig(raw: Readonly<Record<string, unknown>>): StackConfig {
  const environment = ENVIRONMENTS.find((env) => env === raw.environment);
  // With an unknown environment the dev defaults still let every other key be checked.
  const merged = deepMerge(ENVIRONMENT_DEFAULTS[environment ?? "dev"], raw) as Record<
    string,
    unknown
  >;
  const result = configSchema.safeParse(merged);
  const problems = [
    ...(result.success ? [] : result.error.issues.map(describeIssue)),
    ...crossFieldProblems(merged),
  ];
  if (problems.length > 0 || !result.success) {
    throw new ConfigError(problems);
  }
  return result.data;
}

/** Reads the project's keys from a `pulumi.runtime.allConfig()` map into raw config. */
export function rawConfigFromPulumi(
  all: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const prefix = `${PROJECT}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (!key.startsWith(prefix)) continue;
    raw[key.slice(prefix.length)] = parseConfigValue(value);
  }
  return raw;
}

function parseConfigValue(value: string): unknown {
  // Pulumi hands objects, lists, numbers and booleans over as JSON text; plain strings are not JSON.
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((key) => (path === "(root)" ? key : `${path}.${key}`));
    return `${keys.join(", ")}: unknown key${keys.length > 1 ? "s" : ""} (check the spelling against the README's config reference)`;
  }
  if (issue.code === "invalid_type" && issue.message.includes("received undefined")) {
    return `${path}: required, missing`;
  }
  return `${path}: ${issue.message}`;
}

/** Rules that relate two keys; each reads its inputs defensively since the schema may have failed. */
export function crossFieldProblems(config: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const at = (path: string): unknown =>
    path
      .split(".")
      .reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), config);
  const number = (path: string) =>
    typeof at(path) === "number" ? (at(path) as number) : undefined;

  if (at("regions.primary") !== undefined && at("regions.primary") === at("regions.secondary")) {
    problems.push(
      `regions.secondary: must differ from regions.primary (both are ${String(at("regions.primary"))})`,
    );
  }
  for (const tier of ["web", "workers"]) {
    const min = number(`${tier}.minTasks`);
    const max = number(`${tier}.maxTasks`);
    if (min !== undefined && max !== undefined && min > max) {
      problems.push(
        `${tier}.minTasks: ${min} is greater than ${tier}.maxTasks (${max}); lower minTasks or raise maxTasks`,
      );
    }
    const cpu = number(`${tier}.cpu`);
    const memory = number(`${tier}.memory`);
    if (cpu !== undefined && memory !== undefined) {
      const allowed = FARGATE_MEMORY_BY_CPU[cpu];
      if (allowed === undefined) {
        problems.push(
          `${tier}.cpu: ${cpu} is not a Fargate CPU size; allowed: ${Object.keys(FARGATE_MEMORY_BY_CPU).join(", ")}`,
        );
      } else if (!allowed.includes(memory)) {
        problems.push(
          `${tier}.memory: ${memory} MiB does not fit ${tier}.cpu ${cpu}; allowed: ${allowed.join(", ")}`,
        );
      }
    }
  }
  if (typeof at("web.minTasks") === "number" && (at("web.minTasks") as number) < 1) {
    problems.push("web.minTasks: must be at least 1 (the load balancer needs a healthy target)");
  }
  const storage = number("database.allocatedStorageGb");
  const maxStorage = number("database.maxAllocatedStorageGb");
  if (storage !== undefined && maxStorage !== undefined && maxStorage < storage) {
    problems.push(
      `database.maxAllocatedStorageGb: ${maxStorage} is below database.allocatedStorageGb (${storage}); storage autoscaling can only grow`,
    );
  }
  if (number("database.backupRetentionDays") === 0) {
    problems.push(
      "database.backupRetentionDays: 0 turns backups off, but the writer feeds read replicas (in-region and the secondary region's), which needs backups; use 1 or more",
    );
  }
  const jobTimeout = number("workers.jobTimeoutSeconds");
  const averageJob = number("workers.averageJobSeconds");
  if (jobTimeout !== undefined && averageJob !== undefined && jobTimeout < averageJob) {
    problems.push(
      `workers.jobTimeoutSeconds: ${jobTimeout} is shorter than workers.averageJobSeconds (${averageJob})`,
    );
  }
  if (
    jobTimeout !== undefined &&
    visibilityTimeoutSeconds(jobTimeout) > MAX_VISIBILITY_TIMEOUT_SECONDS
  ) {
    problems.push(
      `workers.jobTimeoutSeconds: ${jobTimeout} needs a visibility timeout above SQS's ${MAX_VISIBILITY_TIMEOUT_SECONDS} s; at most ${MAX_VISIBILITY_TIMEOUT_SECONDS - VISIBILITY_MARGIN_SECONDS} s`,
    );
  }
  const cidrs = [at("network.cidrs.primary"), at("network.cidrs.secondary")].map((value) =>
    typeof value === "string" ? parseCidr(value) : undefined,
  );
  if (cidrs[0] && cidrs[1] && cidrsOverlap(cidrs[0], cidrs[1])) {
    problems.push(
      "network.cidrs.secondary: overlaps network.cidrs.primary; the regions' VPCs need distinct ranges",
    );
  }
  const environment = at("environment");
  if (at("emulator") !== undefined && environment !== "localstack") {
    problems.push(
      `emulator: only the localstack environment deploys to an emulator (this is ${String(environment)}); remove emulator`,
    );
  }
  if (environment === "localstack" && at("emulator") === undefined) {
    problems.push(
      "emulator: required with environment localstack; set emulator.flavor and emulator.endpoint",
    );
  }
  if (at("dns.zoneId") !== undefined && at("dns.domain") === undefined) {
    problems.push("dns.zoneId: set dns.domain too (the zone's domain), or remove dns.zoneId");
  }
  const locations = at("dns.locations");
  if (
    isRecord(locations) &&
    Array.isArray(locations.primary) &&
    Array.isArray(locations.secondary)
  ) {
    const shared = locations.primary.filter((code) =>
      (locations.secondary as unknown[]).includes(code),
    );
    if (shared.length > 0) {
      problems.push(
        `dns.locations: ${shared.join(", ")} listed for both regions; each location routes to one region`,
      );
    }
  }
  const ttl = number("cdn.defaultTtlSeconds");
  const maxTtl = number("cdn.maxTtlSeconds");
  if (ttl !== undefined && maxTtl !== undefined && ttl > maxTtl) {
    problems.push(`cdn.defaultTtlSeconds: ${ttl} is above cdn.maxTtlSeconds (${maxTtl})`);
  }
  return problems;
}

export interface Cidr {
  readonly address: number;
  readonly prefix: number;
}

/** Parses an IPv4 CIDR block with a prefix from /16 to /20 (room for nine subnets); undefined when it does not parse. */
export function parseCidr(value: string): Cidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix < 16 || prefix > 20) return undefined;
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const hostBits = 32 - prefix;
  if (address % 2 ** hostBits !== 0) return undefined;
  return { address, prefix };
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const shorter = Math.min(a.prefix, b.prefix);
  const block = 2 ** (32 - shorter);
  return Math.floor(a.address / block) === Math.floor(b.address / block);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Merges `override` into `base`: objects key by key, everything else (lists included) replaced. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isRecord(base) || !isRecord(override)) return override === undefined ? base : override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = deepMerge(base[key], value);
  }
  return merged;
}
