import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { createEncryptionKey, createIngressRules, type IngressSource } from "./dataTier";
import { physicalName, tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import { throwIfInvalid } from "./validation";

/** PostgreSQL's port, fixed so that security group rules, connection URLs and alarms agree. */
export const POSTGRES_PORT = 5432;
const MAX_READ_REPLICAS = 5;
const MIN_SUBNETS = 2;
/** gp3's smallest and largest volumes for RDS for PostgreSQL. */
const MIN_STORAGE_GB = 20;
const MAX_STORAGE_GB = 65_536;
/** RDS refuses a storage-autoscaling ceiling less than 10% above the allocated storage. */
const MIN_AUTOSCALING_HEADROOM = 1.1;
const MAX_BACKUP_RETENTION_DAYS = 35;
/** The oldest major version in RDS standard support; older ones bill Extended Support. */
const MIN_ENGINE_MAJOR = 13;
/** Statements slower than this many milliseconds are logged (and exported to CloudWatch Logs). */
const SLOW_QUERY_MILLISECONDS = 500;
/** Performance Insights' free tier. */
const PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7;
/** The current RDS certificate authority (RSA 2048, valid to 2061); rds-ca-2019 expired in 2024. */
const CA_CERT_IDENTIFIER = "rds-ca-rsa2048-g1";
/** Bytes of randomness in the final snapshot's name (8 hex characters). */
const FINAL_SNAPSHOT_SUFFIX_BYTES = 4;
/** The cross-region replica's logical name, which it keeps when promoted (so it is not replaced). */
const CROSS_REGION_REPLICA_NAME = "replica-0";
/** RDS identifiers are at most 63 characters; Pulumi's autonaming appends "-" and 7 characters. */
const MAX_NAME_LENGTH = 63 - 8 - "-replica-0".length;

export type { IngressSource };

export interface DatabaseArgs {
  /** The VPC of `subnetIds`; the database's security group is created in it. */
  vpcId: pulumi.Input<string>;
  /**
   * Isolated subnets (no route to the internet) in at least two availability zones, which RDS
   * requires even for a single-AZ instance.
   */
  subnetIds: pulumi.Input<string>[];
  /**
   * PostgreSQL version: a major version lets RDS apply minor upgrades in the maintenance window;
   * a pinned minor (`16.4`) turns them off, since the next deploy would try to downgrade.
   * The parameter group's family follows the major version.
   *
   * Raising the major version upgrades in place, with downtime; replicas follow their source.
   * @example "16"
   */
  engineVersion: string;
  /**
   * The class of every instance (writer and replicas). Changing it resizes in place with a short
   * outage (a failover when multi-AZ).
   * @example "db.t4g.micro"
   */
  instanceClass: string;
  /**
   * gp3 storage of the writer, from 20 to 65536 GiB. Storage only grows: RDS refuses to shrink it.
   * @example 20
   */
  allocatedStorageGb: number;
  /**
   * Storage autoscaling's ceiling: at least 10% above `allocatedStorageGb`, or equal to it to turn
   * autoscaling off.
   * @example 100
   */
  maxAllocatedStorageGb: number;
  /**
   * The database created on the writer (unused with `replicaOf`).
   *
   * Changing it replaces the writer: a new, empty database.
   * @example "app"
   */
  databaseName: string;
  /**
   * The master user (unused with `replicaOf`). Its password is generated and rotated by RDS in
   * Secrets Manager (`masterUserSecretArn`); it is never in config or state.
   *
   * Changing it replaces the writer: a new, empty database.
   * @example "app"
   */
  masterUsername: string;
  /**
   * Read replicas of the writer in this region, 0 to 5. Lowering it deletes the highest-numbered
   * replicas.
   */
  readReplicas: number;
  /**
   * Set to make this region hold one cross-region read replica of that instance instead of a
   * writer (databaseName, masterUsername and skipFinalSnapshot come from, or do not apply to, the
   * source). The replica is encrypted with this region's key.
   *
   * Changing it replaces the replica.
   * @example { arn: primaryDatabase.writerArn! }
   */
  replicaOf?: { arn: pulumi.Input<string> };
  /**
   * The cross-region replica that `replicaOf` made, promoted in place into this region's writer
   * (instead of `replicaOf`), for when the source's region is lost. The provider promotes a
   * replica whose `replicateSourceDb` goes away (PromoteReadReplica): same instance, data and
   * endpoint. It then takes the writer's settings: backups, final snapshot, and a master password
   * that RDS manages in this region's Secrets Manager (the source's secret is in the lost region).
   *
   * One way: a promoted instance never becomes a replica again (README: Deploying, failing back).
   * @default false
   */
  promotedReplica?: boolean;
  /**
   * A standby in another availability zone with automatic failover (doubles the instance's
   * cost). Applies to the writer, or to the cross-region replica (which becomes the writer if
   * promoted); in-region replicas are single-AZ, spread by RDS.
   */
  enableMultiAz: boolean;
  /**
   * Days of automated backups (point-in-time recovery), 0 to 35. A replication source needs at
   * least 1: set it whenever this writer has replicas, in this region or another. With
   * `replicaOf`, the cross-region replica keeps its own backups, so a promoted replica is
   * already backed up.
   */
  backupRetentionDays: number;
  /**
   * Refuse to delete the writer (or the cross-region replica). In-region replicas are not
   * protected, so that lowering `readReplicas` just works.
   */
  enableDeletionProtection: boolean;
  /**
   * Delete the writer without a final snapshot (RDS takes none of a replica). When false, the
   * writer's automated backups are kept after deletion too.
   */
  skipFinalSnapshot: boolean;
  /** Performance Insights on every instance (7 days, the free tier), encrypted with the component's key. */
  enablePerformanceInsights: boolean;
  /**
   * Apply changes that need a restart at once instead of in the next maintenance window.
   * @default false
   */
  applyImmediately?: boolean;
  /** Change the arguments of a child resource before it is created. */
  transform?: {
    kmsKey?: Transform<aws.kms.KeyArgs>;
    subnetGroup?: Transform<aws.rds.SubnetGroupArgs>;
    securityGroup?: Transform<aws.ec2.SecurityGroupArgs>;
    parameterGroup?: Transform<aws.rds.ParameterGroupArgs>;
    writer?: Transform<aws.rds.InstanceArgs>;
    /** Every replica: in-region ones and the cross-region one (promoted or not: the same instance). */
    replica?: Transform<aws.rds.InstanceArgs>;
  };
}

/**
 * Validates the arguments before any resource exists. Settings that are merely unwise in
 * production (no multi-AZ, short backups) are not errors here: the policy pack judges those.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateDatabaseArgs(args: DatabaseArgs): string[] {
  const problems: string[] = [];
  const isCount = (value: number, max: number) =>
    Number.isInteger(value) && value >= 0 && value <= max;
  if (!isCount(args.readReplicas, MAX_READ_REPLICAS)) {
    problems.push(
      `readReplicas: ${args.readReplicas} must be a whole number from 0 to ${MAX_READ_REPLICAS}`,
    );
  }
  if (args.promotedReplica === true && args.replicaOf !== undefined) {
    problems.push(
      "promotedReplica and replicaOf: a promoted replica has no source any more; remove replicaOf",
    );
  }
  if (args.promotedReplica === true && args.readReplicas > 0) {
    problems.push(
      `promotedReplica and readReplicas: a promoted cross-region replica has no in-region replicas; set readReplicas to 0 (it is ${args.readReplicas})`,
    );
  }
  if (args.replicaOf !== undefined && args.readReplicas > 0) {
    problems.push(
      `replicaOf and readReplicas: a cross-region replica has no in-region replicas; set readReplicas to 0 (it is ${args.readReplicas})`,
    );
  }
  if (args.subnetIds.length < MIN_SUBNETS) {
    problems.push(
      `subnetIds: ${args.subnetIds.length} given; RDS needs subnets in at least ${MIN_SUBNETS} availability zones`,
    );
  }
  const major = engineMajorVersion(args.engineVersion);
  if (major === undefined) {
    problems.push(
      `engineVersion: "${args.engineVersion}" must be a PostgreSQL version such as 16 or 16.4`,
    );
  } else if (major < MIN_ENGINE_MAJOR) {
    problems.push(
      `engineVersion: "${args.engineVersion}" is out of RDS standard support; use ${MIN_ENGINE_MAJOR} or later`,
    );
  }
  if (!/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(args.instanceClass)) {
    problems.push(
      `instanceClass: "${args.instanceClass}" must be an RDS class such as db.t4g.micro`,
    );
  }
  const storage = args.allocatedStorageGb;
  if (!Number.isInteger(storage) || storage < MIN_STORAGE_GB || storage > MAX_STORAGE_GB) {
    problems.push(
      `allocatedStorageGb: ${storage} must be a whole number from ${MIN_STORAGE_GB} to ${MAX_STORAGE_GB}`,
    );
  }
  const maxStorage = args.maxAllocatedStorageGb;
  if (!Number.isInteger(maxStorage) || maxStorage < storage || maxStorage > MAX_STORAGE_GB) {
    problems.push(
      `maxAllocatedStorageGb: ${maxStorage} must be a whole number from allocatedStorageGb (${storage}) to ${MAX_STORAGE_GB}; storage only grows`,
    );
  } else if (maxStorage !== storage && maxStorage < Math.ceil(storage * MIN_AUTOSCALING_HEADROOM)) {
    problems.push(
      `maxAllocatedStorageGb: ${maxStorage} must be at least ${Math.ceil(storage * MIN_AUTOSCALING_HEADROOM)} (10% above allocatedStorageGb), or ${storage} to turn storage autoscaling off`,
    );
  }
  if (!isCount(args.backupRetentionDays, MAX_BACKUP_RETENTION_DAYS)) {
    problems.push(
      `backupRetentionDays: ${args.backupRetentionDays} must be a whole number from 0 to ${MAX_BACKUP_RETENTION_DAYS}`,
    );
  } else if (args.backupRetentionDays < 1 && args.readReplicas > 0) {
    problems.push(
      `backupRetentionDays: 0 with readReplicas ${args.readReplicas}; RDS needs backups on a replication source, set at least 1`,
    );
  }
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(args.databaseName)) {
    problems.push(
      `databaseName: "${args.databaseName}" must be a lowercase identifier of up to 63 characters, such as app`,
    );
  }
  if (
    !/^[a-z][a-z0-9_]{0,62}$/.test(args.masterUsername) ||
    args.masterUsername.startsWith("rds")
  ) {
    problems.push(
      `masterUsername: "${args.masterUsername}" must be a lowercase identifier of up to 63 characters not starting with "rds" (reserved), such as app`,
    );
  }
  return problems;
}

/** The component name becomes part of every RDS identifier, which has its own rules. */
function validateName(name: string): string[] {
  if (/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name) && name.length <= MAX_NAME_LENGTH) return [];
  return [
    `name: "${name}" must be lowercase letters, digits and single hyphens, start with a letter and have at most ${MAX_NAME_LENGTH} characters (it prefixes the RDS instance identifiers)`,
  ];
}

function engineMajorVersion(engineVersion: string): number | undefined {
  const match = /^(\d+)(\.\d+)?$/.exec(engineVersion);
  return match ? Number(match[1]) : undefined;
}

/**
 * The data tier of one region: RDS for PostgreSQL in isolated subnets, either a writer with
 * in-region read replicas, or (with `replicaOf`) a cross-region read replica of another region's
 * writer, which `promotedReplica` turns into this region's writer when that region is lost.
 * Writes always go to the one writer; reads spread over the replicas.
 *
 * - Storage, Performance Insights and the master password's secret are encrypted with the
 *   component's own KMS key (rotated yearly); the app's task execution role needs `kms:Decrypt`
 *   on `kmsKeyArn` to read the password (key `password` of `masterUserSecretArn`).
 * - The master password is generated by RDS in Secrets Manager, never seen by Pulumi. RDS rotates
 *   it every 7 days, while ECS injects secrets only at task start: clients re-read the secret
 *   when authentication fails.
 * - TLS is required (`rds.force_ssl`); statements slower than 500 ms are logged.
 * - The security group admits nothing until `allowFrom()` names a source.
 *
 * Instance identifiers are autonamed (`<name>-writer-<random>`): stacks sharing an account never
 * collide, and a replaced replica is created before the old one is deleted. Dashboards and alarms
 * read them from `writerIdentifier` and `readerIdentifiers`.
 *
 * @example
 * ```ts
 * const database = new Database("primary-database", {
 *   vpcId: network.vpcId,
 *   subnetIds: network.isolatedSubnetIds,
 *   engineVersion: "16",
 *   instanceClass: "db.r6g.large",
 *   allocatedStorageGb: 100,
 *   maxAllocatedStorageGb: 1000,
 *   databaseName: "app",
 *   masterUsername: "app",
 *   readReplicas: 2,
 *   enableMultiAz: true,
 *   backupRetentionDays: 14,
 *   enableDeletionProtection: true,
 *   skipFinalSnapshot: false,
 *   enablePerformanceInsights: true,
 * }, { provider });
 * database.allowFrom("web", { securityGroupId: web.securityGroupId }, "web tasks");
 * ```
 *
 * Cost (us-east-1 on demand, approximate): db.t4g.micro single-AZ with 20 GiB is about $14 a
 * month. db.r6g.large multi-AZ with 100 GiB is about $350, each in-region replica about $175, and a
 * cross-region replica $175 (single-AZ) to $350 (multi-AZ) plus $0.02 per GB replicated: about
 * $1,050 a month for the prod shape, before backup storage beyond the database's size.
 */
export class Database extends pulumi.ComponentResource {
  /**
   * The writer's (or promoted replica's) host name; undefined with `replicaOf` (writes go to the
   * source's region).
   */
  readonly writerAddress?: pulumi.Output<string>;
  readonly writerArn?: pulumi.Output<string>;
  readonly writerIdentifier?: pulumi.Output<string>;
  /** Host names of the read replicas: the in-region ones, or the one cross-region replica. */
  readonly readerAddresses: pulumi.Output<string>[];
  readonly readerIdentifiers: pulumi.Output<string>[];
  readonly port = POSTGRES_PORT;
  readonly securityGroupId: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** The RDS-managed secret holding the master user's `username` and `password`; undefined with `replicaOf`. */
  readonly masterUserSecretArn?: pulumi.Output<string>;

  private readonly componentName: string;
  private readonly kmsKey: aws.kms.Key;
  private readonly securityGroup: aws.ec2.SecurityGroup;
  private readonly subnetGroup: aws.rds.SubnetGroup;
  private readonly parameterGroup: aws.rds.ParameterGroup;
  private readonly writer: aws.rds.Instance | undefined;
  private readonly replicas: aws.rds.Instance[];

  constructor(name: string, args: DatabaseArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:Database", name, {}, opts);
    throwIfInvalid("Database", name, [...validateName(name), ...validateDatabaseArgs(args)]);
    const tags = tierTags("database");
    this.componentName = name;

    this.kmsKey = this.createKmsKey(name, args, tags);
    this.subnetGroup = this.createSubnetGroup(name, args, tags);
    this.securityGroup = this.createSecurityGroup(name, args, tags);
    this.parameterGroup = this.createParameterGroup(name, args, tags);
    if (args.promotedReplica === true) {
      this.writer = this.createPromotedReplica(name, args, tags);
      this.replicas = [];
    } else if (args.replicaOf === undefined) {
      this.writer = this.createWriter(name, args, tags);
      this.replicas = this.createInRegionReplicas(name, args, this.writer, tags);
    } else {
      this.writer = undefined;
      this.replicas = [this.createCrossRegionReplica(name, args, args.replicaOf, tags)];
    }

    this.writerAddress = this.writer?.address;
    this.writerArn = this.writer?.arn;
    this.writerIdentifier = this.writer?.identifier;
    this.masterUserSecretArn = this.writer?.masterUserSecrets.apply(
      (secrets) => secrets[0]!.secretArn,
    );
    this.readerAddresses = this.replicas.map((replica) => replica.address);
    this.readerIdentifiers = this.replicas.map((replica) => replica.identifier);
    this.securityGroupId = this.securityGroup.id;
    this.kmsKeyArn = this.kmsKey.arn;
    this.registerOutputs({
      writerAddress: this.writerAddress,
      readerAddresses: this.readerAddresses,
      securityGroupId: this.securityGroupId,
      kmsKeyArn: this.kmsKeyArn,
    });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return {
      kmsKey: this.kmsKey,
      securityGroup: this.securityGroup,
      subnetGroup: this.subnetGroup,
      parameterGroup: this.parameterGroup,
      writer: this.writer,
      replicas: this.replicas,
    };
  }

  /**
   * Admits PostgreSQL connections (TCP 5432) from a security group of this VPC, or from address
   * ranges (security groups cannot be referenced across regions, so the other region's app
   * subnets are admitted by CIDR over peering). Creates one rule per source or range.
   * @param name a short, unique label for the rules, such as `web`
   */
  allowFrom(
    name: string,
    source: IngressSource,
    description: string,
  ): aws.vpc.SecurityGroupIngressRule[] {
    return createIngressRules({
      owner: this,
      ownerName: this.componentName,
      what: "database",
      tier: "database",
      securityGroupId: this.securityGroup.id,
      port: POSTGRES_PORT,
      label: name,
      source,
      description,
    });
  }

  private createKmsKey(
    name: string,
    args: DatabaseArgs,
    tags: Record<string, string>,
  ): aws.kms.Key {
    return createEncryptionKey(
      this,
      name,
      `${name}: RDS storage, Performance Insights and the master password`,
      args.transform?.kmsKey,
      tags,
    );
  }

  private createSubnetGroup(
    name: string,
    args: DatabaseArgs,
    tags: Record<string, string>,
  ): aws.rds.SubnetGroup {
    return new aws.rds.SubnetGroup(
      `${name}-subnets`,
      transform(args.transform?.subnetGroup, {
        description: `${name}: isolated subnets`,
        subnetIds: args.subnetIds,
        tags,
      }),
      { parent: this },
    );
  }

  private createSecurityGroup(
    name: string,
    args: DatabaseArgs,
    tags: Record<string, string>,
  ): aws.ec2.SecurityGroup {
    // No inline rules: ingress comes from allowFrom() as separate rules, and the provider removes
    // AWS's default allow-all egress at creation (neither RDS nor its replication needs any).
    return new aws.ec2.SecurityGroup(
      `${name}-sg`,
      transform(args.transform?.securityGroup, {
        vpcId: args.vpcId,
        description: "PostgreSQL, admitting only the sources named by allowFrom",
        tags: { ...tags, Name: `${name}-db` },
      }),
      { parent: this },
    );
  }

  private createParameterGroup(
    name: string,
    args: DatabaseArgs,
    tags: Record<string, string>,
  ): aws.rds.ParameterGroup {
    // Autonamed, so a major upgrade's new family creates the new group before deleting the old one.
    return new aws.rds.ParameterGroup(
      `${name}-params`,
      transform(args.transform?.parameterGroup, {
        family: `postgres${engineMajorVersion(args.engineVersion)}`,
        description: `${name}: TLS only, slow query log`,
        parameters: [
          { name: "rds.force_ssl", value: "1" },
          { name: "log_min_duration_statement", value: String(SLOW_QUERY_MILLISECONDS) },
        ],
        tags,
      }),
      { parent: this },
    );
  }

  /** Settings every instance shares, writer and replicas alike. */
  private instanceDefaults(args: DatabaseArgs, tags: Record<string, string>): aws.rds.InstanceArgs {
    const insights = args.enablePerformanceInsights
      ? {
          performanceInsightsKmsKeyId: this.kmsKey.arn,
          performanceInsightsRetentionPeriod: PERFORMANCE_INSIGHTS_RETENTION_DAYS,
        }
      : {};
    return {
      instanceClass: args.instanceClass,
      storageType: "gp3",
      // Replicas inherit encryption from their source; stating it avoids a replacing diff.
      storageEncrypted: true,
      // 0 turns storage autoscaling off when the ceiling equals the allocated storage.
      maxAllocatedStorage:
        args.maxAllocatedStorageGb > args.allocatedStorageGb ? args.maxAllocatedStorageGb : 0,
      vpcSecurityGroupIds: [this.securityGroup.id],
      parameterGroupName: this.parameterGroup.name,
      port: POSTGRES_PORT,
      publiclyAccessible: false,
      caCertIdentifier: CA_CERT_IDENTIFIER,
      enabledCloudwatchLogsExports: ["postgresql"],
      performanceInsightsEnabled: args.enablePerformanceInsights,
      ...insights,
      // Only a major-only engineVersion may follow minor upgrades (see engineVersion).
      autoMinorVersionUpgrade: !args.engineVersion.includes("."),
      copyTagsToSnapshot: true,
      // Restarts (class, parameters) wait for the maintenance window rather than cutting traffic mid-deploy.
      applyImmediately: args.applyImmediately ?? false,
      tags,
    };
  }

  private createWriter(
    name: string,
    args: DatabaseArgs,
    tags: Record<string, string>,
  ): aws.rds.Instance {
    const finalSnapshot = args.skipFinalSnapshot ? undefined : this.finalSnapshotIdentifier(name);
    return new aws.rds.Instance(
      `${name}-writer`,
      transform(args.transform?.writer, {
        ...this.instanceDefaults(args, tags),
        engine: "postgres",
        engineVersion: args.engineVersion,
        // Only lets a deliberate change of engineVersion's major go through; nothing upgrades by itself.
        allowMajorVersionUpgrade: true,
        allocatedStorage: args.allocatedStorageGb,
        kmsKeyId: this.kmsKey.arn,
        dbName: args.databaseName,
        username: args.masterUsername,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: this.kmsKey.arn,
        dbSubnetGroupName: this.subnetGroup.name,
        multiAz: args.enableMultiAz,
        backupRetentionPeriod: args.backupRetentionDays,
        deletionProtection: args.enableDeletionProtection,
        skipFinalSnapshot: args.skipFinalSnapshot,
        finalSnapshotIdentifier: finalSnapshot,
        // Whoever wants a final snapshot also wants point-in-time backups to outlive the instance.
        deleteAutomatedBackups: args.skipFinalSnapshot,
      }),
      { parent: this },
    );
  }

  /** Unique per creation, so deleting a re-created stack never clashes with an earlier final snapshot. */
  private finalSnapshotIdentifier(name: string): pulumi.Output<string> {
    const suffix = new random.RandomId(
      `${name}-final-snapshot`,
      { byteLength: FINAL_SNAPSHOT_SUFFIX_BYTES },
      { parent: this },
    );
    return pulumi.interpolate`${physicalName([pulumi.getStack(), name, "final"], 200)}-${suffix.hex}`;
  }

  private createInRegionReplicas(
    name: string,
    args: DatabaseArgs,
    writer: aws.rds.Instance,
    tags: Record<string, string>,
  ): aws.rds.Instance[] {
    return Array.from(
      { length: args.readReplicas },
      (_, index) =>
        new aws.rds.Instance(
          `${name}-replica-${index}`,
          transform(args.transform?.replica, {
            ...this.instanceDefaults(args, tags),
            // Same region: the writer's identifier, and no subnet group or key of its own (RDS places
            // the replica in the writer's subnet group and encrypts it with the writer's key).
            replicateSourceDb: writer.identifier,
            multiAz: false,
            // The writer's backups hold the data; a lost replica is rebuilt from the writer.
            backupRetentionPeriod: 0,
            deletionProtection: false,
            skipFinalSnapshot: true,
          }),
          { parent: this },
        ),
    );
  }

  private createCrossRegionReplica(
    name: string,
    args: DatabaseArgs,
    source: { arn: pulumi.Input<string> },
    tags: Record<string, string>,
  ): aws.rds.Instance {
    return new aws.rds.Instance(
      `${name}-${CROSS_REGION_REPLICA_NAME}`,
      transform(args.transform?.replica, {
        ...this.instanceDefaults(args, tags),
        replicateSourceDb: source.arn,
        // A cross-region replica cannot use the source's key; it is encrypted with this region's.
        kmsKeyId: this.kmsKey.arn,
        dbSubnetGroupName: this.subnetGroup.name,
        multiAz: args.enableMultiAz,
        backupRetentionPeriod: args.backupRetentionDays,
        deletionProtection: args.enableDeletionProtection,
        skipFinalSnapshot: true,
      }),
      { parent: this },
    );
  }

  /**
   * The cross-region replica, promoted: the same logical name and placement, without a source,
   * with the writer's backups, final snapshot and an RDS-managed master password. What the
   * replica took from its source (engine, storage, database name, master user) is left unset, so
   * that nothing in it differs from the promoted instance and forces a replacement.
   */
  private createPromotedReplica(
    name: string,
    args: DatabaseArgs,
    tags: Record<string, string>,
  ): aws.rds.Instance {
    const finalSnapshot = args.skipFinalSnapshot ? undefined : this.finalSnapshotIdentifier(name);
    return new aws.rds.Instance(
      `${name}-${CROSS_REGION_REPLICA_NAME}`,
      transform(args.transform?.replica, {
        ...this.instanceDefaults(args, tags),
        kmsKeyId: this.kmsKey.arn,
        dbSubnetGroupName: this.subnetGroup.name,
        // RDS generates a new password into a secret in this region; the source's is in the lost one.
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: this.kmsKey.arn,
        multiAz: args.enableMultiAz,
        backupRetentionPeriod: args.backupRetentionDays,
        deletionProtection: args.enableDeletionProtection,
        skipFinalSnapshot: args.skipFinalSnapshot,
        finalSnapshotIdentifier: finalSnapshot,
        deleteAutomatedBackups: args.skipFinalSnapshot,
        // A failover cannot wait for the maintenance window.
        applyImmediately: true,
      }),
      { parent: this },
    );
  }
}

/** Why address ranges cannot be admitted; empty when they can. */
