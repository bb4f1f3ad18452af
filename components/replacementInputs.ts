/**
 * The inputs of each stateful resource type that force the provider to replace the resource (a
 * new, empty database, cache, bucket or key), read from terraform-provider-aws, which @pulumi/aws
 * bridges: `ForceNew: true` in each resource's schema, plus the CustomizeDiff functions that force
 * a replacement on some changes only. Specs use it to prove that everyday changes (an image, a
 * scaling limit, an alarm threshold) never touch one of these; stage and component work reuses it.
 *
 * Input names are the Pulumi (camelCase) names of the schema's snake_case attributes. `region` is
 * the per-resource region argument that provider v6+ adds to every regional resource (ForceNew).
 */

/** The stateful resources of the architecture, by Pulumi type token. */
export interface ReplacementInputs {
  /** What it holds, for messages. */
  what: string;
  /** Inputs whose every change replaces the resource. */
  always: readonly string[];
  /** Inputs whose change replaces it only in one direction, and when. */
  sometimes: Readonly<Record<string, string>>;
  /** Where the list comes from (terraform-provider-aws, at its main branch). */
  source: string;
}

export const REPLACEMENT_INPUTS: Readonly<Record<string, ReplacementInputs>> = {
  "aws:rds/instance:Instance": {
    what: "an RDS instance (its data)",
    always: [
      "availabilityZone",
      "characterSetName",
      "customIamInstanceProfile",
      "dbName",
      "engine",
      "identifier",
      "identifierPrefix",
      "kmsKeyId",
      "ncharCharacterSetName",
      "region",
      "restoreToPointInTime",
      "s3Import",
      "snapshotIdentifier",
      "storageEncrypted",
      "timezone",
      "username",
    ],
    sometimes: {
      replicateSourceDb:
        "removing it promotes the replica in place (no replacement); setting it on a writer is refused by RDS",
    },
    source: "internal/service/rds/instance.go, resourceInstance(): ForceNew attributes",
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    what: "an ElastiCache replication group (its cached data, and an outage: deleteBeforeReplace)",
    always: [
      "atRestEncryptionEnabled",
      "dataTieringEnabled",
      "globalReplicationGroupId",
      "kmsKeyId",
      "networkType",
      "port",
      "region",
      "replicationGroupId",
      "securityGroupNames",
      "snapshotArns",
      "snapshotName",
      "subnetGroupName",
    ],
    sometimes: {
      engine:
        "valkey back to redis (customizeDiffEngineForceNewOnDowngrade); redis to valkey upgrades in place",
      engineVersion: "a lower version (customizeDiffEngineVersionForceNewOnDowngrade)",
      nodeGroupConfiguration: "a meaningful change of explicit node groups (cluster mode only)",
    },
    source:
      "internal/service/elasticache/replication_group.go, resourceReplicationGroup(): ForceNew attributes and CustomizeDiff",
  },
  "aws:s3/bucket:Bucket": {
    what: "an S3 bucket (its objects)",
    always: ["bucket", "bucketPrefix", "objectLockEnabled", "region"],
    sometimes: {},
    source: "internal/service/s3/bucket.go, resourceBucket(): ForceNew attributes",
  },
  "aws:kms/key:Key": {
    what: "a KMS key (everything encrypted with it becomes unreadable once the old key is deleted)",
    always: [
      "customKeyStoreId",
      "customerMasterKeySpec",
      "keyUsage",
      "multiRegion",
      "region",
      "xksKeyId",
    ],
    sometimes: {},
    source: "internal/service/kms/key.go, resourceKey(): ForceNew attributes",
  },
  "aws:dynamodb/table:Table": {
    what: "a DynamoDB table (its items)",
    always: ["name", "region"],
    sometimes: {
      rangeKey: "any change (CustomizeDiff: the key schema cannot be modified)",
      hashKey: "any change (CustomizeDiff: the key schema cannot be modified)",
    },
    source:
      "internal/service/dynamodb/table.go, resourceTable(): ForceNew attributes and CustomizeDiff",
  },
};

/** The stateful resource types, for specs that look at every one of them. */
export const STATEFUL_TYPES: readonly string[] = Object.keys(REPLACEMENT_INPUTS);

/** A resource as specs see it: its identity and the inputs it was declared with. */
export interface DeclaredResource {
  urn: string;
  type: string;
  inputs: Record<string, unknown>;
}

/** One input that would replace a stateful resource between two versions of the program. */
export interface ReplacingChange {
  urn: string;
  input: string;
  before: unknown;
  after: unknown;
}

/**
 * The changes from `before` to `after` that would replace a stateful resource: an input of
 * `always` (or of `sometimes`, which a spec of everyday changes must not touch either) that
 * differs, and every stateful resource that disappears (a delete) or appears under a new URN.
 */
export function replacingChanges(
  before: readonly DeclaredResource[],
  after: readonly DeclaredResource[],
): ReplacingChange[] {
  const stateful = (resources: readonly DeclaredResource[]) =>
    new Map(
      resources
        .filter((resource) => REPLACEMENT_INPUTS[resource.type] !== undefined)
        .map((resource) => [resource.urn, resource]),
    );
  const old = stateful(before);
  const next = stateful(after);
  const changes: ReplacingChange[] = [];
  for (const [urn, was] of old) {
    const now = next.get(urn);
    if (now === undefined) {
      changes.push({ urn, input: "(deleted)", before: "present", after: undefined });
      continue;
    }
    const inputs = REPLACEMENT_INPUTS[was.type]!;
    for (const input of [...inputs.always, ...Object.keys(inputs.sometimes)]) {
      const [a, b] = [JSON.stringify(was.inputs[input]), JSON.stringify(now.inputs[input])];
      if (a !== b)
        changes.push({ urn, input, before: was.inputs[input], after: now.inputs[input] });
    }
  }
  for (const urn of next.keys()) {
    if (!old.has(urn))
      changes.push({ urn, input: "(created)", before: undefined, after: "present" });
  }
  return changes;
}
