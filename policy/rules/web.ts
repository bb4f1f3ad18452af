/**
 * The web edge: load balancers drop malformed headers and speak modern TLS; plain HTTP only
 * redirects to HTTPS (or, in a stack with no certificate at all, is reported as advisory); the
 * CDN serves viewers over HTTPS only.
 */
import * as aws from "@pulumi/aws";
import {
  type PolicyResource,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import {
  type Link,
  UNKNOWN,
  anyLink,
  read,
  readPlain,
  readSetting,
  sameTarget,
  violation,
} from "../values";

/** ELB security policies that allow TLS 1.2 and later only (TLS13-1-2, TLS13-1-3, TLS-1-2, FS-1-2 families). */
export const MODERN_TLS_POLICY = /^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)-/;
export const RECOMMENDED_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** CloudFront's minimum viewer protocol versions from TLS 1.2 on. */
const MODERN_VIEWER_PROTOCOL = /^TLSv1\.2_/;
const HTTPS_VIEWER_POLICIES = ["redirect-to-https", "https-only"];

export const albDropsInvalidHeaders: ResourceValidationPolicy = {
  name: "alb-drops-invalid-headers",
  description:
    "Application load balancers drop requests with header fields that are not valid HTTP (a request-smuggling vector) instead of passing them to the app.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.lb.LoadBalancer, (lb, args, reportViolation) => {
    const kind = read(() => lb.loadBalancerType);
    if (kind === UNKNOWN || (kind !== undefined && kind !== "application")) return;
    const drops = read(() => lb.dropInvalidHeaderFields);
    if (drops === true || drops === UNKNOWN) return;
    reportViolation(
      violation(
        args,
        "it forwards header fields that are not valid HTTP",
        "set dropInvalidHeaderFields: true",
      ),
    );
  }),
};

export const listenerModernTls: ResourceValidationPolicy = {
  name: "lb-listener-modern-tls",
  description: "HTTPS and TLS listeners use a security policy that allows TLS 1.2 and later only.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.lb.Listener, (listener, args, reportViolation) => {
    const protocol = read(() => listener.protocol);
    if (protocol !== "HTTPS" && protocol !== "TLS") return;
    const policy = read(() => listener.sslPolicy);
    if (policy === UNKNOWN || (policy !== undefined && MODERN_TLS_POLICY.test(policy))) return;
    reportViolation(
      violation(
        args,
        policy === undefined
          ? "it takes the default security policy, which still allows TLS 1.0 and 1.1"
          : `its security policy ${policy} allows protocols older than TLS 1.2`,
        `set sslPolicy: "${RECOMMENDED_TLS_POLICY}"`,
      ),
    );
  }),
};

/** True when a listener's only default action redirects to HTTPS. */
export function redirectsToHttps(defaultActions: unknown): boolean {
  if (!Array.isArray(defaultActions) || defaultActions.length !== 1) return false;
  const [action] = defaultActions as Array<{ type?: unknown; redirect?: { protocol?: unknown } }>;
  return action?.type === "redirect" && action.redirect?.protocol === "HTTPS";
}

const protocolOf = (listener: PolicyResource) => {
  const protocol = readSetting(listener, "protocol");
  // An application load balancer's listener speaks HTTP unless told otherwise.
  return protocol === undefined ? "HTTP" : protocol;
};

/**
 * The parts of a listener's default actions that decide a redirect: a forward's target group ARN
 * is unknown in a preview, and must not hide that the action forwards.
 */
const defaultActionsOf = (listener: PolicyResource) =>
  read(() =>
    (
      (listener.props.defaultActions ?? []) as Array<{
        type?: unknown;
        redirect?: { protocol?: unknown };
      }>
    ).map((action) => ({ type: action.type, redirect: { protocol: action.redirect?.protocol } })),
  );

const regionOf = (resource: PolicyResource) =>
  read(() => resource.provider?.props.region as unknown);

/** Whether TLS is at hand for a listener: its load balancer has an HTTPS listener, or the stack a certificate in its region. */
function tlsAvailable(listener: PolicyResource, resources: PolicyResource[]): Link {
  const region = regionOf(listener);
  const certificateNearby = resources.some((resource) => {
    if (!resource.isType(aws.acm.Certificate)) return false;
    const certificateRegion = regionOf(resource);
    return (
      typeof region !== "string" ||
      typeof certificateRegion !== "string" ||
      region === certificateRegion
    );
  });
  if (certificateNearby) return "yes";
  return anyLink(
    resources
      .filter((other) => other.urn !== listener.urn && other.isType(aws.lb.Listener))
      .map((other): Link => {
        const protocol = protocolOf(other);
        if (protocol === UNKNOWN) return "unknown";
        if (protocol !== "HTTPS") return "no";
        return sameTarget(
          { resource: listener, property: "loadBalancerArn" },
          { resource: other, property: "loadBalancerArn" },
        );
      }),
  );
}

/** Plain-HTTP listeners that do not redirect, each with whether TLS is at hand for it. */
export function forwardingHttpListeners(
  resources: PolicyResource[],
): Array<{ listener: PolicyResource; tls: Link }> {
  return resources
    .filter((resource) => resource.isType(aws.lb.Listener) && protocolOf(resource) === "HTTP")
    .filter((listener) => {
      const actions = defaultActionsOf(listener);
      return actions !== UNKNOWN && !redirectsToHttps(actions);
    })
    .map((listener) => ({ listener, tls: tlsAvailable(listener, resources) }));
}

/** A stack rule over the plain-HTTP listeners that forward, judging those whose TLS is `tls`. */
function forwardingHttpListenerRule(rule: {
  name: string;
  description: string;
  enforcementLevel: "mandatory" | "advisory";
  tls: Link;
  problem: string;
  fix: string;
}): StackValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel,
    validateStack: (args, reportViolation) => {
      for (const { listener, tls } of forwardingHttpListeners(args.resources)) {
        if (tls !== rule.tls) continue;
        reportViolation(violation(listener, rule.problem, rule.fix), listener.urn);
      }
    },
  };
}

export const httpListenerRedirects = forwardingHttpListenerRule({
  name: "lb-http-redirects-to-https",
  description:
    "Where the stack has TLS (an HTTPS listener on the same load balancer, or a certificate in the region), plain-HTTP listeners only redirect to HTTPS.",
  enforcementLevel: "mandatory",
  tls: "yes",
  problem: "it serves plain HTTP although the stack has a certificate for HTTPS",
  fix: 'make its only default action a redirect with protocol "HTTPS", port "443" and statusCode "HTTP_301"',
});

export const httpListenerWithoutTls = forwardingHttpListenerRule({
  name: "lb-http-without-tls",
  description:
    "Reports plain-HTTP listeners in a stack with no certificate: traffic is unencrypted, which may be acceptable for a dev stack without a domain.",
  // Advisory: without a domain there is no certificate to serve HTTPS with, so plain HTTP is the
  // only way to reach the app; a stack with a certificate is held by lb-http-redirects-to-https.
  enforcementLevel: "advisory",
  tls: "no",
  problem:
    "it serves plain HTTP: the stack has no certificate, so traffic to the app is unencrypted",
  fix: "give the stack a domain (dns.domain) so it gets a certificate and an HTTPS listener; this listener then redirects",
});

export const cloudfrontHttpsOnly: ResourceValidationPolicy = {
  name: "cloudfront-https-only",
  description:
    "CloudFront distributions serve viewers over HTTPS only (TLS 1.2+ with a custom certificate) and never fetch from custom origins over plain HTTP.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(
    aws.cloudfront.Distribution,
    (distribution, args, reportViolation) => {
      const behaviors = readPlain(() => [
        { path: "default", policy: distribution.defaultCacheBehavior?.viewerProtocolPolicy },
        ...(distribution.orderedCacheBehaviors ?? []).map((behavior) => ({
          path: behavior.pathPattern,
          policy: behavior.viewerProtocolPolicy,
        })),
      ]);
      if (Array.isArray(behaviors)) {
        for (const { path, policy } of behaviors as Array<{ path: string; policy: unknown }>) {
          if (typeof policy === "string" && HTTPS_VIEWER_POLICIES.includes(policy)) continue;
          reportViolation(
            violation(
              args,
              `its cache behavior "${path}" lets viewers use plain HTTP (viewerProtocolPolicy ${String(policy)})`,
              'set viewerProtocolPolicy: "redirect-to-https" (or "https-only")',
            ),
          );
        }
      }
      // Field by field: a certificate's or an origin's ARN and domain are unknown in a preview.
      const acmCertificate = read(() => distribution.viewerCertificate?.acmCertificateArn);
      const iamCertificate = read(() => distribution.viewerCertificate?.iamCertificateId);
      const minimum = read(() => distribution.viewerCertificate?.minimumProtocolVersion);
      const custom = [acmCertificate, iamCertificate].some((id) => id === UNKNOWN || Boolean(id));
      if (
        custom &&
        minimum !== UNKNOWN &&
        !(minimum !== undefined && MODERN_VIEWER_PROTOCOL.test(minimum))
      ) {
        reportViolation(
          violation(
            args,
            `its certificate accepts viewers on ${minimum ?? "TLSv1"}`,
            'set viewerCertificate.minimumProtocolVersion: "TLSv1.2_2021"',
          ),
        );
      }
      const origins = read(() =>
        (distribution.origins ?? []).map((origin) => ({
          id: read(() => origin.originId),
          protocol: read(() => origin.customOriginConfig?.originProtocolPolicy),
        })),
      );
      if (origins === UNKNOWN) return;
      for (const origin of origins.filter(({ protocol }) => protocol === "http-only")) {
        reportViolation(
          violation(
            args,
            `it fetches from origin "${typeof origin.id === "string" ? origin.id : "?"}" over plain HTTP`,
            'set customOriginConfig.originProtocolPolicy: "https-only"',
          ),
        );
      }
    },
  ),
};

/** The security headers a response headers policy must set (its securityHeadersConfig keys). */
export const REQUIRED_SECURITY_HEADERS = [
  "strictTransportSecurity",
  "contentTypeOptions",
  "frameOptions",
  "referrerPolicy",
] as const;

export const cloudfrontSecurityHeaders: ResourceValidationPolicy = {
  name: "cloudfront-security-headers",
  description:
    "Every CloudFront cache behavior answers through a response headers policy, and every such policy sets HSTS, X-Content-Type-Options, X-Frame-Options and Referrer-Policy.",
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (args.isType(aws.cloudfront.Distribution)) {
      const behaviors = readPlain(() => [
        { path: "default", id: args.props.defaultCacheBehavior?.responseHeadersPolicyId },
        ...((args.props.orderedCacheBehaviors ?? []) as Array<Record<string, unknown>>).map(
          (behavior) => ({ path: behavior.pathPattern, id: behavior.responseHeadersPolicyId }),
        ),
      ]);
      if (!Array.isArray(behaviors)) return;
      for (const { path, id } of behaviors as Array<{ path: string; id: unknown }>) {
        if (typeof id === "string" && id !== "") continue;
        reportViolation(
          violation(
            args,
            `its cache behavior "${path}" sends no security headers`,
            "set responseHeadersPolicyId to an aws.cloudfront.ResponseHeadersPolicy with securityHeadersConfig (components/cdnDistribution.ts creates one)",
          ),
        );
      }
      return;
    }
    if (!args.isType(aws.cloudfront.ResponseHeadersPolicy)) return;
    const config = readPlain(() => args.props.securityHeadersConfig);
    if (config === UNKNOWN) return;
    const missing = REQUIRED_SECURITY_HEADERS.filter(
      (header) => (config as Record<string, unknown> | undefined)?.[header] === undefined,
    );
    if (missing.length === 0) return;
    reportViolation(
      violation(
        args,
        `its securityHeadersConfig leaves out ${missing.join(", ")}`,
        `set ${REQUIRED_SECURITY_HEADERS.join(", ")} in securityHeadersConfig (HSTS a year with subdomains, nosniff, DENY, and the app's Referrer-Policy)`,
      ),
    );
  },
};
