/**
 * What each component takes from config, and which config key each of those arguments comes
 * from. The composition (region.ts, global.ts) passes these settings to the components; config
 * validation (./componentChecks.ts) runs the components' own validators on the same settings and
 * names the config key in what they report.
 */
import type { CacheArgs } from "../components/cache";
import type { DatabaseArgs } from "../components/database";
import type { DnsZoneArgs } from "../components/dnsZone";
import type { GeoDnsArgs } from "../components/geoDns";
import type { NetworkArgs } from "../components/network";
import type { InvalidationQueueArgs } from "../components/invalidationQueue";
import type { QueueWorkersArgs } from "../components/queueWorkers";
import type { SessionStoreArgs } from "../components/sessionStore";
import type { WebAclArgs } from "../components/webAcl";
import type { WebServiceArgs } from "../components/webService";
import { CREDENTIAL_ROUTES } from "../contract";
import { defaultZoneNames, type RegionRole, type StackConfig } from "./configSchema";
import { serves } from "./emulator";

/** The config key behind each argument a component takes from config. */
export type ConfigKeys<T> = Readonly<Record<keyof T & string, string>>;

/** The settings a component takes from a config section under the settings' own names. */
function sameNamed<T, K extends keyof T>(section: T, names: readonly K[]): Pick<T, K> {
  return Object.fromEntries(names.map((name) => [name, section[name]])) as Pick<T, K>;
}

/** The config key of each setting `sameNamed` takes from `section`. */
function sameNamedKeys<K extends string>(section: string, names: readonly K[]): Record<K, string> {
  return Object.fromEntries(names.map((name) => [name, `${section}.${name}`])) as Record<K, string>;
}

/** The network of one region (the free-plan emulator stack builds it alone). */
export function networkArgs(config: StackConfig, role: RegionRole) {
  return {
    cidrBlock: config.network.cidrs[role],
    availabilityZoneCount: config.network.availabilityZones,
    // Named, never looked up: the network plans while its region's EC2 API is unreachable.
    availabilityZones:
      config.network.availabilityZoneNames?.[role] ??
      defaultZoneNames(config.regions[role], config.network.availabilityZones),
    natGateways: config.network.natGateways,
    enableFlowLogs: config.network.enableFlowLogs,
    flowLogRetentionDays: config.logs.retentionDays,
  } satisfies NetworkArgs;
}

export const networkKeys = (role: RegionRole): ConfigKeys<ReturnType<typeof networkArgs>> => ({
  cidrBlock: `network.cidrs.${role}`,
  availabilityZoneCount: "network.availabilityZones",
  availabilityZones: `network.availabilityZoneNames.${role}`,
  natGateways: "network.natGateways",
  enableFlowLogs: "network.enableFlowLogs",
  flowLogRetentionDays: "logs.retentionDays",
});

const DATABASE_SAME_NAMED = [
  "engineVersion",
  "instanceClass",
  "allocatedStorageGb",
  "maxAllocatedStorageGb",
  "databaseName",
  "masterUsername",
  "enableMultiAz",
  "backupRetentionDays",
  "enableDeletionProtection",
  "skipFinalSnapshot",
  "enablePerformanceInsights",
  "enhancedMonitoringSeconds",
  "allowMajorVersionUpgrade",
] as const;

/**
 * A region's database settings, as its writer has them (the region decides the rest from where
 * the writer is: a cross-region replica has no in-region replicas of its own).
 */
export function databaseSettings(config: StackConfig) {
  const database = config.database;
  return {
    ...sameNamed(database, DATABASE_SAME_NAMED),
    role: { kind: "writer" as const, readReplicas: database.readReplicas },
    logRetentionDays: config.logs.retentionDays,
  } satisfies Partial<DatabaseArgs>;
}

export const DATABASE_KEYS: ConfigKeys<ReturnType<typeof databaseSettings>> = {
  ...sameNamedKeys("database", DATABASE_SAME_NAMED),
  role: "database.readReplicas",
  logRetentionDays: "logs.retentionDays",
};

const CACHE_SAME_NAMED = [
  "engine",
  "engineVersion",
  "nodeType",
  "replicas",
  "snapshotRetentionDays",
] as const;

export function cacheSettings(config: StackConfig) {
  const cache = config.cache;
  return {
    ...sameNamed(cache, CACHE_SAME_NAMED),
    // Off where the emulator has no parameter groups: the engine's default group serves.
    enableParameterGroup: serves(config, "elastiCacheParameterGroups"),
    protectFromReplacement: !cache.allowReplacement,
  } satisfies Partial<CacheArgs>;
}

export const CACHE_KEYS: ConfigKeys<ReturnType<typeof cacheSettings>> = {
  ...sameNamedKeys("cache", CACHE_SAME_NAMED),
  enableParameterGroup: "emulator.flavor",
  protectFromReplacement: "cache.allowReplacement",
};

/** The sessions table (a global table across both regions). */
export function sessionStoreSettings(config: StackConfig) {
  return {
    pointInTimeRecovery: config.sessions.enablePointInTimeRecovery,
    deletionProtection: config.sessions.enableDeletionProtection,
  } satisfies Partial<SessionStoreArgs>;
}

export const SESSION_STORE_KEYS: ConfigKeys<ReturnType<typeof sessionStoreSettings>> = {
  pointInTimeRecovery: "sessions.enablePointInTimeRecovery",
  deletionProtection: "sessions.enableDeletionProtection",
};

/** Each region's cache-invalidation queue. */
export function invalidationQueueSettings(config: StackConfig) {
  return {
    messageRetentionSeconds: config.cache.invalidationRetentionSeconds,
    maxReceiveCount: config.cache.invalidationMaxReceiveCount,
  } satisfies InvalidationQueueArgs;
}

export const INVALIDATION_QUEUE_KEYS: ConfigKeys<ReturnType<typeof invalidationQueueSettings>> = {
  messageRetentionSeconds: "cache.invalidationRetentionSeconds",
  maxReceiveCount: "cache.invalidationMaxReceiveCount",
};

/** What the web and worker tasks share from config. */
export function taskSettings(config: StackConfig) {
  return { logRetentionDays: config.logs.retentionDays };
}

const TASK_KEYS: ConfigKeys<ReturnType<typeof taskSettings>> = {
  logRetentionDays: "logs.retentionDays",
};

const WORKER_SAME_NAMED = [
  "cpu",
  "memory",
  "minTasks",
  "maxTasks",
  "jobTimeoutSeconds",
  "averageJobSeconds",
  "latencyGoalSeconds",
  "maxReceiveCount",
  "messageRetentionDays",
] as const;

export function workerSettings(config: StackConfig) {
  const workers = config.workers;
  return {
    ...sameNamed(workers, WORKER_SAME_NAMED),
    useSpot: workers.enableSpot,
  } satisfies Partial<QueueWorkersArgs>;
}

export const WORKER_KEYS: ConfigKeys<
  ReturnType<typeof workerSettings> & ReturnType<typeof taskSettings>
> = {
  ...TASK_KEYS,
  ...sameNamedKeys("workers", WORKER_SAME_NAMED),
  useSpot: "workers.enableSpot",
};

const WEB_SAME_NAMED = [
  "cpu",
  "memory",
  "minTasks",
  "maxTasks",
  "containerPort",
  "healthCheckPath",
  "loadBalancingAlgorithm",
  "enableDeletionProtection",
  "cpuTargetPercent",
  "requestsPerTargetPerMinute",
] as const;

export function webSettings(config: StackConfig) {
  return sameNamed(config.web, WEB_SAME_NAMED) satisfies Partial<WebServiceArgs>;
}

export const WEB_KEYS: ConfigKeys<
  ReturnType<typeof webSettings> & ReturnType<typeof taskSettings>
> = {
  ...TASK_KEYS,
  ...sameNamedKeys("web", WEB_SAME_NAMED),
};

/**
 * A web ACL in front of the load balancers (`REGIONAL`, with the sign-in rate rule: the app's
 * credential routes are served there) or the CDN (`CLOUDFRONT`, without it: the CDN serves static
 * files only, so a rate rule there would count nothing and cost $1 a month).
 */
export function webAclSettings(config: StackConfig, scope: WebAclArgs["scope"]) {
  return {
    scope,
    mode: config.waf.mode,
    logRetentionDays: config.logs.retentionDays,
    ...(scope === "REGIONAL"
      ? {
          rateLimit: {
            routes: [CREDENTIAL_ROUTES.signIn, CREDENTIAL_ROUTES.signUp],
            requestsPerWindow: config.waf.signInRequestsPerWindow,
            windowSeconds: config.waf.rateWindowSeconds,
          },
        }
      : {}),
  } satisfies WebAclArgs;
}

export const WEB_ACL_KEYS: Readonly<Record<string, string>> = {
  mode: "waf.mode",
  logRetentionDays: "logs.retentionDays",
  "rateLimit.requestsPerWindow": "waf.signInRequestsPerWindow",
  "rateLimit.windowSeconds": "waf.rateWindowSeconds",
};

/** The app's name (`<recordName>.<domain>`), when the stack has a domain. */
export function appDomainName(config: StackConfig): string | undefined {
  return config.dns.domain ? `${config.dns.recordName}.${config.dns.domain}` : undefined;
}

/** The hosted zone's arguments, when the stack has a domain. */
export function zoneArgs(config: StackConfig): DnsZoneArgs | undefined {
  if (!config.dns.domain) return undefined;
  return {
    domain: config.dns.domain,
    ...(config.dns.zoneId ? { zoneId: config.dns.zoneId } : {}),
    dnssec: config.dns.dnssec,
  };
}

export const ZONE_KEYS: ConfigKeys<Omit<DnsZoneArgs, "transform">> = {
  domain: "dns.domain",
  zoneId: "dns.zoneId",
  dnssec: "dns.dnssec",
};

/** GeoDNS's settings (the regions' load balancers are added where the regions exist). */
export function geoDnsSettings(config: StackConfig, domain: string) {
  return {
    recordName: config.dns.recordName,
    domain,
    routing: config.dns.routing,
    primaryWeight: config.dns.primaryWeight,
  } satisfies Partial<GeoDnsArgs>;
}

/** GeoDNS's view of one region from config: its health check and the locations it serves. */
export function geoDnsRegionSettings(config: StackConfig, role: RegionRole) {
  return {
    healthCheck: { protocol: "HTTPS" as const, path: config.dns.healthCheckPath },
    locations: config.dns.locations[role],
  };
}

export const GEO_DNS_KEYS: Readonly<Record<string, string>> = {
  recordName: "dns.recordName",
  domain: "dns.domain",
  routing: "dns.routing",
  primaryWeight: "dns.primaryWeight",
  "regions.primary.locations": "dns.locations.primary",
  "regions.secondary.locations": "dns.locations.secondary",
  "regions.primary.healthCheck.path": "dns.healthCheckPath",
  "regions.secondary.healthCheck.path": "dns.healthCheckPath",
};

/** The alarm keys as the observability components name their arguments. */
export const OBSERVABILITY_KEYS: Readonly<Record<string, string>> = {
  alarmEmail: "alarms.email",
  cdn5xxPercent: "alarms.http5xxPercent",
  ...Object.fromEntries(
    [
      "http5xxPercent",
      "p99LatencySeconds",
      "databaseCpuPercent",
      "databaseFreeStorageGb",
      "replicaLagSeconds",
      "cacheMemoryPercent",
      "cacheEvictionsPerMinute",
      "oldestMessageSeconds",
    ].map((key) => [`thresholds.${key}`, `alarms.${key}`]),
  ),
  "webAcl.blockedRequestsPerMinute": "alarms.wafBlockedRequestsPerMinute",
};
