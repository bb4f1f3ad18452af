/**
 * The localstack stack, as a specification over its synth for each emulator flavor: it points
 * every provider at the emulator for exactly the AWS APIs the stack calls, switches off what the
 * emulator lacks, and is the smallest shape of the program. dev and prod stay pointed at AWS.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ENVIRONMENT_DEFAULTS } from "../../stacks/config";
import { parsedStackConfig } from "./support/stacks";
import { synth, type Synth, type SynthResource } from "../../harness";
import { itReportsEachConfigProblem } from "./support/config";

const T = {
  provider: "pulumi:providers:aws",
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
  nat: "aws:ec2/natGateway:NatGateway",
  flowLog: "aws:ec2/flowLog:FlowLog",
  db: "aws:rds/instance:Instance",
  cacheGroup: "aws:elasticache/replicationGroup:ReplicationGroup",
  cacheParameterGroup: "aws:elasticache/parameterGroup:ParameterGroup",
  cachePolicy: "aws:cloudfront/cachePolicy:CachePolicy",
  distribution: "aws:cloudfront/distribution:Distribution",
  monitoringSubscription: "aws:cloudfront/monitoringSubscription:MonitoringSubscription",
  ecrRepository: "aws:ecr/repository:Repository",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  scalableTarget: "aws:appautoscaling/target:Target",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  geoRecord: "aws:route53/record:Record",
} as const;

/** The provider's endpoint key of each resource module (the AWS API its resources call). */
const ENDPOINT_OF_MODULE: Readonly<Record<string, string>> = {
  acm: "acm",
  appautoscaling: "appautoscaling",
  cloudfront: "cloudfront",
  cloudwatch: "cloudwatch",
  dynamodb: "dynamodb",
  ec2: "ec2",
  vpc: "ec2",
  ecr: "ecr",
  ecs: "ecs",
  elasticache: "elasticache",
  lb: "elbv2",
  iam: "iam",
  kms: "kms",
  rds: "rds",
  route53: "route53",
  s3: "s3",
  secretsmanager: "secretsmanager",
  sns: "sns",
  sqs: "sqs",
};

function endpointOf(type: string): string {
  // Log groups live in the cloudwatch module but call the CloudWatch Logs API.
  if (type === T.logGroup) return "logs";
  const module = type.split(":")[1]!.split("/")[0]!;
  const endpoint = ENDPOINT_OF_MODULE[module];
  if (!endpoint)
    throw new Error(`no endpoint known for ${type}; add its module to ENDPOINT_OF_MODULE`);
  return endpoint;
}

/** The endpoint keys the stack's resources call (data sources aside). */
function servicesOfResources(s: Synth): string[] {
  return [
    ...new Set(s.resources.filter((r) => r.type.startsWith("aws:")).map((r) => endpointOf(r.type))),
  ].sort();
}

function providerEndpoints(provider: SynthResource): Record<string, string> {
  const list = JSON.parse(String(provider.inputs.endpoints ?? "[]")) as Array<
    Record<string, string>
  >;
  assert.ok(list.length <= 1, `${provider.name}: one endpoints block expected`);
  return list[0] ?? {};
}

/** Provider inputs reach the engine as strings; secret ones (the keys) wrapped in a marker object. */
const plain = (value: unknown) =>
  typeof value === "object" && value !== null && "value" in value
    ? (value as { value: unknown }).value
    : value;

const FILE_ENDPOINT = "http://localhost:4566";
const FLAVORS = ["moto", "localstack", "localstack-free"] as const;
const synths: Record<string, Synth> = {};
let dev: Synth;

before(async () => {
  const results = await Promise.all([
    ...FLAVORS.map((flavor) => synth("localstack", { emulator: { flavor } })),
    synth("dev"),
  ]);
  FLAVORS.forEach((flavor, index) => (synths[flavor] = results[index]!));
  dev = results[FLAVORS.length]!;
  for (const result of results) assert.equal(result.error, undefined, result.error);
});

describe("localstack: providers point at the emulator, for exactly what the stack calls", () => {
  for (const flavor of FLAVORS) {
    it(`GIVEN flavor ${flavor} THEN every provider sends the stack's APIs, and only those, to the emulator`, () => {
      const s = synths[flavor]!;
      const providers = s.ofType(T.provider);
      assert.equal(providers.length, 2);
      const resources = servicesOfResources(s);
      for (const provider of providers) {
        const endpoints = providerEndpoints(provider);
        // sts answers the getCallerIdentity data source, which no resource records.
        const expected = flavor === "localstack-free" ? resources : [...resources, "sts"].sort();
        assert.deepEqual(Object.keys(endpoints).sort(), expected, provider.name);
        for (const [service, url] of Object.entries(endpoints)) {
          assert.equal(url, FILE_ENDPOINT, `${provider.name}: ${service}`);
        }
      }
    });

    it(`GIVEN flavor ${flavor} THEN the providers skip the checks that would reach AWS and use path-style S3`, () => {
      for (const provider of synths[flavor]!.ofType(T.provider)) {
        for (const flag of [
          "skipCredentialsValidation",
          "skipMetadataApiCheck",
          "skipRequestingAccountId",
          "s3UsePathStyle",
        ]) {
          assert.equal(String(provider.inputs[flag]), "true", `${provider.name}: ${flag}`);
        }
        assert.deepEqual(
          [plain(provider.inputs.accessKey), plain(provider.inputs.secretKey)],
          ["test", "test"],
        );
      }
    });
  }

  it("GIVEN another emulator.endpoint THEN every endpoint is that URL", async () => {
    const endpoint = "http://127.0.0.1:4599";
    const s = await synth("localstack", { emulator: { endpoint } });
    assert.equal(s.error, undefined, s.error);
    for (const provider of s.ofType(T.provider)) {
      assert.deepEqual(
        [...new Set(Object.values(providerEndpoints(provider)))],
        [endpoint],
        provider.name,
      );
    }
  });

  it("GIVEN dev THEN its providers reach AWS itself: no endpoints, keys or skipped checks", () => {
    for (const provider of dev.ofType(T.provider)) {
      for (const key of ["endpoints", "accessKey", "secretKey"]) {
        assert.equal(provider.inputs[key], undefined, `${provider.name}: ${key}`);
      }
      for (const flag of [
        "skipCredentialsValidation",
        "skipRequestingAccountId",
        "s3UsePathStyle",
      ]) {
        // The provider's schema defaults reach the engine as "false".
        assert.notEqual(String(provider.inputs[flag]), "true", `${provider.name}: ${flag}`);
      }
    }
  });
});

describe("localstack: GIVEN moto THEN what moto lacks is switched off", () => {
  it("there is no cache tier (moto keeps no member clusters of a replication group): tasks get no Redis settings and keep their cache in process, and the outputs say why", () => {
    const s = synths.moto!;
    assert.deepEqual(
      s.resources.filter((r) => r.type.startsWith("aws:elasticache")).map((r) => r.name),
      [],
    );
    for (const task of s.ofType(T.taskDefinition)) {
      const [container] = JSON.parse(String(task.inputs.containerDefinitions)) as Array<{
        environment?: Array<{ name: string }>;
        secrets?: Array<{ name: string }>;
      }>;
      const names = [...(container!.environment ?? []), ...(container!.secrets ?? [])].map(
        (entry) => entry.name,
      );
      assert.ok(
        !["REDIS_URL", "REDIS_IAM_USER", "REDIS_AUTH_TOKEN"].some((name) => names.includes(name)),
        task.name,
      );
    }
    const regions = s.outputs.regions as Record<string, { cacheEndpoint: string }>;
    for (const region of Object.values(regions))
      assert.match(
        region.cacheEndpoint,
        /^disabled: emulator\.flavor moto keeps no cache clusters/,
      );
    for (const dashboard of s.ofType("aws:cloudwatch/dashboard:Dashboard"))
      assert.doesNotMatch(String(dashboard.inputs.dashboardBody), /AWS\/ElastiCache/);
  });

  it("GIVEN flavor localstack (a paid plan) THEN the cache is there, on the engine's default parameter group", () => {
    const s = synths.localstack!;
    assert.equal(s.ofType(T.cacheGroup).length, 2);
    assert.equal(s.ofType(T.cacheParameterGroup).length, 0);
    for (const group of s.ofType(T.cacheGroup))
      assert.equal(group.inputs.parameterGroupName, undefined);
  });

  it("the CDN puts its TTLs on the cache behaviour (moto has no cache policies)", () => {
    const s = synths.moto!;
    assert.equal(s.ofType(T.cachePolicy).length, 0);
    const [distribution] = s.ofType(T.distribution);
    const behaviour = distribution!.inputs.defaultCacheBehavior as Record<string, unknown>;
    assert.equal(behaviour.cachePolicyId, undefined);
    assert.deepEqual(
      [behaviour.defaultTtl, behaviour.maxTtl],
      [
        ENVIRONMENT_DEFAULTS.localstack.cdn.defaultTtlSeconds,
        ENVIRONMENT_DEFAULTS.localstack.cdn.maxTtlSeconds,
      ],
    );
  });

  it("the assets bucket has no replica behind an origin group (moto has no CloudFront origin groups)", () => {
    const s = synths.moto!;
    assert.equal(s.ofType("aws:s3/bucket:Bucket").length, 1);
    assert.equal(s.ofType("aws:s3/bucketReplicationConfig:BucketReplicationConfig").length, 0);
    const [distribution] = s.ofType(T.distribution);
    assert.deepEqual(distribution!.inputs.originGroups ?? [], []);
  });

  it("there is no global dashboard (moto has no CloudFront monitoring subscriptions); each region keeps its own", () => {
    const s = synths.moto!;
    assert.equal(s.ofType(T.monitoringSubscription).length, 0);
    assert.equal(s.resources.filter((r) => r.name.startsWith("global-observability")).length, 0);
    assert.equal(s.ofType("aws:cloudwatch/dashboard:Dashboard").length, 2);
    assert.match(
      String(s.outputs.globalDashboardUrl),
      /^disabled: emulator\.flavor moto lacks CloudFront monitoring subscriptions/,
    );
  });

  it("flow logs and Performance Insights are off, and the image is the configured one (no ECR build)", () => {
    const s = synths.moto!;
    assert.equal(s.ofType(T.flowLog).length, 0);
    for (const db of s.ofType(T.db))
      assert.equal(db.inputs.performanceInsightsEnabled, false, db.name);
    assert.equal(s.ofType(T.ecrRepository).length, 0);
    for (const task of s.ofType(T.taskDefinition)) {
      const [container] = JSON.parse(String(task.inputs.containerDefinitions)) as Array<{
        image: string;
      }>;
      assert.equal(container!.image, ENVIRONMENT_DEFAULTS.localstack.image.uri, task.name);
    }
  });

  it("Route53 gets the geolocation records the integration suite checks, under a reserved domain", () => {
    const s = synths.moto!;
    const geo = s
      .ofType(T.geoRecord)
      .filter((record) => record.inputs.geolocationRoutingPolicies !== undefined);
    assert.ok(geo.length >= 2, "one geolocation record per region at least");
    for (const record of geo) assert.match(String(record.inputs.name), /\.zero-to-millions\.test$/);
  });

  it("GIVEN flavor localstack (a paid plan) THEN the stack is the same as with moto, plus the cache tier", () => {
    // The cache component, its children, its ingress rules and its alarms all carry "cache".
    const withoutCache = (s: Synth) =>
      s.resources
        .filter((r) => !/(^|-)cache(-|$)/.test(r.name))
        .map((r) => `${r.type} ${r.name}`)
        .sort();
    assert.deepEqual(withoutCache(synths.localstack!), withoutCache(synths.moto!));
  });
});

describe("localstack: the smallest shape of the program", () => {
  it("no more of anything that costs than dev: VPCs, subnets, NAT gateways, database instances", () => {
    const s = synths.moto!;
    for (const type of [T.vpc, T.subnet, T.nat, T.db, T.cacheGroup]) {
      assert.ok(s.ofType(type).length <= dev.ofType(type).length, type);
    }
    assert.equal(s.ofType(T.nat).length, 2, "one NAT gateway per region");
  });

  it("the smallest sizes: Fargate's smallest task, one web task, workers from zero, single-AZ micro instances, one cache node", () => {
    const s = synths.moto!;
    for (const task of s.ofType(T.taskDefinition)) {
      assert.deepEqual([task.inputs.cpu, task.inputs.memory], ["256", "512"], task.name);
    }
    const bounds = s
      .ofType(T.scalableTarget)
      .map((t) => [t.inputs.minCapacity, t.inputs.maxCapacity]);
    assert.deepEqual(bounds.map(([min]) => min).sort(), [0, 0, 1, 1]);
    for (const db of s.ofType(T.db)) {
      assert.deepEqual(
        [db.inputs.instanceClass, db.inputs.multiAz],
        ["db.t4g.micro", false],
        db.name,
      );
    }
    for (const group of s.ofType(T.cacheGroup)) assert.equal(group.inputs.numCacheClusters, 1);
    for (const logGroup of s.ofType(T.logGroup)) assert.equal(logGroup.inputs.retentionInDays, 1);
  });
});

describe("localstack: GIVEN LocalStack's free plan", () => {
  it("THEN only the networks, their peering and the DNS zone are deployed", () => {
    const s = synths["localstack-free"]!;
    const modules = new Set(
      s.resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.type.split("/")[0]),
    );
    assert.deepEqual([...modules].sort(), ["aws:ec2", "aws:route53"]);
    assert.deepEqual(
      s.ofType("aws:route53/zone:Zone").map((zone) => zone.inputs.name),
      [ENVIRONMENT_DEFAULTS.localstack.dns.domain],
    );
    assert.equal(s.ofType("aws:ec2/vpcPeeringConnection:VpcPeeringConnection").length, 1);
    assert.equal(s.ofType(T.vpc).length, 2);
  });

  it("THEN the outputs say why the other tiers are missing, and name each region's VPC", () => {
    const s = synths["localstack-free"]!;
    assert.match(String(s.outputs.publicUrl), /^disabled: emulator\.flavor localstack-free lacks/);
    const regions = s.outputs.regions as Record<string, { vpcId: string }>;
    for (const role of ["primary", "secondary"]) assert.match(regions[role]!.vpcId, /^vpc-/);
  });
});

describe("localstack: config", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      "an emulator on dev",
      { environment: "dev", emulator: { flavor: "moto", endpoint: FILE_ENDPOINT } },
      /^emulator: only the localstack environment/,
    ],
    [
      "an unknown flavor",
      { environment: "localstack", emulator: { flavor: "minikube" } },
      /^emulator\.flavor: /,
    ],
    [
      "an endpoint that is no http URL",
      { environment: "localstack", emulator: { endpoint: "localhost:4566" } },
      /^emulator\.endpoint: /,
    ],
  ];
  itReportsEachConfigProblem(cases);

  it("GIVEN Pulumi.localstack.yaml THEN it is valid and names moto on the default endpoint", () => {
    const config = parsedStackConfig("localstack");
    assert.deepEqual(config.emulator, { flavor: "moto", endpoint: FILE_ENDPOINT });
  });
});
