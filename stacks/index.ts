/**
 * The program's entry: read and validate the stack's config (before any resource exists), then
 * build what spans the regions first (zone, image, CDN), each region (the one holding the
 * database writer first, since the other writes to it), the links between them, GeoDNS in front
 * of them, and the global dashboard; export what users need.
 *
 * On LocalStack's free plan (the localstack environment's `localstack-free` emulator) only the
 * networks, their peering and the zone are built: the other tiers need APIs that plan lacks.
 */
import * as pulumi from "@pulumi/pulumi";
import { accountOf } from "../components/awsContext";
import { Network } from "../components/network";
import { parseConfig, type RegionRole, rawConfigFromPulumi, type StackConfig } from "./config";
import { deploysEveryTier, edgeAuditSkippedReason, serves } from "./emulator";
import {
  connectRegions,
  createAppCertificates,
  createCdn,
  createEdgeAudit,
  createEdgeLogsKey,
  createCookieSigningKey,
  createCdnWebAcl,
  createGeoDns,
  createGlobalObservability,
  assetsBucketFor,
  createImage,
  createInvalidationQueues,
  createSessionStore,
  createZone,
  contextIn,
  peerNetworks,
  shareRegionalState,
  type Providers,
} from "./global";
import { otherRole, Region, regionProvider } from "./region";
import { appDomainName, networkArgs } from "./settings";

const US_EAST_1 = "us-east-1";
const ROLES: readonly RegionRole[] = ["primary", "secondary"];

const config = parseConfig(rawConfigFromPulumi(pulumi.runtime.allConfig()));
const providers = createProviders(config);
const zone = createZone(config, providers);
const appDomain = appDomainName(config);
const outputs = deploysEveryTier(config) ? deployEverything(config) : deployNetworksOnly(config);

export const environment = config.environment;
export const publicUrl = outputs.publicUrl;
export const dns = zone
  ? { status: "enabled", zoneId: zone.zoneId, nameServers: zone.nameServers, appDomain }
  : {
      status:
        "disabled: no dns.domain configured; the app is reachable on each region's load balancer URL",
    };
/** The image the tasks run (the pipelines preview and promote by it). */
export const imageUri = outputs.imageUri;
export const cdnDomain = outputs.cdnDomain;
export const assetsBucket = outputs.assetsBucket;
export const regions = outputs.regions;
export const globalDashboardUrl = outputs.globalDashboardUrl;
/** The DS record to publish at the registrar once the zone is signed (README: DNSSEC). */
export const dnssec = outputs.dnssec;

/**
 * One provider per region, us-east-1's for CloudFront (one of the two when it is), and the
 * account, looked up through the writer region's.
 */
function createProviders(config: StackConfig): Providers {
  const primary = regionProvider("aws-primary", config.regions.primary, config, "primary");
  const secondary = regionProvider("aws-secondary", config.regions.secondary, config, "secondary");
  const usEast1 =
    config.regions.primary === US_EAST_1
      ? primary
      : config.regions.secondary === US_EAST_1
        ? secondary
        : regionProvider("aws-us-east-1", US_EAST_1, config);
  // Lookups go to the region holding the writer: after a failover, never to the lost primary.
  const lookups = config.database.writerRegion === "primary" ? primary : secondary;
  return {
    primary,
    secondary,
    usEast1,
    lookups,
    account: accountOf(undefined, { provider: lookups }),
  };
}

function deployEverything(config: StackConfig) {
  const images = createImage(config, providers);
  const edgeLogsKey = createEdgeLogsKey(config, providers);
  const cdnWebAcl = createCdnWebAcl(config, providers, edgeLogsKey);
  const cdn = createCdn(config, providers, zone, cdnWebAcl);
  const sessions = createSessionStore(config, providers);
  const invalidationQueues = createInvalidationQueues(config, providers);
  const publishUrls = ROLES.map((role) => invalidationQueues[role].queueUrl);
  const certificates =
    zone && appDomain ? createAppCertificates(appDomain, zone, providers) : undefined;
  const cookieSigningKey = createCookieSigningKey();
  const region = (role: RegionRole, writer?: Region) =>
    new Region(
      role,
      {
        role,
        region: config.regions[role],
        config,
        image: images[role],
        assets: { ...assetsBucketFor(config, cdn), cdnDomain: cdn.domainName },
        sessionsTableName: sessions.tableName,
        invalidations: { queue: invalidationQueues[role], publishUrls },
        ...(certificates && appDomain
          ? { https: { certificateArn: certificates[role].certificateArn, domainName: appDomain } }
          : {}),
        ...(writer ? { writers: writer.writers } : {}),
        cookieSigningKey,
        context: contextIn(providers, config.regions[role]),
        lookups: providers.lookups,
      },
      { providers: [providers[role]] },
    );
  // The region holding the writer first: the other one's app writes to it.
  const writerRegion = region(config.database.writerRegion);
  const otherRegion = region(otherRole(config.database.writerRegion), writerRegion);
  const regions: Record<RegionRole, Region> =
    writerRegion.role === "primary"
      ? { primary: writerRegion, secondary: otherRegion }
      : { primary: otherRegion, secondary: writerRegion };

  connectRegions(config, regions, providers);
  const grants = shareRegionalState(config, regions, sessions);
  for (const role of ROLES) {
    grants[role].web.push(cdn.grantReadWrite(`${role}-web-assets`, regions[role].web.taskRoleName));
    grants[role].workers.push(
      cdn.grantReadWrite(`${role}-workers-assets`, regions[role].workers.taskRoleName),
    );
    // Every grant of a region's task roles exists: its services may start (and wait for them).
    regions[role].startServices(grants[role]);
    // The assets bucket of each region logs its requests into that region's access-log bucket.
    const accessLogs = regions[role].accessLogs;
    if (accessLogs) cdn.logServerAccess(role, accessLogs.serverAccessLogs);
  }

  const geoDns = zone
    ? createGeoDns(config, zone, [regions.primary, regions.secondary], providers)
    : undefined;
  const auditSkipped = edgeAuditSkippedReason(config);
  const audit =
    auditSkipped === undefined && edgeLogsKey
      ? createEdgeAudit(config, cdn, zone, providers, edgeLogsKey)
      : undefined;
  // The global dashboard needs CloudFront monitoring subscriptions, which emulators lack.
  const globalObservability = serves(config, "cloudFrontMonitoringSubscriptions")
    ? createGlobalObservability(
        config,
        cdn,
        cdnWebAcl,
        geoDns,
        providers,
        audit?.dnssec ? zone?.zoneId : undefined,
      )
    : undefined;
  return {
    publicUrl: geoDns ? pulumi.interpolate`https://${geoDns.fqdn}` : regions.primary.web.url,
    imageUri: pulumi.output(images.primary),
    cdnDomain: cdn.domainName,
    assetsBucket: cdn.bucketName,
    regions: { primary: regions.primary.summary(), secondary: regions.secondary.summary() },
    globalDashboardUrl:
      globalObservability?.dashboardUrl ??
      pulumi.output(
        `disabled: emulator.flavor ${config.emulator?.flavor} lacks CloudFront monitoring subscriptions`,
      ),
    dnssec: audit?.dnssec
      ? { status: "signing", dsRecord: audit.dnssec.dsRecord }
      : {
          status: `disabled: ${auditSkipped ?? "no zone created by this stack (dns.domain unset, or dns.zoneId names its owner's zone), or dns.dnssec off"}`,
        },
  };
}

/** LocalStack's free plan: each region's network and the peering between them. */
function deployNetworksOnly(config: StackConfig) {
  const networks = Object.fromEntries(
    ROLES.map((role) => [
      role,
      new Network(`${role}-network`, networkArgs(config, role), { provider: providers[role] }),
    ]),
  ) as Record<RegionRole, Network>;
  peerNetworks(config, networks, providers);
  const skipped = pulumi.output(
    `disabled: emulator.flavor ${config.emulator?.flavor} lacks the APIs of this tier`,
  );
  return {
    publicUrl: skipped,
    imageUri: skipped,
    cdnDomain: skipped,
    assetsBucket: skipped,
    regions: Object.fromEntries(
      ROLES.map((role) => [role, { region: config.regions[role], vpcId: networks[role].vpcId }]),
    ),
    globalDashboardUrl: skipped,
    dnssec: { status: skipped },
  };
}
