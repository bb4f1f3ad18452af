/**
 * The components' own validators, run on what config gives them while config is validated, so a
 * setting the schema allows but a component refuses is reported with its config key, with every
 * other problem, before any resource exists. The arguments that come from resources (ids, names,
 * ARNs) are placeholders of the shape the region gives (a subnet per availability zone).
 */
import { validateCacheArgs } from "../components/cache";
import { validateDnsValidatedCertificateArgs } from "../components/certificate";
import { validateDatabaseArgs } from "../components/database";
import { validateDnsZoneArgs } from "../components/dnsZone";
import { validateGeoDnsArgs } from "../components/geoDns";
import { validateGlobalObservabilityArgs } from "../components/globalObservability";
import { validateNetworkArgs } from "../components/network";
import { validateObservabilityArgs } from "../components/observability";
import { validateInvalidationQueueArgs } from "../components/invalidationQueue";
import { validateQueueWorkersArgs } from "../components/queueWorkers";
import { validateWebAclArgs, WEB_ACL_SCOPES } from "../components/webAcl";
import { validateWebServiceArgs } from "../components/webService";
import { REGION_ROLES, type StackConfig } from "./configSchema";
import { serves } from "./emulator";
import {
  appDomainName,
  CACHE_KEYS,
  cacheSettings,
  DATABASE_KEYS,
  databaseSettings,
  GEO_DNS_KEYS,
  geoDnsRegionSettings,
  INVALIDATION_QUEUE_KEYS,
  invalidationQueueSettings,
  geoDnsSettings,
  networkArgs,
  networkKeys,
  OBSERVABILITY_KEYS,
  taskSettings,
  WEB_ACL_KEYS,
  WEB_KEYS,
  webAclSettings,
  webSettings,
  WORKER_KEYS,
  workerSettings,
  ZONE_KEYS,
  zoneArgs,
} from "./settings";

/** Stand-ins for what resources provide; only their shape matters to the validators. */
const PLACEHOLDER = "placeholder";
const PLACEHOLDER_CLUSTER = { arn: PLACEHOLDER, name: PLACEHOLDER };
const PLACEHOLDER_COMMAND = [PLACEHOLDER];
const PLACEHOLDER_NAMESPACE = "Placeholder";

/**
 * Every problem the components would raise with this config, each starting with the config key
 * it comes from (or the component, for an argument config does not set), without repeats.
 */
export function componentProblems(config: StackConfig): string[] {
  const subnetIds = Array.from(
    { length: config.network.availabilityZones },
    (_, zone) => `subnet-${zone}`,
  );
  const inVpc = { vpcId: PLACEHOLDER, subnetIds };
  const task = {
    ...inVpc,
    ...taskSettings(config),
    image: PLACEHOLDER,
    command: PLACEHOLDER_COMMAND,
  };
  const problems = [
    ...REGION_ROLES.flatMap((role) =>
      atConfigKeys("Network", validateNetworkArgs(networkArgs(config, role)), networkKeys(role)),
    ),
    ...atConfigKeys(
      "Database",
      validateDatabaseArgs({ ...databaseSettings(config), ...inVpc }),
      DATABASE_KEYS,
    ),
    ...atConfigKeys("Cache", validateCacheArgs({ ...cacheSettings(config), ...inVpc }), CACHE_KEYS),
    ...atConfigKeys(
      "InvalidationQueue",
      validateInvalidationQueueArgs(invalidationQueueSettings(config)),
      INVALIDATION_QUEUE_KEYS,
    ),
    ...atConfigKeys(
      "QueueWorkers",
      validateQueueWorkersArgs({
        ...task,
        ...workerSettings(config),
        cluster: PLACEHOLDER_CLUSTER,
      }),
      WORKER_KEYS,
    ),
    ...atConfigKeys(
      "WebService",
      validateWebServiceArgs({
        ...task,
        ...webSettings(config),
        cluster: PLACEHOLDER_CLUSTER,
        publicSubnetIds: subnetIds,
      }),
      WEB_KEYS,
    ),
    ...REGION_ROLES.flatMap((role) =>
      atConfigKeys(
        "Observability",
        validateObservabilityArgs({
          region: config.regions[role],
          ...(config.alarms.email ? { alarmEmail: config.alarms.email } : {}),
          thresholds: config.alarms,
          web: {
            albArnSuffix: PLACEHOLDER,
            targetGroupArnSuffix: PLACEHOLDER,
            clusterName: PLACEHOLDER,
            serviceName: PLACEHOLDER,
          },
          workers: {
            clusterName: PLACEHOLDER,
            serviceName: PLACEHOLDER,
            queueName: PLACEHOLDER,
            deadLetterQueueName: PLACEHOLDER,
          },
          database: { writerIdentifier: PLACEHOLDER, replicaIdentifiers: [] },
          cache: { replicationGroupId: PLACEHOLDER, memberClusterIds: [PLACEHOLDER] },
          appMetricsNamespace: PLACEHOLDER_NAMESPACE,
        }),
        OBSERVABILITY_KEYS,
      ),
    ),
    ...atConfigKeys(
      "GlobalObservability",
      validateGlobalObservabilityArgs({
        ...(config.alarms.email ? { alarmEmail: config.alarms.email } : {}),
        cdn5xxPercent: config.alarms.http5xxPercent,
        distributionId: PLACEHOLDER,
        healthChecks: [],
      }),
      OBSERVABILITY_KEYS,
    ),
    ...dnsProblems(config),
    ...(serves(config, "webAcls")
      ? WEB_ACL_SCOPES.flatMap((scope) =>
          atConfigKeys("WebAcl", validateWebAclArgs(webAclSettings(config, scope)), WEB_ACL_KEYS),
        )
      : []),
  ];
  return [...new Set(problems)];
}

/** The zone, the regions' certificates and GeoDNS, when the stack has a domain. */
function dnsProblems(config: StackConfig): string[] {
  const zone = zoneArgs(config);
  const appDomain = appDomainName(config);
  if (zone === undefined || appDomain === undefined) return [];
  return [
    ...atConfigKeys("DnsZone", validateDnsZoneArgs(zone), ZONE_KEYS),
    ...atConfigKeys(
      "DnsValidatedCertificate",
      validateDnsValidatedCertificateArgs({ domainName: appDomain, zoneId: PLACEHOLDER }),
      { domainName: "dns.recordName" },
    ),
    ...atConfigKeys(
      "GeoDns",
      validateGeoDnsArgs({
        ...geoDnsSettings(config, zone.domain),
        zoneId: PLACEHOLDER,
        regions: REGION_ROLES.map((role) => ({
          role,
          region: config.regions[role],
          albDnsName: PLACEHOLDER,
          albZoneId: PLACEHOLDER,
          ...geoDnsRegionSettings(config, role),
        })),
      }),
      GEO_DNS_KEYS,
    ),
  ];
}

/**
 * Rewrites a component's problems (`argument: what is wrong`) to start with the config key the
 * argument comes from; a problem with an argument config does not set names the component.
 */
export function atConfigKeys(
  component: string,
  problems: readonly string[],
  keys: Readonly<Record<string, string>>,
): string[] {
  return problems.map((problem) => {
    const argument = /^([\w.]+)(?=:)/.exec(problem)?.[1];
    // A nested argument (`role.readReplicas`) maps through its top-level argument's key.
    const key =
      argument === undefined ? undefined : (keys[argument] ?? keys[argument.split(".")[0] ?? ""]);
    return key === undefined || argument === undefined
      ? `${component}: ${problem}`
      : `${key}${problem.slice(argument.length)} (${component}'s check)`;
  });
}
