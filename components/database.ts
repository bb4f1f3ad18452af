import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ChangeGuard } from "./changeGuard";
import { createIngressRules, createIsolatedTier, type IngressSource } from "./dataTier";
import { serviceTrustPolicy } from "./rolePolicy";
import { stackPhysicalName, type Tags, tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import { throwIfInvalid } from "./validation";
import type { AwsAccount } from "./awsContext";

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
/** The PostgreSQL logs RDS exports to CloudWatch Logs, each to a log group created here. */
const EXPORTED_LOGS = ["postgresql", "upgrade"] as const;
const DEFAULT_LOG_RETENTION_DAYS = 30;
/** The granularities Enhanced Monitoring accepts, in seconds (0: off). */
const MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60];
/** The AWS-managed policy that lets RDS publish Enhanced Monitoring metrics. */
const ENHANCED_MONITORING_POLICY_ARN =
  "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole";
/** RDS instance identifiers are at most 63 characters. */
const MAX_IDENTIFIER_LENGTH = 63;
/** The cross-region replica's logical name, which it keeps when promoted (so it is not replaced). */
const CROSS_REGION_REPLICA_NAME = "replica-0";
/** RDS identifiers are at most 63 characters; Pulumi's autonaming appends "-" and 7 characters. */
const MAX_NAME_LENGTH = 63 - 8 - "-replica-0".length;

export type { IngressSource };

/**
 * What a region's database is. Each role has the settings only it takes, so no combination of
 * optional fields can describe an impossible database:
 * - `writer`: the writer, with `readReplicas` (0 to 5) read replicas in its region; lowering it
 *   deletes the highest-numbered replicas.
 * - `crossRegionReplica`: one read replica of another region's writer (`sourceArn`), encrypted with
 *   this region's key; databaseName, masterUsername and skipFinalSnapshot come from, or do not
 *   apply to, the source. Changing `sourceArn` replaces it, and so does replacing `source` (the
 *   writer's instance, WriterOutputs.instance): its ARN stays the same (a fixed identifier), but
 *   RDS detaches a deleted source's replicas, which would go on serving its old data.
 * - `promotedReplica`: that replica promoted in place into this region's writer, for when the
 *   source's region is lost. The provider promotes a replica whose `replicateSourceDb` goes away
 *   (PromoteReadReplica): same instance, data and endpoint. It then takes the writer's settings:
 *   backups, final snapshot, and a master password that RDS manages in this region's Secrets
 *   Manager (the source's secret is in the lost region). One way: a promoted instance never
 *   becomes a replica again (README: Deploying, failing back).
 * - `formerWriter`: the writer after a failover moved writes to the other region, kept as it was
 *   (same resources as `writer`) for forensics and the way back; its data stops at the failover,
 *   so its outputs offer no endpoint to write to or read from.
 */
export type DatabaseRole =
  | { kind: "writer"; readReplicas: number }
  | { kind: "crossRegionReplica"; sourceArn: pulumi.Input<string>; source?: pulumi.Resource }
  | { kind: "promotedReplica" }
  | { kind: "formerWriter"; readReplicas: number };

/** One instance: its identifier (dashboards, alarms) and host name. */
export interface InstanceOutputs {
  identifier: pulumi.Output<string>;
  address: pulumi.Output<string>;
}

/** The instance that takes writes, and what a client needs to write to it. */
export interface WriterOutputs extends InstanceOutputs {
  arn: pulumi.Output<string>;
  /** The writer's instance, for a cross-region replica's `source` (replaced with it). */
  instance: pulumi.Resource;
  /** The RDS-managed secret holding the master user's `username` and `password`. */
  masterUserSecretArn: pulumi.Output<string>;
}

/** What the database offers, by role: only a writer or a promoted replica has a writer. */
export type DatabaseRoleOutputs =
  | { kind: "writer"; writer: WriterOutputs; readers: InstanceOutputs[] }
  | { kind: "crossRegionReplica"; replica: InstanceOutputs }
  | { kind: "promotedReplica"; writer: WriterOutputs }
  | { kind: "formerWriter"; formerWriter: InstanceOutputs; replicas: InstanceOutputs[] };

/** The in-region read replicas a role asks for (only a writer, current or former, has any). */
function readReplicasOf(role: DatabaseRole): number {
  return role.kind === "writer" || role.kind === "formerWriter" ? role.readReplicas : 0;
}

export interface DatabaseArgs {
  /**
   * The account the resources live in (components/awsContext.ts).
   * @default looked up through the component's provider (STS in its region)
   */
  account?: AwsAccount;
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
   * What this database is in its region, and what only that role takes (see DatabaseRole).
   * Moving from `crossRegionReplica` to `promotedReplica` promotes the replica in place; the other
   * moves replace instances.
   * @example { kind: "writer", readReplicas: 2 }
   */
  role: DatabaseRole;
  /**
   * The database created on the writer (unused by a cross-region replica, which has its source's).
   *
   * Changing it replaces the writer: a new, empty database.
   * @example "app"
   */
  databaseName: string;
  /**
   * The master user (unused by a cross-region replica). Its password is generated and rotated by RDS in
   * Secrets Manager (`masterUserSecretArn`); it is never in config or state.
   *
   * Changing it replaces the writer: a new, empty database.
   * @example "app"
   */
  masterUsername: string;
  /**
   * A standby in another availability zone with automatic failover (doubles the instance's
   * cost). Applies to the writer, or to the cross-region replica (which becomes the writer if
   * promoted); in-region replicas are single-AZ, spread by RDS.
   */
  enableMultiAz: boolean;
  /**
   * Days of automated backups (point-in-time recovery), 0 to 35. A replication source needs at
   * least 1: set it whenever this writer has replicas, in this region or another. A
   * cross-region replica keeps its own backups, so a promoted replica is
   * already backed up.
   */
  backupRetentionDays: number;
  /**
   * Refuse to delete the writer (or the cross-region replica). In-region replicas are not
   * protected, so that lowering a writer's `readReplicas` just works.
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
  /**
   * Days of PostgreSQL and upgrade logs kept in CloudWatch Logs. The log groups
   * (`/aws/rds/instance/<identifier>/postgresql` and `/upgrade`) are created here, before the
   * instances: RDS would otherwise create them on first export, kept forever.
   * @default 30
   */
  logRetentionDays?: number;
  /**
   * The customer-managed KMS key the log groups are encrypted with (its policy must let this
   * region's CloudWatch Logs use it: components/kmsKey.ts logsKeyUsers). Changing it re-keys new
   * log events in place. Unset: CloudWatch Logs' own encryption.
   * @example logsKey.arn
   */
  logKmsKeyArn?: pulumi.Input<string>;
  /**
   * RDS Enhanced Monitoring's granularity in seconds (1, 5, 10, 15, 30 or 60; 0 turns it off): OS
   * metrics per process, through a role of the component's own. RDS writes them to the account's
   * `RDSOSMetrics` log group (one per region, shared by every stack: not created here).
   * @default 0
   */
  enhancedMonitoringSeconds?: number;
  /**
   * Acknowledges a change of engineVersion's major version for this deploy. Without it a
   * ChangeGuard (components/changeGuard.ts) refuses the change at preview, since the deployed major
   * is known only to the engine. With it the writer applies the upgrade at once (RDS upgrades its
   * read replicas with it: RDS User Guide, USER_UpgradeDBInstance.PostgreSQL.MajorVersion), so
   * that the replicas move to the new parameter-group family only once they run the new major.
   * Set it back to false after the deploy.
   * @default false
   */
  allowMajorVersionUpgrade?: boolean;
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
  const readReplicas = readReplicasOf(args.role);
  if (!isCount(readReplicas, MAX_READ_REPLICAS)) {
    problems.push(
      `role.readReplicas: ${readReplicas} must be a whole number from 0 to ${MAX_READ_REPLICAS}`,
    );
  }
  const monitoring = args.enhancedMonitoringSeconds ?? 0;
  if (!MONITORING_INTERVALS.includes(monitoring)) {
    problems.push(
      `enhancedMonitoringSeconds: ${monitoring} must be one of ${MONITORING_INTERVALS.join(", ")} (0 turns it off)`,
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
  } else if (args.backupRetentionDays < 1 && readReplicas > 0) {
    problems.push(
      `backupRetentionDays: 0 with role.readReplicas ${readReplicas}; RDS needs backups on a replication source, set at least 1`,
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
 * in-region read replicas, or a cross-region read replica of another region's writer, which
 * promotion turns into this region's writer when that region is lost (`role`, DatabaseRole).
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
 * Instance identifiers are `<project>-<stack>-<name>-<role>` (stacks and projects sharing an
 * account never collide), chosen here so that each instance's log groups exist, with the stack's
 * retention, before RDS exports to them; a replaced instance is deleted before its successor is
 * created, and a replaced writer takes its replicas with it (RDS would detach them, still under
 * the same identifier, serving the old data). Dashboards and alarms read them from `writerIdentifier` and `readerIdentifiers`.
 * A change of the major version is refused at preview unless acknowledged
 * (`allowMajorVersionUpgrade`). Enhanced Monitoring is on with `enhancedMonitoringSeconds`.
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
 *   role: { kind: "writer", readReplicas: 2 },
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
  /** What the database offers in its role: a writer and readers, one replica, or a former writer. */
  readonly role: DatabaseRoleOutputs;
  readonly port = POSTGRES_PORT;
  readonly securityGroupId: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;

  private readonly componentName: string;
  private readonly logKmsKeyArn: pulumi.Input<string> | undefined;
  private readonly kmsKey: aws.kms.Key;
  private readonly securityGroup: aws.ec2.SecurityGroup;
  private readonly subnetGroup: aws.rds.SubnetGroup;
  private readonly parameterGroup: aws.rds.ParameterGroup;
  private readonly monitoring:
    { role: aws.iam.Role; attachment: aws.iam.RolePolicyAttachment } | undefined;
  private readonly writer: aws.rds.Instance | undefined;
  private readonly replicas: aws.rds.Instance[];

  constructor(name: string, args: DatabaseArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:Database", name, {}, opts);
    throwIfInvalid("Database", name, [...validateName(name), ...validateDatabaseArgs(args)]);
    const tags = tierTags("database");
    this.componentName = name;
    this.logKmsKeyArn = args.logKmsKeyArn;

    const tier = createIsolatedTier({
      owner: this,
      name,
      keyUse: "RDS storage, Performance Insights and the master password",
      account: args.account,
      subnetGroupType: aws.rds.SubnetGroup,
      subnetIds: args.subnetIds,
      vpcId: args.vpcId,
      description: "PostgreSQL, admitting only the sources named by allowFrom",
      nameTag: `${name}-db`,
      tags,
      transform: args.transform,
    });
    this.kmsKey = tier.kmsKey;
    this.subnetGroup = tier.subnetGroup;
    this.securityGroup = tier.securityGroup;
    const guard = this.createMajorVersionGuard(name, args);
    this.parameterGroup = this.createParameterGroup(name, args, tags, guard);
    this.monitoring =
      (args.enhancedMonitoringSeconds ?? 0) > 0 ? this.createMonitoringRole(name, tags) : undefined;
    const role = args.role;
    if (role.kind === "crossRegionReplica") {
      this.writer = undefined;
      this.replicas = [this.createCrossRegionReplica(name, args, role, tags)];
    } else if (role.kind === "promotedReplica") {
      this.writer = this.createPromotedReplica(name, args, tags);
      this.replicas = [];
    } else {
      this.writer = this.createWriter(name, args, tags);
      this.replicas = this.createInRegionReplicas(name, args, role.readReplicas, this.writer, tags);
    }
    this.role = roleOutputs(role.kind, this.writer, this.replicas);
    this.securityGroupId = this.securityGroup.id;
    this.kmsKeyArn = this.kmsKey.arn;
    this.registerOutputs({
      role: this.role,
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

  /**
   * Refuses an unacknowledged change of the major version at preview (see
   * allowMajorVersionUpgrade); the parameter group, the first thing a major upgrade changes, and so
   * every instance, wait for it.
   */
  private createMajorVersionGuard(name: string, args: DatabaseArgs): ChangeGuard {
    return new ChangeGuard(
      `${name}-major-version`,
      {
        values: {
          "the PostgreSQL major version": {
            value: String(engineMajorVersion(args.engineVersion)),
            configKey: "database.engineVersion",
            acknowledgeKey: "database.allowMajorVersionUpgrade",
            acknowledged: args.allowMajorVersionUpgrade ?? false,
            procedure:
              "A major upgrade runs pg_upgrade on the writer and its read replicas, with minutes of downtime, and cannot be undone: test it on a snapshot restore first (README: Deploying, major upgrades).",
          },
        },
      },
      { parent: this },
    );
  }

  /**
   * The role RDS assumes to publish Enhanced Monitoring, with its policy attached. Instances wait
   * for the attachment (IAM is eventually consistent: RDS refuses a role it cannot yet use).
   */
  private createMonitoringRole(
    name: string,
    tags: Record<string, string>,
  ): { role: aws.iam.Role; attachment: aws.iam.RolePolicyAttachment } {
    const role = new aws.iam.Role(
      `${name}-monitoring`,
      {
        description: `${name}: RDS Enhanced Monitoring`,
        assumeRolePolicy: serviceTrustPolicy("monitoring.rds.amazonaws.com"),
        tags,
      },
      { parent: this },
    );
    const attachment = new aws.iam.RolePolicyAttachment(
      `${name}-monitoring`,
      { role: role.name, policyArn: ENHANCED_MONITORING_POLICY_ARN },
      { parent: this },
    );
    return { role, attachment };
  }

  /**
   * One instance: the settings every instance shares (instanceDefaults), then its role's own,
   * through the caller's transform. Its physical identifier is chosen here
   * (`<project>-<stack>-<name>-<role>`), so that its log groups exist, with the stack's retention,
   * before RDS exports to them. A fixed identifier means a replacement deletes the old instance
   * first.
   */
  private createInstance(
    name: string,
    args: DatabaseArgs,
    tags: Tags,
    instance: {
      role: string;
      settings: Partial<aws.rds.InstanceArgs>;
      transform: Transform<aws.rds.InstanceArgs> | undefined;
      /** The instances whose replacement must replace this one too. */
      replaceWith?: pulumi.Resource[];
    },
  ): aws.rds.Instance {
    const { role, replaceWith = [] } = instance;
    const inputs = transform(instance.transform, {
      ...this.instanceDefaults(args, tags),
      ...instance.settings,
    });
    const retentionInDays = args.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS;
    const identifier = stackPhysicalName([name, role], MAX_IDENTIFIER_LENGTH);
    const logGroups = EXPORTED_LOGS.map(
      (log) =>
        new aws.cloudwatch.LogGroup(
          `${name}-${role}-${log}-logs`,
          {
            name: `/aws/rds/instance/${identifier}/${log}`,
            retentionInDays,
            ...(this.logKmsKeyArn === undefined ? {} : { kmsKeyId: this.logKmsKeyArn }),
            tags: tierTags("database"),
          },
          { parent: this },
        ),
    );
    return new aws.rds.Instance(
      `${name}-${role}`,
      { ...inputs, identifier },
      {
        parent: this,
        dependsOn: [...logGroups, ...(this.monitoring ? [this.monitoring.attachment] : [])],
        deleteBeforeReplace: true,
        // A replica of a replaced source would keep its old identifier and serve old data.
        replaceWith,
      },
    );
  }

  private createParameterGroup(
    name: string,
    args: DatabaseArgs,
    tags: Record<string, string>,
    guard: ChangeGuard,
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
      { parent: this, dependsOn: [guard] },
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
      // The app logs in with IAM tokens (rds-db:connect), signed locally by its task role: no
      // password to fetch at task start, from this region or the other. Updated in place.
      iamDatabaseAuthenticationEnabled: true,
      caCertIdentifier: CA_CERT_IDENTIFIER,
      enabledCloudwatchLogsExports: [...EXPORTED_LOGS],
      ...(this.monitoring
        ? {
            monitoringInterval: args.enhancedMonitoringSeconds,
            monitoringRoleArn: this.monitoring.role.arn,
          }
        : {}),
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

  private createWriter(name: string, args: DatabaseArgs, tags: Tags): aws.rds.Instance {
    return this.createInstance(name, args, tags, {
      role: "writer",
      transform: args.transform?.writer,
      settings: {
        engine: "postgres",
        engineVersion: args.engineVersion,
        // Only an acknowledged deploy may upgrade the major: otherwise RDS refuses, so a failed
        // upgrade can never be left queued for the maintenance window by a later, unacknowledged up.
        allowMajorVersionUpgrade: args.allowMajorVersionUpgrade ?? false,
        allocatedStorage: args.allocatedStorageGb,
        dbName: args.databaseName,
        username: args.masterUsername,
        ...this.dataOfRecordSettings(name, args),
        // An acknowledged major upgrade runs now, replicas with it (allowMajorVersionUpgrade).
        ...(args.allowMajorVersionUpgrade === true ? { applyImmediately: true } : {}),
      },
    });
  }

  /**
   * What an instance holding the data of record needs (the writer, and a promoted replica): this
   * region's key and subnets, a master password RDS manages in this region, its own backups, and
   * a final snapshot on deletion unless `skipFinalSnapshot`.
   */
  private dataOfRecordSettings(name: string, args: DatabaseArgs): Partial<aws.rds.InstanceArgs> {
    return {
      kmsKeyId: this.kmsKey.arn,
      dbSubnetGroupName: this.subnetGroup.name,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: this.kmsKey.arn,
      multiAz: args.enableMultiAz,
      backupRetentionPeriod: args.backupRetentionDays,
      deletionProtection: args.enableDeletionProtection,
      skipFinalSnapshot: args.skipFinalSnapshot,
      finalSnapshotIdentifier: args.skipFinalSnapshot
        ? undefined
        : this.finalSnapshotIdentifier(name),
      // Whoever wants a final snapshot also wants point-in-time backups to outlive the instance.
      deleteAutomatedBackups: args.skipFinalSnapshot,
    };
  }

  /** Unique per creation, so deleting a re-created stack never clashes with an earlier final snapshot. */
  private finalSnapshotIdentifier(name: string): pulumi.Output<string> {
    const suffix = new random.RandomId(
      `${name}-final-snapshot`,
      { byteLength: FINAL_SNAPSHOT_SUFFIX_BYTES },
      { parent: this },
    );
    return pulumi.interpolate`${stackPhysicalName([name, "final"], 200)}-${suffix.hex}`;
  }

  private createInRegionReplicas(
    name: string,
    args: DatabaseArgs,
    count: number,
    writer: aws.rds.Instance,
    tags: Tags,
  ): aws.rds.Instance[] {
    return Array.from({ length: count }, (_, index) =>
      this.createInstance(name, args, tags, {
        role: `replica-${index}`,
        transform: args.transform?.replica,
        settings: {
          // Same region: the writer's identifier, and no subnet group or key of its own (RDS places
          // the replica in the writer's subnet group and encrypts it with the writer's key).
          replicateSourceDb: writer.identifier,
          multiAz: false,
          // The writer's backups hold the data; a lost replica is rebuilt from the writer.
          backupRetentionPeriod: 0,
          deletionProtection: false,
          skipFinalSnapshot: true,
        },
        // Same identifier, so the same replicateSourceDb: only this makes them follow a new writer.
        replaceWith: [writer],
      }),
    );
  }

  private createCrossRegionReplica(
    name: string,
    args: DatabaseArgs,
    role: Extract<DatabaseRole, { kind: "crossRegionReplica" }>,
    tags: Tags,
  ): aws.rds.Instance {
    return this.createInstance(name, args, tags, {
      role: CROSS_REGION_REPLICA_NAME,
      transform: args.transform?.replica,
      settings: {
        replicateSourceDb: role.sourceArn,
        // A cross-region replica cannot use the source's key; it is encrypted with this region's.
        kmsKeyId: this.kmsKey.arn,
        dbSubnetGroupName: this.subnetGroup.name,
        multiAz: args.enableMultiAz,
        backupRetentionPeriod: args.backupRetentionDays,
        deletionProtection: args.enableDeletionProtection,
        skipFinalSnapshot: true,
      },
      replaceWith: role.source ? [role.source] : [],
    });
  }

  /**
   * The cross-region replica, promoted: the same logical name and placement, without a source,
   * with the writer's backups, final snapshot and an RDS-managed master password. What the
   * replica took from its source (engine, storage, database name, master user) is left unset, so
   * that nothing in it differs from the promoted instance and forces a replacement.
   */
  private createPromotedReplica(name: string, args: DatabaseArgs, tags: Tags): aws.rds.Instance {
    return this.createInstance(name, args, tags, {
      role: CROSS_REGION_REPLICA_NAME,
      transform: args.transform?.replica,
      settings: {
        // RDS generates a new password into a secret in this region; the source's is in the lost one.
        ...this.dataOfRecordSettings(name, args),
        // A failover cannot wait for the maintenance window.
        applyImmediately: true,
      },
    });
  }
}

/** The typed outputs of a role, from the instances the component made for it. */
function roleOutputs(
  kind: DatabaseRole["kind"],
  writer: aws.rds.Instance | undefined,
  replicas: aws.rds.Instance[],
): DatabaseRoleOutputs {
  const instance = (db: aws.rds.Instance): InstanceOutputs => ({
    identifier: db.identifier,
    address: db.address,
  });
  const writerOf = (db: aws.rds.Instance): WriterOutputs => ({
    ...instance(db),
    arn: db.arn,
    instance: db,
    masterUserSecretArn: db.masterUserSecrets.apply((secrets) => secrets[0]!.secretArn),
  });
  if (kind === "crossRegionReplica") return { kind, replica: instance(replicas[0]!) };
  if (writer === undefined) throw new Error(`a ${kind} database has a writer instance`);
  if (kind === "promotedReplica") return { kind, writer: writerOf(writer) };
  if (kind === "formerWriter") {
    return { kind, formerWriter: instance(writer), replicas: replicas.map(instance) };
  }
  return { kind, writer: writerOf(writer), readers: replicas.map(instance) };
}
