import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { throwIfInvalid, wholeNumberProblems } from "./validation";
import { createIngressRules, createIsolatedTier, type IngressSource } from "./dataTier";
import { stackPhysicalName, tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import type { AwsAccount } from "./awsContext";

/** The Redis protocol's port, fixed so that security group rules and connection URLs agree. */
export const CACHE_PORT = 6379;
const MAX_REPLICAS = 5;
const MAX_SNAPSHOT_RETENTION_DAYS = 35;
/** ElastiCache limits a replication group's id to 40 characters. */
const MAX_REPLICATION_GROUP_ID_LENGTH = 40;
/** ElastiCache user and user group ids are at most 40 characters. */
const MAX_USER_ID_LENGTH = 40;
/**
 * What the app's user may do: every key and channel, every command but the dangerous ones
 * (FLUSHALL, KEYS, CONFIG, DEBUG, ...). The cache, sessions, rate limits and fences need no more.
 */
export const APP_USER_ACCESS_STRING = "on ~* &* +@all -@dangerous";
/**
 * Every user group must hold a user named `default`, the one a connection is before it signs in.
 * Here it is switched off: no password, no commands, so only the app's IAM user gets in.
 */
const DEFAULT_USER_ACCESS_STRING = "off -@all";
const DEFAULT_USER_NAME = "default";

/** The eviction policies Redis and Valkey accept for `maxmemory-policy`. */
export const MAXMEMORY_POLICIES = [
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
  "noeviction",
] as const;

export type CacheEngine = "valkey" | "redis";

/** Who may connect: another security group in this VPC, or address ranges. */
export type CacheIngressSource = IngressSource;

export interface CacheArgs {
  /**
   * The account the resources live in (components/awsContext.ts).
   * @default looked up through the component's provider (STS in its region)
   */
  account?: AwsAccount;
  /** The VPC of `subnetIds`; the cache's security group is created in it. */
  vpcId: pulumi.Input<string>;
  /** Isolated subnets (no route to the internet); nodes are spread over their availability zones. */
  subnetIds: pulumi.Input<string>[];
  /**
   * `valkey` (the open-source fork, about 20% cheaper) or `redis` (Redis OSS).
   *
   * ElastiCache upgrades redis to valkey in place; it cannot go back.
   */
  engine: CacheEngine;
  /**
   * `major.minor`: valkey 7.2 or 8.x; redis 7.0/7.1 (IAM authentication needs Redis OSS 7 or
   * Valkey). The parameter group's family follows the major version (valkey7, valkey8, redis7).
   * @example "7.2"
   */
  engineVersion: string;
  /**
   * The node type of every node. Changing it resizes online (a failover with replicas).
   * @example "cache.t4g.micro"
   */
  nodeType: string;
  /**
   * Replicas beside the primary, 0 to 5. One or more turns on automatic failover and multi-AZ.
   */
  replicas: number;
  /** Days of daily snapshots, 0 (none) to 35. */
  snapshotRetentionDays: number;
  /**
   * What Redis evicts when memory is full.
   * @default "allkeys-lru"
   */
  maxmemoryPolicy?: string;
  /**
   * A parameter group of the component's own, which sets `maxmemoryPolicy`. Off: the engine's
   * default group, whose `volatile-lru` evicts only keys with a TTL (for AWS emulators without
   * parameter groups, such as moto). Turning it on or off changes the group in place.
   * @default true
   */
  enableParameterGroup?: boolean;
  /**
   * Apply changes to the group during `pulumi up` instead of in the next maintenance window
   * (ModifyReplicationGroup's ApplyImmediately): node type and engine version (online, a failover
   * with replicas; `up` waits for it), parameter group, security groups, snapshot settings and
   * the user group. On by default because a group moved from its AUTH token to the IAM user group
   * must have that user group before the new tasks sign in as its user; off defers all of them,
   * the deployed state then differs from the program's until the window.
   * @default true
   */
  applyImmediately?: boolean;
  /**
   * Refuse any change that would replace the replication group (Pulumi's `protect`: the engine
   * compares with the deployed state and fails the preview; it also refuses a `destroy`). A
   * replacement deletes the group first (its id is fixed), so it is an outage and an empty cache.
   * What replaces it (components/replacementInputs.ts): a new group id (the project, stack or
   * component name changes), engine valkey back to redis, a lower engineVersion, another KMS key,
   * port or subnet group. Moving an existing group from its AUTH token to the IAM user group
   * does not: the provider modifies it in place (ModifyReplicationGroup with UserGroupIdsToAdd
   * and AuthTokenUpdateStrategy DELETE). Turn it off for the one deploy that is meant to replace it (Pulumi
   * allows unprotecting and replacing in the same update).
   * @default false
   */
  protectFromReplacement?: boolean;
  /** Change the arguments of a child resource before it is created. */
  transform?: {
    kmsKey?: Transform<aws.kms.KeyArgs>;
    subnetGroup?: Transform<aws.elasticache.SubnetGroupArgs>;
    securityGroup?: Transform<aws.ec2.SecurityGroupArgs>;
    parameterGroup?: Transform<aws.elasticache.ParameterGroupArgs>;
    appUser?: Transform<aws.elasticache.UserArgs>;
    defaultUser?: Transform<aws.elasticache.UserArgs>;
    userGroup?: Transform<aws.elasticache.UserGroupArgs>;
    replicationGroup?: Transform<aws.elasticache.ReplicationGroupArgs>;
  };
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateCacheArgs(args: CacheArgs): string[] {
  const problems: string[] = [];
  problems.push(...wholeNumberProblems("replicas", args.replicas, 0, MAX_REPLICAS));
  problems.push(
    ...wholeNumberProblems(
      "snapshotRetentionDays",
      args.snapshotRetentionDays,
      0,
      MAX_SNAPSHOT_RETENTION_DAYS,
    ),
  );
  if (args.subnetIds.length === 0) {
    problems.push("subnetIds: empty; name the isolated subnets the nodes run in");
  }
  const family = cacheParameterGroupFamily(args.engine, args.engineVersion);
  if (family === undefined) {
    problems.push(
      `engineVersion: "${args.engineVersion}" is not a version of ${args.engine}; use ${args.engine === "valkey" ? "7.2 or 8.x" : "7.0 or 7.1"}`,
    );
  } else if (family === "redis6.x") {
    problems.push(
      `engineVersion: "${args.engineVersion}": the app signs in with IAM authentication, which needs Redis OSS 7.0 or later; use 7.0 or 7.1 (an in-place upgrade), or engine valkey`,
    );
  }
  if (!/^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(args.nodeType)) {
    problems.push(`nodeType: "${args.nodeType}" must be a node type such as cache.t4g.micro`);
  }
  const policy = args.maxmemoryPolicy;
  if (policy !== undefined && !(MAXMEMORY_POLICIES as readonly string[]).includes(policy)) {
    problems.push(`maxmemoryPolicy: "${policy}" must be one of ${MAXMEMORY_POLICIES.join(", ")}`);
  }
  if (policy !== undefined && args.enableParameterGroup === false) {
    problems.push(
      "maxmemoryPolicy: needs the component's parameter group; remove it or set enableParameterGroup to true",
    );
  }
  return problems;
}

/** ElastiCache lowercases the names of subnet and parameter groups, which start with the component's. */
function validateName(name: string): string[] {
  if (/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) return [];
  return [
    `name: "${name}" must be lowercase letters, digits and single hyphens, starting with a letter`,
  ];
}

/**
 * The parameter group family of an engine version (`valkey7`, `valkey8`, `redis6.x`, `redis7`),
 * or undefined when ElastiCache has no such version.
 */
export function cacheParameterGroupFamily(
  engine: CacheEngine,
  engineVersion: string,
): string | undefined {
  const match = /^(\d+)\.(\d+|x)$/.exec(engineVersion);
  if (!match) return undefined;
  const [major, minor] = [Number(match[1]), match[2] === "x" ? undefined : Number(match[2])];
  if (engine === "valkey") {
    if ((major === 7 && minor === 2) || (major === 8 && minor !== undefined))
      return `valkey${major}`;
    return undefined;
  }
  if (major === 6) return "redis6.x";
  if (major === 7 && minor !== undefined && minor <= 1) return "redis7";
  return undefined;
}

/**
 * A Redis-compatible cache for one region: an ElastiCache replication group (cluster mode off:
 * one primary, `replicas` read replicas) in isolated subnets.
 *
 * - Encrypted at rest with the component's own KMS key, and in transit (TLS required).
 * - No password anywhere: the app signs in as `appUserId`, an ElastiCache user with IAM
 *   authentication, with a SigV4 token that lives 15 minutes (app/src/tiers/redisIamAuth.ts);
 *   `grantConnect()` lets a role sign such tokens. The group's `default` user is switched off.
 * - With replicas: automatic failover to a replica in another availability zone.
 * - Evicts least-recently-used keys when full (`maxmemoryPolicy`), as a cache should, through a
 *   parameter group of its own (`enableParameterGroup`).
 * - The security group admits nothing until `allowFrom()` names a source.
 *
 * The replication group has a physical id, `<project>-<stack>-<name>` (40 characters at most,
 * stackPhysicalName), so that dashboards can name its nodes (`memberClusterIds`); a replacement
 * deletes the old group first, an outage, which `protectFromReplacement` refuses.
 *
 * @example
 * ```ts
 * const cache = new Cache("primary-cache", {
 *   vpcId: network.vpcId,
 *   subnetIds: network.isolatedSubnetIds,
 *   engine: "valkey",
 *   engineVersion: "7.2",
 *   nodeType: "cache.r7g.large",
 *   replicas: 2,
 *   snapshotRetentionDays: 7,
 * }, { provider });
 * cache.allowFrom("web", { securityGroupId: web.securityGroupId }, "web tasks");
 * ```
 *
 * Cost (us-east-1 on demand, approximate, per node; valkey about 20% below redis):
 * cache.t4g.micro about $9 a month (valkey) or $12 (redis); cache.r7g.large about $128 (valkey)
 * or $160 (redis), so prod's three valkey nodes are about $385 a month per region. Snapshot
 * storage beyond one free copy is $0.085 per GB-month.
 */
export class Cache extends pulumi.ComponentResource {
  /** The primary's host name (reads and writes; follows failover). */
  readonly primaryEndpoint: pulumi.Output<string>;
  /** Spreads reads over the replicas (the primary when there are none). */
  readonly readerEndpoint: pulumi.Output<string>;
  readonly port = CACHE_PORT;
  readonly securityGroupId: pulumi.Output<string>;
  /**
   * The ElastiCache user the app signs in as (IAM authentication); its id is also its name.
   * Known once the replication group has the user group, so whatever uses it waits for that.
   */
  readonly appUserId: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  readonly replicationGroupId: pulumi.Output<string>;
  /**
   * The node ids (`<replicationGroupId>-001`, `-002`, ...), the `CacheClusterId` dimension of
   * per-node metrics. They mirror how ElastiCache names the nodes of a group with cluster mode off.
   */
  readonly memberClusterIds: pulumi.Output<string>[];

  private readonly componentName: string;
  private readonly kmsKey: aws.kms.Key;
  private readonly securityGroup: aws.ec2.SecurityGroup;
  private readonly appUser: aws.elasticache.User;
  private readonly userGroup: aws.elasticache.UserGroup;
  private readonly replicationGroup: aws.elasticache.ReplicationGroup;

  constructor(name: string, args: CacheArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:Cache", name, {}, opts);
    throwIfInvalid("Cache", name, [...validateName(name), ...validateCacheArgs(args)]);
    const groupId = stackPhysicalName([name], MAX_REPLICATION_GROUP_ID_LENGTH);
    const tags = tierTags("cache");
    this.componentName = name;

    const tier = createIsolatedTier({
      owner: this,
      name,
      keyUse: "ElastiCache data at rest",
      account: args.account,
      subnetGroupType: aws.elasticache.SubnetGroup,
      subnetIds: args.subnetIds,
      vpcId: args.vpcId,
      description: "Redis-compatible cache, admitting only the sources named by allowFrom",
      nameTag: `${name}-cache`,
      tags,
      transform: args.transform,
    });
    this.kmsKey = tier.kmsKey;
    const subnetGroup = tier.subnetGroup;
    this.securityGroup = tier.securityGroup;
    const parameterGroup =
      (args.enableParameterGroup ?? true) ? this.createParameterGroup(name, args, tags) : undefined;
    this.appUser = this.createAppUser(name, args, tags);
    this.userGroup = this.createUserGroup(name, args, tags);
    this.replicationGroup = this.createReplicationGroup(name, args, {
      groupId,
      subnetGroup,
      parameterGroup,
      tags,
    });

    this.primaryEndpoint = this.replicationGroup.primaryEndpointAddress;
    this.readerEndpoint = this.replicationGroup.readerEndpointAddress;
    this.securityGroupId = this.securityGroup.id;
    // The user's id once the group has the user group: tasks that get it wait for the group's
    // update (a group moved from its AUTH token gets the user group in that update).
    this.appUserId = pulumi
      .all([this.appUser.userId, this.replicationGroup.userGroupIds])
      .apply(([userId]) => userId);
    this.kmsKeyArn = this.kmsKey.arn;
    this.replicationGroupId = this.replicationGroup.replicationGroupId;
    this.memberClusterIds = Array.from({ length: 1 + args.replicas }, (_, index) =>
      this.replicationGroupId.apply((id) => `${id}-${String(index + 1).padStart(3, "0")}`),
    );
    this.registerOutputs({
      primaryEndpoint: this.primaryEndpoint,
      readerEndpoint: this.readerEndpoint,
      securityGroupId: this.securityGroupId,
      appUserId: this.appUserId,
    });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return {
      kmsKey: this.kmsKey,
      securityGroup: this.securityGroup,
      appUser: this.appUser,
      userGroup: this.userGroup,
      replicationGroup: this.replicationGroup,
    };
  }

  /**
   * Admits Redis connections (TCP 6379) from a security group of this VPC, or from address ranges.
   * Creates one rule per source or range.
   * @param name a short, unique label for the rules, such as `web`
   */
  allowFrom(
    name: string,
    source: CacheIngressSource,
    description: string,
  ): aws.vpc.SecurityGroupIngressRule[] {
    return createIngressRules({
      owner: this,
      ownerName: this.componentName,
      what: "cache",
      tier: "cache",
      securityGroupId: this.securityGroup.id,
      port: CACHE_PORT,
      label: name,
      source,
      description,
    });
  }

  /**
   * Lets a role sign IAM authentication tokens for the app's user on this cache, as
   * `${this.componentName}-connect-${label}` (ElastiCache checks both ARNs: the group and the user).
   */
  grantConnect(label: string, roleName: pulumi.Input<string>): aws.iam.RolePolicy {
    return new aws.iam.RolePolicy(
      `${this.componentName}-connect-${label}`,
      {
        role: roleName,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ConnectAsTheAppUser",
              Effect: "Allow",
              Action: "elasticache:Connect",
              Resource: [this.replicationGroup.arn, this.appUser.arn],
            },
          ],
        }),
      },
      { parent: this },
    );
  }

  private createParameterGroup(
    name: string,
    args: CacheArgs,
    tags: Record<string, string>,
  ): aws.elasticache.ParameterGroup {
    // Autonamed, so a new family (major upgrade) creates the new group before deleting the old one.
    return new aws.elasticache.ParameterGroup(
      `${name}-params`,
      transform(args.transform?.parameterGroup, {
        family: cacheParameterGroupFamily(args.engine, args.engineVersion)!,
        description: `${name}: eviction policy`,
        parameters: [{ name: "maxmemory-policy", value: args.maxmemoryPolicy ?? "allkeys-lru" }],
        tags,
      }),
      { parent: this },
    );
  }

  /**
   * The app's user: IAM authentication, so no password exists. ElastiCache requires its id and
   * name to be equal for IAM users; both are fixed, so a rename replaces the user (and the app's
   * REDIS_IAM_USER follows in the same deploy).
   */
  private createAppUser(
    name: string,
    args: CacheArgs,
    tags: Record<string, string>,
  ): aws.elasticache.User {
    const userId = stackPhysicalName([name, "app"], MAX_USER_ID_LENGTH);
    return new aws.elasticache.User(
      `${name}-app-user`,
      transform(args.transform?.appUser, {
        userId,
        userName: userId,
        engine: args.engine,
        accessString: APP_USER_ACCESS_STRING,
        authenticationMode: { type: "iam" },
        tags,
      }),
      { parent: this },
    );
  }

  /** The group's switched-off `default` user and the app's user; the replication group uses it. */
  private createUserGroup(
    name: string,
    args: CacheArgs,
    tags: Record<string, string>,
  ): aws.elasticache.UserGroup {
    const defaultUser = new aws.elasticache.User(
      `${name}-default-user`,
      transform(args.transform?.defaultUser, {
        userId: stackPhysicalName([name, "default"], MAX_USER_ID_LENGTH),
        userName: DEFAULT_USER_NAME,
        engine: args.engine,
        accessString: DEFAULT_USER_ACCESS_STRING,
        authenticationMode: { type: "no-password-required" },
        tags,
      }),
      { parent: this },
    );
    return new aws.elasticache.UserGroup(
      `${name}-users`,
      transform(args.transform?.userGroup, {
        userGroupId: stackPhysicalName([name, "users"], MAX_USER_ID_LENGTH),
        engine: args.engine,
        userIds: [defaultUser.userId, this.appUser.userId],
        tags,
      }),
      { parent: this },
    );
  }

  private createReplicationGroup(
    name: string,
    args: CacheArgs,
    parts: {
      groupId: string;
      subnetGroup: aws.elasticache.SubnetGroup;
      parameterGroup: aws.elasticache.ParameterGroup | undefined;
      tags: Record<string, string>;
    },
  ): aws.elasticache.ReplicationGroup {
    const highlyAvailable = args.replicas >= 1;
    return new aws.elasticache.ReplicationGroup(
      `${name}-group`,
      transform(args.transform?.replicationGroup, {
        replicationGroupId: parts.groupId,
        description: `${name}: ${args.engine} ${args.engineVersion}`,
        engine: args.engine,
        engineVersion: args.engineVersion,
        nodeType: args.nodeType,
        numCacheClusters: 1 + args.replicas,
        automaticFailoverEnabled: highlyAvailable,
        multiAzEnabled: highlyAvailable,
        port: CACHE_PORT,
        subnetGroupName: parts.subnetGroup.name,
        securityGroupIds: [this.securityGroup.id],
        // Without a group of its own, ElastiCache applies the engine's default.
        parameterGroupName: parts.parameterGroup?.name,
        atRestEncryptionEnabled: true,
        kmsKeyId: this.kmsKey.arn,
        // The mode defaults to "required" (TLS only); IAM authentication needs TLS.
        transitEncryptionEnabled: true,
        // Sign-in through the user group only. DELETE removes the AUTH token a group made before
        // IAM authentication had, in place; on a new group it has nothing to remove.
        userGroupIds: [this.userGroup.userGroupId],
        authTokenUpdateStrategy: "DELETE",
        snapshotRetentionLimit: args.snapshotRetentionDays,
        autoMinorVersionUpgrade: true,
        // Now, not at the maintenance window: the user group above must be the group's before
        // tasks sign in as its user (appUserId waits for this update).
        applyImmediately: args.applyImmediately ?? true,
        tags: parts.tags,
      }),
      // The id is fixed, so a replacement must delete the old group first (a cache can be
      // refilled, after an outage: protectFromReplacement refuses it where that matters).
      {
        parent: this,
        deleteBeforeReplace: true,
        protect: args.protectFromReplacement ?? false,
      },
    );
  }
}
