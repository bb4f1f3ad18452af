import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import { domainNameProblems, throwIfInvalid } from "./validation";

const ZONE_ID_PATTERN = /^Z[A-Z0-9]{1,31}$/;
/**
 * The tag a created zone carries when it is meant to be unsigned (`dnssec: "off"`): the policy
 * pack's route53-zone-dnssec rule reads it as the stack's declared intent (policy/rules/audit.ts
 * spells the same tag; test/policy/rules.test.ts checks that they agree).
 */
export const DNSSEC_OFF_TAG = { key: "dnssec", value: "off" } as const;

export interface DnsZoneArgs {
  /**
   * The apex domain the zone serves, lowercase and without a trailing dot.
   *
   * Changing it for a zone this component created replaces the zone: new name servers must then
   * be delegated at the registrar, and every record in the old zone is gone.
   * @example "example.com"
   */
  domain: string;
  /**
   * An existing public hosted zone for `domain` (e.g. the one the registrar delegates to). When set,
   * nothing is created or adopted: the zone is only looked up to check that it serves `domain`.
   * When unset, a new zone is created.
   * @example "Z0123456789ABCDEFGHIJ"
   */
  zoneId?: string;
  /**
   * Whether a zone this component creates is meant to be signed with DNSSEC (components/dnsSec.ts
   * signs it). `"off"` tags the zone `dnssec=off`, the declared intent the policy pack accepts for
   * an unsigned zone; changing it updates the tags in place. Ignored for an existing zone.
   * @default "signing"
   */
  dnssec?: "signing" | "off";
  /** Change the arguments of a child resource before it is created. */
  transform?: {
    zone?: Transform<aws.route53.ZoneArgs>;
  };
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateDnsZoneArgs(args: DnsZoneArgs): string[] {
  const problems = domainNameProblems("domain", args.domain, "example.com");
  if (args.zoneId !== undefined && !ZONE_ID_PATTERN.test(args.zoneId)) {
    problems.push(
      `zoneId: "${args.zoneId}" must be a Route53 zone id such as Z0123456789ABC, or be left unset to create a zone`,
    );
  }
  return problems;
}

/**
 * Checks that an existing zone can serve `domain`.
 * @returns the problem found, naming the argument and the fix; undefined when the zone fits.
 */
export function existingZoneProblem(
  zone: { zoneId: string; name: string; privateZone?: boolean },
  domain: string,
): string | undefined {
  const zoneName = zone.name.replace(/\.$/, "").toLowerCase();
  if (zoneName !== domain) {
    return `zoneId: zone ${zone.zoneId} serves "${zoneName}", not domain "${domain}"; set zoneId to the zone of ${domain}, or unset it to create one`;
  }
  if (zone.privateZone === true) {
    return `zoneId: zone ${zone.zoneId} is private; certificates and users need a public zone for ${domain}`;
  }
  return undefined;
}

/**
 * The public hosted zone of the product's domain: either an existing one (looked up and checked,
 * never adopted, so destroying the stack cannot delete it) or a new one.
 *
 * A new zone's `nameServers` must be delegated at the registrar (or in the parent zone) before
 * certificates can validate; until then `pulumi up` waits on certificate validation.
 *
 * @example
 * ```ts
 * const zone = new DnsZone("dns", { domain: "example.com", zoneId: "Z0123456789ABC" }, { provider });
 * ```
 *
 * Cost: $0.50 a month per hosted zone (none for an existing zone), plus queries.
 */
export class DnsZone extends pulumi.ComponentResource {
  readonly zoneId: pulumi.Output<string>;
  readonly domain: string;
  /** The zone's name servers, for delegation; empty for an existing zone that reports none. */
  readonly nameServers: pulumi.Output<string[]>;

  private readonly zone: aws.route53.Zone | undefined;

  constructor(name: string, args: DnsZoneArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:DnsZone", name, {}, opts);
    throwIfInvalid("DnsZone", name, validateDnsZoneArgs(args));
    this.domain = args.domain;
    if (args.zoneId === undefined) {
      this.zone = this.createZone(name, args);
      this.zoneId = this.zone.zoneId;
      this.nameServers = this.zone.nameServers;
    } else {
      const existing = this.lookUpZone(name, args.zoneId, args.domain);
      this.zoneId = existing.zoneId;
      this.nameServers = existing.nameServers;
    }
    this.registerOutputs({
      zoneId: this.zoneId,
      domain: this.domain,
      nameServers: this.nameServers,
    });
  }

  /** The underlying resources, for what the arguments do not cover (no zone when it exists already). */
  get nodes() {
    return { zone: this.zone };
  }

  private createZone(name: string, args: DnsZoneArgs): aws.route53.Zone {
    return new aws.route53.Zone(
      `${name}-zone`,
      transform(args.transform?.zone, {
        name: args.domain,
        comment: `${args.domain}, managed by Pulumi`,
        // Records added outside this program (mail, domain verification) make `pulumi destroy`
        // fail instead of vanishing with the zone; remove them by hand to destroy on purpose.
        forceDestroy: false,
        tags: {
          ...tierTags("dns"),
          ...(args.dnssec === "off" ? { [DNSSEC_OFF_TAG.key]: DNSSEC_OFF_TAG.value } : {}),
        },
      }),
      { parent: this },
    );
  }

  private lookUpZone(
    name: string,
    zoneId: string,
    domain: string,
  ): { zoneId: pulumi.Output<string>; nameServers: pulumi.Output<string[]> } {
    const zone = aws.route53.getZoneOutput({ zoneId }, { parent: this });
    // Everything read from the zone waits for the check, so a wrong zone fails the deployment
    // before any record or certificate is written into it.
    const checked = zone.apply((found) => {
      const problem = existingZoneProblem(found, domain);
      if (problem !== undefined) throw new Error(`DnsZone "${name}": ${problem}`);
      return found;
    });
    return {
      zoneId: checked.zoneId,
      nameServers: checked.apply((found) => found.nameServers ?? []),
    };
  }
}
