/**
 * One region of the stack, tier by tier as the seeds add them: network → data (database, cache)
 * → queue workers → web → observability. The wiring between tiers (who may connect to whom, which
 * env vars and secrets each task gets, which role may send to the queue) is all here.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Cache } from "../components/cache";
import { DnsValidatedCertificate } from "../components/certificate";
import { ComputeCluster } from "../components/cluster";
import { Database } from "../components/database";
import { Network } from "../components/network";
import { Observability } from "../components/observability";
import { QueueWorkers } from "../components/queueWorkers";
import { WebService } from "../components/webService";
import type { RegionRole, StackConfig } from "./config";

/** The app's command per role (docs/CONTRACT.md). */
const WEB_COMMAND = ["web"];
const WORKER_COMMAND = ["worker"];
/** The app's CloudWatch embedded-metric-format namespace. */
export const APP_METRICS_NAMESPACE = "ZeroToMillions";

/** What the secondary region needs from the primary: where writes go. */
export interface WriterDatabase {
  instanceArn: pulumi.Input<string>;
  address: pulumi.Input<string>;
  masterUserSecretArn: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
}

export interface RegionArgs {
  role: RegionRole;
  region: string;
  config: StackConfig;
  image: pulumi.Input<string>;
  assets: { bucketName: pulumi.Input<string>; cdnDomain: pulumi.Input<string> };
  /** The zone and name the region's load balancer answers for, when the stack has a domain. */
  dns?: { zoneId: pulumi.Input<string>; appDomainName: string };
  /** Set in the secondary region: the primary's writer, which this region writes to. */
  writer?: WriterDatabase;
}

/**
 * Every tier of one region, created with that region's provider (`providers` in opts), which
 * every child inherits: no regional resource can end up in another region by accident.
 */
export class Region extends pulumi.ComponentResource {
  readonly role: RegionRole;
  readonly region: string;
  readonly network: Network;
  readonly database: Database;
  readonly cache: Cache;
  readonly workers: QueueWorkers;
  readonly web: WebService;
  readonly observability: Observability;
  /** Where this region's app writes: its own writer in the primary, the primary's elsewhere. */
  readonly writer: WriterDatabase;

  constructor(name: string, args: RegionArgs, opts: pulumi.ComponentResourceOptions) {
    super("zero-to-millions:stacks:Region", name, {}, opts);
    const { config } = args;
    this.role = args.role;
    this.region = args.region;

    this.network = new Network(
      `${name}-network`,
      {
        cidrBlock: config.network.cidrs[args.role],
        availabilityZoneCount: config.network.availabilityZones,
        natGateways: config.network.natGateways,
        enableFlowLogs: config.network.enableFlowLogs,
        flowLogRetentionDays: config.logs.retentionDays,
      },
      { parent: this },
    );

    this.database = new Database(
      `${name}-database`,
      {
        vpcId: this.network.vpcId,
        subnetIds: this.network.isolatedSubnetIds,
        engineVersion: config.database.engineVersion,
        instanceClass: config.database.instanceClass,
        allocatedStorageGb: config.database.allocatedStorageGb,
        maxAllocatedStorageGb: config.database.maxAllocatedStorageGb,
        databaseName: config.database.databaseName,
        masterUsername: config.database.masterUsername,
        // The secondary holds one cross-region replica of the primary's writer and no writer.
        readReplicas: args.writer ? 0 : config.database.readReplicas,
        ...(args.writer ? { replicaOf: { arn: args.writer.instanceArn } } : {}),
        enableMultiAz: config.database.enableMultiAz,
        backupRetentionDays: config.database.backupRetentionDays,
        enableDeletionProtection: config.database.enableDeletionProtection,
        skipFinalSnapshot: config.database.skipFinalSnapshot,
        enablePerformanceInsights: config.database.enablePerformanceInsights,
      },
      { parent: this },
    );
    this.writer = args.writer ?? this.ownWriter();

    this.cache = new Cache(
      `${name}-cache`,
      {
        vpcId: this.network.vpcId,
        subnetIds: this.network.isolatedSubnetIds,
        engine: config.cache.engine,
        engineVersion: config.cache.engineVersion,
        nodeType: config.cache.nodeType,
        replicas: config.cache.replicas,
        snapshotRetentionDays: config.cache.snapshotRetentionDays,
      },
      { parent: this },
    );

    const cluster = new ComputeCluster(`${name}-cluster`, {}, { parent: this });
    const task = this.taskSettings(args);

    this.workers = new QueueWorkers(
      `${name}-workers`,
      {
        ...task,
        cluster: { arn: cluster.arn, name: cluster.name },
        command: WORKER_COMMAND,
        cpu: config.workers.cpu,
        memory: config.workers.memory,
        minTasks: config.workers.minTasks,
        maxTasks: config.workers.maxTasks,
        useSpot: config.workers.enableSpot,
        jobTimeoutSeconds: config.workers.jobTimeoutSeconds,
        averageJobSeconds: config.workers.averageJobSeconds,
        latencyGoalSeconds: config.workers.latencyGoalSeconds,
        maxReceiveCount: config.workers.maxReceiveCount,
        messageRetentionDays: config.workers.messageRetentionDays,
      },
      { parent: this },
    );

    const certificate = args.dns
      ? new DnsValidatedCertificate(
          `${name}-certificate`,
          { domainName: args.dns.appDomainName, zoneId: args.dns.zoneId },
          { parent: this },
        )
      : undefined;

    this.web = new WebService(
      `${name}-web`,
      {
        ...task,
        environment: { ...task.environment, QUEUE_URL: this.workers.queueUrl },
        cluster: { arn: cluster.arn, name: cluster.name },
        command: WEB_COMMAND,
        cpu: config.web.cpu,
        memory: config.web.memory,
        minTasks: config.web.minTasks,
        maxTasks: config.web.maxTasks,
        publicSubnetIds: this.network.publicSubnetIds,
        containerPort: config.web.containerPort,
        healthCheckPath: config.web.healthCheckPath,
        loadBalancingAlgorithm: config.web.loadBalancingAlgorithm,
        ...(certificate ? { certificateArn: certificate.certificateArn } : {}),
        enableDeletionProtection: config.web.enableDeletionProtection,
        cpuTargetPercent: config.web.cpuTargetPercent,
        requestsPerTargetPerMinute: config.web.requestsPerTargetPerMinute,
      },
      { parent: this },
    );

    // Who may talk to whom: the app tiers reach the data tier, nothing else does.
    this.database.allowFrom("web", { securityGroupId: this.web.securityGroupId }, "web tasks");
    this.database.allowFrom("workers", { securityGroupId: this.workers.securityGroupId }, "worker tasks");
    this.cache.allowFrom("web", { securityGroupId: this.web.securityGroupId }, "web tasks");
    this.cache.allowFrom("workers", { securityGroupId: this.workers.securityGroupId }, "worker tasks");
    // The web tier enqueues jobs; the workers own the queue and already consume it.
    this.workers.grantSendMessages("web", this.web.taskRoleName);

    this.observability = new Observability(
      `${name}-observability`,
      {
        region: args.region,
        ...(config.alarms.email ? { alarmEmail: config.alarms.email } : {}),
        thresholds: config.alarms,
        web: {
          albArnSuffix: this.web.albArnSuffix,
          targetGroupArnSuffix: this.web.targetGroupArnSuffix,
          clusterName: cluster.name,
          serviceName: this.web.serviceName,
        },
        workers: {
          clusterName: cluster.name,
          serviceName: this.workers.serviceName,
          queueName: this.workers.queueName,
          deadLetterQueueName: this.workers.deadLetterQueueName,
        },
        database: {
          ...(this.database.writerIdentifier ? { writerIdentifier: this.database.writerIdentifier } : {}),
          replicaIdentifiers: this.database.readerIdentifiers,
        },
        cache: { replicationGroupId: this.cache.replicationGroupId, memberClusterIds: this.cache.memberClusterIds },
        appMetricsNamespace: APP_METRICS_NAMESPACE,
      },
      { parent: this },
    );

    this.registerOutputs({});
  }

  /** Outputs for the caller, named after what they are (docs and README list them). */
  summary() {
    return {
      region: this.region,
      albUrl: this.web.url,
      albDnsName: this.web.albDnsName,
      writerEndpoint: this.writer.address,
      readerEndpoints: this.database.readerAddresses,
      cacheEndpoint: this.cache.primaryEndpoint,
      queueUrl: this.workers.queueUrl,
      deadLetterQueueUrl: this.workers.deadLetterQueueUrl,
      dashboardUrl: this.observability.dashboardUrl,
      alarmTopicArn: this.observability.alarmTopicArn,
    };
  }

  private ownWriter(): WriterDatabase {
    const { writerArn, writerAddress, masterUserSecretArn } = this.database;
    if (!writerArn || !writerAddress || !masterUserSecretArn) {
      throw new Error(`region ${this.region}: the primary region's database has no writer`);
    }
    return { instanceArn: writerArn, address: writerAddress, masterUserSecretArn, kmsKeyArn: this.database.kmsKeyArn };
  }

  /** What web and worker tasks share: where they run, the image, and how to reach each tier. */
  private taskSettings(args: RegionArgs) {
    const { config } = args;
    const databaseUrl = (host: pulumi.Input<string>) =>
      pulumi.interpolate`postgres://${config.database.masterUsername}@${host}:${this.database.port}/${config.database.databaseName}?sslmode=require`;
    return {
      vpcId: this.network.vpcId,
      subnetIds: this.network.privateSubnetIds,
      image: args.image,
      logRetentionDays: config.logs.retentionDays,
      environment: {
        AWS_REGION: args.region,
        DATABASE_URL: databaseUrl(this.writer.address),
        DATABASE_READ_URLS: pulumi
          .all(this.database.readerAddresses.map((address) => databaseUrl(address)))
          .apply((urls) => urls.join(",")),
        REDIS_URL: pulumi.interpolate`rediss://${this.cache.primaryEndpoint}:${this.cache.port}`,
        ASSETS_BUCKET: args.assets.bucketName,
        CDN_DOMAIN: args.assets.cdnDomain,
        METRICS_NAMESPACE: APP_METRICS_NAMESPACE,
      } as Record<string, pulumi.Input<string>>,
      secrets: {
        DATABASE_PASSWORD: { arn: this.writer.masterUserSecretArn, jsonKey: "password" },
        REDIS_AUTH_TOKEN: { arn: this.cache.authTokenSecretArn },
      },
      secretKmsKeyArns: [this.writer.kmsKeyArn, this.cache.kmsKeyArn],
    };
  }
}

/**
 * An explicit provider for one region, with the tags every resource in it carries (the tier tag
 * is added by each component).
 */
export function regionProvider(name: string, region: string, environment: string, role?: RegionRole): aws.Provider {
  return new aws.Provider(name, {
    region: region as aws.Region,
    defaultTags: {
      tags: {
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        environment,
        region,
        ...(role ? { "region-role": role } : {}),
      },
    },
  });
}
