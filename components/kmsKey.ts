/**
 * The one way the program makes a KMS key: customer-managed, symmetric, rotating yearly, and
 * recoverable for `KMS_DELETION_WINDOW_DAYS` after a delete.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { stackPhysicalName, type Tags } from "./tags";
import { type Transform, transform } from "./transform";

/**
 * How long KMS keeps a key scheduled for deletion before destroying it: the longest KMS allows.
 * Data encrypted with a destroyed key (database storage, secrets, snapshots, queued notifications)
 * can never be read again, so a mistaken `pulumi destroy` or key replacement gets the most time to
 * be undone (`aws kms cancel-key-deletion`). Changing it updates the key in place.
 */
export const KMS_DELETION_WINDOW_DAYS = 30;
/** KMS alias names are at most 256 characters, `alias/` included. */
const MAX_ALIAS_NAME_LENGTH = 250;

export interface KmsKeyArgs {
  /** What the key encrypts, shown in the KMS console. */
  description: pulumi.Input<string>;
  /**
   * The key policy. Unset: KMS's default policy (the account's IAM policies decide who may use it).
   */
  policy?: pulumi.Input<string>;
  /**
   * Adds `alias/<project>-<stack>-<name>`, a readable name for the console and CLI.
   * @default false
   */
  alias?: boolean;
  tags: Tags;
  /** Change the key's arguments before it is created. */
  transform?: Transform<aws.kms.KeyArgs>;
  /**
   * The key's region, when the parent spans regions (a key is regional: a replica in another
   * region needs a key there). Unset: the parent's provider.
   */
  provider?: pulumi.ProviderResource;
}

/**
 * Creates `${name}-key` (and its alias when asked) as children of `parent`. Rotation is always on:
 * KMS keeps the older material for decryption, so rotating never breaks a reader.
 */
export function createKmsKey(parent: pulumi.Resource, name: string, args: KmsKeyArgs): aws.kms.Key {
  const opts = args.provider === undefined ? { parent } : { parent, provider: args.provider };
  const key = new aws.kms.Key(
    `${name}-key`,
    transform(args.transform, {
      description: args.description,
      enableKeyRotation: true,
      deletionWindowInDays: KMS_DELETION_WINDOW_DAYS,
      ...(args.policy === undefined ? {} : { policy: args.policy }),
      tags: args.tags,
    }),
    opts,
  );
  if (args.alias ?? false) {
    new aws.kms.Alias(
      `${name}-key`,
      {
        name: `alias/${stackPhysicalName([name], MAX_ALIAS_NAME_LENGTH)}`,
        targetKeyId: key.keyId,
      },
      opts,
    );
  }
  return key;
}
