import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import { domainNameProblems, throwIfInvalid } from "./validation";

/** ACM's default quota of names per certificate (domainName included). */
const MAX_NAMES_PER_CERTIFICATE = 10;
/** Validation records only matter while ACM checks them, so a short TTL lets a fix take effect fast. */
const VALIDATION_RECORD_TTL_SECONDS = 60;

export interface DnsValidatedCertificateArgs {
  /**
   * The certificate's main name. Changing it replaces the certificate; the new one is issued and
   * validated before the old one is deleted, so listeners using it never go without one.
   * @example "app.example.com"
   */
  domainName: string;
  /**
   * More names the certificate covers (same replacement behaviour as `domainName`).
   * @default []
   * @example ["*.app.example.com"]
   */
  subjectAlternativeNames?: string[];
  /** The public hosted zone that serves every name, where validation records are written. */
  zoneId: pulumi.Input<string>;
  /**
   * Another certificate for exactly the same names (in another region) whose validation records
   * this one relies on instead of writing its own. ACM gives one account the same validation
   * record for a name in every region (terraform-provider-aws issue #13653), so two certificates
   * writing it would each own it: destroying or replacing either deletes the record the other
   * needs to renew. With this set the record has one owner, the certificate named here.
   * @default undefined (this certificate writes its own records)
   */
  validationRecordsOf?: DnsValidatedCertificate;
  /** Change the arguments of a child resource before it is created. */
  transform?: {
    certificate?: Transform<aws.acm.CertificateArgs>;
  };
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateDnsValidatedCertificateArgs(args: DnsValidatedCertificateArgs): string[] {
  // ACM issues for lowercase names, optionally under one leading wildcard.
  const problems = domainNameProblems("domainName", args.domainName, "app.example.com", {
    wildcard: true,
  });
  for (const alternative of args.subjectAlternativeNames ?? []) {
    problems.push(
      ...domainNameProblems("subjectAlternativeNames", alternative, "www.example.com", {
        wildcard: true,
      }),
    );
  }
  const names = new Set([args.domainName, ...(args.subjectAlternativeNames ?? [])]);
  const owner = args.validationRecordsOf;
  if (owner !== undefined) {
    const ours = validationNames(args.domainName, args.subjectAlternativeNames);
    if (ours.join(" ") !== owner.validatedNames.join(" ")) {
      problems.push(
        `validationRecordsOf: that certificate validates ${owner.validatedNames.join(", ")}, this one ${ours.join(", ")}; share records only between certificates for the same names`,
      );
    }
  }
  if (names.size > MAX_NAMES_PER_CERTIFICATE) {
    problems.push(
      `subjectAlternativeNames: ${names.size} names exceed ACM's default quota of ${MAX_NAMES_PER_CERTIFICATE} per certificate; split them over more certificates`,
    );
  }
  return problems;
}

/**
 * The names that need a validation record, one each: ACM validates `*.example.com` with the same
 * record as `example.com`, so a wildcard and its base share one.
 */
export function validationNames(
  domainName: string,
  subjectAlternativeNames: readonly string[] = [],
): string[] {
  const bases = [domainName, ...subjectAlternativeNames].map((name) => name.replace(/^\*\./, ""));
  return [...new Set(bases)];
}

/**
 * An ACM certificate validated through DNS records in a Route53 zone, in the region of the
 * provider it is given (each region's provider for load balancers; us-east-1 for CloudFront).
 *
 * `certificateArn` resolves only once ACM has issued the certificate, so a listener or distribution
 * that uses it never references a pending one. ACM renews it by itself while the records stay.
 *
 * @example
 * ```ts
 * const cert = new DnsValidatedCertificate("app-cert", {
 *   domainName: "app.example.com",
 *   zoneId: zone.zoneId,
 * }, { provider: euWest1 });
 * ```
 *
 * Cost: public ACM certificates and their validation records are free (the zone is billed once).
 */
export class DnsValidatedCertificate extends pulumi.ComponentResource {
  readonly certificateArn: pulumi.Output<string>;
  /** The names validated, one per validation record (`validationNames`). */
  readonly validatedNames: string[];
  /** The fully qualified names of the validation records this certificate waits on. */
  readonly validationRecordFqdns: pulumi.Output<string>[];

  private readonly certificate: aws.acm.Certificate;
  private readonly validationRecords: aws.route53.Record[];
  private readonly validation: aws.acm.CertificateValidation;

  constructor(
    name: string,
    args: DnsValidatedCertificateArgs,
    opts: pulumi.ComponentResourceOptions = {},
  ) {
    super("zero-to-millions:components:DnsValidatedCertificate", name, {}, opts);
    throwIfInvalid("DnsValidatedCertificate", name, validateDnsValidatedCertificateArgs(args));
    this.validatedNames = validationNames(args.domainName, args.subjectAlternativeNames);
    this.certificate = this.createCertificate(name, args);
    this.validationRecords =
      args.validationRecordsOf === undefined ? this.createValidationRecords(name, args) : [];
    this.validationRecordFqdns =
      args.validationRecordsOf?.validationRecordFqdns ??
      this.validationRecords.map((record) => record.fqdn);
    this.validation = this.createValidation(name);

    this.certificateArn = this.validation.certificateArn;
    this.registerOutputs({ certificateArn: this.certificateArn });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return {
      certificate: this.certificate,
      validationRecords: this.validationRecords,
      validation: this.validation,
    };
  }

  private createCertificate(name: string, args: DnsValidatedCertificateArgs): aws.acm.Certificate {
    // Pulumi's default replacement (create the new certificate, then delete the old one) is what
    // keeps listeners served; never set deleteBeforeReplace here.
    return new aws.acm.Certificate(
      `${name}-certificate`,
      transform(args.transform?.certificate, {
        domainName: args.domainName,
        subjectAlternativeNames: args.subjectAlternativeNames,
        validationMethod: "DNS",
        tags: { ...tierTags("dns"), Name: args.domainName },
      }),
      { parent: this },
    );
  }

  private createValidationRecords(
    name: string,
    args: DnsValidatedCertificateArgs,
  ): aws.route53.Record[] {
    // The count comes from the names passed in (plain values); only each record's content is read
    // from the certificate's validation options, matched by name since ACM does not keep order.
    return validationNames(args.domainName, args.subjectAlternativeNames).map((domain) => {
      const option = this.certificate.domainValidationOptions.apply((options) => {
        const found = options.find(
          (candidate) => candidate.domainName.replace(/^\*\./, "") === domain,
        );
        if (found === undefined) throw new Error(`ACM returned no validation option for ${domain}`);
        return found;
      });
      return new aws.route53.Record(
        `${name}-validation-${domain}`,
        {
          zoneId: args.zoneId,
          name: option.resourceRecordName,
          type: option.resourceRecordType,
          records: [option.resourceRecordValue],
          ttl: VALIDATION_RECORD_TTL_SECONDS,
          // One owner (see validationRecordsOf): a record already there belongs to someone else,
          // and creating fails with Route 53's error rather than taking it over.
          allowOverwrite: false,
        },
        { parent: this },
      );
    });
  }

  private createValidation(name: string): aws.acm.CertificateValidation {
    return new aws.acm.CertificateValidation(
      `${name}-validation`,
      {
        certificateArn: this.certificate.arn,
        validationRecordFqdns: this.validationRecordFqdns,
      },
      { parent: this },
    );
  }
}
