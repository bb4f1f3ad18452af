/**
 * One region of the stack, tier by tier as the seeds add them: network → data (database, cache)
 * → queue workers → web → observability. The wiring between tiers (who may connect to whom, which
 * env vars and secrets each task gets, which role may send to the queue) is all here.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AccessLogBucket } from "../components/accessLogBucket";
import {
  COMMANDS,
  METRICS_NAMESPACE,
  type StackTaskEnvironment,
  type TaskSecrets,
} from "../contract";
import { Cache } from "../components/cache";
import { ComputeCluster } from "../components/cluster";
import { Database, type DatabaseRole, type DatabaseRoleOutputs } from "../components/database";
import { Network } from "../components/network";
import { Observability } from "../components/observability";
import type { SecretReference } from "../components/fargateService";
import { QueueWorkers } from "../components/queueWorkers";
import { WebAcl } from "../components/webAcl";
import { tierTags } from "../components/tags";
import { WebService } from "../components/webService";
import type { RegionRole, StackConfig } from "./config";
import { cacheSkippedReason, emulatorProviderArgs, serves } from "./emulator";
import {
  cacheSettings,
  databaseSettings,
  networkArgs,
  taskSettings,
  webAclSettings,
  webSettings,
  workerSettings,
} from "./settings";

/**
 * What a region's database is, given where the writer is (`database.writerRegion`):
 * - `writer`: the writer and its in-region replicas (the primary, normally);
 * - `replica`: one cross-region replica of the other region's writer (the secondary, normally);
 * - `promotedReplica`: that replica promoted in place, the writer after a regional failover;
 * - `formerWriter`: the primary's database after a failover, left as it was for forensics and the
 *   way back (README: Deploying); its data stops at the failover, so the app no longer uses it.
 */
export type DatabaseShape = "writer" | "replica" | "promotedReplica" | "formerWriter";

export function databaseShape(role: RegionRole, writerRegion: RegionRole): DatabaseShape {
  if (role === "primary") return writerRegion === "primary" ? "writer" : "formerWriter";
  return writerRegion === "primary" ? "replica" : "promotedReplica";
}

export function otherRole(role: RegionRole): RegionRole {
  return role === "primary" ? "secondary" : "primary";
}

/** What a region needs from the region holding the writer: where writes go. */
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
  /** The CDN's bucket and domain, when the stack has a CDN (else uploads stay on the task's disk). */
  assets?: { bucketName: pulumi.Input<string>; cdnDomain: pulumi.Input<string> };
  /**
   * The app's name and its certificate in this region, for the load balancer's HTTPS listener,
   * when the stack has a domain (stacks/global.ts: createAppCertificates).
   */
  https?: { certificateArn: pulumi.Input<string>; domainName: string };
  /**
   * The other region's writer, which this region writes to: given exactly when this region's
   * database is a `replica` or a `formerWriter` (`databaseShape`).
   */
  writer?: WriterDatabase;
  /**
   * The stack's cookie-signing key (stacks/global.ts: createCookieSigningKey): the same in every
   * region, so a cookie signed in one verifies in the other; kept in a secret of each region, so
   * no task reads the other region at start.
   */
  cookieSigningKey: pulumi.Input<string>;
}

/**
 * Every tier of one region, created with that region's provider (`providers` in opts), which
 * every child inherits: no regional resource can end up in another region by accident.
 */
export class Region extends pulumi.ComponentResource {
  readonly role: RegionRole;
  /** Why the region has no cache, when it has none. */
  private readonly cacheSkipped: string | undefined;
  readonly region: string;
  readonly network: Network;
  readonly database: Database;
  /**
   * The shared cache, unless `cache.enabled` is false or the emulator cannot host one
   * (stacks/emulator.ts: cacheSkippedReason); then each task keeps its cache and sessions.
   */
  readonly cache: Cache | undefined;
  /** The queue and workers, when `workers.mode` is `service` (else the web task runs the jobs). */
  readonly workers: QueueWorkers | undefined;
  readonly web: WebService;
  /** The web ACL in front of the load balancer; none where the emulator serves no web ACLs. */
  readonly waf: WebAcl | undefined;
  readonly observability: Observability;
  /** Where this region's app writes: its own writer, or the other region's. */
  readonly writer: WriterDatabase;
  /** The region's copy of the cookie-signing key, read by its tasks at start. */
  private readonly cookieSecret: aws.secretsmanager.Secret;
  /** Where this region's app reads: its database's replicas, unless they follow a former writer. */
  readonly readerAddresses: pulumi.Output<string>[];

  constructor(name: string, args: RegionArgs, opts: pulumi.ComponentResourceOptions) {
    super("zero-to-millions:stacks:Region", name, {}, opts);
    const { config } = args;
    const shape = databaseShape(args.role, config.database.writerRegion);
    if ((shape === "replica" || shape === "formerWriter") !== (args.writer !== undefined)) {
      throw new Error(
        `region ${args.region} (${args.role}): its database is a ${shape} with database.writerRegion ${config.database.writerRegion}, so args.writer must ${args.writer ? "not " : ""}be given`,
      );
    }
    this.role = args.role;
    this.region = args.region;

    this.network = new Network(`${name}-network`, networkArgs(config, args.role), {
      parent: this,
    });

    this.database = new Database(
      `${name}-database`,
      {
        vpcId: this.network.vpcId,
        subnetIds: this.network.isolatedSubnetIds,
        ...databaseSettings(config),
        role: databaseRole(shape, config, args.writer),
      },
      { parent: this },
    );
    this.writer = args.writer ?? this.ownWriter();
    this.readerAddresses = readerAddressesOf(this.database.role);

    this.cacheSkipped = config.cache.enabled
      ? cacheSkippedReason(config)
      : "cache.enabled is false; the app keeps its cache and sessions in process";
    this.cache =
      this.cacheSkipped !== undefined
        ? undefined
        : new Cache(
            `${name}-cache`,
            {
              vpcId: this.network.vpcId,
              subnetIds: this.network.isolatedSubnetIds,
              ...cacheSettings(config),
            },
            { parent: this },
          );

    const cluster = new ComputeCluster(`${name}-cluster`, {}, { parent: this });
    this.cookieSecret = this.createCookieSecret(name, args.cookieSigningKey);
    const task = this.taskSettings(args);

    this.workers =
      config.workers.mode === "service"
        ? new QueueWorkers(
            `${name}-workers`,
            {
              ...task,
              environment: task.environment satisfies StackTaskEnvironment<
                "worker",
                pulumi.Input<string>
              >,
              cluster: { arn: cluster.arn, name: cluster.name },
              command: [...COMMANDS.worker],
              ...workerSettings(config),
            },
            { parent: this },
          )
        : undefined;

    const accessLogs =
      config.web.accessLogRetentionDays > 0
        ? new AccessLogBucket(
            `${name}-alb-logs`,
            { retentionDays: config.web.accessLogRetentionDays },
            { parent: this },
          )
        : undefined;

    this.web = new WebService(
      `${name}-web`,
      {
        ...task,
        environment: {
          ...task.environment,
          ...(this.workers ? { QUEUE_URL: this.workers.queueUrl } : {}),
          // Only the load balancer (inside the VPC) may say who the client is (X-Forwarded-*).
          TRUSTED_PROXIES: config.network.cidrs[args.role],
        } satisfies StackTaskEnvironment<"web", pulumi.Input<string>>,
        cluster: { arn: cluster.arn, name: cluster.name },
        // Without a queue the web task runs the jobs too, on the app's in-process queue.
        command: [...(this.workers ? COMMANDS.web : COMMANDS.all)],
        ...webSettings(config),
        publicSubnetIds: this.network.publicSubnetIds,
        // The certificate covers the stack's domain, so the site's URL is that name, not the ALB's.
        ...(args.https
          ? { certificateArn: args.https.certificateArn, domainName: args.https.domainName }
          : {}),
        ...(accessLogs ? { accessLogs: accessLogs.destination } : {}),
      },
      { parent: this },
    );

    // The internet reaches the load balancer through the region's web ACL only.
    this.waf = serves(config, "webAcls")
      ? new WebAcl(`${name}-waf`, webAclSettings(config, "REGIONAL"), { parent: this })
      : undefined;
    this.waf?.associate("web", this.web.albArn);

    // Who may talk to whom: the app tiers reach the data tier, nothing else does.
    this.database.allowFrom("web", { securityGroupId: this.web.securityGroupId }, "web tasks");
    this.cache?.allowFrom("web", { securityGroupId: this.web.securityGroupId }, "web tasks");
    this.grantReadDatabasePassword(`${name}-web`, this.web.taskRoleName);
    if (this.workers) {
      this.database.allowFrom(
        "workers",
        { securityGroupId: this.workers.securityGroupId },
        "worker tasks",
      );
      this.cache?.allowFrom(
        "workers",
        { securityGroupId: this.workers.securityGroupId },
        "worker tasks",
      );
      // The web tier enqueues jobs; the workers own the queue and already consume it.
      this.workers.grantSendMessages("web", this.web.taskRoleName);
      // The app re-reads the writer's password after RDS rotates it (DATABASE_SECRET_ARN).
      this.grantReadDatabasePassword(`${name}-workers`, this.workers.taskRoleName);
    }

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
        ...(this.workers
          ? {
              workers: {
                clusterName: cluster.name,
                serviceName: this.workers.serviceName,
                queueName: this.workers.queueName,
                deadLetterQueueName: this.workers.deadLetterQueueName,
              },
            }
          : {}),
        database: observedInstances(this.database.role),
        ...(this.cache
          ? {
              cache: {
                replicationGroupId: this.cache.replicationGroupId,
                memberClusterIds: this.cache.memberClusterIds,
              },
            }
          : {}),
        appMetricsNamespace: METRICS_NAMESPACE,
        ...(this.waf
          ? {
              webAcl: {
                ...this.waf.metrics,
                blockedRequestsPerMinute: config.alarms.wafBlockedRequestsPerMinute,
              },
            }
          : {}),
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
      readerEndpoints: this.readerAddresses,
      cacheEndpoint: this.cache?.primaryEndpoint ?? pulumi.output(`disabled: ${this.cacheSkipped}`),
      queueUrl: this.workers?.queueUrl ?? "disabled: workers.mode is inProcess",
      deadLetterQueueUrl: this.workers?.deadLetterQueueUrl ?? "disabled: workers.mode is inProcess",
      dashboardUrl: this.observability.dashboardUrl,
      alarmTopicArn: this.observability.alarmTopicArn,
    };
  }

  private ownWriter(): WriterDatabase {
    const role = this.database.role;
    if (role.kind !== "writer" && role.kind !== "promotedReplica") {
      throw new Error(`region ${this.region}: this region's database (${role.kind}) has no writer`);
    }
    return {
      instanceArn: role.writer.arn,
      address: role.writer.address,
      masterUserSecretArn: role.writer.masterUserSecretArn,
      kmsKeyArn: this.database.kmsKeyArn,
    };
  }

  /**
   * Lets a task role read the writer's master password itself (docs/CONTRACT.md): the secret, and
   * its key only as Secrets Manager decrypts it.
   */
  private grantReadDatabasePassword(name: string, roleName: pulumi.Input<string>): void {
    new aws.iam.RolePolicy(
      `${name}-database-password`,
      {
        role: roleName,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ReadDatabasePassword",
              Effect: "Allow",
              Action: "secretsmanager:GetSecretValue",
              Resource: this.writer.masterUserSecretArn,
            },
            {
              Sid: "DecryptDatabasePassword",
              Effect: "Allow",
              Action: "kms:Decrypt",
              Resource: this.writer.kmsKeyArn,
              Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } },
            },
          ],
        }),
      },
      { parent: this },
    );
  }

  /**
   * The cookie-signing key in this region's Secrets Manager (encrypted with the account's
   * Secrets Manager key, which the execution role may use without a grant).
   */
  private createCookieSecret(name: string, key: pulumi.Input<string>): aws.secretsmanager.Secret {
    const secret = new aws.secretsmanager.Secret(
      `${name}-cookie-secret`,
      {
        description: `${name}: the app's cookie-signing key (COOKIE_SECRET)`,
        tags: tierTags("web"),
      },
      { parent: this },
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-cookie-secret`,
      { secretId: secret.id, secretString: pulumi.secret(key) },
      { parent: this },
    );
    return secret;
  }

  /**
   * What web and worker tasks share: where they run, the image, and how to reach each tier. The
   * variables and secrets are the contract's (contract/environment.ts): one value for each.
   */
  private taskSettings(args: RegionArgs) {
    const { config } = args;
    const databaseUrl = (host: pulumi.Input<string>) =>
      pulumi.interpolate`postgres://${config.database.masterUsername}@${host}:${this.database.port}/${config.database.databaseName}?sslmode=require`;
    return {
      vpcId: this.network.vpcId,
      subnetIds: this.network.privateSubnetIds,
      image: args.image,
      ...taskSettings(config),
      environment: {
        AWS_REGION: args.region,
        DATABASE_URL: databaseUrl(this.writer.address),
        DATABASE_SECRET_ARN: this.writer.masterUserSecretArn,
        DATABASE_READ_URLS: pulumi
          .all(this.readerAddresses.map((address) => databaseUrl(address)))
          .apply((urls) => urls.join(",")),
        // A tier's variables only where it exists; the app falls back to its in-process tier.
        ...(this.cache
          ? {
              REDIS_URL: pulumi.interpolate`rediss://${this.cache.primaryEndpoint}:${this.cache.port}`,
            }
          : {}),
        ...(args.assets
          ? { ASSETS_BUCKET: args.assets.bucketName, CDN_DOMAIN: args.assets.cdnDomain }
          : {}),
        METRICS_NAMESPACE,
      } satisfies StackTaskEnvironment<"worker", pulumi.Input<string>>,
      secrets: {
        DATABASE_PASSWORD: { arn: this.writer.masterUserSecretArn, jsonKey: "password" },
        ...(this.cache ? { REDIS_AUTH_TOKEN: { arn: this.cache.authTokenSecretArn } } : {}),
        COOKIE_SECRET: { arn: this.cookieSecret.arn },
      } satisfies TaskSecrets<SecretReference>,
      secretKmsKeyArns: [this.writer.kmsKeyArn, ...(this.cache ? [this.cache.kmsKeyArn] : [])],
    };
  }
}

/** The component's role for a region's database shape; a replica's source is the other region's writer. */
export function databaseRole(
  shape: DatabaseShape,
  config: StackConfig,
  writer: WriterDatabase | undefined,
): DatabaseRole {
  switch (shape) {
    case "writer":
    case "formerWriter":
      return { kind: shape, readReplicas: config.database.readReplicas };
    case "promotedReplica":
      return { kind: "promotedReplica" };
    case "replica":
      if (writer === undefined)
        throw new Error("a cross-region replica needs the writer it follows");
      return { kind: "crossRegionReplica", sourceArn: writer.instanceArn };
  }
}

/**
 * Where a region's app reads: the writer's in-region replicas, or the cross-region replica; none
 * for a promoted replica (it has none) or a former writer (its replicas follow stale data).
 */
function readerAddressesOf(role: DatabaseRoleOutputs): pulumi.Output<string>[] {
  if (role.kind === "writer") return role.readers.map((reader) => reader.address);
  if (role.kind === "crossRegionReplica") return [role.replica.address];
  return [];
}

/** The instances the region's dashboard and alarms watch, whatever their role. */
function observedInstances(role: DatabaseRoleOutputs): {
  writerIdentifier?: pulumi.Output<string>;
  replicaIdentifiers: pulumi.Output<string>[];
} {
  switch (role.kind) {
    case "writer":
      return {
        writerIdentifier: role.writer.identifier,
        replicaIdentifiers: role.readers.map((reader) => reader.identifier),
      };
    case "promotedReplica":
      return { writerIdentifier: role.writer.identifier, replicaIdentifiers: [] };
    case "crossRegionReplica":
      return { replicaIdentifiers: [role.replica.identifier] };
    case "formerWriter":
      return {
        writerIdentifier: role.formerWriter.identifier,
        replicaIdentifiers: role.replicas.map((replica) => replica.identifier),
      };
  }
}

/**
 * An explicit provider for one region, with the tags every resource in it carries (the tier tag
 * is added by each component), pointed at the emulator in the localstack environment.
 */
export function regionProvider(
  name: string,
  region: string,
  config: StackConfig,
  role?: RegionRole,
): aws.Provider {
  return new aws.Provider(name, {
    region: region as aws.Region,
    defaultTags: {
      tags: {
        project: pulumi.getProject(),
        stack: pulumi.getStack(),
        environment: config.environment,
        region,
        ...(role ? { "region-role": role } : {}),
      },
    },
    ...emulatorProviderArgs(config),
  });
}
