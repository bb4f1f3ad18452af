/**
 * What spans the regions: the hosted zone, the CDN for static files, the app image, peering
 * between the regions, GeoDNS in front of the regional load balancers, and the global dashboard.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import * as aws from "../components/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AppImage, RELEASE_TAG_PREFIX } from "../components/appImage";
import { Cdn } from "../components/cdn";
import { DnsValidatedCertificate } from "../components/certificate";
import { DnsSec } from "../components/dnsSec";
import { DnsZone } from "../components/dnsZone";
import { EdgeLogs } from "../components/edgeLogs";
import { GeoDns } from "../components/geoDns";
import { GlobalObservability } from "../components/globalObservability";
import type { AwsAccount, AwsContext } from "../components/awsContext";
import { createKmsKey, logsKeyUsers } from "../components/kmsKey";
import { buildStaticSite, type StaticSiteBuild } from "../components/staticSite";
import type { Network } from "../components/network";
import { type PeeringSide, RegionPeering } from "../components/peering";
import { SessionStore } from "../components/sessionStore";
import { InvalidationQueue } from "../components/invalidationQueue";
import { tierTags } from "../components/tags";
import { CLOUDFRONT_WAF_REGION, WebAcl } from "../components/webAcl";
import type { RegionRole, StackConfig } from "./config";
import { REGION_ROLES } from "./configSchema";
import { edgeAuditSkippedReason, serves } from "./emulator";
import { arnInRegion, otherRole, type Region, type TaskRoleGrants } from "./region";
import {
  appDomainName,
  geoDnsRegionSettings,
  geoDnsSettings,
  invalidationQueueSettings,
  sessionStoreSettings,
  webAclSettings,
  zoneArgs,
} from "./settings";

export const PROJECT_ROOT = join(__dirname, "..");
/** The page the CDN serves: its sources, its build script, and where the build writes. */
export const STATIC_SITE_BUILD: StaticSiteBuild = {
  script: join(PROJECT_ROOT, "app", "scripts", "build-public.mjs"),
  sourceDir: join(PROJECT_ROOT, "app", "public"),
  outDir: join(PROJECT_ROOT, "app", "public", "dist"),
};
/** What the image is built from; its hash is the image tag. */
const IMAGE_SOURCES = [
  "app",
  "contract",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
];
const IMAGE_SOURCE_EXCLUDES = new Set(["node_modules", "dist", "data"]);

export interface Providers {
  primary: aws.Provider;
  secondary: aws.Provider;
  /** CloudFront's certificates and metrics live in us-east-1. */
  usEast1: aws.Provider;
  /**
   * The account and partition, looked up once through the provider of the region holding the
   * writer, which every component takes instead of asking its own provider: after a failover no
   * lookup goes to the lost region (test/stack/failover.test.ts counts them).
   */
  account: AwsAccount;
  /** That provider, for the other lookups that name a region rather than ask it. */
  lookups: aws.Provider;
}

/** What a component of `region` would otherwise look up through that region's provider. */
export function contextIn(providers: Providers, region: string): AwsContext {
  return { ...providers.account, region };
}

/** The hosted zone, when the stack has a domain. */
export function createZone(config: StackConfig, providers: Providers): DnsZone | undefined {
  const args = zoneArgs(config);
  return args ? new DnsZone("zone", args, { provider: providers.primary }) : undefined;
}

/**
 * Each region's load balancer certificate for the app's name. ACM gives both the same validation
 * record, so the primary's certificate writes it and the secondary's waits on it: one owner,
 * whichever region holds the writer (a failover changes nothing here).
 */
export function createAppCertificates(
  appDomain: string,
  zone: DnsZone,
  providers: Providers,
  regionCount: 1 | 2,
): { primary: DnsValidatedCertificate; secondary?: DnsValidatedCertificate } {
  const primary = new DnsValidatedCertificate(
    "primary-certificate",
    { domainName: appDomain, zoneId: zone.zoneId },
    { provider: providers.primary },
  );
  if (regionCount === 1) return { primary };
  const secondary = new DnsValidatedCertificate(
    "secondary-certificate",
    { domainName: appDomain, zoneId: zone.zoneId, validationRecordsOf: primary },
    { provider: providers.secondary },
  );
  return { primary, secondary };
}

/**
 * The image each region's tasks run: the one named in config, or one built from app/Dockerfile
 * and pushed to a repository in each region (components/appImage.ts). Either way each region
 * pulls from its own registry, so the secondary keeps starting tasks while the primary is down.
 *
 * A configured ECR image of the primary region is taken from the secondary region's repository of
 * the same name, by the same digest (the pipeline's registry replicates it there, README:
 * Deploying). The program looks it up before any task definition uses it: an image that has not
 * arrived fails the preview with ECR's error, instead of a task that cannot pull it tripping the
 * deployment circuit breaker halfway through `up`.
 */
export function createImage(
  config: StackConfig,
  providers: Providers,
): { primary: pulumi.Input<string>; secondary?: pulumi.Input<string> } {
  if (config.image.uri) {
    const { primary, secondary } = config.regions;
    const regional = ecrImageIn(config.image.uri, primary, secondary);
    return {
      primary: config.image.uri,
      secondary:
        config.regions.count === 1
          ? undefined
          : regional === undefined
            ? config.image.uri
            : aws.ecr
                .getImageOutput(
                  {
                    registryId: regional.registryId,
                    repositoryName: regional.repositoryName,
                    imageDigest: regional.digest,
                  },
                  { provider: providers.secondary },
                )
                .apply(() => regional.uri),
    };
  }
  // One region: the image is pushed to the primary's registry alone.
  const registries: Record<string, aws.Provider> =
    config.regions.count === 2
      ? { primary: providers.primary, secondary: providers.secondary }
      : { primary: providers.primary };
  const image = new AppImage("app", {
    context: PROJECT_ROOT,
    dockerfile: join(PROJECT_ROOT, "app", "Dockerfile"),
    tag: `${RELEASE_TAG_PREFIX}${sourceHash(IMAGE_SOURCES.map((path) => join(PROJECT_ROOT, path)))}`,
    registries,
    account: providers.account,
  });
  return { primary: image.imageUris.primary!, secondary: image.imageUris.secondary };
}

/**
 * An ECR image of region `from`, pinned by digest, as the same repository and digest in region
 * `to`; undefined for any other image (a public one, or one named by tag only).
 */
export function ecrImageIn(
  uri: string,
  from: string,
  to: string,
): { uri: string; registryId: string; repositoryName: string; digest: string } | undefined {
  const match = new RegExp(
    `^(\\d{12})\\.dkr\\.ecr\\.${from}\\.amazonaws\\.com/([^@:]+)@(sha256:[0-9a-f]{64})$`,
  ).exec(uri);
  if (!match) return undefined;
  const [, registryId, repositoryName, digest] = match as unknown as [
    string,
    string,
    string,
    string,
  ];
  return {
    uri: `${registryId}.dkr.ecr.${to}.amazonaws.com/${repositoryName}@${digest}`,
    registryId,
    repositoryName,
    digest,
  };
}

/**
 * The customer-managed key of every edge log group in us-east-1 (CloudFront's access logs,
 * Route53's query logs, the CDN web ACL's logs); none where no edge logs: on an emulator that has
 * none of them, or below the CDN's stage without a zone of the stack's own. Once created, every
 * higher stage keeps it (more edges only add log groups under it).
 * Created before the CDN: the CDN's web ACL logs under it, the CDN's access logs after it.
 */
export function createEdgeLogsKey(
  config: StackConfig,
  providers: Providers,
  zone: DnsZone | undefined,
): aws.kms.Key | undefined {
  const webAclLogs = config.cdn.enabled && serves(config, "webAcls");
  const auditLogs =
    edgeAuditSkippedReason(config) === undefined && (config.cdn.enabled || ownZoneOf(zone));
  if (!webAclLogs && !auditLogs) return undefined;
  const provider = providers.usEast1;
  const { account } = providers;
  return createKmsKey(undefined, "edge-logs", {
    description: "The edges' log groups in us-east-1: CloudFront, Route53 queries, the CDN web ACL",
    users: logsKeyUsers(CLOUDFRONT_WAF_REGION, account),
    alias: true,
    account,
    provider,
    tags: tierTags("observability"),
  });
}

/**
 * The CDN's web ACL (CLOUDFRONT scope: us-east-1, like CloudFront's API), where the stack's AWS
 * serves web ACLs (stacks/emulator.ts) and the stack has a CDN.
 */
export function createCdnWebAcl(
  config: StackConfig,
  providers: Providers,
  logsKey: aws.kms.Key | undefined,
): WebAcl | undefined {
  if (!config.cdn.enabled || !serves(config, "webAcls")) return undefined;
  return new WebAcl(
    "assets-waf",
    {
      ...webAclSettings(config, "CLOUDFRONT"),
      ...(logsKey ? { logKmsKeyArn: logsKey.arn } : {}),
      context: contextIn(providers, CLOUDFRONT_WAF_REGION),
    },
    { provider: providers.usEast1 },
  );
}

/**
 * The users' files bucket (with its replica in the secondary region) at every stage, and the CDN
 * in front of it with `cdn.enabled` (stage 4 on). One component either way, so the CDN joins and
 * leaves without touching the buckets, and stacks deployed with a CDN keep their URNs.
 */
export function createFiles(
  config: StackConfig,
  providers: Providers,
  zone: DnsZone | undefined,
  webAcl: WebAcl | undefined,
): Cdn {
  const appDomain = appDomainName(config);
  // Where the emulator lacks CloudFront origin groups, no replica: the emulator stacks keep the
  // shape they had. One region: no second region to replicate to.
  const replicated = serves(config, "cloudFrontOriginGroups") && config.regions.count === 2;
  return new Cdn("assets", {
    providers,
    account: providers.account,
    forceDestroy: config.cdn.forceDestroy,
    enableReplication: replicated,
    // Uploads go to the bucket of the region holding the writer (assetsBucketFor), read first.
    uploadsTo: config.database.writerRegion === "secondary" && replicated ? "replica" : "primary",
    // Browsers upload photos straight to the bucket with presigned URLs from the app's origin.
    // Without a domain the origins are the load balancers' generated names, which do not exist
    // yet here; the presigned signature still authorizes each upload on its own.
    corsAllowedOrigins: appDomain ? [`https://${appDomain}`] : ["*"],
    ...(config.cdn.enabled
      ? {
          distribution: {
            // Built here, as part of the program: a fresh clone previews without a separate build step.
            staticFilesDir: buildStaticSite(STATIC_SITE_BUILD),
            priceClass: config.cdn.priceClass,
            defaultTtlSeconds: config.cdn.defaultTtlSeconds,
            maxTtlSeconds: config.cdn.maxTtlSeconds,
            entryTtlSeconds: config.cdn.entryTtlSeconds,
            ...(webAcl ? { webAclArn: webAcl.arn } : {}),
            useLegacyCacheSettings: !serves(config, "cloudFrontCachePolicies"),
            ...(zone && config.dns.domain
              ? {
                  customDomain: {
                    name: `${config.cdn.recordName}.${config.dns.domain}`,
                    zoneId: zone.zoneId,
                  },
                }
              : {}),
          },
        }
      : {}),
  });
}

/**
 * Joins the regions' networks so that the app subnets of the region without the writer reach the
 * writer's isolated subnets (and back). The secondary always requests the connection, so a
 * failover (`database.writerRegion`) changes routes only, never the connection.
 */
export function peerNetworks(
  config: StackConfig,
  networks: Record<RegionRole, Network>,
  providers: Providers,
): RegionPeering {
  const side = (role: RegionRole): PeeringSide => {
    const network = networks[role];
    const holdsWriter = role === config.database.writerRegion;
    return {
      provider: providers[role],
      region: config.regions[role],
      vpcId: network.vpcId,
      routeTableIds: holdsWriter ? network.isolatedRouteTableIds : network.privateRouteTableIds,
      reachableCidrs: holdsWriter ? network.isolatedSubnetCidrs : network.privateSubnetCidrs,
    };
  };
  return new RegionPeering("peering", { requester: side("secondary"), accepter: side("primary") });
}

/**
 * Peers the regions and admits the other region's app subnets to the writer's database (security
 * groups cannot reference groups in another region, hence CIDRs).
 */
export function connectRegions(
  config: StackConfig,
  regions: Record<RegionRole, Region>,
  providers: Providers,
): RegionPeering {
  const peering = peerNetworks(
    config,
    { primary: regions.primary.network, secondary: regions.secondary.network },
    providers,
  );
  const writer = regions[config.database.writerRegion];
  const other = regions[otherRole(config.database.writerRegion)];
  for (const database of writer.databases) {
    database.allowFrom(
      `${other.role}-app`,
      { cidrBlocks: other.network.privateSubnetCidrs },
      `app tasks in ${other.region} writing over peering`,
    );
  }
  return peering;
}

/**
 * The sessions table: its home in the primary, a replica in the secondary. Both are full
 * read/write copies, so which region holds the database writer does not matter to it.
 */
export function createSessionStore(config: StackConfig, providers: Providers): SessionStore {
  return new SessionStore("sessions", {
    // One region: the table alone, no replica (nothing crosses regions).
    regions: stackRoles(config).map((role) => ({
      region: config.regions[role],
      provider: providers[role],
    })),
    ...sessionStoreSettings(config),
    account: providers.account,
  });
}

/**
 * Each region's cache-invalidation queue, with its region's provider (every region sends to each);
 * one region: its own queue only.
 */
export function createInvalidationQueues(
  config: StackConfig,
  providers: Providers,
): Partial<Record<RegionRole, InvalidationQueue>> {
  return Object.fromEntries(
    stackRoles(config).map((role) => [
      role,
      new InvalidationQueue(`${role}-invalidations`, invalidationQueueSettings(config), {
        provider: providers[role],
      }),
    ]),
  );
}

/** The regions the stack runs in: the primary, and the secondary when `regions.count` is 2. */
export function stackRoles(config: StackConfig): RegionRole[] {
  return config.regions.count === 2 ? ["primary", "secondary"] : ["primary"];
}

/**
 * Where every region's app puts files: the CDN's `uploadsTo`, the bucket of the region holding
 * the writer. Replication runs from the primary bucket to the replica, so after a failover (the
 * primary lost) uploads go to the replica, which CloudFront's origin group then reads first.
 */
export function assetsBucketFor(
  config: StackConfig,
  cdn: Cdn,
): { bucketName: pulumi.Output<string>; bucketRegion: string } {
  if (cdn.uploadsTo === "replica" && cdn.replicaBucketName) {
    return { bucketName: cdn.replicaBucketName, bucketRegion: config.regions.secondary };
  }
  return { bucketName: cdn.bucketName, bucketRegion: config.regions.primary };
}

/**
 * What each region's tasks may use of the state shared across regions, granted ahead of any
 * failover so that a failover changes no IAM policy (IAM's control plane is in us-east-1):
 * - sessions: the web tasks, on their own region's replica only;
 * - cache invalidations: web and worker tasks (every writer) send to every region's queue;
 * - the database: web and worker tasks log in as the app's role with IAM tokens on every
 *   instance of every physical shard in both regions (writer, replicas, the cross-region replica that a failover
 *   promotes), so no password is fetched at task start.
 * @returns the grants, per region and tier, for the services to wait for (Region.startServices)
 */
export function shareRegionalState(
  config: StackConfig,
  regions: Partial<Record<RegionRole, Region>>,
  sessions: SessionStore,
): Partial<Record<RegionRole, TaskRoleGrants>> {
  const grants: Partial<Record<RegionRole, TaskRoleGrants>> = {};
  // In role order, whichever region holds the writer: a failover changes no policy document.
  const present = stackRoles(config).flatMap((role) => regions[role] ?? []);
  for (const region of present) {
    const role = region.role;
    const regionGrants: TaskRoleGrants = { web: [], workers: [] };
    grants[role] = regionGrants;
    regionGrants.web.push(
      sessions.grantReadWrite(`${role}-web`, region.web.taskRoleName, region.region),
    );
    const tasks: Array<{ tier: keyof TaskRoleGrants; roleName: pulumi.Output<string> }> = [
      { tier: "web", roleName: region.web.taskRoleName },
      ...(region.workers
        ? [{ tier: "workers" as const, roleName: region.workers.taskRoleName }]
        : []),
    ];
    for (const { tier, roleName } of tasks) {
      for (const target of present) {
        regionGrants[tier].push(
          target.invalidations.grantSend(`${role}-${tier}-invalidates-${target.role}`, roleName),
        );
      }
      const login = new aws.iam.RolePolicy(
        `${role}-${tier}-database-connect`,
        {
          role: roleName,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            // One statement per region, on any instance there (dbuser:*): built from config, so
            // it waits for no instance (the primary's grant would wait for the cross-region
            // replica). The Service Authorization Reference documents no condition that would
            // name the instances (versions differ on aws:ResourceTag, and not for dbuser), so
            // the user name is the scope: the app's role, rows only, never the master user.
            Statement: REGION_ROLES.map((target) => ({
              Sid: `DatabaseLoginAsAppIn${target === "primary" ? "Primary" : "Secondary"}`,
              Effect: "Allow",
              Action: "rds-db:connect",
              Resource: arnInRegion(
                region.database.kmsKeyArn,
                "rds-db",
                config.regions[target],
                `dbuser:*/${config.database.appUsername}`,
              ),
            })),
          }),
        },
        { parent: region },
      );
      regionGrants[tier].push(login);
    }
  }
  return grants;
}

export function createGeoDns(
  config: StackConfig,
  zone: DnsZone,
  regions: Region[],
  providers: Providers,
): GeoDns {
  return new GeoDns(
    "app-dns",
    {
      zoneId: zone.zoneId,
      ...geoDnsSettings(config, zone.domain),
      regions: regions.map((region) => ({
        role: region.role,
        region: region.region,
        albDnsName: region.web.albDnsName,
        albZoneId: region.web.albZoneId,
        ...geoDnsRegionSettings(config, region.role),
      })),
    },
    { provider: providers.primary },
  );
}

/**
 * The edges' audit trail, in us-east-1: CloudFront's access logs (EdgeLogs), and for a zone this
 * program created its DNS query logs and DNSSEC signing. An existing zone's (`dns.zoneId`) are its
 * owner's: Route53 allows one query-logging configuration per zone (a second fails the deploy,
 * and a destroy here would remove theirs), and a second key-signing key would fight theirs.
 * `dns.dnssec: off` leaves the zone unsigned (README: DNSSEC, turning signing off).
 */
export function createEdgeAudit(
  config: StackConfig,
  cdn: Cdn["edge"],
  zone: DnsZone | undefined,
  providers: Providers,
  logsKey: aws.kms.Key,
): { logs: EdgeLogs; dnssec: DnsSec | undefined } | undefined {
  const ownZone = ownZoneOf(zone) ? zone : undefined;
  // Below the CDN's stage without a zone of its own, the stack has no edge to audit.
  if (!cdn && !ownZone) return undefined;
  const logs = new EdgeLogs(
    "edge-logs",
    {
      retentionDays: config.logs.retentionDays,
      ...(cdn ? { distributionArn: cdn.distributionArn } : {}),
      kmsKeyArn: logsKey.arn,
      ...(ownZone ? { zone: { zoneId: ownZone.zoneId, domain: ownZone.domain } } : {}),
      account: providers.account,
    },
    { provider: providers.usEast1 },
  );
  const dnssec =
    ownZone && config.dns.dnssec === "signing"
      ? new DnsSec(
          "zone-dnssec",
          { zoneId: ownZone.zoneId, account: providers.account },
          { provider: providers.usEast1 },
        )
      : undefined;
  return { logs, dnssec };
}

/** Whether the stack created the zone (`dns.domain` without `dns.zoneId`): its logs and DNSSEC are ours. */
function ownZoneOf(zone: DnsZone | undefined): zone is DnsZone {
  return zone?.nodes.zone !== undefined;
}

export function createGlobalObservability(
  config: StackConfig,
  cdn: Cdn["edge"],
  cdnWebAcl: WebAcl | undefined,
  dns: GeoDns | undefined,
  providers: Providers,
  dnssecZoneId?: pulumi.Input<string>,
): GlobalObservability {
  return new GlobalObservability(
    "global-observability",
    {
      ...(config.alarms.email ? { alarmEmail: config.alarms.email } : {}),
      cdn5xxPercent: config.alarms.http5xxPercent,
      context: contextIn(providers, CLOUDFRONT_WAF_REGION),
      ...(cdn ? { distributionId: cdn.distributionId } : {}),
      ...(dnssecZoneId === undefined ? {} : { dnssecZoneId }),
      ...(cdnWebAcl
        ? {
            webAcl: {
              ...cdnWebAcl.metrics,
              blockedRequestsPerMinute: config.alarms.wafBlockedRequestsPerMinute,
            },
          }
        : {}),
      // One region has no health checks (GeoDns: nothing to fail over to).
      healthChecks: REGION_ROLES.flatMap((role) => {
        const id = dns?.healthCheckIds[role];
        return id ? [{ role, id }] : [];
      }),
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

/** The cookie-signing key: 48 characters of [A-Za-z0-9], about 285 bits. */
const COOKIE_SIGNING_KEY_LENGTH = 48;

/**
 * The app's cookie-signing key (COOKIE_SECRET), one for the stack: both regions sign and verify
 * with it, so a client routed to the other region keeps its signed cookies. Rotate by replacing
 * it (`pulumi up --replace`); cookies signed with the old key then stop counting.
 */
export function createCookieSigningKey(): pulumi.Output<string> {
  const key = new random.RandomPassword("cookie-signing-key", {
    length: COOKIE_SIGNING_KEY_LENGTH,
    special: false,
  });
  return pulumi.secret(key.result);
}
