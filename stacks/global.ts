/**
 * What spans the regions: the hosted zone, the CDN for static files, the app image, peering
 * between the regions, GeoDNS in front of the regional load balancers, and the global dashboard.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AppImage } from "../components/appImage";
import { Cdn } from "../components/cdn";
import { DnsZone } from "../components/dnsZone";
import { GeoDns } from "../components/geoDns";
import { GlobalObservability } from "../components/globalObservability";
import { RegionPeering } from "../components/peering";
import type { StackConfig } from "./config";
import type { Region } from "./region";

export const PROJECT_ROOT = join(__dirname, "..");
/** The page's build output (npm run build:public), uploaded to the CDN. */
export const STATIC_FILES_DIR = join(PROJECT_ROOT, "app", "public", "dist");
/** What the image is built from; its hash is the image tag. */
const IMAGE_SOURCES = ["app", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"];
const IMAGE_SOURCE_EXCLUDES = new Set(["node_modules", "dist", "data"]);

export interface Providers {
  primary: aws.Provider;
  secondary: aws.Provider;
  /** CloudFront's certificates and metrics live in us-east-1. */
  usEast1: aws.Provider;
}

export function appDomainName(config: StackConfig): string | undefined {
  return config.dns.domain ? `${config.dns.recordName}.${config.dns.domain}` : undefined;
}

/** The hosted zone, when the stack has a domain. */
export function createZone(config: StackConfig, providers: Providers): DnsZone | undefined {
  if (!config.dns.domain) return undefined;
  return new DnsZone(
    "zone",
    { domain: config.dns.domain, ...(config.dns.zoneId ? { zoneId: config.dns.zoneId } : {}) },
    { provider: providers.primary },
  );
}

/** The image the tasks run: the one named in config, or one built from app/Dockerfile and replicated to the secondary region. */
export function createImage(config: StackConfig, providers: Providers): Record<"primary" | "secondary", pulumi.Input<string>> {
  if (config.image.uri) return { primary: config.image.uri, secondary: config.image.uri };
  const image = new AppImage(
    "app",
    {
      context: PROJECT_ROOT,
      dockerfile: join(PROJECT_ROOT, "app", "Dockerfile"),
      tag: `src-${sourceHash(IMAGE_SOURCES.map((path) => join(PROJECT_ROOT, path)))}`,
      replicaRegions: [config.regions.secondary],
    },
    { provider: providers.primary },
  );
  return { primary: image.imageUri, secondary: image.uriIn(config.regions.secondary) };
}

export function createCdn(config: StackConfig, providers: Providers, zone: DnsZone | undefined): Cdn {
  const appDomain = appDomainName(config);
  return new Cdn("assets", {
    providers,
    staticFilesDir: STATIC_FILES_DIR,
    priceClass: config.cdn.priceClass,
    defaultTtlSeconds: config.cdn.defaultTtlSeconds,
    maxTtlSeconds: config.cdn.maxTtlSeconds,
    entryTtlSeconds: config.cdn.entryTtlSeconds,
    forceDestroy: config.cdn.forceDestroy,
    // Browsers upload photos straight to the bucket with presigned URLs from the app's origin.
    // Without a domain the origins are the load balancers' generated names, which do not exist
    // yet here; the presigned signature still authorizes each upload on its own.
    corsAllowedOrigins: appDomain ? [`https://${appDomain}`] : ["*"],
    ...(zone && config.dns.domain
      ? { customDomain: { name: `${config.cdn.recordName}.${config.dns.domain}`, zoneId: zone.zoneId } }
      : {}),
  });
}

/**
 * Joins the regions' networks so the secondary's app reaches the primary's writer, and admits
 * the secondary's app subnets to the primary's database (security groups cannot reference
 * groups in another region, hence CIDRs).
 */
export function connectRegions(primary: Region, secondary: Region, providers: Providers): RegionPeering {
  const peering = new RegionPeering("peering", {
    requester: {
      provider: providers.secondary,
      region: secondary.region,
      vpcId: secondary.network.vpcId,
      routeTableIds: secondary.network.privateRouteTableIds,
      reachableCidrs: secondary.network.privateSubnetCidrs,
    },
    accepter: {
      provider: providers.primary,
      region: primary.region,
      vpcId: primary.network.vpcId,
      routeTableIds: primary.network.isolatedRouteTableIds,
      reachableCidrs: primary.network.isolatedSubnetCidrs,
    },
  });
  primary.database.allowFrom(
    "secondary-app",
    { cidrBlocks: secondary.network.privateSubnetCidrs },
    `app tasks in ${secondary.region} writing over peering`,
  );
  return peering;
}

export function createGeoDns(config: StackConfig, zone: DnsZone, regions: Region[], providers: Providers): GeoDns {
  const domain = config.dns.domain;
  if (!domain) throw new Error("createGeoDns needs dns.domain");
  return new GeoDns(
    "app-dns",
    {
      zoneId: zone.zoneId,
      recordName: config.dns.recordName,
      domain,
      routing: config.dns.routing,
      primaryWeight: config.dns.primaryWeight,
      regions: regions.map((region) => ({
        role: region.role,
        region: region.region,
        albDnsName: region.web.albDnsName,
        albZoneId: region.web.albZoneId,
        healthCheck: { protocol: "HTTPS" as const, path: config.dns.healthCheckPath },
        locations: config.dns.locations[region.role],
      })),
    },
    { provider: providers.primary },
  );
}

export function createGlobalObservability(
  config: StackConfig,
  cdn: Cdn,
  dns: GeoDns | undefined,
  providers: Providers,
): GlobalObservability {
  return new GlobalObservability(
    "global-observability",
    {
      ...(config.alarms.email ? { alarmEmail: config.alarms.email } : {}),
      cdn5xxPercent: config.alarms.http5xxPercent,
      distributionId: cdn.distributionId,
      healthChecks: dns
        ? (["primary", "secondary"] as const).map((role) => ({ role, id: dns.healthCheckIds[role] }))
        : [],
    },
    { provider: providers.usEast1 },
  );
}

/** A short hash of the files under `paths` (names and contents), stable across machines. */
export function sourceHash(paths: string[]): string {
  const hash = createHash("sha256");
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        if (!IMAGE_SOURCE_EXCLUDES.has(entry)) visit(join(path, entry));
      }
      return;
    }
    hash.update(relative(PROJECT_ROOT, path)).update("\0").update(readFileSync(path)).update("\0");
  };
  paths.forEach(visit);
  return hash.digest("hex").slice(0, 16);
}
