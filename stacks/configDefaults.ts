/**
 * Every default of the stack's configuration, written once: a base, which is dev's small and
 * cheap shape, plus what each other environment changes. A stack file (`Pulumi.<stack>.yaml`)
 * states only what differs from its environment's defaults (test/stack/config.test.ts checks it),
 * and the README's config reference is generated from here (`npm run docs:config`).
 */
import { deepMerge } from "./deepMerge";
import { stageSwitches } from "./stages";
import { ENVIRONMENTS, type Environment, type StackConfig } from "./configSchema";

/** What defaults cover: every key but the environment itself and the emulator (localstack's, stated in its stack file). */
export type Defaults = Omit<StackConfig, "environment" | "emulator">;

/** Any part of `T`; an optional key may be `null`, which unsets it (see deepMerge). */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | (undefined extends T[K] ? null : never) }
    : T;

/**
 * dev, and what every environment starts from: two AZs, one NAT gateway, a single-AZ database
 * with one replica, no cache replicas, one web task, workers that scale to zero on Fargate Spot.
 */
export const BASE_DEFAULTS: Defaults = {
  // The switches below are the full path's (stage 9); `stage` lowers them (./stages.ts). A stack
  // stands at stage 8, every step but sharding, unless it says otherwise: a further physical
  // shard is a whole database per region and the start of resharding, so a stack takes that step
  // on purpose (`stage: 9` or `database.shards`), never by upgrading this program.
  stage: 8,
  allowDataLoss: false,
  regions: { count: 2, primary: "us-east-1", secondary: "us-west-2" },
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
    mode: "service",
  },
  database: {
    engineVersion: "16",
    instanceClass: "db.t4g.micro",
    allocatedStorageGb: 20,
    maxAllocatedStorageGb: 50,
    readReplicas: 1,
    // Stage 9's: a new, empty shard, every logical shard still on shard 0 (README: Sharding).
    shards: 2,
    shardMap: "0-8191:0",
    // RDS's default quota of DB instances per region and account (Service Quotas, adjustable).
    instanceQuota: 40,
    enableMultiAz: false,
    backupRetentionDays: 1,
    enableDeletionProtection: false,
    skipFinalSnapshot: true,
    enablePerformanceInsights: true,
    databaseName: "app",
    masterUsername: "app",
    appUsername: "app_rw",
    writerRegion: "primary",
    enhancedMonitoringSeconds: 0,
    allowMajorVersionUpgrade: false,
  },
  cache: {
    enabled: true,
    engine: "valkey",
    engineVersion: "7.2",
    nodeType: "cache.t4g.micro",
    replicas: 0,
    snapshotRetentionDays: 0,
    invalidationRetentionSeconds: 3600,
    invalidationMaxReceiveCount: 5,
    allowReplacement: true,
  },
  sessions: { enablePointInTimeRecovery: false, enableDeletionProtection: false },
  logs: { retentionDays: 7 },
  dns: {
    dnssec: "signing",
    recordName: "app",
    routing: "geolocation",
    healthCheckPath: "/healthz",
    primaryWeight: 50,
    locations: { primary: ["NA", "SA"], secondary: ["EU", "AF"] },
  },
  cdn: {
    enabled: true,
    recordName: "static",
    priceClass: "PriceClass_100",
    defaultTtlSeconds: 86_400,
    maxTtlSeconds: 31_536_000,
    entryTtlSeconds: 60,
    forceDestroy: true,
  },
  // Count first: dev shows what the managed rules would block without breaking anything.
  waf: { mode: "count", signInRequestsPerWindow: 100, rateWindowSeconds: 300 },
  alarms: {
    http5xxPercent: 5,
    p99LatencySeconds: 2,
    databaseCpuPercent: 90,
    databaseFreeStorageGb: 2,
    replicaLagSeconds: 120,
    cacheMemoryPercent: 90,
    cacheEvictionsPerMinute: 1000,
    oldestMessageSeconds: 900,
    wafBlockedRequestsPerMinute: 100,
  },
};

/** What each environment changes in the base (objects merge key by key; lists are replaced). */
export const ENVIRONMENT_OVERRIDES: Readonly<Record<Environment, DeepPartial<Defaults>>> = {
  dev: {},
  /**
   * Sturdy: three AZs, a NAT gateway per AZ, multi-AZ database with two replicas, cache with two
   * replicas, deletion protection, 14-day backups, web ACLs that block, and tighter alarms.
   */
  prod: {
    regions: { secondary: "eu-west-1" },
    network: {
      cidrs: { primary: "10.20.0.0/16", secondary: "10.21.0.0/16" },
      availabilityZones: 3,
      natGateways: "perAz",
    },
    web: {
      cpu: 1024,
      memory: 2048,
      minTasks: 3,
      maxTasks: 30,
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
      latencyGoalSeconds: 30,
      messageRetentionDays: 14,
      enableSpot: false,
    },
    database: {
      instanceClass: "db.r6g.large",
      allocatedStorageGb: 100,
      maxAllocatedStorageGb: 1000,
      readReplicas: 2,
      enableMultiAz: true,
      backupRetentionDays: 14,
      enableDeletionProtection: true,
      skipFinalSnapshot: false,
      enhancedMonitoringSeconds: 60,
    },
    cache: {
      nodeType: "cache.r7g.large",
      replicas: 2,
      snapshotRetentionDays: 7,
      allowReplacement: false,
    },
    sessions: { enablePointInTimeRecovery: true, enableDeletionProtection: true },
    logs: { retentionDays: 90 },
    dns: { locations: { primary: ["NA", "SA", "AS", "OC"] } },
    cdn: { priceClass: "PriceClass_All", forceDestroy: false },
    waf: { mode: "block" },
    alarms: {
      http5xxPercent: 1,
      p99LatencySeconds: 1,
      databaseCpuPercent: 80,
      databaseFreeStorageGb: 10,
      replicaLagSeconds: 30,
      cacheMemoryPercent: 80,
      cacheEvictionsPerMinute: 100,
      oldestMessageSeconds: 300,
      wafBlockedRequestsPerMinute: 300,
    },
  },
  /**
   * The smallest shape an AWS emulator accepts, with a reserved domain so that zones, certificates
   * and GeoDNS are deployed too. What an emulator lacks is switched off from `emulator.flavor`
   * (stacks/emulator.ts), not here.
   */
  localstack: {
    network: {
      cidrs: { primary: "10.30.0.0/16", secondary: "10.31.0.0/16" },
      enableFlowLogs: false,
    },
    // No Docker build or ECR push: the emulators run no app containers.
    image: { uri: "public.ecr.aws/docker/library/node:20-slim" },
    web: { maxTasks: 2 },
    workers: {
      maxTasks: 1,
      jobTimeoutSeconds: 30,
      maxReceiveCount: 3,
      messageRetentionDays: 1,
      enableSpot: false,
    },
    database: { maxAllocatedStorageGb: 20, enablePerformanceInsights: false },
    cache: { engine: "redis", engineVersion: "7.1" },
    logs: { retentionDays: 1 },
    dns: {
      // A reserved name (RFC 2606): the emulator's zone can never shadow a real one.
      domain: "zero-to-millions.test",
      locations: { primary: ["NA"], secondary: ["EU"] },
    },
    cdn: { defaultTtlSeconds: 60, maxTtlSeconds: 3600, entryTtlSeconds: 0 },
    alarms: { databaseFreeStorageGb: 1 },
  },
};

/**
 * The defaults of one environment at one stage (unset: the environment's default stage): the base
 * with the environment's overrides merged in, then the tier switches the stage leaves off
 * (./stages.ts).
 */
export function defaultsFor(environment: Environment, stage?: number): Defaults {
  const environmentDefaults = deepMerge(
    BASE_DEFAULTS,
    ENVIRONMENT_OVERRIDES[environment],
  ) as Defaults;
  const at = stage ?? environmentDefaults.stage;
  return deepMerge(environmentDefaults, { ...stageSwitches(at), stage: at }) as Defaults;
}

/** Each environment's defaults, merged once (the README's reference and tests read them). */
export const ENVIRONMENT_DEFAULTS: Readonly<Record<Environment, Defaults>> = Object.fromEntries(
  ENVIRONMENTS.map((environment) => [environment, defaultsFor(environment)]),
) as Record<Environment, Defaults>;
