/**
 * Until the deploy work's list lands on main (components/replacementInputs.ts), the inputs that
 * force the replacement of each stateful type, from terraform-provider-aws (ForceNew): the ones
 * this program sets. Replaced by the deploy branch's module after the merge.
 */
export const REPLACEMENT_INPUTS: Readonly<Record<string, readonly string[]>> = {
  "aws:rds/instance:Instance": [
    "availabilityZone",
    "dbName",
    "engine",
    "identifier",
    "kmsKeyId",
    "storageEncrypted",
    "username",
    "replicateSourceDb",
  ],
  "aws:elasticache/replicationGroup:ReplicationGroup": [
    "atRestEncryptionEnabled",
    "kmsKeyId",
    "port",
    "replicationGroupId",
    "subnetGroupName",
    "engine",
    "engineVersion",
  ],
  "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix", "objectLockEnabled"],
  "aws:s3/bucketV2:BucketV2": ["bucket", "bucketPrefix", "objectLockEnabled"],
  "aws:kms/key:Key": ["customerMasterKeySpec", "keyUsage", "multiRegion"],
  "aws:dynamodb/table:Table": ["name", "hashKey", "rangeKey"],
};

export interface DeclaredResource {
  urn: string;
  type: string;
  inputs: Record<string, unknown>;
}

/** Each stateful resource of `before` that `after` deletes or would replace, with the input. */
export function replacingChanges(
  before: readonly DeclaredResource[],
  after: readonly DeclaredResource[],
): { urn: string; input: string; before: unknown; after: unknown }[] {
  const next = new Map(after.map((resource) => [resource.urn, resource]));
  return before.flatMap((was) => {
    const inputs = REPLACEMENT_INPUTS[was.type];
    if (inputs === undefined) return [];
    const now = next.get(was.urn);
    if (now === undefined)
      return [{ urn: was.urn, input: "(deleted)", before: "present", after: undefined }];
    return inputs
      .filter((input) => JSON.stringify(was.inputs[input]) !== JSON.stringify(now.inputs[input]))
      .map((input) => ({
        urn: was.urn,
        input,
        before: was.inputs[input],
        after: now.inputs[input],
      }));
  });
}
