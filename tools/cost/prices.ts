/**
 * The price table `npm run cost` reads: public AWS on-demand list prices in USD, per region for
 * regional services and once for global ones (CloudFront, Route53, WAF). Every price carries the
 * date it was read and the public pricing page it came from.
 *
 * These were transcribed by hand from the pages below (no API is called: the estimate must work
 * offline and be reviewable in a diff). To update one, read the page, change the number and its
 * `asOf`. To add a region, add an entry to `REGIONAL_PRICES` from the same pages; until then a
 * stack in that region gets an error naming the region and this file, never a guess.
 */

/** One list price. */
export interface Price {
  readonly usd: number;
  /** What one `usd` buys, e.g. "hour", "GB", "GB-month", "alarm metric-month". */
  readonly unit: string;
  /** When the price was read from `source` (ISO date). */
  readonly asOf: string;
  /** The public AWS pricing page it came from. */
  readonly source: string;
}

/** A published discount: the share taken off another price. */
export interface Discount {
  /** 0.2 takes 20% off. */
  readonly share: number;
  readonly asOf: string;
  readonly source: string;
}

/** Hours in a month, as AWS pricing pages count them (8,760 / 12). */
export const HOURS_PER_MONTH = 730;

/** The date the current table was read from the pages (every price below unless it says otherwise). */
const READ_ON = "2025-06-01";

const PAGES = {
  vpc: "https://aws.amazon.com/vpc/pricing/",
  elb: "https://aws.amazon.com/elasticloadbalancing/pricing/",
  fargate: "https://aws.amazon.com/fargate/pricing/",
  rds: "https://aws.amazon.com/rds/postgresql/pricing/",
  elasticache: "https://aws.amazon.com/elasticache/pricing/",
  cloudfront: "https://aws.amazon.com/cloudfront/pricing/",
  s3: "https://aws.amazon.com/s3/pricing/",
  route53: "https://aws.amazon.com/route53/pricing/",
  cloudwatch: "https://aws.amazon.com/cloudwatch/pricing/",
  kms: "https://aws.amazon.com/kms/pricing/",
  secretsManager: "https://aws.amazon.com/secrets-manager/pricing/",
  dynamodbOnDemand: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
  dynamodbProvisioned: "https://aws.amazon.com/dynamodb/pricing/provisioned/",
  waf: "https://aws.amazon.com/waf/pricing/",
  dataTransfer: "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer",
  sqs: "https://aws.amazon.com/sqs/pricing/",
  ecr: "https://aws.amazon.com/ecr/pricing/",
} as const;

const discount = (share: number, source: string, asOf = READ_ON): Discount => ({
  share,
  asOf,
  source,
});

const price = (usd: number, unit: string, source: string, asOf = READ_ON): Price => ({
  usd,
  unit,
  asOf,
  source,
});

/** Prices of the regional services, for one region. */
export interface RegionalPrices {
  readonly natGateway: { readonly hour: Price; readonly gbProcessed: Price };
  /** Every public IPv4 address (NAT gateways' Elastic IPs, ALB nodes). */
  readonly publicIpv4Hour: Price;
  readonly vpcInterfaceEndpoint: { readonly azHour: Price; readonly gbProcessed: Price };
  readonly alb: { readonly hour: Price; readonly lcuHour: Price };
  readonly fargate: {
    readonly x86: { readonly vcpuHour: Price; readonly gbHour: Price };
    readonly arm: { readonly vcpuHour: Price; readonly gbHour: Price };
    /** The share Fargate Spot takes off on-demand (Spot prices move; this is the page's typical figure). */
    readonly spotDiscount: Discount;
  };
  readonly rds: {
    /** RDS for PostgreSQL, Single-AZ, per instance class (Multi-AZ: twice). */
    readonly postgresInstanceHour: Readonly<Record<string, Price>>;
    /** gp3 storage, Single-AZ (Multi-AZ: twice). */
    readonly gp3GbMonth: Price;
  };
  readonly elasticache: {
    /** Redis OSS node-hour per node type. */
    readonly redisNodeHour: Readonly<Record<string, Price>>;
    /** Valkey nodes cost this share less than Redis OSS nodes of the same type. */
    readonly valkeyDiscount: Discount;
  };
  readonly cloudwatch: {
    readonly logsIngestedGb: Price;
    readonly logsStoredGbMonth: Price;
    readonly alarmMetricMonth: Price;
    readonly highResolutionAlarmMetricMonth: Price;
    readonly dashboardMonth: Price;
    readonly customMetricMonth: Price;
  };
  readonly kmsKeyMonth: Price;
  readonly secretMonth: Price;
  readonly s3StandardGbMonth: Price;
  readonly sqsMillionRequests: Price;
  readonly ecrGbMonth: Price;
  readonly dynamodb: {
    readonly millionWriteRequestUnits: Price;
    readonly millionReadRequestUnits: Price;
    readonly writeCapacityUnitHour: Price;
    readonly readCapacityUnitHour: Price;
    readonly storageGbMonth: Price;
  };
  readonly transfer: {
    /** Out of this region to another AWS region (replication, peering). */
    readonly interRegionGb: Price;
    /** Out to the internet, first 10 TB a month. */
    readonly internetOutGb: Price;
  };
}

/** Prices of the global services. */
export interface GlobalPrices {
  readonly cloudfront: {
    /** To viewers in North America and Europe, first 10 TB a month. */
    readonly gbOut: Price;
    readonly tenThousandHttpsRequests: Price;
    /** Additional distribution metrics are billed as this many custom metrics. */
    readonly additionalMetricsPerDistribution: Price;
  };
  readonly route53: {
    readonly hostedZoneMonth: Price;
    readonly healthCheckAwsEndpointMonth: Price;
    readonly healthCheckOtherEndpointMonth: Price;
    /** Each optional feature (HTTPS, string matching, fast interval, latency) on an AWS endpoint. */
    readonly optionalFeatureAwsEndpointMonth: Price;
    readonly optionalFeatureOtherEndpointMonth: Price;
  };
  readonly waf: {
    readonly webAclMonth: Price;
    readonly ruleMonth: Price;
    readonly millionRequests: Price;
  };
}

/** US East (N. Virginia), US East (Ohio) and US West (Oregon) share these list prices. */
function usRegionPrices(): RegionalPrices {
  return {
    natGateway: {
      hour: price(0.045, "NAT gateway-hour", PAGES.vpc),
      gbProcessed: price(0.045, "GB processed", PAGES.vpc),
    },
    publicIpv4Hour: price(0.005, "public IPv4 address-hour", PAGES.vpc),
    vpcInterfaceEndpoint: {
      azHour: price(0.01, "endpoint AZ-hour", "https://aws.amazon.com/privatelink/pricing/"),
      gbProcessed: price(0.01, "GB processed", "https://aws.amazon.com/privatelink/pricing/"),
    },
    alb: {
      hour: price(0.0225, "ALB-hour", PAGES.elb),
      lcuHour: price(0.008, "LCU-hour", PAGES.elb),
    },
    fargate: {
      x86: {
        vcpuHour: price(0.04048, "vCPU-hour (Linux/x86)", PAGES.fargate),
        gbHour: price(0.004445, "GB-hour (Linux/x86)", PAGES.fargate),
      },
      arm: {
        vcpuHour: price(0.03238, "vCPU-hour (Linux/ARM)", PAGES.fargate),
        gbHour: price(0.00356, "GB-hour (Linux/ARM)", PAGES.fargate),
      },
      spotDiscount: discount(0.7, PAGES.fargate),
    },
    rds: {
      postgresInstanceHour: {
        "db.t4g.micro": price(0.016, "instance-hour", PAGES.rds),
        "db.t4g.small": price(0.032, "instance-hour", PAGES.rds),
        "db.t4g.medium": price(0.065, "instance-hour", PAGES.rds),
        "db.t4g.large": price(0.129, "instance-hour", PAGES.rds),
        "db.m6g.large": price(0.159, "instance-hour", PAGES.rds),
        "db.r6g.large": price(0.225, "instance-hour", PAGES.rds),
        "db.r6g.xlarge": price(0.45, "instance-hour", PAGES.rds),
        "db.r6g.2xlarge": price(0.899, "instance-hour", PAGES.rds),
      },
      gp3GbMonth: price(0.115, "GB-month (gp3, Single-AZ)", PAGES.rds),
    },
    elasticache: {
      redisNodeHour: {
        "cache.t4g.micro": price(0.016, "node-hour", PAGES.elasticache),
        "cache.t4g.small": price(0.032, "node-hour", PAGES.elasticache),
        "cache.t4g.medium": price(0.065, "node-hour", PAGES.elasticache),
        "cache.m7g.large": price(0.158, "node-hour", PAGES.elasticache),
        "cache.r6g.large": price(0.206, "node-hour", PAGES.elasticache),
        "cache.r7g.large": price(0.219, "node-hour", PAGES.elasticache),
      },
      valkeyDiscount: discount(0.2, PAGES.elasticache),
    },
    cloudwatch: {
      logsIngestedGb: price(0.5, "GB ingested", PAGES.cloudwatch),
      logsStoredGbMonth: price(0.03, "GB-month archived", PAGES.cloudwatch),
      alarmMetricMonth: price(0.1, "alarm metric-month", PAGES.cloudwatch),
      highResolutionAlarmMetricMonth: price(0.3, "alarm metric-month (10 s)", PAGES.cloudwatch),
      dashboardMonth: price(3, "dashboard-month", PAGES.cloudwatch),
      customMetricMonth: price(0.3, "metric-month", PAGES.cloudwatch),
    },
    kmsKeyMonth: price(1, "key-month", PAGES.kms),
    secretMonth: price(0.4, "secret-month", PAGES.secretsManager),
    s3StandardGbMonth: price(0.023, "GB-month (Standard)", PAGES.s3),
    sqsMillionRequests: price(0.4, "million requests (standard queue)", PAGES.sqs),
    ecrGbMonth: price(0.1, "GB-month", PAGES.ecr),
    dynamodb: {
      millionWriteRequestUnits: price(0.625, "million write request units", PAGES.dynamodbOnDemand),
      millionReadRequestUnits: price(0.125, "million read request units", PAGES.dynamodbOnDemand),
      writeCapacityUnitHour: price(0.00065, "WCU-hour", PAGES.dynamodbProvisioned),
      readCapacityUnitHour: price(0.00013, "RCU-hour", PAGES.dynamodbProvisioned),
      storageGbMonth: price(0.25, "GB-month", PAGES.dynamodbOnDemand),
    },
    transfer: {
      interRegionGb: price(0.02, "GB to another region", PAGES.dataTransfer),
      internetOutGb: price(0.09, "GB to the internet", PAGES.dataTransfer),
    },
  };
}

/** Europe (Ireland). */
function euWest1Prices(): RegionalPrices {
  const us = usRegionPrices();
  return {
    ...us,
    natGateway: {
      hour: price(0.048, "NAT gateway-hour", PAGES.vpc),
      gbProcessed: price(0.048, "GB processed", PAGES.vpc),
    },
    alb: {
      hour: price(0.0252, "ALB-hour", PAGES.elb),
      lcuHour: price(0.008, "LCU-hour", PAGES.elb),
    },
    rds: {
      postgresInstanceHour: {
        "db.t4g.micro": price(0.018, "instance-hour", PAGES.rds),
        "db.t4g.small": price(0.036, "instance-hour", PAGES.rds),
        "db.t4g.medium": price(0.072, "instance-hour", PAGES.rds),
        "db.t4g.large": price(0.144, "instance-hour", PAGES.rds),
        "db.m6g.large": price(0.176, "instance-hour", PAGES.rds),
        "db.r6g.large": price(0.25, "instance-hour", PAGES.rds),
        "db.r6g.xlarge": price(0.5, "instance-hour", PAGES.rds),
        "db.r6g.2xlarge": price(1.0, "instance-hour", PAGES.rds),
      },
      gp3GbMonth: price(0.127, "GB-month (gp3, Single-AZ)", PAGES.rds),
    },
    elasticache: {
      redisNodeHour: {
        "cache.t4g.micro": price(0.018, "node-hour", PAGES.elasticache),
        "cache.t4g.small": price(0.036, "node-hour", PAGES.elasticache),
        "cache.t4g.medium": price(0.072, "node-hour", PAGES.elasticache),
        "cache.m7g.large": price(0.176, "node-hour", PAGES.elasticache),
        "cache.r6g.large": price(0.229, "node-hour", PAGES.elasticache),
        "cache.r7g.large": price(0.243, "node-hour", PAGES.elasticache),
      },
      valkeyDiscount: discount(0.2, PAGES.elasticache),
    },
    cloudwatch: {
      ...us.cloudwatch,
      logsIngestedGb: price(0.57, "GB ingested", PAGES.cloudwatch),
    },
    dynamodb: {
      millionWriteRequestUnits: price(
        0.7063,
        "million write request units",
        PAGES.dynamodbOnDemand,
      ),
      millionReadRequestUnits: price(0.1413, "million read request units", PAGES.dynamodbOnDemand),
      writeCapacityUnitHour: price(0.000735, "WCU-hour", PAGES.dynamodbProvisioned),
      readCapacityUnitHour: price(0.000147, "RCU-hour", PAGES.dynamodbProvisioned),
      storageGbMonth: price(0.283, "GB-month", PAGES.dynamodbOnDemand),
    },
  };
}

/** The regions priced here. Others get {@link pricesFor}'s error. */
export const REGIONAL_PRICES: Readonly<Record<string, RegionalPrices>> = {
  "us-east-1": usRegionPrices(),
  "us-east-2": usRegionPrices(),
  "us-west-2": usRegionPrices(),
  "eu-west-1": euWest1Prices(),
};

export const GLOBAL_PRICES: GlobalPrices = {
  cloudfront: {
    gbOut: price(0.085, "GB to viewers (NA/EU, first 10 TB)", PAGES.cloudfront),
    tenThousandHttpsRequests: price(0.01, "10,000 HTTPS requests (NA/EU)", PAGES.cloudfront),
    additionalMetricsPerDistribution: price(
      2.4,
      "distribution-month (8 additional metrics at the custom-metric rate)",
      PAGES.cloudfront,
    ),
  },
  route53: {
    hostedZoneMonth: price(0.5, "hosted zone-month (first 25)", PAGES.route53),
    healthCheckAwsEndpointMonth: price(0.5, "health check-month (AWS endpoint)", PAGES.route53),
    healthCheckOtherEndpointMonth: price(
      0.75,
      "health check-month (other endpoint)",
      PAGES.route53,
    ),
    optionalFeatureAwsEndpointMonth: price(
      1,
      "optional feature-month (AWS endpoint)",
      PAGES.route53,
    ),
    optionalFeatureOtherEndpointMonth: price(
      2,
      "optional feature-month (other endpoint)",
      PAGES.route53,
    ),
  },
  waf: {
    webAclMonth: price(5, "web ACL-month", PAGES.waf),
    ruleMonth: price(1, "rule-month", PAGES.waf),
    millionRequests: price(0.6, "million requests", PAGES.waf),
  },
};

/** The file this table lives in, for error messages. */
export const PRICE_TABLE_FILE = "tools/cost/prices.ts";

/**
 * The prices of one region.
 * @throws when the table has no prices for it: naming the region, the file and the regions it has.
 */
export function pricesFor(region: string): RegionalPrices {
  const prices = REGIONAL_PRICES[region];
  if (prices === undefined) {
    throw new Error(
      `no prices for region ${region} in the price table ${PRICE_TABLE_FILE} (it has ` +
        `${Object.keys(REGIONAL_PRICES).join(", ")}). Fix: add ${region}'s prices there from the ` +
        `AWS pricing pages, each with its date, or deploy to a region the table has.`,
    );
  }
  return prices;
}
