/**
 * Pulumi mocks that answer like AWS: realistic ids, ARNs and endpoints in the region of the
 * provider a resource was created with, so that wiring between resources is visible in tests.
 *
 * Every resource registration is recorded (type, name, parent, provider, inputs). Data sources
 * ("calls") are answered only for the tokens listed in `CALLS`; any other token throws, so a
 * new data source is noticed rather than answered with `{}`.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT_ID = "123456789012";
const PROVIDER_TYPE_PREFIX = "pulumi:providers:";

/** What the harness knows about one registered resource. */
export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  /** The region of the aws provider the resource was created with; null where none applies. */
  region: string | null;
  custom: boolean;
  /** The physical id the mocks gave it (custom resources only). */
  id: string | null;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
  /** Whether the program marked it `protect` (Pulumi then refuses to replace or delete it). */
  protect: boolean;
  /**
   * The URNs it waits for: its explicit `dependsOn` and the resources its inputs come from (the
   * engine creates them first). A resource in it that no input names is an explicit `dependsOn`.
   */
  dependsOn: string[];
  /** Whether the program marked it `retainOnDelete` (a delete leaves it in AWS). */
  retainOnDelete: boolean;
  /** `deleteBeforeReplace`: a replacement deletes the old resource before creating the new one. */
  deleteBeforeReplace: boolean;
  /** `replaceWith`: the URNs whose replacement replaces this resource too. */
  replaceWith: string[];
}

/** One data source call ("invoke") the program made, with the region of the provider it went to. */
export interface RecordedCall {
  token: string;
  /** The aws provider's region; null for other packages' calls. */
  region: string | null;
  inputs: Record<string, unknown>;
}

interface MockMonitorLike {
  registerResource(req: RegisterRequest, callback: unknown): Promise<void>;
}

interface RegisterRequest {
  getParent(): string;
  getType(): string;
  getName(): string;
  getProvider(): string;
  getProtect(): boolean;
  getDependenciesList(): string[];
  getDeletebeforereplace(): boolean;
  getReplaceWithList(): string[];
  getRetainondelete(): boolean | undefined;
}

/** A stable, hex-looking suffix derived from a resource's name, so runs are reproducible. */
export function fakeHex(seed: string, length = 8): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

const ELB_ZONE_BY_REGION: Record<string, string> = {
  "us-east-1": "Z35SXDOTRQ7X7K",
  "us-east-2": "Z3AADJGX6KTTL2",
  "us-west-2": "Z1H1FL5HABSF5",
  "eu-west-1": "Z32O12XQLNTSW2",
  "eu-central-1": "Z215JYRZR1TBD5",
};

type StateFn = (ctx: {
  name: string;
  inputs: Record<string, unknown>;
  region: string;
  id: string;
}) => Record<string, unknown>;

const arn = (service: string, region: string, resource: string) =>
  `arn:aws:${service}:${region}:${ACCOUNT_ID}:${resource}`;

/** Extra state per resource type: what AWS computes and other resources read. */
const STATE: Record<string, StateFn> = {
  // The migrate run's only output: the ECS task id of the run (components/migrationRun.ts).
  "pulumi-nodejs:dynamic/migrate:MigrationRun": ({ name }) => ({ taskId: fakeHex(name, 32) }),
  "aws:ec2/vpc:Vpc": ({ id, region }) => ({
    arn: arn("ec2", region, `vpc/${id}`),
    defaultSecurityGroupId: `sg-${fakeHex(id)}`,
  }),
  "aws:ec2/subnet:Subnet": ({ id, region }) => ({ arn: arn("ec2", region, `subnet/${id}`) }),
  "aws:ec2/securityGroup:SecurityGroup": ({ id, region }) => ({
    arn: arn("ec2", region, `security-group/${id}`),
  }),
  "aws:ec2/eip:Eip": ({ id }) => ({
    publicIp: `203.0.113.${parseInt(fakeHex(id, 2), 16) % 250}`,
    allocationId: id,
  }),
  "aws:kms/key:Key": ({ id, region }) => ({ arn: arn("kms", region, `key/${id}`), keyId: id }),
  "aws:secretsmanager/secret:Secret": ({ name, region }) => ({
    arn: arn("secretsmanager", region, `secret:${name}-${fakeHex(name, 6)}`),
  }),
  "aws:iam/role:Role": ({ inputs, id }) => ({
    arn: `arn:aws:iam::${ACCOUNT_ID}:role/${String(inputs.name ?? id)}`,
    name: inputs.name ?? id,
  }),
  "aws:iam/policy:Policy": ({ inputs, id }) => ({
    arn: `arn:aws:iam::${ACCOUNT_ID}:policy/${String(inputs.name ?? id)}`,
  }),
  "aws:cloudwatch/logGroup:LogGroup": ({ inputs, id, region }) => ({
    name: inputs.name ?? id,
    arn: arn("logs", region, `log-group:${String(inputs.name ?? id)}`),
  }),
  "aws:ecs/cluster:Cluster": ({ inputs, id, region }) => ({
    name: inputs.name ?? id,
    arn: arn("ecs", region, `cluster/${String(inputs.name ?? id)}`),
  }),
  "aws:ecs/taskDefinition:TaskDefinition": ({ inputs, region, id }) => ({
    arn: arn("ecs", region, `task-definition/${String(inputs.family ?? id)}:1`),
    revision: 1,
  }),
  "aws:ecs/service:Service": ({ inputs, id }) => ({ name: inputs.name ?? id }),
  "aws:lb/loadBalancer:LoadBalancer": ({ inputs, id, region }) => {
    const name = String(inputs.name ?? id);
    return {
      name,
      arn: arn("elasticloadbalancing", region, `loadbalancer/app/${name}/${fakeHex(name, 16)}`),
      arnSuffix: `app/${name}/${fakeHex(name, 16)}`,
      dnsName: `${name}-${parseInt(fakeHex(name, 6), 16)}.${region}.elb.amazonaws.com`,
      zoneId: ELB_ZONE_BY_REGION[region] ?? "Z0000000000000",
    };
  },
  "aws:lb/targetGroup:TargetGroup": ({ inputs, id, region }) => {
    const name = String(inputs.name ?? id);
    return {
      name,
      arn: arn("elasticloadbalancing", region, `targetgroup/${name}/${fakeHex(name, 16)}`),
      arnSuffix: `targetgroup/${name}/${fakeHex(name, 16)}`,
    };
  },
  "aws:lb/listener:Listener": ({ id, region }) => ({
    arn: arn("elasticloadbalancing", region, `listener/app/${id}`),
  }),
  "aws:rds/instance:Instance": ({ inputs, id, region }) => {
    const identifier = String(inputs.identifier ?? id);
    const address = `${identifier}.c${fakeHex(region, 11)}.${region}.rds.amazonaws.com`;
    return {
      identifier,
      address,
      endpoint: `${address}:5432`,
      port: 5432,
      arn: arn("rds", region, `db:${identifier}`),
      resourceId: `db-${fakeHex(identifier, 26).toUpperCase()}`,
      masterUserSecrets: inputs.manageMasterUserPassword
        ? [
            {
              secretArn: arn("secretsmanager", region, `secret:rds!db-${fakeHex(identifier, 12)}`),
              kmsKeyId: inputs.masterUserSecretKmsKeyId ?? "",
              secretStatus: "active",
            },
          ]
        : [],
    };
  },
  "aws:rds/subnetGroup:SubnetGroup": ({ inputs, id, region }) => ({
    name: inputs.name ?? id,
    arn: arn("rds", region, `subgrp:${String(inputs.name ?? id)}`),
  }),
  "aws:rds/parameterGroup:ParameterGroup": ({ inputs, id, region }) => ({
    name: inputs.name ?? id,
    arn: arn("rds", region, `pg:${String(inputs.name ?? id)}`),
  }),
  "aws:elasticache/replicationGroup:ReplicationGroup": ({ inputs, id, region }) => {
    const groupId = String(inputs.replicationGroupId ?? id);
    return {
      arn: arn("elasticache", region, `replicationgroup:${groupId}`),
      primaryEndpointAddress: `master.${groupId}.${fakeHex(groupId, 6)}.${region.replace(/-/g, "")}.cache.amazonaws.com`,
      readerEndpointAddress: `replica.${groupId}.${fakeHex(groupId, 6)}.${region.replace(/-/g, "")}.cache.amazonaws.com`,
      memberClusters: Array.from(
        { length: Number(inputs.numCacheClusters ?? 1) },
        (_, i) => `${groupId}-00${i + 1}`,
      ),
    };
  },
  "aws:elasticache/subnetGroup:SubnetGroup": ({ inputs, id }) => ({ name: inputs.name ?? id }),
  "aws:elasticache/parameterGroup:ParameterGroup": ({ inputs, id }) => ({
    name: inputs.name ?? id,
  }),
  "aws:sqs/queue:Queue": ({ inputs, id, region }) => {
    const name = String(inputs.name ?? id);
    return {
      name,
      arn: arn("sqs", region, name),
      url: `https://sqs.${region}.amazonaws.com/${ACCOUNT_ID}/${name}`,
    };
  },
  "aws:dynamodb/table:Table": ({ inputs, id, region }) => {
    const name = String(inputs.name ?? id);
    return { name, arn: arn("dynamodb", region, `table/${name}`) };
  },
  // A replica has its global table's name; the provider derives its ARN from the global table's.
  "aws:dynamodb/tableReplica:TableReplica": ({ inputs, region }) => ({
    arn: String(inputs.globalTableArn).replace(/^(arn:aws:dynamodb:)[^:]+/, `$1${region}`),
  }),
  "aws:sns/topic:Topic": ({ inputs, id, region }) => ({
    name: inputs.name ?? id,
    arn: arn("sns", region, String(inputs.name ?? id)),
  }),
  "aws:s3/bucket:Bucket": ({ inputs, id, region }) => {
    const bucket = String(inputs.bucket ?? id);
    return {
      bucket,
      arn: `arn:aws:s3:::${bucket}`,
      bucketDomainName: `${bucket}.s3.amazonaws.com`,
      bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
      region,
    };
  },
  "aws:cloudfront/distribution:Distribution": ({ id }) => ({
    arn: `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/${id}`,
    domainName: `d${fakeHex(id, 13)}.cloudfront.net`,
    hostedZoneId: "Z2FDTNDATAQYW2",
  }),
  "aws:route53/zone:Zone": ({ inputs, id }) => ({
    zoneId: id,
    arn: `arn:aws:route53:::hostedzone/${id}`,
    nameServers: [1, 2, 3, 4].map((n) => `ns-${n}.awsdns-${n}.net`),
    name: inputs.name,
  }),
  "aws:route53/healthCheck:HealthCheck": ({ id }) => ({
    arn: `arn:aws:route53:::healthcheck/${id}`,
  }),
  "aws:route53/record:Record": ({ inputs }) => ({ fqdn: String(inputs.name).replace(/\.$/, "") }),
  "aws:acm/certificate:Certificate": ({ inputs, id, region }) => {
    const names = [inputs.domainName, ...((inputs.subjectAlternativeNames as unknown[]) ?? [])].map(
      String,
    );
    return {
      arn: arn("acm", region, `certificate/${id}`),
      domainValidationOptions: names.map((domainName) => ({
        domainName,
        resourceRecordName: `_${fakeHex(domainName, 32)}.${domainName.replace(/^\*\./, "")}.`,
        resourceRecordType: "CNAME",
        resourceRecordValue: `_${fakeHex(`v-${domainName}`, 32)}.acm-validations.aws.`,
      })),
    };
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": ({ inputs, id, region }) => ({
    arn: arn("cloudwatch", region, `alarm:${String(inputs.name ?? id)}`),
  }),
  "aws:cloudwatch/dashboard:Dashboard": ({ inputs, region }) => ({
    dashboardArn: `arn:aws:cloudwatch::${ACCOUNT_ID}:dashboard/${String(inputs.dashboardName)}`,
    region,
  }),
  "aws:appautoscaling/target:Target": ({ inputs, region }) => ({
    arn: arn(
      "application-autoscaling",
      region,
      `scalable-target/${fakeHex(String(inputs.resourceId))}`,
    ),
  }),
  "aws:appautoscaling/policy:Policy": ({ inputs, region, name }) => ({
    arn: arn(
      "autoscaling",
      region,
      `scalingPolicy:${fakeHex(name)}:resource/ecs/${fakeHex(String(inputs.resourceId))}:policyName/${String(inputs.name ?? name)}`,
    ),
  }),
  "aws:ecr/repository:Repository": ({ inputs, id, region }) => ({
    name: inputs.name ?? id,
    arn: arn("ecr", region, `repository/${String(inputs.name ?? id)}`),
    repositoryUrl: `${ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${String(inputs.name ?? id)}`,
  }),
  // CloudFront's ACLs are `global` (in us-east-1), the others `regional`.
  "aws:wafv2/webAcl:WebAcl": ({ inputs, id, region }) => ({
    arn: arn(
      "wafv2",
      region,
      `${inputs.scope === "CLOUDFRONT" ? "global" : "regional"}/webacl/${String(inputs.name ?? id)}/${fakeHex(id, 36)}`,
    ),
    capacity: 0,
  }),
  "aws:cloudfront/originAccessControl:OriginAccessControl": ({ id }) => ({ etag: fakeHex(id) }),
  "aws:cloudfront/cachePolicy:CachePolicy": ({ id }) => ({ etag: fakeHex(id) }),
  "random:index/randomPassword:RandomPassword": ({ inputs, name }) => ({
    result: `mock-${fakeHex(name, Number(inputs.length ?? 32) - 5)}`,
  }),
  "random:index/randomId:RandomId": ({ name }) => ({ hex: fakeHex(name), b64Url: fakeHex(name) }),
  // awsx's image is a remote component: the mocks stand in for its build and push.
  "awsx:ecr:Image": ({ inputs }) => ({
    imageUri: `${String(inputs.repositoryUrl)}@sha256:${createHash("sha256").update(String(inputs.imageTag)).digest("hex")}`,
  }),
};

/** Physical ids in the shapes AWS uses, so that ids read like the real thing. */
const ID_PREFIX: Record<string, string> = {
  "aws:ec2/vpc:Vpc": "vpc-",
  "aws:ec2/subnet:Subnet": "subnet-",
  "aws:ec2/securityGroup:SecurityGroup": "sg-",
  "aws:ec2/internetGateway:InternetGateway": "igw-",
  "aws:ec2/natGateway:NatGateway": "nat-",
  "aws:ec2/eip:Eip": "eipalloc-",
  "aws:ec2/routeTable:RouteTable": "rtb-",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
  "aws:ec2/flowLog:FlowLog": "fl-",
  "aws:route53/zone:Zone": "Z",
};

function mockId(type: string, name: string): string {
  const prefix = ID_PREFIX[type];
  if (prefix === "Z") return `Z${fakeHex(name, 13).toUpperCase()}`;
  if (prefix) return `${prefix}${fakeHex(name, 17)}`;
  return `${name}-id`;
}

/** Data sources the program may call, answered for the calling provider's region. */
const GET_REGION = "aws:index/getRegion:getRegion";

const CALLS: Record<
  string,
  (args: Record<string, unknown>, region: string) => Record<string, unknown>
> = {
  "aws:index/getAvailabilityZones:getAvailabilityZones": (_args, region) => ({
    names: ["a", "b", "c", "d"].map((zone) => `${region}${zone}`),
    zoneIds: [1, 2, 3, 4].map(
      (n) => `${region.slice(0, 2)}${region.split("-")[1]?.[0] ?? "x"}1-az${n}`,
    ),
    state: "available",
  }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: ACCOUNT_ID,
    arn: `arn:aws:iam::${ACCOUNT_ID}:user/mock`,
    userId: "AIDAMOCK",
  }),
  [GET_REGION]: (_args, region) => ({ name: region, region, id: region }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com" }),
  // The image is in the calling region's registry (tests of a missing image stub this call).
  "aws:ecr/getImage:getImage": (args, region) => ({
    registryId: String(args.registryId ?? ACCOUNT_ID),
    repositoryName: String(args.repositoryName),
    imageDigest: String(args.imageDigest),
    imageUri: `${String(args.registryId ?? ACCOUNT_ID)}.dkr.ecr.${region}.amazonaws.com/${String(args.repositoryName)}@${String(args.imageDigest)}`,
    imageTags: [],
  }),
  // The region's Elastic Load Balancing account (us-east-1's; the mocks need not know the others).
  "aws:elb/getServiceAccount:getServiceAccount": () => ({
    arn: "arn:aws:iam::127311923021:root",
    id: "127311923021",
  }),
  "aws:route53/getZone:getZone": (args) => ({
    zoneId: String(args.zoneId ?? `Z${fakeHex(String(args.name), 13).toUpperCase()}`),
    name: String(args.name ?? "example.com"),
  }),
};

/** What the wrapped monitor saw of a registration, before the mocks' newResource. */
interface Registration {
  parent: string | null;
  providerRef: string;
  protect: boolean;
  retainOnDelete: boolean;
  dependsOn: string[];
  deleteBeforeReplace: boolean;
  replaceWith: string[];
}

/**
 * What the mocks put in front of every string a marked region's data sources answer (see
 * `markCallsIn`), so that a spec can find each value taken from a lookup in that region.
 */
export const LOOKUP_MARK = "looked-up-in-marked-region:";

function marked(value: unknown): unknown {
  if (typeof value === "string") return `${LOOKUP_MARK}${value}`;
  if (Array.isArray(value)) return value.map(marked);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, marked(item)]));
  }
  return value;
}

export class RecordingMocks implements pulumi.runtime.Mocks {
  readonly resources = new Map<string, RecordedResource>();
  readonly calls: RecordedCall[] = [];
  /** URNs registered twice: the engine would refuse the second registration. */
  readonly duplicateUrns: string[] = [];
  private readonly providerRegions = new Map<string, string>();
  private readonly pending = new Map<string, Registration>();

  /**
   * @param markCallsIn a region whose data sources answer with every string marked (LOOKUP_MARK):
   *   specs then see which resources take a value looked up through that region's provider.
   */
  constructor(private readonly markCallsIn?: string) {}

  /** Wraps the mock monitor so that each registration's parent and provider are recorded. */
  attach(): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitorLike;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
      this.pending.set(`${req.getType()}::${req.getName()}`, {
        parent: req.getParent() || null,
        providerRef: req.getProvider(),
        protect: req.getProtect(),
        dependsOn: req.getDependenciesList(),
        deleteBeforeReplace: req.getDeletebeforereplace(),
        replaceWith: req.getReplaceWithList(),
        retainOnDelete: req.getRetainondelete() ?? false,
      });
      return register(req, callback);
    };
  }

  newResource(args: pulumi.runtime.MockResourceArgs): {
    id: string | undefined;
    state: Record<string, unknown>;
  } {
    const key = `${args.type}::${args.name}`;
    const registration: Registration = this.pending.get(key) ?? {
      parent: null,
      providerRef: args.provider ?? "",
      protect: false,
      dependsOn: [],
      deleteBeforeReplace: false,
      replaceWith: [],
      retainOnDelete: false,
    };
    this.pending.delete(key);
    const providerUrn = (args.provider ?? registration.providerRef)
      .split("::")
      .slice(0, -1)
      .join("::");
    const region = this.providerRegions.get(providerUrn) ?? null;

    if (args.type.startsWith(PROVIDER_TYPE_PREFIX)) {
      const urn = this.urnOf(registration.parent, args.type, args.name);
      if (typeof args.inputs.region === "string") this.providerRegions.set(urn, args.inputs.region);
    }

    const id = args.custom ? mockId(args.type, args.name) : undefined;
    const stateFn = STATE[args.type] as StateFn | undefined;
    // Resources of other providers (random) have no region; their state does not depend on one.
    const computed =
      stateFn?.({
        name: args.name,
        inputs: args.inputs,
        region: region ?? "",
        id: id ?? args.name,
      }) ?? {};
    const state = {
      ...(args.custom && !args.type.startsWith(PROVIDER_TYPE_PREFIX)
        ? { arn: arn(serviceOf(args.type), region ?? "", args.name) }
        : {}),
      ...args.inputs,
      ...computed,
    };
    const urn = this.urnOf(registration.parent, args.type, args.name);
    // The engine refuses a second resource with a URN it has seen (a child's URN is its parents'
    // types and its own name, not the parent's name); the synth and render fail on one too.
    if (this.resources.has(urn)) this.duplicateUrns.push(urn);
    this.resources.set(urn, {
      urn,
      type: args.type,
      name: args.name,
      parent: registration.parent,
      region: args.type.startsWith("aws:") ? region : null,
      custom: args.custom ?? false,
      id: id ?? null,
      inputs: args.inputs,
      state,
      protect: registration.protect,
      dependsOn: registration.dependsOn,
      deleteBeforeReplace: registration.deleteBeforeReplace,
      replaceWith: registration.replaceWith,
      retainOnDelete: registration.retainOnDelete,
    });
    return { id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const answer = CALLS[args.token];
    if (!answer) {
      throw new Error(
        `the test mocks do not know the data source ${args.token}; add it to CALLS in harness/mocks.ts`,
      );
    }
    const providerUrn = (args.provider ?? "").split("::").slice(0, -1).join("::");
    const region = this.providerRegions.get(providerUrn);
    if (region === undefined && args.token.startsWith("aws:")) {
      throw new Error(
        `${args.token} was called without an explicit aws provider (no ambient region is allowed)`,
      );
    }
    this.calls.push({
      token: args.token,
      region: region ?? null,
      inputs: args.inputs as Record<string, unknown>,
    });
    const answered = answer(args.inputs as Record<string, unknown>, region ?? "");
    // A region's name stays unmarked: components check it, and the region isolation spec already
    // finds any other region's name in a region's inputs.
    return region !== undefined && region === this.markCallsIn && args.token !== GET_REGION
      ? (marked(answered) as Record<string, unknown>)
      : answered;
  }

  private urnOf(parent: string | null, type: string, name: string): string {
    const stack = pulumi.getStack();
    const project = pulumi.getProject();
    const parentType = parent ? `${parent.split("::")[2]?.split("$").pop()}$` : "";
    return `urn:pulumi:${stack}::${project}::${parentType}${type}::${name}`;
  }
}

function serviceOf(type: string): string {
  return type.split(":")[1]?.split("/")[0] ?? "unknown";
}

/** Why the engine would refuse the program's resources, or undefined when it would not. */
export function duplicateUrnError(mocks: RecordingMocks): string | undefined {
  if (mocks.duplicateUrns.length === 0) return undefined;
  return `two resources have the same URN, which the engine refuses: ${[...new Set(mocks.duplicateUrns)].join(", ")}. Fix: give each child a name that says its parent (\`\${name}-<role>\`)`;
}
