/**
 * Every resource type the program synthesizes, classified: `PRICED` types have a meter that turns
 * one resource into monthly charges (capacity from the synth, use from usage.ts, unit prices from
 * prices.ts); `FREE` types carry no charge of their own, with the reason. A type in neither is
 * reported as unclassified and fails `npm run cost` and its test: nothing that costs money is
 * silently free.
 */
import { METRIC_UNITS } from "../../app/src/metrics";
import type { References } from "../references";
import type { SynthResource } from "../synth";
import type { Tier } from "../tiers";
import { GLOBAL_REGION } from "../tiers";
import {
  add,
  range,
  scale,
  ZERO,
  type Capacity,
  type Range,
  type ServiceCapacity,
} from "./capacity";
import {
  HOURS_PER_MONTH,
  PRICE_TABLE_FILE,
  type Discount,
  type GlobalPrices,
  type Price,
  type RegionalPrices,
} from "./prices";
import type { UsageAssumptions } from "./usage";

/** What a meter may read. */
export interface MeterContext {
  readonly usage: UsageAssumptions;
  /** @throws for a region the price table lacks. */
  regional(region: string): RegionalPrices;
  readonly global: GlobalPrices;
  readonly capacity: Capacity;
  readonly references: References;
  readonly resources: readonly SynthResource[];
  tierOf(resource: SynthResource): Tier | undefined;
}

/** One charge on the bill: `quantity` units at `unitUsd` a unit, per month. */
export interface Charge {
  readonly meter: string;
  readonly quantity: Range;
  readonly unit: string;
  readonly unitUsd: number;
  /** The table entries the unit price came from (dated, with their pages). */
  readonly basis: readonly (Price | Discount)[];
  /** Set when billed in another region than the resource's (replica storage, transfer out). */
  readonly region?: string;
}

export type Meter = (resource: SynthResource, ctx: MeterContext) => Charge[];

const HOURS = range(HOURS_PER_MONTH);
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const KB_PER_GB = 1_000_000;

function charge(
  meter: string,
  quantity: Range,
  price: Price,
  options: { discount?: Discount; multiplier?: number; region?: string } = {},
): Charge {
  const { discount, multiplier = 1, region } = options;
  return {
    meter,
    quantity,
    unit: price.unit,
    unitUsd: price.usd * multiplier * (1 - (discount?.share ?? 0)),
    basis: discount ? [price, discount] : [price],
    ...(region === undefined ? {} : { region }),
  };
}

const regionOf = (resource: SynthResource) => resource.region ?? GLOBAL_REGION;
const prices = (resource: SynthResource, ctx: MeterContext) => ctx.regional(regionOf(resource));
const num = (value: unknown, fallback = 0) =>
  value === undefined || value === null || value === "" ? fallback : Number(value);

/** Monthly traffic through one region's load balancers and out to the internet (GB). */
function webGb(ctx: MeterContext, region: string): Range {
  const { requestsPerSecondPerTask, kbPerRequest } = ctx.usage.web;
  const perTask = (requestsPerSecondPerTask * SECONDS_PER_MONTH * kbPerRequest) / KB_PER_GB;
  return scale(ctx.capacity.webTasks(region), perTask);
}

function webRequests(ctx: MeterContext, tasks: Range): Range {
  return scale(tasks, ctx.usage.web.requestsPerSecondPerTask * SECONDS_PER_MONTH);
}

/** The regions with a database writer (an instance that replicates from nothing). */
function writerRegions(ctx: MeterContext): Set<string> {
  return new Set(
    ctx.resources
      .filter((r) => r.type === "aws:rds/instance:Instance" && !r.inputs.replicateSourceDb)
      .map(regionOf),
  );
}

function lookup(
  table: Readonly<Record<string, Price>>,
  key: string,
  what: string,
  resource: SynthResource,
): Price {
  const found = table[key];
  if (found === undefined) {
    throw new Error(
      `${resource.name}: no price for ${what} ${key} in ${regionOf(resource)} in the price table ` +
        `${PRICE_TABLE_FILE} (it has ${Object.keys(table).join(", ")}). Fix: add it from the AWS pricing page, with its date.`,
    );
  }
  return found;
}

const natGateway: Meter = (resource, ctx) => {
  const region = regionOf(resource);
  const p = prices(resource, ctx).natGateway;
  const gateways = ctx.resources.filter(
    (r) => r.type === resource.type && regionOf(r) === region,
  ).length;
  const gb = scale(ctx.capacity.tasks(region), ctx.usage.nat.gbPerTaskMonth / gateways);
  return [
    charge("NAT gateway hours", HOURS, p.hour),
    charge("NAT data processed", gb, p.gbProcessed),
  ];
};

const publicIpv4: Meter = (resource, ctx) => [
  charge("public IPv4 address", HOURS, prices(resource, ctx).publicIpv4Hour),
];

const vpcEndpoint: Meter = (resource, ctx) => {
  if (resource.inputs.vpcEndpointType !== "Interface") return []; // gateway endpoints are free
  const azs = ((resource.inputs.subnetIds as unknown[] | undefined) ?? []).length;
  return [
    charge(
      "interface endpoint AZ-hours",
      range(HOURS_PER_MONTH * azs),
      prices(resource, ctx).vpcInterfaceEndpoint.azHour,
    ),
  ];
};

const loadBalancer: Meter = (resource, ctx) => {
  const type = resource.inputs.loadBalancerType ?? "application";
  if (type !== "application") {
    throw new Error(
      `${resource.name}: a ${String(type)} load balancer has no meter in tools/cost/meters.ts (only application). Fix: add its prices and meter.`,
    );
  }
  const region = regionOf(resource);
  const p = prices(resource, ctx);
  const gb = webGb(ctx, region);
  // Processed bytes lead the LCU dimensions for this app's mix: 1 LCU = 1 GB an hour.
  const lcuHours = gb;
  const charges = [
    charge("ALB hours", HOURS, p.alb.hour),
    charge("ALB capacity units (1 GB/hour each)", lcuHours, p.alb.lcuHour),
  ];
  if (resource.inputs.internal !== true) {
    const nodes = ((resource.inputs.subnets as unknown[] | undefined) ?? []).length;
    charges.push(
      charge(
        "ALB public IPv4 addresses (one per AZ)",
        range(HOURS_PER_MONTH * nodes),
        p.publicIpv4Hour,
      ),
      charge(
        "responses to the internet",
        scale(gb, ctx.usage.web.responseShare),
        p.transfer.internetOutGb,
      ),
    );
  }
  return charges;
};

function fargate(capacity: ServiceCapacity, p: RegionalPrices): Charge[] {
  const rates = p.fargate[capacity.architecture];
  const onDemand = range(
    capacity.tasks.min - capacity.spotTasks.min,
    capacity.tasks.max - capacity.spotTasks.max,
  );
  const hours = (tasks: Range, per: number) => scale(tasks, HOURS_PER_MONTH * per);
  const charges = [
    charge("Fargate vCPU (on-demand)", hours(onDemand, capacity.vcpu), rates.vcpuHour),
    charge("Fargate memory (on-demand)", hours(onDemand, capacity.memoryGb), rates.gbHour),
  ];
  if (capacity.spotTasks.max > 0) {
    const discount = p.fargate.spotDiscount;
    charges.push(
      charge("Fargate vCPU (Spot)", hours(capacity.spotTasks, capacity.vcpu), rates.vcpuHour, {
        discount,
      }),
      charge("Fargate memory (Spot)", hours(capacity.spotTasks, capacity.memoryGb), rates.gbHour, {
        discount,
      }),
    );
  }
  return charges.filter((c) => c.quantity.max > 0);
}

/** The app's metrics (docs/CONTRACT.md), published by every web and worker service. */
const APP_METRICS = Object.keys(METRIC_UNITS).length;

const ecsService: Meter = (resource, ctx) => {
  const capacity = ctx.capacity.of(resource);
  const p = prices(resource, ctx);
  const metrics =
    capacity.role === "other"
      ? []
      : [
          charge(
            "app metrics (EMF, one Service dimension)",
            range(APP_METRICS),
            p.cloudwatch.customMetricMonth,
          ),
        ];
  return [...fargate(capacity, p), ...metrics];
};

const ecsCluster: Meter = (resource, ctx) => {
  const settings = (resource.inputs.settings ?? []) as { name: string; value: string }[];
  const insights = settings.find((s) => s.name === "containerInsights")?.value;
  if (insights !== "enabled" && insights !== "enhanced") return [];
  const p = prices(resource, ctx).cloudwatch;
  const services = ctx.capacity.services.filter(
    (s) => ctx.references.resolve(s.service.inputs.cluster) === resource,
  );
  const tasks = services.reduce((total, s) => add(total, s.tasks), ZERO);
  const { metricsPerCluster, metricsPerService, gbPerTaskMonth } = ctx.usage.containerInsights;
  return [
    charge(
      "Container Insights metrics",
      range(metricsPerCluster + metricsPerService * services.length),
      p.customMetricMonth,
    ),
    charge("Container Insights performance logs", scale(tasks, gbPerTaskMonth), p.logsIngestedGb),
  ];
};

const rdsInstance: Meter = (resource, ctx) => {
  const p = prices(resource, ctx);
  const copies = resource.inputs.multiAz === true ? 2 : 1;
  const az = copies === 2 ? " (Multi-AZ)" : "";
  const instanceClass = String(resource.inputs.instanceClass);
  const engine = String(resource.inputs.engine ?? "postgres");
  const source = ctx.references.resolve(resource.inputs.replicateSourceDb);
  if (resource.inputs.replicateSourceDb && !source) {
    throw new Error(`${resource.name}: its replication source is not in the synth`);
  }
  const sourceEngine = String(source?.inputs.engine ?? engine);
  if (sourceEngine !== "postgres") {
    throw new Error(
      `${resource.name}: engine ${sourceEngine} has no prices in ${PRICE_TABLE_FILE} (PostgreSQL only). Fix: add them.`,
    );
  }
  const storageType = String(resource.inputs.storageType ?? source?.inputs.storageType ?? "gp3");
  if (storageType !== "gp3" && storageType !== "gp2") {
    throw new Error(
      `${resource.name}: ${storageType} storage has no prices in ${PRICE_TABLE_FILE} (gp2/gp3). Fix: add them.`,
    );
  }
  const allocated = num(resource.inputs.allocatedStorage, num(source?.inputs.allocatedStorage));
  const ceiling = num(resource.inputs.maxAllocatedStorage, allocated);
  const charges = [
    charge(
      `${instanceClass} instance hours${az}`,
      HOURS,
      lookup(p.rds.postgresInstanceHour, instanceClass, "RDS PostgreSQL class", resource),
      { multiplier: copies },
    ),
    // gp2 and gp3 share a price per GB in the priced regions; storage autoscaling sets the max.
    charge(`storage${az}`, range(allocated, Math.max(allocated, ceiling)), p.rds.gp3GbMonth, {
      multiplier: copies,
    }),
  ];
  const exports = (resource.inputs.enabledCloudwatchLogsExports ?? []) as unknown[];
  if (exports.length > 0) {
    charges.push(
      charge(
        "PostgreSQL logs to CloudWatch",
        range(ctx.usage.database.logsGbPerInstanceMonth),
        p.cloudwatch.logsIngestedGb,
      ),
    );
  }
  if (resource.inputs.manageMasterUserPassword === true) {
    charges.push(charge("master password secret (RDS-managed)", range(1), p.secretMonth));
  }
  if (source && regionOf(source) !== regionOf(resource)) {
    const wal = scale(ctx.capacity.webTasks(), ctx.usage.database.walGbPerWebTaskMonth);
    charges.push(
      charge(
        `replication from ${regionOf(source)} (WAL at the stated write volume)`,
        wal,
        ctx.regional(regionOf(source)).transfer.interRegionGb,
        { region: regionOf(source) },
      ),
    );
  }
  return charges;
};

const cacheReplicationGroup: Meter = (resource, ctx) => {
  const p = prices(resource, ctx).elasticache;
  const nodes =
    resource.inputs.numCacheClusters !== undefined
      ? num(resource.inputs.numCacheClusters)
      : num(resource.inputs.numNodeGroups, 1) * (num(resource.inputs.replicasPerNodeGroup) + 1);
  const nodeType = String(resource.inputs.nodeType);
  const engine = String(resource.inputs.engine ?? "redis");
  const nodePrice = lookup(p.redisNodeHour, nodeType, "ElastiCache node type", resource);
  return [
    charge(`${nodes} × ${nodeType} ${engine} node hours`, scale(HOURS, nodes), nodePrice, {
      ...(engine === "valkey" ? { discount: p.valkeyDiscount } : {}),
    }),
  ];
};

const cloudfrontDistribution: Meter = (_resource, ctx) => {
  const p = ctx.global.cloudfront;
  const gb = scale(ctx.capacity.webTasks(), ctx.usage.cdn.gbPerWebTaskMonth);
  return [
    charge("CloudFront data to viewers", gb, p.gbOut),
    charge(
      "CloudFront HTTPS requests",
      scale(gb, ctx.usage.cdn.requestsPerGb / 10_000),
      p.tenThousandHttpsRequests,
    ),
  ];
};

const cloudfrontMonitoring: Meter = (_resource, ctx) => [
  charge(
    "CloudFront additional metrics",
    range(1),
    ctx.global.cloudfront.additionalMetricsPerDistribution,
  ),
];

const hostedZone: Meter = (_resource, ctx) => [
  charge("hosted zone", range(1), ctx.global.route53.hostedZoneMonth),
];

/** Route53 bills these health check settings as optional features. */
function healthCheckFeatures(inputs: Record<string, unknown>): string[] {
  const type = String(inputs.type ?? "");
  return [
    ...(type.startsWith("HTTPS") ? ["HTTPS"] : []),
    ...(type.endsWith("STR_MATCH") ? ["string matching"] : []),
    ...(num(inputs.requestInterval, 30) < 30 ? ["fast interval"] : []),
    ...(inputs.measureLatency === true ? ["latency measurement"] : []),
  ];
}

const healthCheck: Meter = (resource, ctx) => {
  const p = ctx.global.route53;
  const fqdn = String(resource.inputs.fqdn ?? "");
  const onAws = fqdn.endsWith(".amazonaws.com");
  const features = healthCheckFeatures(resource.inputs);
  const charges = [
    charge(
      `health check (${onAws ? "AWS" : "other"} endpoint)`,
      range(1),
      onAws ? p.healthCheckAwsEndpointMonth : p.healthCheckOtherEndpointMonth,
    ),
  ];
  if (features.length > 0) {
    charges.push(
      charge(
        `health check features: ${features.join(", ")}`,
        range(features.length),
        onAws ? p.optionalFeatureAwsEndpointMonth : p.optionalFeatureOtherEndpointMonth,
      ),
    );
  }
  return charges;
};

/** Months a log group keeps what it ingests (no retention: a year is assumed). */
const MONTHS_KEPT_WITHOUT_RETENTION = 12;
const DAYS_PER_MONTH = 30;

const logGroup: Meter = (resource, ctx) => {
  const region = regionOf(resource);
  const { logs } = ctx.usage;
  const tier = ctx.tierOf(resource);
  const ingested =
    tier === "web"
      ? scale(ctx.capacity.webTasks(region), logs.webGbPerTaskMonth)
      : tier === "queue"
        ? scale(ctx.capacity.workerTasks(region), logs.workerGbPerTaskMonth)
        : tier === "network"
          ? add(
              scale(ctx.capacity.tasks(region), logs.flowLogGbPerTaskMonth),
              range(logs.flowLogBaseGbPerVpcMonth),
            )
          : range(logs.otherGbPerGroupMonth);
  const retentionDays = num(resource.inputs.retentionInDays);
  const monthsKept =
    retentionDays > 0 ? retentionDays / DAYS_PER_MONTH : MONTHS_KEPT_WITHOUT_RETENTION;
  const p = prices(resource, ctx).cloudwatch;
  return [
    charge("logs ingested", ingested, p.logsIngestedGb),
    charge(
      `logs stored (${retentionDays > 0 ? `${retentionDays} days` : "no expiry"})`,
      scale(ingested, monthsKept),
      p.logsStoredGbMonth,
    ),
  ];
};

/** Alarms on metrics reported more often than once a minute are high resolution. */
const STANDARD_RESOLUTION_SECONDS = 60;

const metricAlarm: Meter = (resource, ctx) => {
  const p = prices(resource, ctx).cloudwatch;
  const queries = (resource.inputs.metricQueries ?? []) as {
    metric?: { period?: number };
  }[];
  const periods =
    queries.length > 0
      ? queries.flatMap((q) => (q.metric ? [num(q.metric.period, 60)] : []))
      : [num(resource.inputs.period, 60)];
  const highResolution = periods.some((period) => period < STANDARD_RESOLUTION_SECONDS);
  return [
    charge(
      `alarm over ${periods.length} metric${periods.length === 1 ? "" : "s"}`,
      range(periods.length),
      highResolution ? p.highResolutionAlarmMetricMonth : p.alarmMetricMonth,
    ),
  ];
};

const dashboard: Meter = (resource, ctx) => [
  charge("dashboard", range(1), prices(resource, ctx).cloudwatch.dashboardMonth),
];

/** A rotated key adds one month's fee for each of its first two rotations. */
const MAX_ROTATIONS_BILLED = 2;

const kmsKey: Meter = (resource, ctx) => [
  charge(
    resource.inputs.enableKeyRotation === true
      ? "customer managed key (max: after two rotations)"
      : "customer managed key",
    range(1, resource.inputs.enableKeyRotation === true ? 1 + MAX_ROTATIONS_BILLED : 1),
    prices(resource, ctx).kmsKeyMonth,
  ),
];

const secret: Meter = (resource, ctx) => [
  charge("secret", range(1), prices(resource, ctx).secretMonth),
];

const bucket: Meter = (resource, ctx) => {
  const { gbPerWebTaskMonth, monthsKept } = ctx.usage.uploads;
  return [
    charge(
      "S3 Standard storage (uploads kept)",
      scale(ctx.capacity.webTasks(), gbPerWebTaskMonth * monthsKept),
      prices(resource, ctx).s3StandardGbMonth,
    ),
  ];
};

const bucketReplication: Meter = (resource, ctx) => {
  const rules = (resource.inputs.rules ?? []) as {
    status?: string;
    destination?: { bucket?: string };
  }[];
  const uploads = scale(ctx.capacity.webTasks(), ctx.usage.uploads.gbPerWebTaskMonth);
  return rules
    .filter((rule) => rule.status === "Enabled")
    .map((rule) => ctx.references.resolve(rule.destination?.bucket))
    .filter((destination) => destination && regionOf(destination) !== regionOf(resource))
    .map((destination) =>
      charge(
        `uploads replicated to ${regionOf(destination!)}`,
        uploads,
        prices(resource, ctx).transfer.interRegionGb,
      ),
    );
};

const queue: Meter = (resource, ctx) => {
  // A dead-letter queue sees only the rare failed job.
  if (resource.inputs.redrivePolicy === undefined) return [];
  const region = regionOf(resource);
  const { jobsPerWebTaskMonth, requestsPerJob, idleReceivesPerWorkerTaskMonth } = ctx.usage.queue;
  const requests = add(
    scale(ctx.capacity.webTasks(region), jobsPerWebTaskMonth * requestsPerJob),
    scale(ctx.capacity.workerTasks(region), idleReceivesPerWorkerTaskMonth),
  );
  return [
    charge(
      "SQS requests",
      scale(requests, 1 / 1_000_000),
      prices(resource, ctx).sqsMillionRequests,
    ),
  ];
};

const ecrRepository: Meter = (resource, ctx) => {
  const { imageGb, imagesKept } = ctx.usage.images;
  return [charge("image storage", range(imageGb * imagesKept), prices(resource, ctx).ecrGbMonth)];
};

const ecrReplication: Meter = (resource, ctx) => {
  const { imageGb, imagesKept, deploysPerMonth } = ctx.usage.images;
  const rules = ((resource.inputs.replicationConfiguration as { rules?: unknown[] } | undefined)
    ?.rules ?? []) as { destinations?: { region: string }[] }[];
  const destinations = rules.flatMap((rule) => rule.destinations ?? []).map((d) => d.region);
  return destinations
    .filter((region) => region !== regionOf(resource))
    .flatMap((region) => [
      charge(
        `image storage (replica in ${region})`,
        range(imageGb * imagesKept),
        ctx.regional(region).ecrGbMonth,
        {
          region,
        },
      ),
      charge(
        `images replicated to ${region}`,
        range(imageGb * deploysPerMonth),
        prices(resource, ctx).transfer.interRegionGb,
      ),
    ]);
};

const peering: Meter = (resource, ctx) => {
  const writers = writerRegions(ctx);
  const regions = new Set(ctx.capacity.services.map((s) => s.region));
  const remoteTasks = [...regions]
    .filter((region) => !writers.has(region))
    .reduce((total, region) => add(total, ctx.capacity.webTasks(region)), ZERO);
  return [
    charge(
      "traffic to the other region's writer",
      scale(remoteTasks, ctx.usage.crossRegion.peeringGbPerWebTaskMonth),
      prices(resource, ctx).transfer.interRegionGb,
    ),
  ];
};

/** A global table's replica in its own region (TableReplica): every write replicated, and a copy of the data. */
const dynamodbTableReplica: Meter = (resource, ctx) => {
  const p = prices(resource, ctx).dynamodb;
  const { writeUnitsPerWebTaskSecond, storedGb } = ctx.usage.dynamodb;
  const writes = scale(
    ctx.capacity.webTasks(),
    (writeUnitsPerWebTaskSecond * SECONDS_PER_MONTH) / 1_000_000,
  );
  return [
    charge("replicated writes (millions)", writes, p.millionWriteRequestUnits),
    charge("storage", range(storedGb), p.storageGbMonth),
  ];
};

const dynamodbTable: Meter = (resource, ctx) => {
  const p = prices(resource, ctx).dynamodb;
  const { writeUnitsPerWebTaskSecond, readUnitsPerWebTaskSecond, storedGb } = ctx.usage.dynamodb;
  const replicas = ((resource.inputs.replicas ?? []) as { regionName: string }[]).map(
    (r) => r.regionName,
  );
  const storage = charge("storage", range(storedGb), p.storageGbMonth);
  if (resource.inputs.billingMode === "PAY_PER_REQUEST") {
    const perSecond = (units: number) =>
      scale(ctx.capacity.webTasks(), (units * SECONDS_PER_MONTH) / 1_000_000);
    const writes = perSecond(writeUnitsPerWebTaskSecond);
    return [
      charge("write request units (millions)", writes, p.millionWriteRequestUnits),
      charge(
        "read request units (millions)",
        perSecond(readUnitsPerWebTaskSecond),
        p.millionReadRequestUnits,
      ),
      storage,
      ...replicas.flatMap((region) => [
        charge(
          `replicated writes in ${region} (millions)`,
          writes,
          ctx.regional(region).dynamodb.millionWriteRequestUnits,
          { region },
        ),
        charge(
          `storage in ${region}`,
          range(storedGb),
          ctx.regional(region).dynamodb.storageGbMonth,
          { region },
        ),
      ]),
    ];
  }
  return [
    charge(
      "write capacity",
      scale(HOURS, num(resource.inputs.writeCapacity)),
      p.writeCapacityUnitHour,
    ),
    charge(
      "read capacity",
      scale(HOURS, num(resource.inputs.readCapacity)),
      p.readCapacityUnitHour,
    ),
    storage,
  ];
};

const webAcl: Meter = (resource, ctx) => {
  const p = ctx.global.waf;
  const rules = ((resource.inputs.rules ?? []) as unknown[]).length;
  const requests =
    resource.inputs.scope === "CLOUDFRONT"
      ? scale(
          ctx.capacity.webTasks(),
          ctx.usage.cdn.gbPerWebTaskMonth * ctx.usage.cdn.requestsPerGb,
        )
      : webRequests(ctx, ctx.capacity.webTasks(regionOf(resource)));
  return [
    charge("web ACL", range(1), p.webAclMonth),
    charge("rules", range(rules), p.ruleMonth),
    charge("requests inspected (millions)", scale(requests, 1 / 1_000_000), p.millionRequests),
  ];
};

/** Types with a charge of their own, and how it is counted. */
export const PRICED: Readonly<Record<string, Meter>> = {
  "aws:ec2/natGateway:NatGateway": natGateway,
  "aws:ec2/eip:Eip": publicIpv4,
  "aws:ec2/vpcEndpoint:VpcEndpoint": vpcEndpoint,
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": peering,
  "aws:lb/loadBalancer:LoadBalancer": loadBalancer,
  "aws:ecs/service:Service": ecsService,
  "aws:ecs/cluster:Cluster": ecsCluster,
  "aws:rds/instance:Instance": rdsInstance,
  "aws:elasticache/replicationGroup:ReplicationGroup": cacheReplicationGroup,
  "aws:cloudfront/distribution:Distribution": cloudfrontDistribution,
  "aws:cloudfront/monitoringSubscription:MonitoringSubscription": cloudfrontMonitoring,
  "aws:route53/zone:Zone": hostedZone,
  "aws:route53/healthCheck:HealthCheck": healthCheck,
  "aws:cloudwatch/logGroup:LogGroup": logGroup,
  "aws:cloudwatch/metricAlarm:MetricAlarm": metricAlarm,
  "aws:cloudwatch/dashboard:Dashboard": dashboard,
  "aws:kms/key:Key": kmsKey,
  "aws:secretsmanager/secret:Secret": secret,
  "aws:s3/bucket:Bucket": bucket,
  "aws:s3/bucketReplicationConfig:BucketReplicationConfig": bucketReplication,
  "aws:sqs/queue:Queue": queue,
  "aws:ecr/repository:Repository": ecrRepository,
  "aws:ecr/replicationConfiguration:ReplicationConfiguration": ecrReplication,
  "aws:dynamodb/table:Table": dynamodbTable,
  "aws:dynamodb/tableReplica:TableReplica": dynamodbTableReplica,
  "aws:wafv2/webAcl:WebAcl": webAcl,
};

const CONFIGURATION = "configuration of a priced resource: no charge of its own";
const NETWORK_PLUMBING =
  "VPC plumbing: no charge (traffic is billed at the NAT gateways and endpoints)";

/** Types AWS does not bill for themselves, and why. */
export const FREE: Readonly<Record<string, string>> = {
  "aws:acm/certificate:Certificate": "public ACM certificates are free",
  "aws:acm/certificateValidation:CertificateValidation": "a wait for validation, not a resource",
  "aws:appautoscaling/policy:Policy": "Application Auto Scaling is free",
  "aws:appautoscaling/target:Target":
    "Application Auto Scaling is free (its bounds size the ECS services)",
  "aws:cloudfront/cachePolicy:CachePolicy": CONFIGURATION,
  "aws:cloudfront/originAccessControl:OriginAccessControl": CONFIGURATION,
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": CONFIGURATION,
  "aws:cloudwatch/logDelivery:LogDelivery":
    "billed as vended logs delivered to its log group ($0.50 per GB), with the log group's storage",
  "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": CONFIGURATION,
  "aws:cloudwatch/logDeliverySource:LogDeliverySource": CONFIGURATION,
  "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": CONFIGURATION,
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": NETWORK_PLUMBING,
  "aws:ec2/flowLog:FlowLog": "billed as logs ingested by its log group",
  "aws:ec2/internetGateway:InternetGateway": NETWORK_PLUMBING,
  "aws:ec2/route:Route": NETWORK_PLUMBING,
  "aws:ec2/routeTable:RouteTable": NETWORK_PLUMBING,
  "aws:ec2/routeTableAssociation:RouteTableAssociation": NETWORK_PLUMBING,
  "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation": NETWORK_PLUMBING,
  "aws:ec2/securityGroup:SecurityGroup": NETWORK_PLUMBING,
  "aws:ec2/subnet:Subnet": NETWORK_PLUMBING,
  "aws:ec2/vpc:Vpc": NETWORK_PLUMBING,
  "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter":
    "the accepting side of a peering (its traffic is billed on the connection)",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": NETWORK_PLUMBING,
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": NETWORK_PLUMBING,
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": CONFIGURATION,
  "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": CONFIGURATION,
  "aws:ecs/taskDefinition:TaskDefinition": "billed through the ECS service that runs it (Fargate)",
  "aws:elasticache/parameterGroup:ParameterGroup": CONFIGURATION,
  "aws:elasticache/subnetGroup:SubnetGroup": CONFIGURATION,
  "aws:elasticache/user:User": "ElastiCache users and IAM authentication are free",
  "aws:elasticache/userGroup:UserGroup": CONFIGURATION,
  "aws:iam/role:Role": "IAM is free",
  "aws:iam/rolePolicy:RolePolicy": "IAM is free",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM is free",
  "aws:kms/alias:Alias": "aliases are free (the key is billed)",
  "aws:lb/listener:Listener": "billed in the load balancer's hours and capacity units",
  "aws:lb/targetGroup:TargetGroup": "billed in the load balancer's hours and capacity units",
  "aws:rds/parameterGroup:ParameterGroup": CONFIGURATION,
  "aws:rds/subnetGroup:SubnetGroup": CONFIGURATION,
  "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec":
    "Route53 signs a zone at no charge (its key-signing key's KMS key is billed)",
  "aws:route53/keySigningKey:KeySigningKey": "billed as its KMS key and the key's signing requests",
  "aws:route53/queryLog:QueryLog": "billed as logs ingested by its log group",
  "aws:route53/record:Record":
    "queries to alias records (load balancers, CloudFront) are free; validation records see a handful",
  "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": CONFIGURATION,
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": CONFIGURATION,
  "aws:s3/bucketLogging:BucketLogging":
    "server access logs are delivered free; billed as the log bucket's storage",
  "aws:s3/bucketObjectv2:BucketObjectv2":
    "the static build: kilobytes, within the bucket's storage",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": CONFIGURATION,
  "aws:s3/bucketPolicy:BucketPolicy": CONFIGURATION,
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": CONFIGURATION,
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
    CONFIGURATION,
  "aws:s3/bucketVersioning:BucketVersioning": CONFIGURATION,
  "aws:secretsmanager/secretVersion:SecretVersion": "billed with its secret",
  "aws:sns/topic:Topic": "no monthly fee; alarm notifications are well within the free million",
  "aws:sns/topicPolicy:TopicPolicy": CONFIGURATION,
  "aws:sns/topicSubscription:TopicSubscription":
    "email notifications: the first 1,000 a month are free",
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": CONFIGURATION,
  "aws:wafv2/webAclAssociation:WebAclAssociation": "billed in the web ACL's requests inspected",
  "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration":
    "billed as logs ingested by its log group",
  "pulumi-nodejs:dynamic/migrate:MigrationRun":
    "runs the migrate task once per image change: seconds of Fargate, nothing between deploys",
  "pulumi-nodejs:dynamic/guard:ChangeGuard":
    "a check the engine runs at preview and update; nothing exists in AWS",
  "pulumi-nodejs:dynamic/cloudfront:Invalidation":
    "the first 1,000 invalidation paths a month are free",
  "pulumi:providers:aws": "a Pulumi provider, not an AWS resource",
  "random:index/randomId:RandomId": "a Pulumi random value, not an AWS resource",
  "random:index/randomPassword:RandomPassword": "a Pulumi random value, not an AWS resource",
};

/** Component resources group others; AWS never sees them. */
export function isComponent(resource: SynthResource): boolean {
  return resource.id === null && !resource.type.startsWith("pulumi:providers:");
}
