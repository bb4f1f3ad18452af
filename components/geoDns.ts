import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import { domainNameProblems, throwIfInvalid } from "./validation";

/** Route53's geolocation continent codes; any other two letters are an ISO 3166-1 country. */
const CONTINENT_CODES = ["AF", "AN", "AS", "EU", "OC", "NA", "SA"] as const;
/** Route53 takes subdivisions only for the United States: its states and DC. */
const US_SUBDIVISIONS = new Set(
  (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM " +
    "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
  ).split(" "),
);
/** Three failed checks 30 s apart (about 90 s) before a region's records drop out. */
const HEALTH_CHECK_FAILURE_THRESHOLD = 3;
/** The standard interval; 10 s costs an extra $1 a month per check for a minute's faster failover. */
const HEALTH_CHECK_INTERVAL_SECONDS = 30;
const PORT_BY_PROTOCOL = { HTTPS: 443, HTTP: 80 } as const;
const MAX_RESOURCE_PATH_LENGTH = 255;
const TOTAL_WEIGHT = 100;
/** The label under the app's name that holds the primary/secondary failover pair. */
const FAILOVER_LABEL = "failover";
/** The geolocation default record: everyone no location record claims. */
const DEFAULT_SET_IDENTIFIER = "default";
const DEFAULT_LOCATION: GeoLocation = { country: "*" };
const LABEL_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export type RegionRole = "primary" | "secondary";
const ROLES: readonly RegionRole[] = ["primary", "secondary"];

export interface GeoDnsRegion {
  role: RegionRole;
  /** The AWS region, for names and tags. */
  region: string;
  /** The region's load balancer, the target of its alias records. */
  albDnsName: pulumi.Input<string>;
  albZoneId: pulumi.Input<string>;
  /**
   * What Route53's health checkers request from the load balancer (port 443 for HTTPS, 80 for HTTP).
   * They do not validate the certificate, so HTTPS works against the load balancer's own name.
   * @example { protocol: "HTTPS", path: "/readyz" }
   */
  healthCheck: { protocol: "HTTPS" | "HTTP"; path: string };
  /**
   * Geolocation routing: the continents (AF, AN, AS, EU, OC, NA, SA), countries (ISO 3166-1, e.g.
   * DE) and US states (US-CA) this region serves. AF, AS, NA and SA always mean the continent.
   * Everyone else reaches the default, the primary (or the secondary while the primary is down).
   * @example ["EU", "AF"]
   */
  locations: string[];
}

export interface GeoDnsArgs {
  /** The public hosted zone of `domain`. */
  zoneId: pulumi.Input<string>;
  /**
   * The app's label under `domain`. Changing it replaces every record (and moves the app's name).
   * @example "app" (for app.example.com)
   */
  recordName: string;
  /** @example "example.com" */
  domain: string;
  /**
   * `geolocation`: each region answers for its `locations`, the default goes to the primary and
   * fails over to the secondary. `weighted`: a fixed split across both regions.
   */
  routing: "geolocation" | "weighted";
  /** Weighted routing: the primary's percent (0..100); the secondary gets the rest. */
  primaryWeight: number;
  /**
   * The primary alone (a stack of one region), or one per role. One region gets the same
   * routed records two would (the geolocation default, or the primary's weighted record), aliased
   * straight to its load balancer and without a health check, so adding the secondary only adds
   * and updates records: Route53 refuses a plain record beside routed ones of the same name and
   * type, and Pulumi creates before it deletes.
   */
  regions: GeoDnsRegion[];
  /**
   * Also publish AAAA aliases, for load balancers of ip address type `dualstack`. The load
   * balancers here are IPv4-only, so only A records exist by default.
   * @default false
   */
  dualstack?: boolean;
  /** Change the arguments of a child resource before it is created. */
  transform?: {
    healthCheck?: Transform<aws.route53.HealthCheckArgs>;
    record?: Transform<aws.route53.RecordArgs>;
  };
}

/** One geolocation of a record: a continent, a country, or a US state. */
export interface GeoLocation {
  continent?: string;
  country?: string;
  subdivision?: string;
}

/**
 * Reads a location code: two letters of a continent → the continent; other two letters → a
 * country; `US-XX` → a US state.
 * @throws naming the code and the accepted forms.
 */
export function geolocationFor(code: string): GeoLocation {
  if ((CONTINENT_CODES as readonly string[]).includes(code)) return { continent: code };
  if (/^[A-Z]{2}$/.test(code)) return { country: code };
  const subdivision = /^([A-Z]{2})-([A-Z0-9]{1,3})$/.exec(code);
  if (subdivision?.[1] === "US" && US_SUBDIVISIONS.has(subdivision[2]!)) {
    return { country: "US", subdivision: subdivision[2] };
  }
  if (subdivision) {
    throw new Error(
      `location "${code}": Route53 supports subdivisions only for US states, such as US-CA`,
    );
  }
  throw new Error(
    `location "${code}": use a continent code (${CONTINENT_CODES.join(", ")}), an ISO 3166-1 country code such as DE, or a US state such as US-CA`,
  );
}

/**
 * Splits traffic between the regions: the primary gets `primaryWeight` percent, the secondary
 * the rest. A region with weight 0 gets traffic only while the other is unhealthy.
 * @throws naming the argument when the weight is not a whole number from 0 to 100.
 */
export function weightsFor(primaryWeight: number): Record<RegionRole, number> {
  if (!Number.isInteger(primaryWeight) || primaryWeight < 0 || primaryWeight > TOTAL_WEIGHT) {
    throw new Error(
      `primaryWeight: ${primaryWeight} must be a whole percent from 0 to ${TOTAL_WEIGHT}`,
    );
  }
  return { primary: primaryWeight, secondary: TOTAL_WEIGHT - primaryWeight };
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateGeoDnsArgs(args: GeoDnsArgs): string[] {
  const problems = domainNameProblems("domain", args.domain, "example.com");
  if (!LABEL_PATTERN.test(args.recordName)) {
    problems.push(`recordName: "${args.recordName}" must be one lowercase DNS label such as app`);
  }
  const roles = args.regions.map((region) => region.role).sort();
  if (roles.join() !== ROLES.join() && roles.join() !== "primary") {
    problems.push(
      `regions: got roles [${roles.join(", ")}]; pass the primary alone, or one primary and one secondary`,
    );
  }
  const seen = new Map<string, RegionRole>();
  for (const region of args.regions) {
    const path = region.healthCheck.path;
    if (!path.startsWith("/") || path.length > MAX_RESOURCE_PATH_LENGTH) {
      problems.push(
        `regions.${region.role}.healthCheck.path: "${path}" must start with / and have at most ${MAX_RESOURCE_PATH_LENGTH} characters`,
      );
    }
    for (const code of region.locations) {
      try {
        geolocationFor(code);
      } catch (error) {
        problems.push(`regions.${region.role}.locations: ${(error as Error).message}`);
      }
      const owner = seen.get(code);
      if (owner !== undefined) {
        problems.push(
          `regions.${region.role}.locations: "${code}" is listed for ${owner} already; each location routes to one region`,
        );
      }
      seen.set(code, region.role);
    }
  }
  try {
    weightsFor(args.primaryWeight);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}

/**
 * The app's public name (`app.<domain>`), answered per region by Route53 with health checks, so
 * users reach the nearest healthy region and everyone reaches a healthy one when a region fails
 * (the seeds' GeoDNS and "direct all traffic to a healthy data center").
 *
 * Each region gets an HTTPS health check on its load balancer. Geolocation routing:
 * - one alias record per location code, to its region's load balancer, tied to that region's
 *   health check (and `evaluateTargetHealth`, so a load balancer with no healthy targets counts
 *   as down too); a failed region's records drop out and its users fall through to the default;
 * - the default record (`*`) aliases `failover.app.<domain>`, a failover pair (PRIMARY: primary
 *   region, SECONDARY: secondary region), so the default still answers when the primary is down.
 *
 * Weighted routing: two weighted alias records (x% / 100−x%) with the same health checks.
 *
 * One region (the primary alone) gets the same routed records, aliased straight to its load
 * balancer: the geolocation default (`${name}-default`, `*`), or its weighted record. No location
 * records (they would all answer the same) and no health check: with one answer, Route53 answers
 * it healthy or not (an unhealthy last record is still returned), so a check would only cost
 * $1.50 a month; the region's own alarms watch its load balancer. The second region then adds
 * records and health checks and updates the default's target in place (README: The path).
 *
 * @example
 * ```ts
 * new GeoDns("app-dns", {
 *   zoneId: zone.zoneId, recordName: "app", domain: "example.com",
 *   routing: "geolocation", primaryWeight: 50,
 *   regions: [
 *     { role: "primary", region: "us-east-1", albDnsName, albZoneId, healthCheck: { protocol: "HTTPS", path: "/readyz" }, locations: ["NA", "SA"] },
 *     { role: "secondary", region: "eu-west-1", albDnsName: euDns, albZoneId: euZone, healthCheck: { protocol: "HTTPS", path: "/readyz" }, locations: ["EU", "AF"] },
 *   ],
 * }, { provider });
 * ```
 *
 * Cost: $1.50 a month per HTTPS health check on an AWS endpoint ($0.50 for HTTP), so about $3;
 * alias queries to load balancers are free.
 */
export class GeoDns extends pulumi.ComponentResource {
  /** The app's name, `<recordName>.<domain>`. */
  readonly fqdn: string;
  /** Each region's health check; none with one region. */
  readonly healthCheckIds: Partial<Record<RegionRole, pulumi.Output<string>>>;

  private readonly healthChecks: Partial<Record<RegionRole, aws.route53.HealthCheck>>;
  private readonly records: aws.route53.Record[];

  constructor(name: string, args: GeoDnsArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:GeoDns", name, {}, opts);
    throwIfInvalid("GeoDns", name, validateGeoDnsArgs(args));
    const primary = regionOf(args, "primary")!;
    const secondary = regionOf(args, "secondary");
    this.fqdn = `${args.recordName}.${args.domain}`;

    if (secondary === undefined) {
      this.healthChecks = {};
      this.records = this.createSingleRegionRecords(name, primary, args);
    } else {
      const regions = { primary, secondary };
      const checks = {
        primary: this.createHealthCheck(name, regions.primary, args),
        secondary: this.createHealthCheck(name, regions.secondary, args),
      };
      this.healthChecks = checks;
      this.records =
        args.routing === "geolocation"
          ? [
              ...this.createGeolocationRecords(name, regions, checks, args),
              ...this.createDefaultRecords(name, regions, checks, args),
            ]
          : this.createWeightedRecords(name, regions, checks, args);
    }

    this.healthCheckIds = Object.fromEntries(
      Object.entries(this.healthChecks).map(([role, check]) => [role, check.id]),
    );
    this.registerOutputs({ fqdn: this.fqdn, healthCheckIds: this.healthCheckIds });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return { healthChecks: this.healthChecks, records: this.records };
  }

  private createHealthCheck(
    name: string,
    region: GeoDnsRegion,
    args: GeoDnsArgs,
  ): aws.route53.HealthCheck {
    const { protocol, path } = region.healthCheck;
    return new aws.route53.HealthCheck(
      `${name}-${region.role}-health`,
      transform(args.transform?.healthCheck, {
        type: protocol,
        fqdn: region.albDnsName,
        port: PORT_BY_PROTOCOL[protocol],
        resourcePath: path,
        failureThreshold: HEALTH_CHECK_FAILURE_THRESHOLD,
        requestInterval: HEALTH_CHECK_INTERVAL_SECONDS,
        tags: tierTags("dns", { Name: `${this.fqdn} ${region.role} ${region.region}` }),
      }),
      { parent: this },
    );
  }

  /**
   * One region: the record the two-region layout keeps under the same logical name and set
   * identifier (the geolocation default, or the primary's weighted record), to the load balancer.
   */
  private createSingleRegionRecords(
    name: string,
    primary: GeoDnsRegion,
    args: GeoDnsArgs,
  ): aws.route53.Record[] {
    if (args.routing === "weighted") {
      return this.createAliasRecords(`${name}-primary-weighted`, args, {
        name: this.fqdn,
        setIdentifier: "primary",
        weightedRoutingPolicies: [{ weight: weightsFor(args.primaryWeight).primary }],
        aliases: [albAlias(primary)],
      });
    }
    return this.createAliasRecords(`${name}-default`, args, {
      name: this.fqdn,
      setIdentifier: DEFAULT_SET_IDENTIFIER,
      geolocationRoutingPolicies: [DEFAULT_LOCATION],
      aliases: [albAlias(primary)],
    });
  }

  private createGeolocationRecords(
    name: string,
    regions: Record<RegionRole, GeoDnsRegion>,
    checks: Record<RegionRole, aws.route53.HealthCheck>,
    args: GeoDnsArgs,
  ): aws.route53.Record[] {
    return ROLES.flatMap((role) =>
      regions[role].locations.flatMap((code) =>
        this.createAliasRecords(`${name}-${role}-${code}`, args, {
          name: this.fqdn,
          setIdentifier: `${role}-${code}`,
          geolocationRoutingPolicies: [geolocationFor(code)],
          healthCheckId: checks[role].id,
          aliases: [albAlias(regions[role])],
        }),
      ),
    );
  }

  private createDefaultRecords(
    name: string,
    regions: Record<RegionRole, GeoDnsRegion>,
    checks: Record<RegionRole, aws.route53.HealthCheck>,
    args: GeoDnsArgs,
  ): aws.route53.Record[] {
    const failoverName = `${FAILOVER_LABEL}.${this.fqdn}`;
    const failover = ROLES.flatMap((role) =>
      this.createAliasRecords(`${name}-failover-${role}`, args, {
        name: failoverName,
        setIdentifier: role,
        failoverRoutingPolicies: [{ type: role === "primary" ? "PRIMARY" : "SECONDARY" }],
        healthCheckId: checks[role].id,
        aliases: [albAlias(regions[role])],
      }),
    );
    // Route53 rejects an alias to a name in the zone that does not exist yet.
    const fallback = this.createAliasRecords(
      `${name}-default`,
      args,
      {
        name: this.fqdn,
        setIdentifier: DEFAULT_SET_IDENTIFIER,
        geolocationRoutingPolicies: [DEFAULT_LOCATION],
        aliases: [{ name: failoverName, zoneId: args.zoneId, evaluateTargetHealth: true }],
      },
      failover,
    );
    return [...failover, ...fallback];
  }

  private createWeightedRecords(
    name: string,
    regions: Record<RegionRole, GeoDnsRegion>,
    checks: Record<RegionRole, aws.route53.HealthCheck>,
    args: GeoDnsArgs,
  ): aws.route53.Record[] {
    const weights = weightsFor(args.primaryWeight);
    return ROLES.flatMap((role) =>
      this.createAliasRecords(`${name}-${role}-weighted`, args, {
        name: this.fqdn,
        setIdentifier: role,
        weightedRoutingPolicies: [{ weight: weights[role] }],
        healthCheckId: checks[role].id,
        aliases: [albAlias(regions[role])],
      }),
    );
  }

  /** An A record (and an AAAA twin when dualstack) with the given routing and alias target. */
  private createAliasRecords(
    logicalName: string,
    args: GeoDnsArgs,
    record: Omit<aws.route53.RecordArgs, "zoneId" | "type">,
    dependsOn: pulumi.Resource[] = [],
  ): aws.route53.Record[] {
    const types = (args.dualstack ?? false) ? (["A", "AAAA"] as const) : (["A"] as const);
    return types.map(
      (type) =>
        new aws.route53.Record(
          type === "A" ? logicalName : `${logicalName}-aaaa`,
          transform(args.transform?.record, { ...record, zoneId: args.zoneId, type }),
          { parent: this, dependsOn },
        ),
    );
  }
}

function regionOf(args: GeoDnsArgs, role: RegionRole): GeoDnsRegion | undefined {
  return args.regions.find((region) => region.role === role);
}

function albAlias(region: GeoDnsRegion): aws.types.input.route53.RecordAlias {
  return { name: region.albDnsName, zoneId: region.albZoneId, evaluateTargetHealth: true };
}
