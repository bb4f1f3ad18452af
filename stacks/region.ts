/**
 * One region of the stack, tier by tier as the seeds add them: network → data (database, cache)
 * → queue workers → web → observability. The wiring between tiers (who may connect to whom, which
 * env vars and secrets each task gets, which role may send to the queue) is all here.
 */
import * as aws from "../components/aws";
import * as pulumi from "@pulumi/pulumi";
import { AccessLogBucket } from "../components/accessLogBucket";
import {
  COMMANDS,
  METRICS_NAMESPACE,
  MIGRATE_COMMAND,
  type MigrateEnvironment,
  type MigrateSecrets,
  type StackTaskEnvironment,
  type TaskSecrets,
} from "../contract";
import { Cache } from "../components/cache";
import { ComputeCluster } from "../components/cluster";
import type { AwsContext } from "../components/awsContext";
import { createKmsKey, logsKeyUsers } from "../components/kmsKey";
import { Database, type DatabaseRole, type DatabaseRoleOutputs } from "../components/database";
import type { InvalidationQueue } from "../components/invalidationQueue";
import { MigrationTask } from "../components/migrationTask";
import { Network } from "../components/network";
import { Observability } from "../components/observability";
import { CONTAINER_NAME, type SecretReference } from "../components/fargateService";
import { MigrationRun } from "../components/migrationRun";
import { QueueWorkers } from "../components/queueWorkers";
import { WebAcl } from "../components/webAcl";
import { stackPhysicalName, tierTags } from "../components/tags";
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

/** The region's app tiers whose task roles other tiers grant to. */
export type AppTier = "web" | "workers";

/** The policies granted to each app tier's task role, which its service waits for. */
export type TaskRoleGrants = Record<AppTier, pulumi.Resource[]>;

export function otherRole(role: RegionRole): RegionRole {
  return role === "primary" ? "secondary" : "primary";
}

/**
 * What a region needs from the region holding the writer: where writes go. No secret: the app
 * logs in with IAM tokens it signs itself.
 */
export interface WriterDatabase {
  instanceArn: pulumi.Input<string>;
  address: pulumi.Input<string>;
  /** The writer's instance: a cross-region replica of it is replaced with it. */
  instance: pulumi.Resource;
  /**
   * The migrate run that brought the writer's schema up to this deploy's image (MigrationRun's
   * task id): every region's web and worker services take it, so none starts before it.
   */
  migratedBy: pulumi.Input<string>;
}

export interface RegionArgs {
  role: RegionRole;
  region: string;
  config: StackConfig;
  image: pulumi.Input<string>;
  /** The users' files bucket of the region holding the writer, and that region (every stage). */
  files: { bucketName: pulumi.Input<string>; bucketRegion: string };
  /** The CDN's domain, when the stack has a CDN (else the app serves its thumbnails itself). */
  cdnDomain?: pulumi.Input<string>;
  /** The sessions global table's name (the same in every region; the app uses its own region's copy). */
  sessionsTableName: pulumi.Input<string>;
  /**
   * This region's cache-invalidation queue (its web tasks apply it), and every region's queue
   * URL, this one's included (every write is sent to each; one region: its own only).
   */
  invalidations: { queue: InvalidationQueue; publishUrls: pulumi.Input<string>[] };
  /**
   * The app's name and its certificate in this region, for the load balancer's HTTPS listener,
   * when the stack has a domain (stacks/global.ts: createAppCertificates).
   */
  https?: { certificateArn: pulumi.Input<string>; domainName: string };
  /**
   * The other region's writers, one per physical shard, which this region writes to: given
   * exactly when this region's databases are `replica`s or `formerWriter`s (`databaseShape`).
   */
  writers?: WriterDatabase[];
  /**
   * The stack's cookie-signing key (stacks/global.ts: createCookieSigningKey): the same in every
   * region, so a cookie signed in one verifies in the other; kept in a secret of each region, so
   * no task reads the other region at start.
   */
  cookieSigningKey: pulumi.Input<string>;
  /**
   * The account, partition and this region's name, which its components take instead of looking
   * them up through this region's provider (a lost region, after a failover).
   */
  context: AwsContext;
  /** The provider lookups that name this region go through (the writer region's). */
  lookups: aws.Provider;
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
  /** One database per physical shard (`database.shards`); shard 0 also holds the directory. */
  readonly databases: Database[];
  /** Physical shard 0's database (named as before sharding). */
  readonly database: Database;
  /**
   * The shared cache, unless `cache.enabled` is false or the emulator cannot host one
   * (stacks/emulator.ts: cacheSkippedReason); then each task keeps its cache and sessions.
   */
  readonly cache: Cache | undefined;
  /** Where every region sends invalidations of this region's cache; its web tasks apply them. */
  readonly invalidations: InvalidationQueue;
  /** The queue and workers, when `workers.mode` is `service` (else the web task runs the jobs). */
  readonly workers: QueueWorkers | undefined;
  readonly web: WebService;
  /** The web ACL in front of the load balancer; none where the emulator serves no web ACLs. */
  readonly waf: WebAcl | undefined;
  readonly observability: Observability;
  /** The migrate step (every physical shard): its task definition in the region holding the writers only. */
  readonly migration: MigrationTask;
  /** The region's access-log bucket (load balancer and S3 server access logs); undefined when off. */
  readonly accessLogs: AccessLogBucket | undefined;
  /** The key every log group of the region is encrypted with. */
  readonly logsKeyArn: pulumi.Output<string>;
  /** Where this region's app writes, per physical shard: its own writers, or the other region's. */
  readonly writers: WriterDatabase[];
  /** Physical shard 0's writer. */
  readonly writer: WriterDatabase;
  /** The region's copy of the cookie-signing key, read by its tasks at start. */
  private readonly cookieSecret: aws.secretsmanager.Secret;
  /** The key the app's own secrets (the cookie-signing key) are encrypted with in this region. */
  private readonly secretsKeyArn: pulumi.Output<string>;
  /** Where this region's app reads, per physical shard: its replicas, unless they follow a former writer. */
  readonly shardReaderAddresses: pulumi.Output<string>[][];
  /** Physical shard 0's reader addresses. */
  readonly readerAddresses: pulumi.Output<string>[];

  private readonly config: StackConfig;
  private readonly clusterArn: pulumi.Output<string>;
  /** The grants this region makes its own task roles (cache, job queue, invalidations). */
  private readonly ownGrants: TaskRoleGrants;
  private servicesStarted = false;

  constructor(name: string, args: RegionArgs, opts: pulumi.ComponentResourceOptions) {
    super("zero-to-millions:stacks:Region", name, {}, opts);
    const { config } = args;
    const shape = databaseShape(args.role, config.database.writerRegion);
    if ((shape === "replica" || shape === "formerWriter") !== (args.writers !== undefined)) {
      throw new Error(
        `region ${args.region} (${args.role}): its database is a ${shape} with database.writerRegion ${config.database.writerRegion}, so args.writers must ${args.writers ? "not " : ""}be given`,
      );
    }
    if (args.writers !== undefined && args.writers.length !== config.database.shards) {
      throw new Error(
        `region ${args.region} (${args.role}): args.writers has ${args.writers.length} writers for database.shards ${config.database.shards}; give one per physical shard`,
      );
    }
    this.role = args.role;
    this.region = args.region;
    this.config = config;

    // Every log group of the region under a customer-managed key, before anything logs.
    const { context } = args;
    this.logsKeyArn = createKmsKey(this, `${name}-logs`, {
      account: context,
      description: `${name}: the region's CloudWatch log groups`,
      // CloudWatch Logs encrypts every group; log delivery writes the web ACL's logs.
      users: logsKeyUsers(args.region, context),
      alias: true,
      tags: tierTags("observability"),
    }).arn;

    this.network = new Network(
      `${name}-network`,
      { ...networkArgs(config, args.role), flowLogKmsKeyArn: this.logsKeyArn, region: args.region },
      { parent: this },
    );

    // One database of the same shape per physical shard; shard 0 keeps the name (and URNs) it had
    // before sharding, so adding shards never touches it.
    this.databases = physicalShards(config).map(
      (shard) =>
        new Database(
          shardName(`${name}-database`, shard),
          {
            vpcId: this.network.vpcId,
            subnetIds: this.network.isolatedSubnetIds,
            ...databaseSettings(config),
            logKmsKeyArn: this.logsKeyArn,
            role: databaseRole(shape, config, args.writers?.[shard]),
            account: context,
          },
          { parent: this },
        ),
    );
    this.database = this.databases[0]!;
    this.shardReaderAddresses = this.databases.map((database) => readerAddressesOf(database.role));
    this.readerAddresses = this.shardReaderAddresses[0]!;

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
              account: context,
            },
            { parent: this },
          );

    this.invalidations = args.invalidations.queue;

    const cluster = new ComputeCluster(`${name}-cluster`, {}, { parent: this });
    this.clusterArn = cluster.arn;
    // Secrets Manager uses it on the caller's behalf (kms:ViaService), so its policy names no service.
    this.secretsKeyArn = createKmsKey(this, `${name}-secrets`, {
      account: context,
      description: `${name}: the app's secrets in Secrets Manager`,
      alias: true,
      tags: tierTags("web"),
    }).arn;
    this.cookieSecret = this.createCookieSecret(name, args.cookieSigningKey);
    // The schema first: the web and worker tasks only verify it, as the role the migrate step creates.
    const { task: migration, run } = this.createMigration(name, args, cluster);
    this.migration = migration;
    // Every shard's writer carries the one run that migrated them all.
    this.writers = run
      ? this.databases.map((database) => this.ownWriter(database, run))
      : args.writers!;
    this.writer = this.writers[0]!;
    const task = this.taskSettings(args);
    // Each service starts, waiting for every grant of its task role, once they exist (startServices).
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

    this.accessLogs =
      config.web.accessLogRetentionDays > 0
        ? new AccessLogBucket(
            `${name}-alb-logs`,
            {
              retentionDays: config.web.accessLogRetentionDays,
              account: context,
              // ELB's account of this region, from the provider's table (no request to it).
              elbAccountArn: aws.elb.getServiceAccountOutput(
                { region: args.region },
                { provider: args.lookups },
              ).arn,
            },
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
          SESSIONS_TABLE: args.sessionsTableName,
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
        ...(this.accessLogs ? { accessLogs: this.accessLogs.destination } : {}),
      },
      { parent: this },
    );

    // The internet reaches the load balancer through the region's web ACL only.
    this.waf = serves(config, "webAcls")
      ? new WebAcl(
          `${name}-waf`,
          { ...webAclSettings(config, "REGIONAL"), logKmsKeyArn: this.logsKeyArn, context },
          { parent: this },
        )
      : undefined;
    this.waf?.associate("web", this.web.albArn);

    // Who may talk to whom: the app tiers reach the data tier (every shard), nothing else does.
    for (const database of this.databases) {
      database.allowFrom("web", { securityGroupId: this.web.securityGroupId }, "web tasks");
    }
    this.cache?.allowFrom("web", { securityGroupId: this.web.securityGroupId }, "web tasks");
    // Both sign in to the cache with IAM tokens of their own task role (no password).
    const ownWeb: pulumi.Resource[] = [
      // The web tasks hold the region's cache in use, so they apply its invalidations.
      this.invalidations.grantConsume(`${name}-web-applies-invalidations`, this.web.taskRoleName),
    ];
    const ownWorkers: pulumi.Resource[] = [];
    const webCacheGrant = this.cache?.grantConnect("web", this.web.taskRoleName);
    if (webCacheGrant) ownWeb.push(webCacheGrant);
    if (this.workers) {
      for (const database of this.databases) {
        database.allowFrom(
          "workers",
          { securityGroupId: this.workers.securityGroupId },
          "worker tasks",
        );
      }
      this.cache?.allowFrom(
        "workers",
        { securityGroupId: this.workers.securityGroupId },
        "worker tasks",
      );
      const workerCacheGrant = this.cache?.grantConnect("workers", this.workers.taskRoleName);
      if (workerCacheGrant) ownWorkers.push(workerCacheGrant);
      // The web tier enqueues jobs; the workers own the queue and already consume it.
      ownWeb.push(this.workers.grantSendMessages(`${name}-web-sends-jobs`, this.web.taskRoleName));
    }
    this.ownGrants = { web: ownWeb, workers: ownWorkers };

    this.observability = new Observability(
      `${name}-observability`,
      {
        region: args.region,
        context,
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
        databaseShards: this.databases.slice(1).map((database) => observedInstances(database.role)),
        ...(this.cache
          ? {
              cache: {
                replicationGroupId: this.cache.replicationGroupId,
                memberClusterIds: this.cache.memberClusterIds,
              },
            }
          : {}),
        invalidations: {
          queueName: this.invalidations.queueName,
          deadLetterQueueName: this.invalidations.deadLetterQueueName,
        },
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

  /**
   * Lets the region's web and worker services start, each once every grant of its task role
   * exists: the ones this region made, and `grants`, made where the regions are composed (the
   * CDN's files, sessions, database logins, invalidation sends). Call it once, after the last
   * grant: until then the services do not exist, and without it the program fails at its end.
   */
  startServices(grants: TaskRoleGrants): void {
    if (this.servicesStarted) throw new Error(`region ${this.region}: startServices called twice`);
    this.servicesStarted = true;
    this.web.start([...this.ownGrants.web, ...grants.web]);
    this.workers?.start([...this.ownGrants.workers, ...grants.workers]);
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
      invalidationQueueUrl: this.invalidations.queueUrl,
      // What `aws ecs run-task` needs to run the migrations by hand, in the region holding the writer.
      ...(this.migration.taskDefinitionArn
        ? {
            migrate: {
              taskDefinitionArn: this.migration.taskDefinitionArn,
              clusterArn: this.clusterArn,
              subnetIds: this.network.privateSubnetIds,
              securityGroupId: this.migration.securityGroupId,
            },
          }
        : {}),
    };
  }

  private ownWriter(database: Database, run: MigrationRun): WriterDatabase {
    const role = database.role;
    if (role.kind !== "writer" && role.kind !== "promotedReplica") {
      throw new Error(`region ${this.region}: this region's database (${role.kind}) has no writer`);
    }
    return {
      instanceArn: role.writer.arn,
      address: role.writer.address,
      instance: role.writer.instance,
      migratedBy: run.taskId,
    };
  }

  /**
   * The migrate step (contract: MIGRATE_COMMAND), next to the writers: the only task with the
   * master credential, read from this region's own secrets. It migrates every physical shard in
   * turn (shard 0's writer is DATABASE_URL, the others DATABASE_SHARDS) and creates the app's role
   * (`database.appUsername`) on each, which the web and worker tasks log in as. The run executes
   * it at every deploy that changes its task definition and fails the up if it fails (MigrationRun).
   *
   * Its roles, security group and grants exist in both regions whatever `writerRegion` says, the
   * grants covering any RDS master secret of this region (decryptable only with its databases'
   * keys): a failover adds only the task definition and the run, no IAM resource (IAM's control
   * plane is in us-east-1).
   */
  private createMigration(
    name: string,
    args: RegionArgs,
    cluster: ComputeCluster,
  ): { task: MigrationTask; run: MigrationRun | undefined } {
    const { config } = args;
    const masterUrl = (host: pulumi.Input<string>) =>
      this.databaseUrl(config.database.masterUsername, host);
    // Every physical shard has the region's shape: all of them have a writer here, or none does.
    const shardWriters = this.databases.flatMap((database) => {
      const role = database.role;
      return role.kind === "writer" || role.kind === "promotedReplica" ? [role.writer] : [];
    });
    const [writer, ...otherWriters] = shardWriters;
    const migration = new MigrationTask(
      `${name}-migrate`,
      {
        cluster: { arn: cluster.arn, name: cluster.name },
        vpcId: this.network.vpcId,
        subnetIds: this.network.privateSubnetIds,
        image: args.image,
        context: args.context,
        command: [...MIGRATE_COMMAND],
        cpu: config.web.cpu,
        memory: config.web.memory,
        logRetentionDays: config.logs.retentionDays,
        logKmsKeyArn: this.logsKeyArn,
        runsHere: writer !== undefined,
        environment: writer
          ? ({
              AWS_REGION: args.region,
              DATABASE_URL: masterUrl(writer.address),
              DATABASE_APP_USER: config.database.appUsername,
              // Shards 1..N-1, each read with its own master secret by the task itself.
              ...(otherWriters.length > 0
                ? {
                    DATABASE_SHARDS: pulumi.jsonStringify(
                      otherWriters.map((shardWriter) => ({
                        url: masterUrl(shardWriter.address),
                        readUrls: [],
                        secretArn: shardWriter.masterUserSecretArn,
                      })),
                    ),
                  }
                : {}),
            } satisfies MigrateEnvironment<pulumi.Input<string>>)
          : {},
        secrets: writer
          ? ({
              DATABASE_PASSWORD: { arn: writer.masterUserSecretArn, jsonKey: "password" },
            } satisfies MigrateSecrets<SecretReference>)
          : {},
        secretGrantArns: [rdsMasterSecretsOf(this.database.kmsKeyArn)],
        secretKmsKeyArns: [this.database.kmsKeyArn],
      },
      { parent: this },
    );
    const shardPasswords =
      this.databases.length > 1
        ? [
            this.grantReadShardPasswords(
              `${name}-migrate`,
              migration.taskRoleName,
              this.databases.slice(1).map((database) => database.kmsKeyArn),
            ),
          ]
        : [];
    const admitted = this.databases.flatMap((database) =>
      database.allowFrom(
        "migrate",
        { securityGroupId: migration.securityGroupId },
        "the migrate step",
      ),
    );
    if (writer === undefined || migration.taskDefinitionArn === undefined) {
      return { task: migration, run: undefined };
    }
    const run = new MigrationRun(
      `${name}-migrate-run`,
      {
        region: args.region,
        clusterArn: cluster.arn,
        taskDefinitionArn: migration.taskDefinitionArn,
        subnetIds: this.network.privateSubnetIds,
        securityGroupId: migration.securityGroupId,
        containerName: CONTAINER_NAME,
      },
      // The task pulls its image through the network's NAT and reaches every shard's writer only
      // once its database admits the task's security group.
      // The run reads the other shards' passwords with its task role's grant.
      { parent: this, dependsOn: [this.network, ...admitted, ...shardPasswords] },
    );
    return { task: migration, run };
  }

  /**
   * Lets the migrate task read the master passwords of shards 1..N-1 itself (DATABASE_SHARDS'
   * secretArn): any RDS master secret of this region (a promoted writer's is created at failover,
   * so its ARN is not known ahead), decryptable only with those shards' keys and only as Secrets
   * Manager decrypts them. In both regions, like the migrate step's other grants.
   */
  private grantReadShardPasswords(
    name: string,
    roleName: pulumi.Input<string>,
    kmsKeyArns: pulumi.Input<string>[],
  ): aws.iam.RolePolicy {
    return new aws.iam.RolePolicy(
      `${name}-shard-passwords`,
      {
        role: roleName,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ReadShardPasswords",
              Effect: "Allow",
              Action: "secretsmanager:GetSecretValue",
              Resource: rdsMasterSecretsOf(this.database.kmsKeyArn),
              // Only this stack's instances' secrets: RDS tags each with its instance's ARN, and a
              // secret under the account's default key is readable by any role this grants.
              Condition: {
                StringLike: {
                  [RDS_SECRET_INSTANCE_TAG]: rdsInstancesOf(this.database.kmsKeyArn),
                },
              },
            },
            {
              Sid: "DecryptShardPasswords",
              Effect: "Allow",
              Action: "kms:Decrypt",
              Resource: kmsKeyArns,
              Condition: { StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" } },
            },
          ],
        }),
      },
      { parent: this },
    );
  }

  /** A PostgreSQL URL without a password, over TLS (RDS takes IAM tokens over TLS only). */
  private databaseUrl(user: string, host: pulumi.Input<string>): pulumi.Output<string> {
    const { config } = this;
    return pulumi.interpolate`postgres://${user}@${host}:${this.database.port}/${config.database.databaseName}?sslmode=require`;
  }

  /**
   * The cookie-signing key in this region's Secrets Manager, under the region's secrets key
   * (changing the key updates the secret in place: Secrets Manager re-encrypts its versions).
   */
  private createCookieSecret(name: string, key: pulumi.Input<string>): aws.secretsmanager.Secret {
    const secret = new aws.secretsmanager.Secret(
      `${name}-cookie-secret`,
      {
        description: `${name}: the app's cookie-signing key (COOKIE_SECRET)`,
        kmsKeyId: this.secretsKeyArn,
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
      this.databaseUrl(config.database.appUsername, host);
    return {
      vpcId: this.network.vpcId,
      subnetIds: this.network.privateSubnetIds,
      image: args.image,
      context: args.context,
      ...taskSettings(config),
      logKmsKeyArn: this.logsKeyArn,
      migratedBy: this.writer.migratedBy,
      environment: {
        AWS_REGION: args.region,
        DATABASE_URL: databaseUrl(this.writer.address),
        // IAM tokens, signed with the task role: no password to fetch, from either region.
        DATABASE_AUTH: "iam",
        // The migrate step owns the schema; a task only checks it is current.
        DATABASE_MIGRATIONS: "verify",
        DATABASE_READ_URLS: pulumi
          .all(this.readerAddresses.map((address) => databaseUrl(address)))
          .apply((urls) => urls.join(",")),
        // Physical shards 1..N-1 and the map of logical shards onto them (README: Sharding); with
        // one shard, a map (stage 9's default, kept by `database.shards` 1) says nothing.
        ...(config.database.shards > 1
          ? {
              DATABASE_SHARDS: pulumi.jsonStringify(
                this.writers.slice(1).map((writer, index) => ({
                  url: databaseUrl(writer.address),
                  readUrls: this.shardReaderAddresses[index + 1]!.map((address) =>
                    databaseUrl(address),
                  ),
                })),
              ),
              ...(config.database.shardMap === undefined
                ? {}
                : { DATABASE_SHARD_MAP: config.database.shardMap }),
            }
          : {}),
        // A tier's variables only where it exists; the app falls back to its in-process tier.
        ...(this.cache
          ? {
              REDIS_URL: pulumi.interpolate`rediss://${this.cache.primaryEndpoint}:${this.cache.port}`,
              REDIS_IAM_USER: this.cache.appUserId,
              REDIS_IAM_CACHE_ID: this.cache.replicationGroupId,
            }
          : {}),
        ASSETS_BUCKET: args.files.bucketName,
        ASSETS_BUCKET_REGION: args.files.bucketRegion,
        ...(args.cdnDomain === undefined ? {} : { CDN_DOMAIN: args.cdnDomain }),
        CACHE_INVALIDATION_QUEUE_URL: this.invalidations.queueUrl,
        CACHE_INVALIDATION_PUBLISH_URLS: pulumi
          .all(args.invalidations.publishUrls)
          .apply((urls) => urls.join(",")),
        METRICS_NAMESPACE,
      } satisfies StackTaskEnvironment<"worker", pulumi.Input<string>>,
      secrets: {
        COOKIE_SECRET: { arn: this.cookieSecret.arn },
      } satisfies TaskSecrets<SecretReference>,
      secretKmsKeyArns: [this.secretsKeyArn],
    };
  }
}

/** Physical shard numbers, 0 to database.shards - 1. */
export function physicalShards(config: StackConfig): number[] {
  return Array.from({ length: config.database.shards }, (_, shard) => shard);
}

/**
 * A physical shard's component name: shard 0 keeps the name it had before sharding (so its URNs,
 * and the writer behind them, never change); shard N is `<name>-shardN`.
 */
export function shardName(name: string, shard: number): string {
  return shard === 0 ? name : `${name}-shard${shard}`;
}

/**
 * An ARN of `service` in `region`, in the partition and account of `knownArn` (any ARN of the
 * stack's): built from config, so it waits for no resource of that region.
 */
export function arnInRegion(
  knownArn: pulumi.Input<string>,
  service: string,
  region: string,
  resource: string,
): pulumi.Output<string> {
  return pulumi.output(knownArn).apply((arn) => {
    const [, partition, , , account] = arn.split(":");
    return `arn:${partition}:${service}:${region}:${account}:${resource}`;
  });
}

/**
 * Every RDS-managed master secret (`rds!db-…`) of the region and account of `kmsKeyArn`: the
 * promoted writer's secret is created at failover, so its exact ARN is not known ahead.
 */
export function rdsMasterSecretsOf(kmsKeyArn: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi
    .output(kmsKeyArn)
    .apply((arn) => arnInRegion(arn, "secretsmanager", arn.split(":")[3]!, "secret:rds!db-*"));
}

/** The tag RDS puts on each master secret it manages: the ARN of the instance it belongs to. */
export const RDS_SECRET_INSTANCE_TAG = "aws:ResourceTag/aws:rds:primaryDBInstanceArn";

/**
 * Every RDS instance of this stack in the region and account of `kmsKeyArn` (their identifiers
 * start with the project and stack: components/tags.ts stackPhysicalName).
 */
export function rdsInstancesOf(kmsKeyArn: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi
    .output(kmsKeyArn)
    .apply((arn) =>
      arnInRegion(
        arn,
        "rds",
        arn.split(":")[3]!,
        `db:${stackPhysicalName([], Number.MAX_SAFE_INTEGER)}-*`,
      ),
    );
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
      return { kind: "crossRegionReplica", sourceArn: writer.instanceArn, source: writer.instance };
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
    // The provider asks STS who it is when configured; by default in its own region, which a
    // regional failover has lost. The writer's region is the one a failover keeps.
    stsRegion: config.regions[config.database.writerRegion],
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
