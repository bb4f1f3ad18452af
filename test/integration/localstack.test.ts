/**
 * The localstack stack on a real AWS emulator, through Pulumi's Automation API: `up`, then checks
 * with the AWS SDK against the emulator of what was made (queues with their DLQ redrive, private
 * buckets, load balancers and target groups, ECS services, database instances and replicas, cache
 * groups, Route53 geolocation records, dashboards and alarms), then `destroy`, also when a check
 * fails. Without the Pulumi CLI, its provider plugins or an emulator, it reports itself skipped
 * with the reason (even in CI; INTEGRATION_REQUIRED=true makes a missing prerequisite a failure):
 * it never passes without having run.
 *
 * The stack state lives in a file backend in a temporary folder, never in a user's backend, and
 * the program runs from a staged copy of the project (with this repository's node_modules), so
 * the stack's secrets salt and the emulator's endpoint and flavor never touch the repository's
 * Pulumi.localstack.yaml.
 */
import assert from "node:assert/strict";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetDashboardCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  DescribeVpcPeeringConnectionsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  DescribeServicesCommand,
  ECSClient,
  ListClustersCommand,
  ListServicesCommand,
} from "@aws-sdk/client-ecs";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeReplicationGroupsCommand, ElastiCacheClient } from "@aws-sdk/client-elasticache";
import { DescribeDBInstancesCommand, RDSClient } from "@aws-sdk/client-rds";
import {
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from "@aws-sdk/client-route-53";
import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { parseDocument } from "yaml";
import {
  type EmulatorFlavor,
  parseConfig,
  rawConfigFromPulumi,
  type StackConfig,
} from "../../stacks/config";
import { cacheSkippedReason, deploysEveryTier } from "../../stacks/emulator";
import { stackConfig } from "../../harness/synth";
import { clientConfig, preflight, PROJECT_ROOT } from "./emulator";

const STACK = "localstack";
/** A throwaway passphrase for a throwaway state: it encrypts nothing that outlives the test. */
const PASSPHRASE = "integration-suite";
/** Emulators answer at once, but moto issues certificates after MOTO_ACM_VALIDATION_WAIT. */
const SUITE_TIMEOUT_MS = 30 * 60_000;
/** What the program reads at run time: its code, the stack files and the static build it uploads. */
const PROGRAM_FILES = [
  "Pulumi.yaml",
  "Pulumi.localstack.yaml",
  "package.json",
  "tsconfig.json",
  "stacks",
  "components",
  "app/public/dist",
];
const ROLES = ["primary", "secondary"] as const;
type Role = (typeof ROLES)[number];

interface RegionOutputs {
  region: string;
  albDnsName: string;
  writerEndpoint: string;
  readerEndpoints: string[];
  cacheEndpoint: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  dashboardUrl: string;
  alarmTopicArn: string;
  vpcId?: string;
}

interface Deployed {
  endpoint: string;
  config: StackConfig;
  outputs: {
    assetsBucket: string;
    dns: { zoneId?: string; appDomain?: string };
    regions: Record<Role, RegionOutputs>;
  };
}

test(
  "localstack stack: up on an AWS emulator, check what was made, destroy",
  { timeout: SUITE_TIMEOUT_MS },
  async (t) => {
    const ready = await preflight();
    if (!ready.ready) {
      // The integration workflow sets it: there, a missing prerequisite is a broken pipeline (an
      // emulator that cannot host the stack is not, and stays a skip).
      if (process.env.INTEGRATION_REQUIRED === "true" && !ready.unsupported) {
        assert.fail(ready.reason);
      }
      t.skip(ready.reason);
      return;
    }
    const work = mkdtempSync(join(tmpdir(), "zero-to-millions-integration-"));
    const stack = await createStack(work, ready.endpoint, ready.flavor);
    const log = (text: string) => t.diagnostic(text.trimEnd());
    let failure: unknown;
    try {
      await stack.up({ onOutput: log, color: "never" });
      await runChecks(t, await readDeployment(stack, ready.endpoint, ready.flavor));
    } catch (error) {
      failure = error;
    }
    // Whatever happened above, nothing stays in the emulator or on disk.
    try {
      await stack.destroy({ onOutput: log, color: "never", remove: true });
    } catch (error) {
      t.diagnostic(`destroy failed; the stack's state stays in ${work} for \`pulumi destroy\``);
      throw failure ?? error;
    }
    rmSync(work, { recursive: true, force: true });
    if (failure !== undefined) throw failure;
  },
);

/** Stages the program in `work` with the emulator's endpoint and flavor, and a stack in a file backend there. */
async function createStack(work: string, endpoint: string, flavor: EmulatorFlavor): Promise<Stack> {
  const project = join(work, "project");
  for (const path of PROGRAM_FILES)
    cpSync(join(PROJECT_ROOT, path), join(project, path), { recursive: true });
  symlinkSync(join(PROJECT_ROOT, "node_modules"), join(project, "node_modules"), "dir");
  const stackFile = join(project, `Pulumi.${STACK}.yaml`);
  const document = parseDocument(readFileSync(stackFile, "utf8"));
  document.setIn(["config", "zero-to-millions:emulator", "endpoint"], endpoint);
  document.setIn(["config", "zero-to-millions:emulator", "flavor"], flavor);
  writeFileSync(stackFile, document.toString());

  const state = join(work, "state");
  mkdirSync(state);
  return LocalWorkspace.createOrSelectStack(
    { stackName: STACK, workDir: project },
    {
      envVars: {
        PULUMI_BACKEND_URL: `file://${state}`,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        // The CDN's invalidation calls CloudFront with the AWS SDK's own settings.
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_REGION: "us-east-1",
      },
    },
  );
}

async function readDeployment(
  stack: Stack,
  endpoint: string,
  flavor: EmulatorFlavor,
): Promise<Deployed> {
  const raw = await stack.outputs();
  const value = <T>(key: string) => raw[key]?.value as T;
  return {
    endpoint,
    config: parseConfig(
      rawConfigFromPulumi(stackConfig(STACK, { emulator: { endpoint, flavor } })),
    ),
    outputs: {
      assetsBucket: value("assetsBucket"),
      dns: value("dns"),
      regions: value("regions"),
    },
  };
}

async function runChecks(t: TestContext, deployed: Deployed): Promise<void> {
  const tiers = deploysEveryTier(deployed.config)
    ? {}
    : {
        skip: `not deployed: emulator.flavor ${deployed.config.emulator?.flavor} lacks the APIs of this tier`,
      };
  await t.test("each region's VPC exists, peered with the other", () => checkNetworks(deployed));
  await t.test("queues redrive to their dead-letter queues", tiers, () => checkQueues(deployed));
  await t.test(
    "the assets bucket is private, versioned, encrypted and refuses plain HTTP",
    tiers,
    () => checkBucket(deployed),
  );
  await t.test("load balancers forward to their target groups over HTTPS", tiers, () =>
    checkLoadBalancers(deployed),
  );
  await t.test(
    "each region runs a web and a worker service, the web one behind its target group",
    tiers,
    () => checkServices(deployed),
  );
  await t.test(
    "the writer and its replica are in the primary, a cross-region replica in the secondary",
    tiers,
    () => checkDatabases(deployed),
  );
  const cacheSkipped = cacheSkippedReason(deployed.config);
  await t.test(
    "each region has an encrypted cache group with an AUTH token",
    cacheSkipped === undefined ? tiers : { skip: `not deployed: ${cacheSkipped}` },
    () => checkCaches(deployed),
  );
  await t.test("Route53 routes by geolocation to the regions' load balancers", tiers, () =>
    checkDns(deployed),
  );
  await t.test("each region has its dashboard and alarms notifying its topic", tiers, () =>
    checkObservability(deployed),
  );
}

/** Runs `use` with a client of the emulator in each region, and closes the clients. */
async function inEachRegion<C extends { destroy(): void }>(
  deployed: Deployed,
  create: (config: ReturnType<typeof clientConfig>) => C,
  use: (client: C, role: Role, region: RegionOutputs) => Promise<void>,
): Promise<void> {
  for (const role of ROLES) {
    const client = create(clientConfig(deployed.endpoint, deployed.config.regions[role]));
    try {
      await use(client, role, deployed.outputs.regions[role]);
    } finally {
      client.destroy();
    }
  }
}

async function checkNetworks(deployed: Deployed): Promise<void> {
  const vpcIds: string[] = [];
  await inEachRegion(
    deployed,
    (c) => new EC2Client(c),
    async (ec2, role) => {
      const { Vpcs = [] } = await ec2.send(
        new DescribeVpcsCommand({
          Filters: [{ Name: "cidr", Values: [deployed.config.network.cidrs[role]] }],
        }),
      );
      assert.equal(Vpcs.length, 1, `${role}: one VPC with ${deployed.config.network.cidrs[role]}`);
      vpcIds.push(Vpcs[0]!.VpcId!);
    },
  );
  const ec2 = new EC2Client(clientConfig(deployed.endpoint, deployed.config.regions.secondary));
  try {
    const { VpcPeeringConnections = [] } = await ec2.send(
      new DescribeVpcPeeringConnectionsCommand({
        Filters: [{ Name: "requester-vpc-info.vpc-id", Values: [vpcIds[1]!] }],
      }),
    );
    assert.equal(VpcPeeringConnections.length, 1);
    assert.equal(VpcPeeringConnections[0]!.AccepterVpcInfo?.VpcId, vpcIds[0]);
    assert.equal(VpcPeeringConnections[0]!.Status?.Code, "active");
  } finally {
    ec2.destroy();
  }
  if (deployed.outputs.dns.zoneId) {
    const route53 = new Route53Client(clientConfig(deployed.endpoint, "us-east-1"));
    try {
      const zone = await route53.send(
        new GetHostedZoneCommand({ Id: deployed.outputs.dns.zoneId }),
      );
      assert.equal(zone.HostedZone?.Name, `${deployed.config.dns.domain}.`);
    } finally {
      route53.destroy();
    }
  }
}

async function checkQueues(deployed: Deployed): Promise<void> {
  await inEachRegion(
    deployed,
    (c) => new SQSClient(c),
    async (sqs, role, region) => {
      const attributes = async (QueueUrl: string) =>
        (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] })))
          .Attributes ?? {};
      const queue = await attributes(region.queueUrl);
      const deadLetters = await attributes(region.deadLetterQueueUrl);
      const redrive = JSON.parse(queue.RedrivePolicy ?? "{}") as {
        deadLetterTargetArn?: string;
        maxReceiveCount?: number | string;
      };
      assert.equal(
        redrive.deadLetterTargetArn,
        deadLetters.QueueArn,
        `${role}: the queue redrives to its DLQ`,
      );
      assert.equal(Number(redrive.maxReceiveCount), deployed.config.workers.maxReceiveCount);
      assert.ok(
        Number(queue.VisibilityTimeout) > deployed.config.workers.jobTimeoutSeconds,
        `${role}: visibility timeout above the job timeout`,
      );
    },
  );
}

async function checkBucket(deployed: Deployed): Promise<void> {
  const s3 = new S3Client(clientConfig(deployed.endpoint, deployed.config.regions.primary));
  const Bucket = deployed.outputs.assetsBucket;
  try {
    const block = (await s3.send(new GetPublicAccessBlockCommand({ Bucket })))
      .PublicAccessBlockConfiguration;
    assert.deepEqual(
      [
        block?.BlockPublicAcls,
        block?.BlockPublicPolicy,
        block?.IgnorePublicAcls,
        block?.RestrictPublicBuckets,
      ],
      [true, true, true, true],
    );
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket }))).Status, "Enabled");
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
    assert.equal(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
        ?.SSEAlgorithm,
      "AES256",
    );
    const policy = (await s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy ?? "";
    assert.match(policy, /"aws:SecureTransport":\s*"false"/);
    assert.doesNotMatch(policy, /"Principal":\s*"\*",\s*"Action":\s*"s3:GetObject"/);
  } finally {
    s3.destroy();
  }
}

async function checkLoadBalancers(deployed: Deployed): Promise<void> {
  await inEachRegion(
    deployed,
    (c) => new ElasticLoadBalancingV2Client(c),
    async (elb, role, region) => {
      const { LoadBalancers = [] } = await elb.send(new DescribeLoadBalancersCommand({}));
      const alb = LoadBalancers.find((lb) => lb.DNSName === region.albDnsName);
      assert.ok(alb, `${role}: no load balancer named ${region.albDnsName}`);
      assert.deepEqual([alb.Type, alb.Scheme], ["application", "internet-facing"]);
      const { TargetGroups = [] } = await elb.send(
        new DescribeTargetGroupsCommand({ LoadBalancerArn: alb.LoadBalancerArn }),
      );
      assert.equal(TargetGroups.length, 1, `${role}: one target group`);
      assert.deepEqual(
        [TargetGroups[0]!.TargetType, TargetGroups[0]!.Port, TargetGroups[0]!.HealthCheckPath],
        ["ip", deployed.config.web.containerPort, deployed.config.web.healthCheckPath],
      );
      const { Listeners = [] } = await elb.send(
        new DescribeListenersCommand({ LoadBalancerArn: alb.LoadBalancerArn }),
      );
      const https = Listeners.find((listener) => listener.Port === 443);
      assert.equal(
        https?.DefaultActions?.[0]?.TargetGroupArn,
        TargetGroups[0]!.TargetGroupArn,
        `${role}: HTTPS forwards`,
      );
      const http = Listeners.find((listener) => listener.Port === 80);
      assert.equal(http?.DefaultActions?.[0]?.Type, "redirect", `${role}: HTTP redirects to HTTPS`);
    },
  );
}

async function checkServices(deployed: Deployed): Promise<void> {
  await inEachRegion(
    deployed,
    (c) => new ECSClient(c),
    async (ecs, role) => {
      const { clusterArns = [] } = await ecs.send(new ListClustersCommand({}));
      const cluster = clusterArns.find((arn) => arn.includes(`/${role}-cluster-ecs`));
      assert.ok(cluster, `${role}: no cluster among ${clusterArns.join(", ")}`);
      const { serviceArns = [] } = await ecs.send(new ListServicesCommand({ cluster }));
      const { services = [] } = await ecs.send(
        new DescribeServicesCommand({ cluster, services: serviceArns }),
      );
      const byTier = (tier: string) =>
        services.find((service) => service.serviceName?.startsWith(`${role}-${tier}-service`));
      const web = byTier("web");
      const workers = byTier("workers");
      assert.ok(
        web && workers,
        `${role}: web and worker services, found ${services.map((s) => s.serviceName).join(", ")}`,
      );
      assert.equal(web.desiredCount, deployed.config.web.minTasks);
      assert.equal(workers.desiredCount, deployed.config.workers.minTasks);
      assert.match(
        web.loadBalancers?.[0]?.targetGroupArn ?? "",
        /:targetgroup\//,
        `${role}: the web service is behind a target group`,
      );
      assert.equal(web.networkConfiguration?.awsvpcConfiguration?.assignPublicIp, "DISABLED");
    },
  );
}

async function checkDatabases(deployed: Deployed): Promise<void> {
  const instances: Record<string, Array<Record<string, unknown>>> = {};
  await inEachRegion(
    deployed,
    (c) => new RDSClient(c),
    async (rds, role) => {
      instances[role] = ((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ??
        []) as Array<Record<string, unknown>>;
    },
  );
  const address = (db: Record<string, unknown>) =>
    (db.Endpoint as { Address?: string } | undefined)?.Address;
  const primary = deployed.outputs.regions.primary;
  const writer = instances.primary!.find((db) => address(db) === primary.writerEndpoint);
  assert.ok(writer, `no instance answers at the writer endpoint ${primary.writerEndpoint}`);
  assert.equal(writer.StorageEncrypted, true);
  const replicas = instances.primary!.filter(
    (db) => db.ReadReplicaSourceDBInstanceIdentifier === writer.DBInstanceIdentifier,
  );
  assert.equal(
    replicas.length,
    deployed.config.database.readReplicas,
    "in-region replicas of the writer",
  );
  const crossRegion = instances.secondary!.filter(
    (db) => db.ReadReplicaSourceDBInstanceIdentifier === writer.DBInstanceArn,
  );
  assert.equal(crossRegion.length, 1, "one cross-region replica of the writer");
  assert.deepEqual(
    crossRegion.map(address),
    deployed.outputs.regions.secondary.readerEndpoints,
    "the secondary reads from its cross-region replica",
  );
}

async function checkCaches(deployed: Deployed): Promise<void> {
  await inEachRegion(
    deployed,
    (c) => new ElastiCacheClient(c),
    async (elasticache, role, region) => {
      const { ReplicationGroups = [] } = await elasticache.send(
        new DescribeReplicationGroupsCommand({}),
      );
      const group = ReplicationGroups.find(
        (g) => g.NodeGroups?.[0]?.PrimaryEndpoint?.Address === region.cacheEndpoint,
      );
      assert.ok(group, `${role}: no cache group answers at ${region.cacheEndpoint}`);
      assert.deepEqual(
        [group.AtRestEncryptionEnabled, group.TransitEncryptionEnabled, group.AuthTokenEnabled],
        [true, true, true],
      );
      assert.equal(group.MemberClusters?.length, 1 + deployed.config.cache.replicas);
    },
  );
}

async function checkDns(deployed: Deployed): Promise<void> {
  const route53 = new Route53Client(clientConfig(deployed.endpoint, "us-east-1"));
  try {
    const { ResourceRecordSets = [] } = await route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: deployed.outputs.dns.zoneId }),
    );
    const app = ResourceRecordSets.filter(
      (record) => record.Name === `${deployed.outputs.dns.appDomain}.` && record.GeoLocation,
    );
    for (const role of ROLES) {
      for (const location of deployed.config.dns.locations[role]) {
        const record = app.find(
          (r) =>
            r.GeoLocation?.ContinentCode === location || r.GeoLocation?.CountryCode === location,
        );
        assert.ok(record, `no geolocation record for ${location}`);
        assert.equal(
          record.AliasTarget?.DNSName?.replace(/^dualstack\.|\.$/g, "").toLowerCase(),
          deployed.outputs.regions[role].albDnsName.toLowerCase(),
          `${location} goes to the ${role} region's load balancer`,
        );
      }
    }
    assert.ok(
      app.some((record) => record.GeoLocation?.CountryCode === "*"),
      "a default record for everyone else",
    );
  } finally {
    route53.destroy();
  }
}

async function checkObservability(deployed: Deployed): Promise<void> {
  await inEachRegion(
    deployed,
    (c) => new CloudWatchClient(c),
    async (cloudwatch, role, region) => {
      const name = decodeURIComponent(region.dashboardUrl.split("#dashboards:name=")[1] ?? "");
      const dashboard = await cloudwatch.send(new GetDashboardCommand({ DashboardName: name }));
      assert.ok(
        (JSON.parse(dashboard.DashboardBody ?? "{}") as { widgets?: unknown[] }).widgets?.length,
        `${role}: dashboard ${name} has widgets`,
      );
      const { MetricAlarms = [] } = await cloudwatch.send(new DescribeAlarmsCommand({}));
      const notifying = MetricAlarms.filter((alarm) =>
        alarm.AlarmActions?.includes(region.alarmTopicArn),
      );
      assert.ok(notifying.length > 0, `${role}: alarms notify ${region.alarmTopicArn}`);
      for (const alarm of notifying)
        assert.ok(
          alarm.OKActions?.includes(region.alarmTopicArn),
          `${alarm.AlarmName} also tells of recovery`,
        );
    },
  );
}
