/**
 * DNSSEC signing of a Route53 public hosted zone.
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { createKmsKey } from "./kmsKey";
import { stackPhysicalName, tierTags } from "./tags";
import { accountOf, type AwsAccount } from "./awsContext";

/** The service Route53 signs with (Route53 Developer Guide, "Working with customer managed keys for DNSSEC"). */
const DNSSEC_PRINCIPAL = "dnssec-route53.amazonaws.com";
/** Key-signing key names: 3 to 128 letters, digits and underscores, unique per zone. */
const MAX_KSK_NAME_LENGTH = 128;
/** A KMS key id is a UUID: 32 hex digits once its hyphens are dropped. */
const KEY_ID_HEX_LENGTH = 32;

/**
 * The key-signing key's name: the stack-scoped component name and the KMS key's id, underscores
 * for hyphens (Route53 allows letters, digits and underscores). The name forces replacement, and
 * a replacement is created before the old one is deleted, so a new KMS key must bring a new name.
 */
export function keySigningKeyName(name: string, keyId: string): string {
  const base = stackPhysicalName([name], MAX_KSK_NAME_LENGTH - KEY_ID_HEX_LENGTH - 1);
  return `${base}_${keyId.replace(/-/g, "")}`.replace(/-/g, "_");
}

export interface DnsSecArgs {
  /** The public hosted zone to sign. */
  zoneId: pulumi.Input<string>;
  /**
   * The account the resources live in (components/awsContext.ts).
   * @default looked up through the component's provider (STS in its region)
   */
  account?: AwsAccount;
}

/**
 * Signs a hosted zone: an asymmetric KMS key in us-east-1 (ECC_NIST_P256, SIGN_VERIFY: the only
 * kind Route53 accepts, and only in us-east-1), a key-signing key backed by it, and signing turned
 * on once the key-signing key exists. Route53 manages the zone-signing keys itself.
 *
 * The chain of trust is complete only when the parent zone holds the DS record
 * (`dsRecord`): README, "DNSSEC", says how to add it at the registrar and how to turn signing
 * off without making the domain unresolvable (remove the DS record first, wait for its TTL).
 *
 * The key-signing key's name carries its KMS key's id (`keySigningKeyName`), so a new key brings
 * a new key-signing key beside the old one (Route53 allows two per zone) instead of a name clash.
 * Rolling the key over keeps the chain of trust only with both DS records published for a while:
 * README, "DNSSEC", rolling the key-signing key over.
 *
 * Must be created with a us-east-1 provider. Cost: $1 a month for the key, plus $0.03 per 10,000
 * signing requests (Route53 caches signatures; a few dollars at the chapter's scale).
 *
 * @example
 * ```ts
 * const dnssec = new DnsSec("zone-dnssec", { zoneId: zone.zoneId }, { provider: usEast1 });
 * export const ds = dnssec.dsRecord;
 * ```
 */
export class DnsSec extends pulumi.ComponentResource {
  /** The DS record to publish in the parent zone (at the registrar). */
  readonly dsRecord: pulumi.Output<string>;
  readonly keySigningKeyName: pulumi.Output<string>;

  constructor(name: string, args: DnsSecArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:DnsSec", name, {}, opts);
    const account = accountOf(args.account, { parent: this });
    const fromThisAccountsZones = {
      StringEquals: { "aws:SourceAccount": account.accountId },
      ArnLike: {
        "aws:SourceArn": pulumi.interpolate`arn:${account.partition}:route53:::hostedzone/*`,
      },
    };
    const key = createKmsKey(this, `${name}-ksk`, {
      account,
      description: `${name}: Route53 DNSSEC key-signing key`,
      kind: { spec: "ECC_NIST_P256", usage: "SIGN_VERIFY" },
      users: [
        {
          sid: "Route53DnssecSigns",
          principal: { Service: DNSSEC_PRINCIPAL },
          actions: ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"],
          condition: fromThisAccountsZones,
        },
        {
          // Route53 keeps a grant on the key for as long as the key-signing key exists.
          sid: "Route53DnssecHoldsGrant",
          principal: { Service: DNSSEC_PRINCIPAL },
          actions: ["kms:CreateGrant"],
          condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
      ],
      alias: true,
      tags: tierTags("dns"),
    });
    const ksk = new aws.route53.KeySigningKey(
      `${name}-ksk`,
      {
        hostedZoneId: args.zoneId,
        keyManagementServiceArn: key.arn,
        name: key.keyId.apply((keyId) => keySigningKeyName(name, keyId)),
        status: "ACTIVE",
      },
      { parent: this },
    );
    new aws.route53.HostedZoneDnsSec(
      `${name}-signing`,
      { hostedZoneId: ksk.hostedZoneId, signingStatus: "SIGNING" },
      // Route53 refuses to sign before an active key-signing key exists.
      { parent: this, dependsOn: [ksk] },
    );
    this.dsRecord = ksk.dsRecord;
    this.keySigningKeyName = ksk.name;
    this.registerOutputs({ dsRecord: this.dsRecord, keySigningKeyName: this.keySigningKeyName });
  }
}
