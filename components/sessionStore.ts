import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { SESSIONS_TABLE_ACTIONS, SESSIONS_TABLE_SCHEMA } from "../contract";
import { createKmsKey } from "./kmsKey";
import { type Tags, tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import { throwIfInvalid } from "./validation";
import { rolePolicy } from "./rolePolicy";
import type { AwsAccount } from "./awsContext";

/** Global tables (version 2019.11.21) replicate through the table's stream, which must carry both images. */
const GLOBAL_TABLE_STREAM_VIEW = "NEW_AND_OLD_IMAGES";

/** One region the table lives in, with that region's provider. */
export interface SessionStoreRegion {
  /** The AWS region, such as eu-west-1. */
  region: string;
  provider: aws.Provider;
}

export interface SessionStoreTransforms {
  table?: Transform<aws.dynamodb.TableArgs>;
  replica?: Transform<aws.dynamodb.TableReplicaArgs>;
  key?: Transform<aws.kms.KeyArgs>;
}

export interface SessionStoreArgs {
  /**
   * The regions of the table: the first holds the table resource (its home), each other one a
   * replica. Every replica is a full read/write copy; DynamoDB replicates writes between them
   * (last writer wins), so a region keeps serving its own replica while the other is down.
   * Changing the first region, or removing a region, replaces the table or that replica (and
   * loses its items), as `global_table_arn` and the table's name force replacement.
   * @example [{ region: "eu-west-1", provider: primary }, { region: "us-east-1", provider: secondary }]
   */
  regions: SessionStoreRegion[];
  /**
   * Keep continuous backups (35 days of restore points) on every replica.
   * @default true in prod (stacks/configDefaults.ts); updated in place.
   */
  pointInTimeRecovery: boolean;
  /**
   * Refuse `DeleteTable` on the table and every replica until turned off. Updated in place.
   * @default true in prod (stacks/configDefaults.ts)
   */
  deletionProtection: boolean;
  /**
   * The account the resources live in (components/awsContext.ts).
   * @default looked up through the component's provider (STS in its region)
   */
  account?: AwsAccount;
  /** Change a child's arguments before it is created. */
  transform?: SessionStoreTransforms;
}

/**
 * Validates the arguments before any resource exists.
 * @returns every problem, each naming the argument and the fix; empty when valid.
 */
export function validateSessionStoreArgs(args: SessionStoreArgs): string[] {
  const problems: string[] = [];
  if (args.regions.length === 0) {
    problems.push("regions: is empty; give at least the region the app runs in");
  }
  const names = args.regions.map((r) => r.region);
  const repeated = names.filter((region, index) => names.indexOf(region) !== index);
  if (repeated.length > 0) {
    // The provider rejects a replica in the table's own region ("replica cannot be in same
    // region as main table", terraform-provider-aws internal/service/dynamodb/table_replica.go).
    problems.push(
      `regions: ${[...new Set(repeated)].join(", ")} appears more than once; a global table has one replica per region`,
    );
  }
  return problems;
}

/** The table in one region: its ARN there and the key that encrypts it there. */
interface RegionalReplica {
  arn: pulumi.Output<string>;
  key: aws.kms.Key;
  provider: aws.Provider;
}

/**
 * The users' sessions, in a DynamoDB global table with a replica in every region of the stack.
 * The app uses its own region's replica (SESSIONS_TABLE; same name everywhere), so a user routed to
 * the other region (failover, latency routing) finds their session there, and nothing is evicted
 * under memory pressure as it would be in the cache.
 *
 * - Keys as the contract's SESSIONS_TABLE_SCHEMA (contract/sessions.ts); TTL on its `expiresAt`.
 *   TTL is a table setting that global tables keep the same on every replica, and TTL deletes
 *   replicate like any other delete.
 * - On-demand billing: no capacity to plan, and nothing to pay while idle but storage.
 * - Encrypted with a customer-managed key per region (a KMS key is regional, so each replica
 *   needs its own; `kms_key_arn` forces a replica's replacement, so the keys are never swapped).
 * - The home table is one resource and each other region's replica its own `TableReplica` with
 *   that region's provider: the provider's documented pattern for per-region settings (point-in-
 *   time recovery, deletion protection, key). The table ignores changes to its inline `replicas`,
 *   which the replicas own. Managing a replica calls the home region's API (the provider
 *   updates the table there), so `pulumi up` on the replicas needs the home region; the data path
 *   does not.
 * - `grantReadWrite(name, roleName, region)`: only the contract's SESSIONS_TABLE_ACTIONS, on that
 *   region's replica, and its key only as DynamoDB uses it there.
 *
 * @example
 * ```ts
 * const sessions = new SessionStore("sessions", {
 *   regions: [{ region: "eu-west-1", provider: primary }, { region: "us-east-1", provider: secondary }],
 *   pointInTimeRecovery: true, deletionProtection: true,
 * });
 * sessions.grantReadWrite("primary-web", web.taskRoleName, "eu-west-1");
 * ```
 *
 * Cost: on-demand writes $0.625 and replicated writes $0.625 per million per other region, reads
 * $0.125 per million, storage $0.25 per GB-month per replica, PITR $0.20 per GB-month; each KMS key
 * $1 a month. An idle table costs its keys: about $2 a month for two regions.
 */
export class SessionStore extends pulumi.ComponentResource {
  /** The table's name, the same in every region (SESSIONS_TABLE). */
  readonly tableName: pulumi.Output<string>;
  /** The home table's ARN (its region is `regions[0]`). */
  readonly tableArn: pulumi.Output<string>;

  private readonly componentName: string;
  private readonly table: aws.dynamodb.Table;
  private readonly replicas: Map<string, RegionalReplica>;
  private readonly replicaResources: aws.dynamodb.TableReplica[];

  constructor(name: string, args: SessionStoreArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:SessionStore", name, {}, opts);
    throwIfInvalid("SessionStore", name, validateSessionStoreArgs(args));
    this.componentName = name;
    // Sessions are user state: the data tier, beside the database.
    const tags = tierTags("database");
    const [home, ...others] = args.regions as [SessionStoreRegion, ...SessionStoreRegion[]];

    const homeKey = this.createKey(name, home, tags, args);
    this.table = this.createTable(name, home, homeKey, tags, args);
    this.replicas = new Map([
      [home.region, { arn: this.table.arn, key: homeKey, provider: home.provider }],
    ]);
    this.replicaResources = others.map((region) => {
      const key = this.createKey(name, region, tags, args);
      const replica = this.createReplica(name, region, key, tags, args);
      this.replicas.set(region.region, { arn: replica.arn, key, provider: region.provider });
      return replica;
    });

    this.tableName = this.table.name;
    this.tableArn = this.table.arn;
    this.registerOutputs({ tableName: this.tableName, tableArn: this.tableArn });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return {
      table: this.table,
      replicas: this.replicaResources,
      keys: [...this.replicas.values()].map((replica) => replica.key),
    };
  }

  /** The table's ARN in `region` (its replica there). */
  arnIn(region: string): pulumi.Output<string> {
    return this.replicaIn(region).arn;
  }

  /** The ARN of the key that encrypts the replica in `region`. */
  kmsKeyArnIn(region: string): pulumi.Output<string> {
    return this.replicaIn(region).key.arn;
  }

  /**
   * Lets a role use the sessions of `region`'s replica: the contract's actions on that replica
   * only, and its key only through DynamoDB in that region (DynamoDB encrypts and decrypts with
   * the caller's permissions on a customer-managed key).
   * @param name a unique suffix for the policy, such as `primary-web`
   */
  grantReadWrite(name: string, roleName: pulumi.Input<string>, region: string): aws.iam.RolePolicy {
    const replica = this.replicaIn(region);
    return rolePolicy(
      `${this.componentName}-${name}`,
      roleName,
      [
        {
          Sid: "Sessions",
          Effect: "Allow",
          Action: [...SESSIONS_TABLE_ACTIONS],
          Resource: replica.arn,
        },
        {
          Sid: "SessionsKey",
          Effect: "Allow",
          Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
          Resource: replica.key.arn,
          Condition: { StringEquals: { "kms:ViaService": `dynamodb.${region}.amazonaws.com` } },
        },
      ],
      { parent: this, provider: replica.provider },
    );
  }

  private replicaIn(region: string): RegionalReplica {
    const replica = this.replicas.get(region);
    if (replica === undefined) {
      throw new Error(
        `SessionStore "${this.componentName}": no replica in ${region}; it has ${[...this.replicas.keys()].join(", ")}. Fix: add ${region} to regions`,
      );
    }
    return replica;
  }

  private createKey(name: string, region: SessionStoreRegion, tags: Tags, args: SessionStoreArgs) {
    return createKmsKey(this, `${name}-${region.region}`, {
      description: `Sessions table replica in ${region.region}`,
      tags,
      provider: region.provider,
      ...(args.transform?.key ? { transform: args.transform.key } : {}),
      ...(args.account ? { account: args.account } : {}),
    });
  }

  private createTable(
    name: string,
    home: SessionStoreRegion,
    key: aws.kms.Key,
    tags: Tags,
    args: SessionStoreArgs,
  ): aws.dynamodb.Table {
    const { partitionKey, sortKey, ttlAttribute } = SESSIONS_TABLE_SCHEMA;
    return new aws.dynamodb.Table(
      `${name}-table`,
      transform(args.transform?.table, {
        billingMode: "PAY_PER_REQUEST",
        // Replacing: the name, hash and range keys force a new (empty) table.
        hashKey: partitionKey,
        rangeKey: sortKey,
        attributes: [
          { name: partitionKey, type: "S" },
          { name: sortKey, type: "S" },
        ],
        ttl: { attributeName: ttlAttribute, enabled: true },
        streamEnabled: true,
        streamViewType: GLOBAL_TABLE_STREAM_VIEW,
        serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
        pointInTimeRecovery: { enabled: args.pointInTimeRecovery },
        deletionProtectionEnabled: args.deletionProtection,
        tags,
      }),
      // The replicas are TableReplica resources; the table's own `replicas` would fight them.
      { parent: this, provider: home.provider, ignoreChanges: ["replicas"] },
    );
  }

  private createReplica(
    name: string,
    region: SessionStoreRegion,
    key: aws.kms.Key,
    tags: Tags,
    args: SessionStoreArgs,
  ): aws.dynamodb.TableReplica {
    return new aws.dynamodb.TableReplica(
      `${name}-replica-${region.region}`,
      transform(args.transform?.replica, {
        // Replacing: `globalTableArn` and `kmsKeyArn` force a new replica.
        globalTableArn: this.table.arn,
        kmsKeyArn: key.arn,
        pointInTimeRecovery: args.pointInTimeRecovery,
        deletionProtectionEnabled: args.deletionProtection,
        tags,
      }),
      { parent: this, provider: region.provider },
    );
  }
}
