import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { throwIfInvalid, wholeNumberProblems } from "./validation";
import * as random from "@pulumi/random";
import { createEncryptionKey, createIngressRules, type IngressSource } from "./dataTier";
import { stackPhysicalName, tierTags } from "./tags";
import { type Transform, transform } from "./transform";

/** The Redis protocol's port, fixed so that security group rules and connection URLs agree. */
export const CACHE_PORT = 6379;
const MAX_REPLICAS = 5;
const MAX_SNAPSHOT_RETENTION_DAYS = 35;
/** ElastiCache limits a replication group's id to 40 characters. */
const MAX_REPLICATION_GROUP_ID_LENGTH = 40;
/**
 * Letters and digits only: AUTH tokens reject most punctuation, and a plain token needs no
 * escaping in URLs or shells. 64 of them carry about 380 bits.
 */
const AUTH_TOKEN_LENGTH = 64;

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
   * `major.minor`: valkey 7.2 or 8.x; redis 6.x or 7.0/7.1. The parameter group's family follows
   * the major version (valkey7, valkey8, redis6.x, redis7).
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
   * Apply changes at once instead of in the next maintenance window.
   * @default false
   */
  applyImmediately?: boolean;
  /**
   * Refuse any change that would replace the replication group (Pulumi's `protect`: the engine
   * compares with the deployed state and fails the preview; it also refuses a `destroy`). A
   * replacement deletes the group first (its id is fixed), so it is an outage and an empty cache.
   * What replaces it (components/replacementInputs.ts): a new group id (the project, stack or
   * component name changes), engine valkey back to redis, a lower engineVersion, another KMS key,
   * port or subnet group. Turn it off for the one deploy that is meant to replace it (Pulumi
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
    authTokenSecret?: Transform<aws.secretsmanager.SecretArgs>;
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
  if (cacheParameterGroupFamily(args.engine, args.engineVersion) === undefined) {
    problems.push(
      `engineVersion: "${args.engineVersion}" is not a version of ${args.engine}; use ${args.engine === "valkey" ? "7.2 or 8.x" : "6.x, 7.0 or 7.1"}`,
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
 * - An AUTH token generated here and kept in Secrets Manager (`authTokenSecretArn`, encrypted
 *   with the same key); the secret's value is the token itself, so an ECS task maps it with
 *   `valueFrom: authTokenSecretArn` and its execution role needs `kms:Decrypt` on `kmsKeyArn`.
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
  /** The Secrets Manager secret whose value is the AUTH token. */
  readonly authTokenSecretArn: pulumi.Output<string>;
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
  private readonly authTokenSecret: aws.secretsmanager.Secret;
  private readonly replicationGroup: aws.elasticache.ReplicationGroup;

  constructor(name: string, args: CacheArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:Cache", name, {}, opts);
    throwIfInvalid("Cache", name, [...validateName(name), ...validateCacheArgs(args)]);
    const groupId = stackPhysicalName([name], MAX_REPLICATION_GROUP_ID_LENGTH);
    const tags = tierTags("cache");
    this.componentName = name;

    this.kmsKey = this.createKmsKey(name, args, tags);
    const subnetGroup = this.createSubnetGroup(name, args, tags);
    this.securityGroup = this.createSecurityGroup(name, args, tags);
    const parameterGroup =
      (args.enableParameterGroup ?? true) ? this.createParameterGroup(name, args, tags) : undefined;
    const authToken = this.createAuthToken(name);
    this.authTokenSecret = this.createAuthTokenSecret(name, args, authToken, tags);
    this.replicationGroup = this.createReplicationGroup(name, args, {
      groupId,
      subnetGroup,
      parameterGroup,
      authToken,
      tags,
    });

    this.primaryEndpoint = this.replicationGroup.primaryEndpointAddress;
    this.readerEndpoint = this.replicationGroup.readerEndpointAddress;
    this.securityGroupId = this.securityGroup.id;
    this.authTokenSecretArn = this.authTokenSecret.arn;
    this.kmsKeyArn = this.kmsKey.arn;
    this.replicationGroupId = this.replicationGroup.replicationGroupId;
    this.memberClusterIds = Array.from({ length: 1 + args.replicas }, (_, index) =>
      this.replicationGroupId.apply((id) => `${id}-${String(index + 1).padStart(3, "0")}`),
    );
    this.registerOutputs({
      primaryEndpoint: this.primaryEndpoint,
      readerEndpoint: this.readerEndpoint,
      securityGroupId: this.securityGroupId,
      authTokenSecretArn: this.authTokenSecretArn,
    });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return {
      kmsKey: this.kmsKey,
      securityGroup: this.securityGroup,
      authTokenSecret: this.authTokenSecret,
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

  private createKmsKey(name: string, args: CacheArgs, tags: Record<string, string>): aws.kms.Key {
    return createEncryptionKey(
      this,
      name,
      `${name}: ElastiCache data at rest and the AUTH token's secret`,
      args.transform?.kmsKey,
      tags,
    );
  }

  private createSubnetGroup(
    name: string,
    args: CacheArgs,
    tags: Record<string, string>,
  ): aws.elasticache.SubnetGroup {
    return new aws.elasticache.SubnetGroup(
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
    args: CacheArgs,
    tags: Record<string, string>,
  ): aws.ec2.SecurityGroup {
    // No inline rules: ingress comes from allowFrom() as separate rules, and the provider removes
    // AWS's default allow-all egress at creation (the nodes open no connections of their own).
    return new aws.ec2.SecurityGroup(
      `${name}-sg`,
      transform(args.transform?.securityGroup, {
        vpcId: args.vpcId,
        description: "Redis-compatible cache, admitting only the sources named by allowFrom",
        tags: { ...tags, Name: `${name}-cache` },
      }),
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

  private createAuthToken(name: string): pulumi.Output<string> {
    const password = new random.RandomPassword(
      `${name}-auth-token`,
      { length: AUTH_TOKEN_LENGTH, special: false },
      { parent: this },
    );
    // The provider marks `result` secret; saying so here keeps it secret wherever it flows.
    return pulumi.secret(password.result);
  }

  private createAuthTokenSecret(
    name: string,
    args: CacheArgs,
    authToken: pulumi.Output<string>,
    tags: Record<string, string>,
  ): aws.secretsmanager.Secret {
    const secret = new aws.secretsmanager.Secret(
      `${name}-auth-token`,
      transform(args.transform?.authTokenSecret, {
        description: `${name}: ElastiCache AUTH token`,
        kmsKeyId: this.kmsKey.arn,
        tags,
      }),
      { parent: this },
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-auth-token`,
      { secretId: secret.id, secretString: authToken },
      { parent: this },
    );
    return secret;
  }

  private createReplicationGroup(
    name: string,
    args: CacheArgs,
    parts: {
      groupId: string;
      subnetGroup: aws.elasticache.SubnetGroup;
      parameterGroup: aws.elasticache.ParameterGroup | undefined;
      authToken: pulumi.Output<string>;
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
        // The mode defaults to "required" (TLS only); the setting itself exists only from Redis 7.0.5.
        transitEncryptionEnabled: true,
        authToken: parts.authToken,
        snapshotRetentionLimit: args.snapshotRetentionDays,
        autoMinorVersionUpgrade: true,
        // Node type and version changes wait for the maintenance window rather than failing over mid-deploy.
        applyImmediately: args.applyImmediately ?? false,
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
