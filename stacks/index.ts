/**
 * The program's entry: read and validate the stack's config (before any resource exists), then
 * build what spans the regions first (zone, image, CDN), each region, the links between them,
 * GeoDNS in front of them, and the global dashboard; export what users need.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, rawConfigFromPulumi } from "./config";
import {
  appDomainName,
  connectRegions,
  createCdn,
  createGeoDns,
  createGlobalObservability,
  createImage,
  createZone,
  type Providers,
} from "./global";
import { Region, regionProvider } from "./region";

const US_EAST_1 = "us-east-1";

const config = parseConfig(rawConfigFromPulumi(pulumi.runtime.allConfig()));

const primaryProvider = regionProvider("aws-primary", config.regions.primary, config.environment, "primary");
const secondaryProvider = regionProvider("aws-secondary", config.regions.secondary, config.environment, "secondary");
const providers: Providers = {
  primary: primaryProvider,
  secondary: secondaryProvider,
  usEast1:
    config.regions.primary === US_EAST_1
      ? primaryProvider
      : config.regions.secondary === US_EAST_1
        ? secondaryProvider
        : regionProvider("aws-us-east-1", US_EAST_1, config.environment),
};

const zone = createZone(config, providers);
const images = createImage(config, providers);
const cdn = createCdn(config, providers, zone);
const appDomain = appDomainName(config);
const dnsForRegions = zone && appDomain ? { zoneId: zone.zoneId, appDomainName: appDomain } : undefined;

const primary = new Region(
  "primary",
  {
    role: "primary",
    region: config.regions.primary,
    config,
    image: images.primary,
    assets: { bucketName: cdn.bucketName, cdnDomain: cdn.domainName },
    ...(dnsForRegions ? { dns: dnsForRegions } : {}),
  },
  { providers: [primaryProvider] },
);
const secondary = new Region(
  "secondary",
  {
    role: "secondary",
    region: config.regions.secondary,
    config,
    image: images.secondary,
    assets: { bucketName: cdn.bucketName, cdnDomain: cdn.domainName },
    ...(dnsForRegions ? { dns: dnsForRegions } : {}),
    writer: primary.writer,
  },
  { providers: [secondaryProvider] },
);

connectRegions(primary, secondary, providers);
for (const region of [primary, secondary]) {
  cdn.grantReadWrite(`${region.role}-web-assets`, region.web.taskRoleName);
  cdn.grantReadWrite(`${region.role}-workers-assets`, region.workers.taskRoleName);
}

const geoDns = zone ? createGeoDns(config, zone, [primary, secondary], providers) : undefined;
const globalObservability = createGlobalObservability(config, cdn, geoDns, providers);

export const environment = config.environment;
export const publicUrl = geoDns ? pulumi.interpolate`https://${geoDns.fqdn}` : primary.web.url;
export const dns = zone
  ? { status: "enabled", zoneId: zone.zoneId, nameServers: zone.nameServers, appDomain }
  : { status: "disabled: no dns.domain configured; the app is reachable on each region's load balancer URL" };
export const cdnDomain = cdn.domainName;
export const assetsBucket = cdn.bucketName;
export const regions = { primary: primary.summary(), secondary: secondary.summary() };
export const globalDashboardUrl = globalObservability.dashboardUrl;
