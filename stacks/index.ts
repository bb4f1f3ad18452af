/**
 * The program's entry: read and validate the stack's config (before any resource exists), then
 * build what spans the regions first (zone, image, users' files bucket and CDN), each region (the one holding the
 * database writer first, since the other writes to it), the links between them, GeoDNS in front
 * of them, and the global dashboard; export what users need. Only what the tier switches enable
 * is built (README: The path): one region has no peering, and GeoDNS only its default record; no
 * CDN, no distribution or global dashboard (the users' files bucket exists at every stage).
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
  createFiles,
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
import { statefulTiersOf } from "./stages";

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
 * What this deployment holds of each stateful tier, and its stage: the step-down check with
 * every preview and before every up compares the next config with it (tools/stepDown.ts).
 */
export const statefulTiers = statefulTiersOf(config);

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
  const edgeLogsKey = createEdgeLogsKey(config, providers, zone);
  // No CDN, no web ACL in front of it.
  const cdnWebAcl = createCdnWebAcl(config, providers, edgeLogsKey);
  // Users' files live in S3 at every stage; the CDN (cdn.enabled) reads the same buckets.
  const files = createFiles(config, providers, zone, cdnWebAcl);
  const cdn = files.edge;
  // One region: the table without a replica, one queue that this region's writes publish to.
  const sessions = createSessionStore(config, providers);
  const invalidationQueues = createInvalidationQueues(config, providers);
  const publishUrls = Object.values(invalidationQueues).map((queue) => queue.queueUrl);
  const certificates =
    zone && appDomain
      ? createAppCertificates(appDomain, zone, providers, config.regions.count)
      : undefined;
  const cookieSigningKey = createCookieSigningKey();
  const region = (role: RegionRole, writer?: Region) => {
    const certificate = certificates?.[role];
    const image = images[role];
    if (image === undefined) throw new Error(`no image for the ${role} region`);
    const invalidationQueue = invalidationQueues[role];
    if (invalidationQueue === undefined)
      throw new Error(`no invalidation queue for the ${role} region`);
    return new Region(
      role,
      {
        role,
        region: config.regions[role],
        config,
        image,
        files: assetsBucketFor(config, files),
        ...(cdn ? { cdnDomain: cdn.domainName } : {}),
        sessionsTableName: sessions.tableName,
        invalidations: { queue: invalidationQueue, publishUrls },
        ...(certificate && appDomain
          ? { https: { certificateArn: certificate.certificateArn, domainName: appDomain } }
          : {}),
        ...(writer ? { writers: writer.writers } : {}),
        cookieSigningKey,
        context: contextIn(providers, config.regions[role]),
        lookups: providers.lookups,
      },
      { providers: [providers[role]] },
    );
  };
  // The region holding the writer first: the other one's app writes to it.
  const writerRegion = region(config.database.writerRegion);
  const otherRegion =
    config.regions.count === 2
      ? region(otherRole(config.database.writerRegion), writerRegion)
      : undefined;
  const regions: Partial<Record<RegionRole, Region>> = Object.fromEntries(
    [writerRegion, otherRegion].flatMap((r) => (r ? [[r.role, r]] : [])),
  );
  const { primary, secondary } = regions;
  if (primary === undefined) throw new Error("the primary region was not built");

  if (secondary) connectRegions(config, { primary, secondary }, providers);
  const grants = shareRegionalState(config, regions, sessions);
  for (const r of Object.values(regions)) {
    const regionGrants = grants[r.role] ?? { web: [], workers: [] };
    regionGrants.web.push(files.grantReadWrite(`${r.role}-web-assets`, r.web.taskRoleName));
    if (r.workers) {
      regionGrants.workers.push(
        files.grantReadWrite(`${r.role}-workers-assets`, r.workers.taskRoleName),
      );
    }
    // Every grant of a region's task roles exists: its services may start (and wait for them).
    r.startServices(regionGrants);
    // The assets bucket of each region logs its requests into that region's access-log bucket.
    if (r.accessLogs) files.logServerAccess(r.role, r.accessLogs.serverAccessLogs);
  }

  // GeoDNS at every stage with a domain: one region gets the routed default record alone (no
  // health check), so the second region adds records instead of swapping a plain one for them.
  const geoDns = zone
    ? createGeoDns(config, zone, secondary ? [primary, secondary] : [primary], providers)
    : undefined;
  // The edges' audit trail wherever an edge exists: the CDN's logs with the CDN, the zone's query
  // logs and DNSSEC signing whenever the stack owns its zone.
  const auditSkipped = edgeAuditSkippedReason(config);
  const audit =
    auditSkipped === undefined && edgeLogsKey
      ? createEdgeAudit(config, cdn, zone, providers, edgeLogsKey)
      : undefined;
  const dnssecZoneId = audit?.dnssec ? zone?.zoneId : undefined;
  // The global dashboard watches the CDN (it needs CloudFront monitoring subscriptions, which
  // emulators lack) and the signed zone.
  const watchesCdn = cdn !== undefined && serves(config, "cloudFrontMonitoringSubscriptions");
  const globalObservability =
    watchesCdn || dnssecZoneId !== undefined
      ? createGlobalObservability(
          config,
          watchesCdn ? cdn : undefined,
          cdnWebAcl,
          geoDns,
          providers,
          dnssecZoneId,
        )
      : undefined;
  const noCdn = pulumi.output("disabled: cdn.enabled is false");
  return {
    publicUrl: geoDns ? pulumi.interpolate`https://${geoDns.fqdn}` : primary.web.url,
    imageUri: pulumi.output(images.primary),
    cdnDomain: cdn?.domainName ?? noCdn,
    assetsBucket: files.bucketName,
    regions: Object.fromEntries(Object.values(regions).map((r) => [r.role, r.summary()])),
    globalDashboardUrl:
      globalObservability?.dashboardUrl ??
      pulumi.output(
        cdn
          ? `disabled: emulator.flavor ${config.emulator?.flavor} lacks CloudFront monitoring subscriptions`
          : "disabled: cdn.enabled is false and no zone is signed (the global dashboard watches the CDN and DNSSEC)",
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
