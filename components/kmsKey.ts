/**
 * The one way the program makes a KMS key: customer-managed, with an explicit key policy (the
 * account's administrators, plus the services that use it, each named), rotating yearly when KMS
 * can rotate it, and recoverable for `KMS_DELETION_WINDOW_DAYS` after a delete.
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { stackPhysicalName, type Tags } from "./tags";
import { type Transform, transform } from "./transform";
import { accountOf, type AwsAccount } from "./awsContext";

/**
 * How long KMS keeps a key scheduled for deletion before destroying it: the longest KMS allows.
 * Data encrypted with a destroyed key (database storage, secrets, snapshots, queued notifications)
 * can never be read again, so a mistaken `pulumi destroy` or key replacement gets the most time to
 * be undone (`aws kms cancel-key-deletion`). Changing it updates the key in place.
 */
export const KMS_DELETION_WINDOW_DAYS = 30;
/** KMS alias names are at most 256 characters, `alias/` included. */
const MAX_ALIAS_NAME_LENGTH = 250;
/** The statement id the account's administrators hold in every key policy. */
export const ACCOUNT_ADMINISTERS_KEY_SID = "AccountAdministersKey";

/** The key kinds the program uses. Only symmetric encryption keys can rotate (KMS rejects the rest). */
export type KmsKeyKind =
  | { spec: "SYMMETRIC_DEFAULT"; usage: "ENCRYPT_DECRYPT" }
  /** Route53 DNSSEC key-signing keys: ECDSA P-256, signing only. */
  | { spec: "ECC_NIST_P256"; usage: "SIGN_VERIFY" };

/** One statement of a key policy: a service or role that uses the key, and for what. */
export interface KeyUser {
  /** The statement id, saying who and why (e.g. "CloudWatchLogsEncryptsLogGroups"). */
  sid: string;
  principal: { Service: pulumi.Input<string> } | { AWS: pulumi.Input<string> };
  actions: string[];
  /** Pins the caller (source ARN, account, encryption context); services should always have one. */
  condition?: Record<string, Record<string, pulumi.Input<string | string[]>>>;
}

export interface KmsKeyArgs {
  /** What the key encrypts, shown in the KMS console. */
  description: pulumi.Input<string>;
  /**
   * Who uses the key besides the account's administrators. Services that reach KMS through the
   * caller's own IAM permissions (RDS, ElastiCache, Secrets Manager, SQS, S3 for a role) need no
   * statement; services that act as themselves (CloudWatch Logs, CloudFront, Route53 DNSSEC,
   * CloudWatch alarms) do.
   * @default []
   */
  users?: KeyUser[];
  /**
   * What kind of key. Changing it replaces the key (KMS's key spec and usage are immutable), and
   * everything encrypted with the old one must be re-encrypted or is lost after the window.
   * @default { spec: "SYMMETRIC_DEFAULT", usage: "ENCRYPT_DECRYPT" }
   */
  kind?: KmsKeyKind;
  /**
   * Adds `alias/<project>-<stack>-<name>`, a readable name for the console and CLI.
   * @default false
   */
  alias?: boolean;
  /**
   * Leave the key in AWS when Pulumi deletes it (`retainOnDelete`): for a key whose data outlives
   * the stack (a bucket `pulumi destroy` keeps), which a scheduled deletion would make unreadable.
   * Delete a retained key by hand once its data is gone (README: Deploying, destroying a stack).
   * @default false
   */
  retainOnDelete?: boolean;
  tags: Tags;
  /** Change the key's arguments before it is created. */
  transform?: Transform<aws.kms.KeyArgs>;
  /**
   * The key's region, when it is not the parent's provider's (a key is regional: a replica in
   * another region needs a key there; Route53 DNSSEC needs us-east-1). Unset: the parent's provider.
   */
  provider?: pulumi.ProviderResource;
  /**
   * The account whose administrators hold the key (components/awsContext.ts).
   * @default looked up through the key's provider (STS in its region)
   */
  account?: AwsAccount;
}

/**
 * The key policy document: the account's administrators first, then `users`.
 *
 * The account's root principal administers the key, on purpose: it is how KMS lets the account's
 * IAM policies (and so its administrators) manage the key at all, and without it a key whose other
 * principals are deleted can never be managed or deleted again (AWS: "Allows access to the AWS
 * account and enables IAM policies"). It grants nothing to anyone by itself; each role still needs
 * an IAM policy naming the key, which this program writes only for the roles that use it.
 */
export function keyPolicy(
  account: { accountId: pulumi.Input<string>; partition: pulumi.Input<string> },
  users: readonly KeyUser[],
): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: ACCOUNT_ADMINISTERS_KEY_SID,
        Effect: "Allow",
        Principal: {
          AWS: pulumi.interpolate`arn:${account.partition}:iam::${account.accountId}:root`,
        },
        Action: "kms:*",
        Resource: "*",
      },
      ...users.map((user) => ({
        Sid: user.sid,
        Effect: "Allow",
        Principal: user.principal,
        Action: user.actions,
        Resource: "*",
        ...(user.condition === undefined ? {} : { Condition: user.condition }),
      })),
    ],
  });
}

/**
 * Creates `${name}-key` (and its alias when asked) as children of `parent` (top-level resources
 * when undefined), with an explicit key
 * policy (`keyPolicy`). Symmetric keys rotate: KMS keeps the older material for decryption, so
 * rotating never breaks a reader. Asymmetric keys cannot rotate; KMS rejects rotation for them.
 */
export function createKmsKey(
  parent: pulumi.Resource | undefined,
  name: string,
  args: KmsKeyArgs,
): aws.kms.Key {
  const opts = {
    ...(parent ? { parent } : {}),
    ...(args.provider ? { provider: args.provider } : {}),
  };
  const kind = args.kind ?? { spec: "SYMMETRIC_DEFAULT", usage: "ENCRYPT_DECRYPT" };
  const symmetric = kind.spec === "SYMMETRIC_DEFAULT";
  const key = new aws.kms.Key(
    `${name}-key`,
    transform(args.transform, {
      description: args.description,
      ...(symmetric ? {} : { customerMasterKeySpec: kind.spec, keyUsage: kind.usage }),
      enableKeyRotation: symmetric,
      deletionWindowInDays: KMS_DELETION_WINDOW_DAYS,
      policy: keyPolicy(accountOf(args.account, opts), args.users ?? []),
      tags: args.tags,
    }),
    { ...opts, retainOnDelete: args.retainOnDelete ?? false },
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

/**
 * The statements of a key that encrypts log groups in `region`; both services act as themselves,
 * so the key policy must name them:
 * - CloudWatch Logs encrypts each group's events, pinned by the encryption context (the log
 *   group's ARN) to this account's groups there (CloudWatch Logs User Guide, "Encrypt log data in
 *   CloudWatch Logs using AWS KMS");
 * - CloudWatch's log delivery writes vended logs (CloudFront standard logging v2, AWS WAF), pinned
 *   to this account's deliveries there ("Enabling logging from AWS services": a customer-managed
 *   key must allow delivery.logs.amazonaws.com).
 */
export function logsKeyUsers(
  region: pulumi.Input<string>,
  account: { accountId: pulumi.Input<string>; partition: pulumi.Input<string> },
): KeyUser[] {
  const arn = (resource: string) =>
    pulumi.interpolate`arn:${account.partition}:logs:${region}:${account.accountId}:${resource}`;
  return [
    {
      sid: "CloudWatchLogsEncryptsLogGroups",
      principal: { Service: pulumi.interpolate`logs.${region}.amazonaws.com` },
      actions: [
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:Describe*",
      ],
      condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": arn("log-group:*") } },
    },
    {
      sid: "LogDeliveryWritesVendedLogs",
      principal: { Service: "delivery.logs.amazonaws.com" },
      actions: ["kms:Encrypt", "kms:GenerateDataKey*", "kms:Decrypt"],
      condition: {
        StringEquals: { "aws:SourceAccount": account.accountId },
        ArnLike: { "aws:SourceArn": arn("*") },
      },
    },
  ];
}
