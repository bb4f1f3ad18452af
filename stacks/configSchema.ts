/**
 * The stack configuration's schema: every key, its type, its limits and what it means, and the
 * rules that relate keys to each other (refinements on the area they belong to), so that one
 * parse reports every problem with its key path. Defaults are in ./configDefaults.ts.
 */
import { z } from "zod";
import {
  FARGATE_MEMORY_BY_CPU,
  LOG_RETENTION_DAYS,
  MAX_VISIBILITY_TIMEOUT_SECONDS,
  VISIBILITY_MARGIN_SECONDS,
  visibilityTimeoutSeconds,
} from "../components/awsLimits"; // AWS's limits, which the components respect too
import { blocksOverlap, parseIpv4Block } from "../components/cidr";
import { vpcCidrProblem } from "../components/network";
import {
  MAX_RATE_LIMIT,
  MIN_RATE_LIMIT,
  RATE_WINDOWS_SECONDS,
  WEB_ACL_MODES,
} from "../components/webAcl";
import { isDomainName } from "../components/validation";
// The app's own parser: the stack validates the very text the app will read (DATABASE_SHARD_MAP).
import { formatShardList, parseShardMap } from "../app/src/sharding/shardMap";

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

/**
 * The availability zones a region's network takes when `network.availabilityZoneNames` does not
 * name them: the region's first three zones as every account sees them (zone letters map to
 * physical zones per account, but these names exist in every account; ap-northeast-1 has no
 * `b` and ca-central-1 no `c` for accounts made since those zones closed to new ones).
 */
export const DEFAULT_ZONE_LETTERS: Readonly<Record<AwsRegion, string>> = {
  ...(Object.fromEntries(AWS_REGIONS.map((region) => [region, "abc"])) as Record<
    AwsRegion,
    string
  >),
  "ap-northeast-1": "acd",
  "ca-central-1": "abd",
};

/** A region's default zone names, the first `count` of `DEFAULT_ZONE_LETTERS`. */
export function defaultZoneNames(region: AwsRegion, count: number): string[] {
  return [...DEFAULT_ZONE_LETTERS[region].slice(0, count)].map((letter) => `${region}${letter}`);
}

/** What is wrong with `names` as `count` zones of `region`, one message each; empty when nothing. */
export function zoneNameProblems(
  region: string,
  count: number,
  names: readonly string[],
): string[] {
  const problems: string[] = [];
  if (names.length !== count) {
    problems.push(
      `${names.length} names for network.availabilityZones ${count}; give one zone per subnet`,
    );
  }
  for (const name of names) {
    if (!new RegExp(`^${region}[a-z]$`).test(name)) {
      problems.push(
        `${name} is not an availability zone of ${region}; name one like ${region}a (aws ec2 describe-availability-zones --region ${region})`,
      );
    }
  }
  if (new Set(names).size !== names.length) problems.push(`${names.join(", ")} names a zone twice`);
  return problems;
}

export const REGION_ROLES = ["primary", "secondary"] as const;
export type RegionRole = (typeof REGION_ROLES)[number];

/** How jobs run: a queue and a worker service, or in the web process (the single-server step). */
export const WORKER_MODES = ["service", "inProcess"] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

/** The highest stage of the path (stacks/stages.ts); the schema cannot import the table itself. */
export const MAX_STAGE = 9;
/** The switches whose lowering deletes data (stacks/stages.ts STATEFUL_SWITCHES: what each holds). */
export const STATEFUL_SWITCH_KEYS = [
  "cache.enabled",
  "cdn.enabled",
  "regions.count",
  "workers.mode",
  "database.shards",
] as const;
export type StatefulSwitchKey = (typeof STATEFUL_SWITCH_KEYS)[number];

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

/** Physical shards a stack may have: each is a full database per region (README: Sharding). */
export const MAX_PHYSICAL_SHARDS = 16;

/**
 * What is wrong with `database.shards` and `database.shardMap` together, if anything. The map is
 * the record of where the logical shards live (the directory's live map, as `npm run shards`
 * prints it): required above one shard, so that lowering `shards` is checked against it. A map
 * that still places logical shards on a shard that `shards` would remove is refused, naming the
 * resharding command that moves them first.
 */
export function shardMapProblem(
  shards: number,
  shardMap: string | undefined,
): { key: "shards" | "shardMap"; message: string } | undefined {
  if (shardMap === undefined) {
    return shards === 1
      ? undefined
      : {
          key: "shardMap",
          message: `required with database.shards ${shards}: the map the directory holds (npm run shards prints it), e.g. 0-8191:0 right after adding shards, before moving logical shards onto them`,
        };
  }
  const anyShard = Number.MAX_SAFE_INTEGER;
  let map: readonly number[];
  try {
    map = parseShardMap(shardMap, anyShard);
  } catch (error) {
    return {
      key: "shardMap",
      message: `${(error as Error).message}; use FROM-TO:PHYSICAL ranges such as 0-4095:0,4096-8191:1`,
    };
  }
  const removed = new Map<number, number[]>();
  map.forEach((physical, logical) => {
    if (physical >= shards) removed.set(physical, [...(removed.get(physical) ?? []), logical]);
  });
  if (removed.size === 0) return undefined;
  const moves = [...removed].map(
    ([physical, logicals]) =>
      `logical shards ${formatShardList(logicals)} live on physical shard ${physical}`,
  );
  return {
    key: "shards",
    message: `${shards} would remove physical shards the map still uses (${moves.join("; ")}). Fix: move them onto the shards that stay first (npm run reshard -- --move <logical shards> --to <physical shard below ${shards}>), then set database.shardMap to the new map (npm run shards), then lower database.shards`,
  };
}
const positiveInt = (max: number) => z.number().int().min(1).max(max);

/** A VPC range as the Network component takes it. */
const vpcCidr = z.string().superRefine((value, ctx) => {
  const problem = vpcCidrProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

const fargateTask = (role: string) => ({
  cpu: z.number().int().describe(`CPU units per ${role} task (1024 = one vCPU); a Fargate size`),
  memory: z.number().int().describe(`memory (MiB) per ${role} task; must fit \`cpu\` on Fargate`),
  minTasks: count(1000).describe(`the fewest ${role} tasks the autoscaler keeps`),
  maxTasks: positiveInt(1000).describe(`the most ${role} tasks the autoscaler may run`),
});

type Refinement<T> = (value: T, ctx: z.RefinementCtx) => void;

/** A problem at `key` of the area being refined (the key path is prefixed when reported). */
const issue = (ctx: z.RefinementCtx, key: string, message: string) =>
  ctx.addIssue({ code: "custom", path: [key], message });

/** What a Fargate tier's keys must agree on: the task size Fargate offers, and the task range. */
const fargateTaskRules =
  (tier: string): Refinement<{ cpu: number; memory: number; minTasks: number; maxTasks: number }> =>
  (task, ctx) => {
    if (task.minTasks > task.maxTasks) {
      issue(
        ctx,
        "minTasks",
        `${task.minTasks} is greater than ${tier}.maxTasks (${task.maxTasks}); lower minTasks or raise maxTasks`,
      );
    }
    const allowed = FARGATE_MEMORY_BY_CPU[task.cpu];
    if (allowed === undefined) {
      issue(
        ctx,
        "cpu",
        `${task.cpu} is not a Fargate CPU size; allowed: ${Object.keys(FARGATE_MEMORY_BY_CPU).join(", ")}`,
      );
    } else if (!allowed.includes(task.memory)) {
      issue(
        ctx,
        "memory",
        `${task.memory} MiB does not fit ${tier}.cpu ${task.cpu}; allowed: ${allowed.join(", ")}`,
      );
    }
  };

const logRetention = z
  .number()
  .int()
  .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
    message: `must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
  });

const domainName = z.string().refine(isDomainName, {
  message: "must be a lowercase DNS name without a trailing dot, such as example.com",
});

/** An engine version: a major alone (which takes minor upgrades) or major.minor. */
const engineVersion = (message: string, description: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, { message })
    .describe(description);
/** An AWS size name such as db.t4g.micro: `<prefix>.<family>.<size>`. */
const sizeName = (prefix: string, message: string, description: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}\\.[a-z0-9]+\\.[a-z0-9]+$`), { message })
    .describe(description);
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
    stage: z
      .number()
      .int()
      .min(1)
      .max(MAX_STAGE)
      .describe(
        `where the stack is on the path from one server to millions (README: The path): 1 to ${MAX_STAGE}; it sets the defaults of the tier switches (stacks/stages.ts); ${MAX_STAGE}, sharding, is a step a stack takes on purpose`,
      ),
    allowDataLoss: z
      .union([z.boolean(), z.array(z.enum(STATEFUL_SWITCH_KEYS)).min(1)])
      .describe(
        `acknowledges that a stateful tier is turned off or lowered, by its switch or a lower \`stage\`, and its data goes with it (README: The path): the switches it names (${STATEFUL_SWITCH_KEYS.join(", ")}), or true for all. A step down needs it for its deploy; a switch kept below its stage needs it for as long; set where it acknowledges nothing, the step-down check refuses it`,
      ),
    regions: z
      .object({
        count: z
          .union([z.literal(1), z.literal(2)])
          .describe(
            "1: the primary region alone (GeoDNS's default record only, no peering); 2: the secondary too, with its own tiers, a cross-region replica and GeoDNS per location with health checks",
          ),
        primary: z
          .enum(AWS_REGIONS)
          .describe(
            "the region that holds the database writer (until `database.writerRegion` moves it)",
          ),
        secondary: z
          .enum(AWS_REGIONS)
          .describe("the second region: its own web tier, cache and queue, a read replica"),
      })
      .strict()
      .superRefine((regions, ctx) => {
        if (regions.primary === regions.secondary) {
          issue(ctx, "secondary", `must differ from regions.primary (both are ${regions.primary})`);
        }
      }),
    network: z
      .object({
        cidrs: z
          .object({
            primary: vpcCidr.describe("the primary VPC's range (/16 to /20)"),
            secondary: vpcCidr.describe(
              "the secondary VPC's range; must not overlap the primary's",
            ),
          })
          .strict()
          .superRefine((cidrs, ctx) => {
            const [primary, secondary] = [cidrs.primary, cidrs.secondary].map(parseIpv4Block);
            if (primary && secondary && blocksOverlap(primary, secondary)) {
              issue(
                ctx,
                "secondary",
                "overlaps network.cidrs.primary; the regions' VPCs need distinct ranges",
              );
            }
          }),
        availabilityZones: z
          .number()
          .int()
          .min(2)
          .max(3)
          .describe("availability zones per region (2 or 3)"),
        availabilityZoneNames: z
          .object({
            primary: z
              .array(z.string())
              .optional()
              .describe(
                "the primary's zones, one per network.availabilityZones, named so that none is looked up (a failover plans without the lost region); changing one replaces its subnets; unset: the region's zones a, b, c (ap-northeast-1: a, c, d; ca-central-1: a, b, d)",
              ),
            secondary: z
              .array(z.string())
              .optional()
              .describe("the secondary's zones, as network.availabilityZoneNames.primary"),
          })
          .strict()
          .optional(),
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
        minTasks: count(1000)
          .min(1, { message: "must be at least 1 (the load balancer needs a healthy target)" })
          .describe("the fewest web tasks the autoscaler keeps (at least 1)"),
        containerPort: z
          .number()
          .int()
          .min(1024)
          .max(65535)
          .describe("the port the app listens on (PORT)"),
        healthCheckPath: z
          .string()
          .regex(/^\/[\w\-/]*$/, { message: "must be a path such as /readyz" })
          .describe(
            "the load balancer's health check path (readiness: a task gets requests only while it answers)",
          ),
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
      .strict()
      .superRefine(fargateTaskRules("web")),
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
        mode: z
          .enum(WORKER_MODES)
          .describe(
            "`service`: an SQS queue and its own Fargate service; `inProcess`: jobs run in the web task (role `all`), no queue",
          ),
      })
      .strict()
      .superRefine(fargateTaskRules("workers"))
      .superRefine((workers, ctx) => {
        if (workers.jobTimeoutSeconds < workers.averageJobSeconds) {
          issue(
            ctx,
            "jobTimeoutSeconds",
            `${workers.jobTimeoutSeconds} is shorter than workers.averageJobSeconds (${workers.averageJobSeconds})`,
          );
        }
        if (visibilityTimeoutSeconds(workers.jobTimeoutSeconds) > MAX_VISIBILITY_TIMEOUT_SECONDS) {
          issue(
            ctx,
            "jobTimeoutSeconds",
            `${workers.jobTimeoutSeconds} needs a visibility timeout above SQS's ${MAX_VISIBILITY_TIMEOUT_SECONDS} s; at most ${MAX_VISIBILITY_TIMEOUT_SECONDS - VISIBILITY_MARGIN_SECONDS} s`,
          );
        }
      }),
    database: z
      .object({
        engineVersion: engineVersion(
          "must be a PostgreSQL version such as 16 or 16.4",
          "PostgreSQL version; a major alone takes minor upgrades automatically",
        ),
        instanceClass: sizeName(
          "db",
          "must be an RDS class such as db.t4g.micro",
          "RDS instance class of the writer and replicas",
        ),
        allocatedStorageGb: z.number().int().min(20).max(65_536).describe("initial gp3 storage"),
        maxAllocatedStorageGb: z
          .number()
          .int()
          .min(20)
          .max(65_536)
          .describe("storage autoscaling ceiling"),
        readReplicas: count(5).describe("read replicas next to the writer, in the primary region"),
        shards: z
          .number()
          .int()
          .min(1)
          .max(MAX_PHYSICAL_SHARDS)
          .describe(
            "physical shards: each a database of this shape (writer, readReplicas, cross-region replica); lower it only after moving logical shards off (README: Sharding)",
          ),
        instanceQuota: z
          .number()
          .int()
          .min(1)
          .describe(
            "DB instances the account may run per region (RDS's quota, 40 unless raised in Service Quotas): the shards' writers and replicas must fit",
          ),
        shardMap: z
          .string()
          .optional()
          .describe(
            "where the logical shards live, FROM-TO:PHYSICAL ranges over 0-8191 as `npm run shards` prints them (required above 1 shard; stage 9's: 0-8191:0, all on shard 0)",
          ),
        enableMultiAz: z
          .boolean()
          .describe("a standby in another AZ for the writer (and the cross-region replica)"),
        backupRetentionDays: count(35)
          .min(1, {
            message:
              "0 turns backups off, but the writer feeds read replicas (in-region and the secondary region's), which needs backups; use 1 or more",
          })
          .describe("automated backups (at least 1: replicas need them)"),
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
        appUsername: z
          .string()
          .regex(/^[a-z][a-z0-9_]{0,62}$/, { message: "must be a lowercase identifier" })
          .describe(
            "the app's own role: rows only, no DDL; created by the migrate step, logs in with IAM tokens",
          ),
      })
      .strict()
      .superRefine((database, ctx) => {
        if (database.appUsername === database.masterUsername) {
          issue(
            ctx,
            "appUsername",
            `is the master user (${database.masterUsername}); the app runs as a role of its own, so pick another name`,
          );
        }
        if (database.maxAllocatedStorageGb < database.allocatedStorageGb) {
          issue(
            ctx,
            "maxAllocatedStorageGb",
            `${database.maxAllocatedStorageGb} is below database.allocatedStorageGb (${database.allocatedStorageGb}); storage autoscaling can only grow`,
          );
        }
        const problem = shardMapProblem(database.shards, database.shardMap);
        if (problem !== undefined) issue(ctx, problem.key, problem.message);
      }),
    cache: z
      .object({
        enabled: z
          .boolean()
          .describe(
            "an ElastiCache group per region, the shared cache and rate limits; off: each web task keeps its own (one web task only)",
          ),
        engine: z.enum(["valkey", "redis"]).describe("ElastiCache engine"),
        engineVersion: engineVersion("must be a version such as 7.2", "engine version"),
        nodeType: sizeName("cache", "must be a node type such as cache.t4g.micro", "node type"),
        replicas: count(5).describe(
          "replicas beside the primary node; 1 or more turns on failover and multi-AZ",
        ),
        snapshotRetentionDays: count(35).describe("daily snapshots kept (0: none)"),
        invalidationRetentionSeconds: z
          .number()
          .int()
          .min(60)
          .max(1_209_600)
          .describe(
            "how long a cross-region cache invalidation may wait in a region's queue (past the cache's TTL it no longer matters)",
          ),
        invalidationMaxReceiveCount: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .describe("deliveries of one invalidation before its dead-letter queue"),
        allowReplacement: z
          .boolean()
          .describe(
            "let a deploy replace the cache group (an outage: deleted first, refilled empty); false: Pulumi refuses such a change, and a destroy (README: Deploying)",
          ),
      })
      .strict(),
    sessions: z
      .object({
        enablePointInTimeRecovery: z
          .boolean()
          .describe("continuous backups (35 days) of every replica of the sessions table"),
        enableDeletionProtection: z
          .boolean()
          .describe("DynamoDB deletion protection on the sessions table and its replicas"),
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
        dnssec: z
          .enum(["signing", "off"])
          .describe(
            "DNSSEC of a zone this stack creates: signing, or off to unsign it (README: DNSSEC; an existing zone's is its owner's)",
          ),
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
          .strict()
          .superRefine((locations, ctx) => {
            const shared = locations.primary.filter((code) => locations.secondary.includes(code));
            if (shared.length > 0) {
              ctx.addIssue({
                code: "custom",
                message: `${shared.join(", ")} listed for both regions; each location routes to one region`,
              });
            }
          }),
      })
      .strict()
      .superRefine((dns, ctx) => {
        if (dns.zoneId !== undefined && dns.domain === undefined) {
          issue(ctx, "zoneId", "set dns.domain too (the zone's domain), or remove dns.zoneId");
        }
      }),
    cdn: z
      .object({
        enabled: z
          .boolean()
          .describe(
            "CloudFront and its S3 buckets (static files, uploads); off: the web task serves its page and keeps uploads on its disk (one web task only)",
          ),
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
          .describe(
            "let `pulumi destroy` delete the asset buckets with their objects; false: they (and their keys) are retained on delete",
          ),
      })
      .strict()
      .superRefine((cdn, ctx) => {
        if (cdn.defaultTtlSeconds > cdn.maxTtlSeconds) {
          issue(
            ctx,
            "defaultTtlSeconds",
            `${cdn.defaultTtlSeconds} is above cdn.maxTtlSeconds (${cdn.maxTtlSeconds})`,
          );
        }
      }),
    waf: z
      .object({
        mode: z
          .enum(WEB_ACL_MODES)
          .describe(
            "what the web ACLs (AWS WAF on the load balancers and the CDN) do with a request a rule matches: `block` it, or only `count` it (see what would be blocked, block nothing)",
          ),
        signInRequestsPerWindow: z
          .number()
          .int()
          .min(MIN_RATE_LIMIT)
          .max(MAX_RATE_LIMIT)
          .describe(
            "sign-in and sign-up requests (POST /sessions, POST /users) one client IP may make per window before the load balancers' web ACLs answer 429",
          ),
        rateWindowSeconds: z
          .literal(RATE_WINDOWS_SECONDS)
          .describe("the window the sign-in rate rule counts over: 60, 120, 300 or 600 seconds"),
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
        wafBlockedRequestsPerMinute: z
          .number()
          .positive()
          .describe(
            "requests a web ACL blocks (or, in count mode, counts) per minute before its alarm fires",
          ),
      })
      .strict(),
    emulator: z
      .object({
        flavor: z
          .enum(EMULATOR_FLAVORS)
          .describe(
            "what the emulator serves: `moto`, `localstack` (a paid plan) or `localstack-free` (networks, peering and DNS zone only); what it lacks is switched off (README: Integration tests)",
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
  .strict()
  .superRefine((config, ctx) => {
    for (const role of REGION_ROLES) {
      const names = config.network.availabilityZoneNames?.[role];
      if (names === undefined) continue;
      for (const problem of zoneNameProblems(
        config.regions[role],
        config.network.availabilityZones,
        names,
      )) {
        ctx.addIssue({
          code: "custom",
          path: ["network", "availabilityZoneNames", role],
          message: problem,
        });
      }
    }
    const instances = primaryInstanceCount(config.database);
    if (instances > config.database.instanceQuota) {
      ctx.addIssue({
        code: "custom",
        path: ["database", "shards"],
        message: `database.shards ${config.database.shards} × (1 writer + database.readReplicas ${config.database.readReplicas}) is ${instances} DB instances in the primary region, over database.instanceQuota ${config.database.instanceQuota} (RDS's quota per region). Fix: fewer shards or replicas, or raise the quota in Service Quotas first and then database.instanceQuota`,
      });
    }
    for (const { key, message } of tierProblems(config)) {
      ctx.addIssue({ code: "custom", path: key.split("."), message });
    }
  })
  .superRefine(
    (config, ctx) => {
      // Runs even when other keys failed (`when`), so it reads its two keys defensively.
      const raw = config as { environment?: unknown; emulator?: unknown };
      if (raw.emulator !== undefined && raw.environment !== "localstack") {
        issue(
          ctx,
          "emulator",
          `only the localstack environment deploys to an emulator (this is ${String(raw.environment)}); remove emulator`,
        );
      }
      if (raw.environment === "localstack" && raw.emulator === undefined) {
        issue(
          ctx,
          "emulator",
          "required with environment localstack; set emulator.flavor and emulator.endpoint",
        );
      }
    },
    { when: () => true },
  );

export type StackConfig = z.infer<typeof configSchema>;

/**
 * What the tier switches must agree on (README: The path): as soon as more than one web task
 * serves users, no user state lives in one task (sessions in the DynamoDB table at every stage,
 * rate limits and the cache in the shared cache, uploads in the bucket), a tier that runs apart
 * from the web task reaches the same files, and what needs the second region (the writer there,
 * sharding) has it.
 */
/** The DB instances the stack runs in the primary region: each shard's writer and replicas. */
export function primaryInstanceCount(database: { shards: number; readReplicas: number }): number {
  return database.shards * (1 + database.readReplicas);
}

export function tierProblems(
  config: Pick<StackConfig, "web" | "cache" | "regions" | "database">,
): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  const manyWebTasks =
    config.web.maxTasks > 1
      ? `web.maxTasks is ${config.web.maxTasks}`
      : config.regions.count > 1
        ? "regions.count is 2 (a web task per region)"
        : undefined;
  if (manyWebTasks && !config.cache.enabled) {
    problems.push({
      key: "cache.enabled",
      message: `false, but ${manyWebTasks}: each task would keep its own rate limits and cache in memory. Fix: set cache.enabled true (the shared store), or web.maxTasks 1 and regions.count 1`,
    });
  }
  if (config.database.writerRegion === "secondary" && config.regions.count < 2) {
    problems.push({
      key: "database.writerRegion",
      message:
        "secondary, but regions.count is 1: there is no secondary region. Fix: set database.writerRegion primary, or regions.count 2",
    });
  }
  if (config.database.shards > 1 && config.regions.count < 2) {
    problems.push({
      key: "database.shards",
      message: `${config.database.shards}, but regions.count is 1: sharding (stage 9) builds on the second region (stage 6), each physical shard a writer with a cross-region replica that takes over when its region is lost. Fix: set regions.count 2, or database.shards 1`,
    });
  }
  return problems;
}
