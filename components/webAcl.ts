/**
 * The edge firewall: one AWS WAF web ACL, its logging, and its associations. The rules are data
 * (`webAclRules`), so the dashboards name the same rules the ACL has.
 *
 * Real-AWS constraints this file respects (terraform-provider-aws internal/service/wafv2):
 * - web_acl.go: `name` and `scope` force replacement; names are 1-128 of `[0-9A-Za-z_-]`;
 *   description 1-256 characters.
 * - schemas.go: visibility-config metric names are 1-128 of `[0-9A-Za-z_-]`; a rate-based rule's
 *   `limit` is 10 to 2,000,000,000 and its `evaluation_window_sec` one of 60, 120, 300, 600; a byte
 *   match's `search_string` is 1-200 characters.
 * - web_acl_association.go: both ARNs force replacement, and delete calls DisassociateWebACL with the
 *   resource's ARN alone, so an association is replaced delete-first (see `associate`).
 * - web_acl_logging_configuration.go: the destination list forces replacement; AWS WAF only logs
 *   to a log group named `aws-waf-logs-...`, in the ACL's region (us-east-1 for CloudFront).
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { LOG_RETENTION_DAYS } from "./awsLimits";
import { providerRegion } from "./monitoring";
import { physicalName, tierTags } from "./tags";
import { type Transform, transform } from "./transform";
import { throwIfInvalid, wholeNumberProblems } from "./validation";
import { accountOf, contextOf, type AwsContext } from "./awsContext";

/** REGIONAL protects load balancers (created with their region's provider); CLOUDFRONT, distributions. */
export const WEB_ACL_SCOPES = ["REGIONAL", "CLOUDFRONT"] as const;
export type WebAclScope = (typeof WEB_ACL_SCOPES)[number];
/** `block`: rules act. `count`: rules only count what they would block (see a rule's effect first). */
export const WEB_ACL_MODES = ["block", "count"] as const;
export type WebAclMode = (typeof WEB_ACL_MODES)[number];
/** The windows a rate-based rule can count over (schemas.go: evaluation_window_sec). */
export const RATE_WINDOWS_SECONDS = [60, 120, 300, 600] as const;
export type RateWindowSeconds = (typeof RATE_WINDOWS_SECONDS)[number];
/** A rate-based rule's limit (schemas.go: limit). */
export const MIN_RATE_LIMIT = 10;
export const MAX_RATE_LIMIT = 2_000_000_000;
/** CloudFront's web ACLs, their metrics and their logs live in us-east-1 only. */
export const CLOUDFRONT_WAF_REGION = "us-east-1";
/** AWS WAF logs only to destinations named with this prefix. */
export const WAF_LOG_GROUP_PREFIX = "aws-waf-logs-";
/** A byte match's longest search string (schemas.go: search_string). */
const MAX_MATCHED_PATH_LENGTH = 200;
const MAX_NAME_LENGTH = 128;
const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
/** Answered by the rate rule when it blocks: what the app answers for its own limits. */
const TOO_MANY_REQUESTS = 429;
/**
 * Headers kept out of the logs: the session cookie and any bearer token would let whoever reads
 * the logs act as the user.
 */
const REDACTED_HEADERS = ["cookie", "authorization"];

/** A route the rate rule counts, matched exactly on method and (URL-decoded) path. */
export interface RateLimitedRoute {
  method: (typeof HTTP_METHODS)[number];
  /** @example "/sessions" */
  path: string;
}

export interface WebAclRateLimit {
  /**
   * The routes counted together, per client IP. The app's own limits (per client and per
   * account, in the shared store) are the fine ones; this is the coarse ceiling in front.
   */
  routes: readonly RateLimitedRoute[];
  /**
   * Requests to `routes` one client IP may make per window; past it, its requests to them are
   * blocked (429) until its rate falls under the limit. At least 10.
   * @example 100
   */
  requestsPerWindow: number;
  /** @example 300 */
  windowSeconds: RateWindowSeconds;
}

export interface WebAclTransforms {
  webAcl?: Transform<aws.wafv2.WebAclArgs>;
  logGroup?: Transform<aws.cloudwatch.LogGroupArgs>;
  logDeliveryPolicy?: Transform<aws.cloudwatch.LogResourcePolicyArgs>;
  logging?: Transform<aws.wafv2.WebAclLoggingConfigurationArgs>;
  association?: Transform<aws.wafv2.WebAclAssociationArgs>;
}

export interface WebAclArgs {
  /**
   * `REGIONAL` for load balancers, created with their region's provider; `CLOUDFRONT` for
   * distributions, created with a us-east-1 provider and set as the distribution's `webAclId`
   * (`arn`). Changing it replaces the ACL.
   */
  scope: WebAclScope;
  /**
   * `block`: the managed rule groups and the rate rule act. `count`: they only count (and log)
   * what they would have blocked, so a new rule's false positives show before they hurt anyone.
   * Changing it updates the ACL in place.
   * @example "block"
   */
  mode: WebAclMode;
  /** A per-client-IP rate rule on a few costly routes (sign-in, sign-up). Unset: no rate rule. */
  rateLimit?: WebAclRateLimit;
  /**
   * How long the log group keeps what the ACL blocked or counted (a CloudWatch value).
   * @example 90
   */
  logRetentionDays: number;
  /**
   * The customer-managed key the log group is encrypted with, in the ACL's region (us-east-1 for
   * CLOUDFRONT); its policy must let that region's CloudWatch Logs use it (components/kmsKey.ts
   * logsKeyUsers). Changing it updates the log group in place. Unset: CloudWatch Logs' own key.
   */
  logKmsKeyArn?: pulumi.Input<string>;
  /** Change the arguments of a child resource before it is created. */
  transform?: WebAclTransforms;
  /**
   * The account, partition and region the resources live in (components/awsContext.ts).
   * @default looked up through the component's provider (STS in its region)
   */
  context?: AwsContext;
}

/** The CloudWatch metrics the ACL publishes (namespace AWS/WAFV2), for dashboards and alarms. */
export interface WebAclMetrics {
  /** The `WebACL` dimension: the ACL's metric name. */
  webAclMetricName: string;
  /** The `Region` dimension of a REGIONAL ACL; CloudFront's metrics have none (us-east-1). */
  region?: pulumi.Input<string>;
  mode: WebAclMode;
  /** Each rule as the `Rule` dimension names it, with a label for graphs. */
  rules: Array<{ metricName: string; label: string }>;
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateWebAclArgs(args: WebAclArgs): string[] {
  const problems: string[] = [];
  if (!(WEB_ACL_SCOPES as readonly string[]).includes(args.scope)) {
    problems.push(`scope: "${args.scope}" must be one of ${WEB_ACL_SCOPES.join(", ")}`);
  }
  if (!(WEB_ACL_MODES as readonly string[]).includes(args.mode)) {
    problems.push(`mode: "${args.mode}" must be one of ${WEB_ACL_MODES.join(", ")}`);
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(args.logRetentionDays)) {
    problems.push(
      `logRetentionDays: ${args.logRetentionDays} must be a CloudWatch retention: ${LOG_RETENTION_DAYS.join(", ")}`,
    );
  }
  const limit = args.rateLimit;
  if (limit === undefined) return problems;
  problems.push(
    ...wholeNumberProblems(
      "rateLimit.requestsPerWindow",
      limit.requestsPerWindow,
      MIN_RATE_LIMIT,
      MAX_RATE_LIMIT,
    ),
  );
  if (!(RATE_WINDOWS_SECONDS as readonly number[]).includes(limit.windowSeconds)) {
    problems.push(
      `rateLimit.windowSeconds: ${limit.windowSeconds} must be one of ${RATE_WINDOWS_SECONDS.join(", ")}`,
    );
  }
  if (limit.routes.length === 0) {
    problems.push("rateLimit.routes: empty; name the routes to count, or leave rateLimit unset");
  }
  limit.routes.forEach((route, index) => {
    if (!(HTTP_METHODS as readonly string[]).includes(route.method)) {
      problems.push(
        `rateLimit.routes[${index}].method: "${route.method}" must be one of ${HTTP_METHODS.join(", ")}`,
      );
    }
    if (!/^\/[\w\-./~]*$/.test(route.path) || route.path.length > MAX_MATCHED_PATH_LENGTH) {
      problems.push(
        `rateLimit.routes[${index}].path: "${route.path}" must be a path starting with "/" of at most ${MAX_MATCHED_PATH_LENGTH} characters, such as /sessions`,
      );
    }
  });
  return problems;
}

/** What the rules are called, in the ACL and in its metrics. */
const RULE_NAMES = {
  ipReputation: "ip-reputation",
  rateLimit: "rate-limit",
  knownBadInputs: "known-bad-inputs",
  common: "common",
} as const;

/** AWS's baseline managed rule groups (no charge beyond the rule's), in evaluation order. */
const MANAGED_RULE_GROUPS = [
  {
    // Addresses Amazon threat intelligence saw in bots and attacks: cheapest to drop first.
    name: RULE_NAMES.ipReputation,
    group: "AWSManagedRulesAmazonIpReputationList",
    label: "IP reputation",
  },
  {
    // Log4j/JNDI, Java deserialization, localhost Host headers, exploitable paths.
    name: RULE_NAMES.knownBadInputs,
    group: "AWSManagedRulesKnownBadInputsRuleSet",
    label: "known bad inputs",
  },
  {
    // OWASP-style checks: XSS, LFI/RFI, SSRF, size limits. SizeRestrictions_BODY blocks bodies
    // over 8 KB: the app's JSON bodies are far below that (schemas cap every field), and photos
    // go straight to S3 by presigned URL, never through the load balancer or the CDN.
    name: RULE_NAMES.common,
    group: "AWSManagedRulesCommonRuleSet",
    label: "common rule set",
  },
] as const;

type Rule = aws.types.input.wafv2.WebAclRule;
type ScopeDown = aws.types.input.wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatement;

/** A rule's visibility: metrics under its own name and sampled requests for the console. */
const visibility = (metricName: string) => ({
  cloudwatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: true,
});

/** Matches one route: the method exactly, the path exactly once URL-decoded (no %73essions detour). */
function routeMatch(route: RateLimitedRoute): ScopeDown {
  const exactly = (searchString: string, type: string) => ({
    positionalConstraint: "EXACTLY",
    searchString,
    textTransformations: [{ priority: 0, type }],
  });
  return {
    andStatement: {
      statements: [
        { byteMatchStatement: { fieldToMatch: { method: {} }, ...exactly(route.method, "NONE") } },
        {
          byteMatchStatement: {
            fieldToMatch: { uriPath: {} },
            ...exactly(route.path, "URL_DECODE"),
          },
        },
      ],
    },
  };
}

/**
 * The ACL's rules in evaluation order: IP reputation, the rate rule (when given), known bad
 * inputs, the common rule set. In `count` mode every rule counts instead of blocking.
 */
export function webAclRules(
  args: Pick<WebAclArgs, "mode" | "rateLimit">,
): Array<Rule & { name: string; label: string }> {
  const counting = args.mode === "count";
  const managed = (spec: (typeof MANAGED_RULE_GROUPS)[number]) => ({
    name: spec.name,
    label: spec.label,
    // `none` keeps the group's own actions (block); `count` turns each into a count.
    overrideAction: counting ? { count: {} } : { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: "AWS", name: spec.group } },
    visibilityConfig: visibility(spec.name),
  });
  const [ipReputation, knownBadInputs, common] = MANAGED_RULE_GROUPS.map(managed);
  const limit = args.rateLimit;
  const rateRule = limit && {
    name: RULE_NAMES.rateLimit,
    label: `rate limit (${limit.routes.map((route) => `${route.method} ${route.path}`).join(", ")})`,
    action: counting
      ? { count: {} }
      : {
          block: {
            customResponse: {
              responseCode: TOO_MANY_REQUESTS,
              responseHeaders: [{ name: "Retry-After", value: String(limit.windowSeconds) }],
            },
          },
        },
    statement: {
      rateBasedStatement: {
        aggregateKeyType: "IP",
        limit: limit.requestsPerWindow,
        evaluationWindowSec: limit.windowSeconds,
        // An OR needs two statements or more (AWS rejects one).
        scopeDownStatement:
          limit.routes.length === 1
            ? routeMatch(limit.routes[0]!)
            : { orStatement: { statements: limit.routes.map(routeMatch) } },
      },
    },
    visibilityConfig: visibility(RULE_NAMES.rateLimit),
  };
  return [ipReputation!, ...(rateRule ? [rateRule] : []), knownBadInputs!, common!].map(
    (rule, priority) => ({ ...rule, priority }),
  );
}

/**
 * An AWS WAF web ACL in front of load balancers (REGIONAL) or a CloudFront distribution
 * (CLOUDFRONT): AWS's managed IP reputation list, known-bad-inputs and common rule sets, an
 * optional per-IP rate rule on a few costly routes, metrics per rule, and logs of what it blocked
 * or counted in CloudWatch Logs.
 *
 * - `mode: "count"` runs every rule in count mode: nothing is blocked, the metrics and logs show
 *   what would have been (dev); `block` acts (prod).
 * - Logs keep only requests a rule blocked or counted (cost follows attacks, not traffic), with
 *   the Cookie and Authorization headers redacted, in `aws-waf-logs-<project>-<stack>-<name>`;
 *   the log group's own resource policy lets AWS's log delivery write there (so AWS WAF does not
 *   edit the account's shared resource policies).
 * - `associate(role, arn)` puts a regional load balancer behind the ACL; a distribution takes
 *   `arn` as its `webAclId` instead (CloudFront is not associated through AssociateWebACL).
 *
 * Create it with the provider of the region it protects; CLOUDFRONT needs a us-east-1 provider.
 * Renaming it (the component's name) replaces the ACL and its log group: a new ACL is associated
 * before the old one is deleted, but the old logs go with the old group.
 *
 * @example
 * ```ts
 * const waf = new WebAcl("primary-waf", {
 *   scope: "REGIONAL",
 *   mode: "block",
 *   rateLimit: {
 *     routes: [{ method: "POST", path: "/sessions" }, { method: "POST", path: "/users" }],
 *     requestsPerWindow: 100,
 *     windowSeconds: 300,
 *   },
 *   logRetentionDays: 90,
 * }, { provider });
 * waf.associate("web", web.albArn);
 * ```
 *
 * Cost: $5 a month per ACL plus $1 per rule (a regional ACL with the rate rule: $9; the CDN's
 * without it: $8), plus $0.60 per million requests inspected; logs about $0.50 per GB ingested
 * (only blocked and counted requests are logged) and $0.03 per GB-month kept.
 */
export class WebAcl extends pulumi.ComponentResource {
  /** The ACL's ARN: what an association or a distribution's `webAclId` takes. */
  readonly arn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  /** What the ACL publishes to CloudWatch, for the observability components. */
  readonly metrics: WebAclMetrics;

  private readonly componentName: string;
  private readonly args: WebAclArgs;
  private readonly webAcl: aws.wafv2.WebAcl;
  private readonly logGroup: aws.cloudwatch.LogGroup;
  private readonly logging: aws.wafv2.WebAclLoggingConfiguration;
  private readonly associations: aws.wafv2.WebAclAssociation[] = [];

  constructor(name: string, args: WebAclArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:WebAcl", name, {}, opts);
    throwIfInvalid("WebAcl", name, validateWebAclArgs(args));
    this.componentName = name;
    this.args = args;
    const aclName = physicalName([pulumi.getProject(), pulumi.getStack(), name], MAX_NAME_LENGTH);
    const rules = webAclRules(args);
    // A CLOUDFRONT ACL outside us-east-1 fails the deployment here, naming the cause.
    const region =
      args.scope === "CLOUDFRONT"
        ? providerRegion(
            this,
            CLOUDFRONT_WAF_REGION,
            "CloudFront web ACLs exist only there",
            args.context,
          )
        : contextOf(args.context, { parent: this }).region;

    this.webAcl = this.createWebAcl(name, aclName, rules);
    this.logGroup = this.createLogGroup(name, aclName);
    this.logging = this.enableLogging(name, region);

    this.arn = this.webAcl.arn;
    this.logGroupName = this.logGroup.name;
    this.metrics = {
      webAclMetricName: aclName,
      ...(args.scope === "REGIONAL" ? { region } : {}),
      mode: args.mode,
      rules: rules.map((rule) => ({ metricName: rule.name, label: rule.label })),
    };
    this.registerOutputs({ arn: this.arn, logGroupName: this.logGroupName });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return {
      webAcl: this.webAcl,
      logGroup: this.logGroup,
      logging: this.logging,
      associations: [...this.associations],
    };
  }

  /**
   * Puts a regional resource (an application load balancer) behind this ACL, as
   * `${name}-association-${role}`. A resource has at most one web ACL.
   */
  associate(role: string, resourceArn: pulumi.Input<string>): aws.wafv2.WebAclAssociation {
    if (this.args.scope !== "REGIONAL") {
      throw new Error(
        `WebAcl "${this.componentName}": associate("${role}") needs scope REGIONAL; a CloudFront distribution takes this ACL's arn as its webAclId`,
      );
    }
    const association = new aws.wafv2.WebAclAssociation(
      `${this.componentName}-association-${role}`,
      transform(this.args.transform?.association, { resourceArn, webAclArn: this.arn }),
      // Delete-first: deleting an association disassociates the resource, whichever ACL it has
      // by then (web_acl_association.go), so a replacement created first would be undone.
      { parent: this, deleteBeforeReplace: true },
    );
    this.associations.push(association);
    return association;
  }

  private createWebAcl(
    name: string,
    aclName: string,
    rules: Array<Rule & { label: string }>,
  ): aws.wafv2.WebAcl {
    const { scope, mode } = this.args;
    return new aws.wafv2.WebAcl(
      `${name}-acl`,
      transform(this.args.transform?.webAcl, {
        name: aclName,
        description: `${name}: AWS managed rules${this.args.rateLimit ? " and a rate limit" : ""} (${mode} mode)`,
        scope,
        defaultAction: { allow: {} },
        rules: rules.map(({ label: _label, ...rule }) => rule),
        visibilityConfig: visibility(aclName),
        tags: tierTags(scope === "CLOUDFRONT" ? "cdn" : "web"),
      }),
      { parent: this },
    );
  }

  private createLogGroup(name: string, aclName: string): aws.cloudwatch.LogGroup {
    return new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      transform(this.args.transform?.logGroup, {
        name: `${WAF_LOG_GROUP_PREFIX}${aclName}`,
        retentionInDays: this.args.logRetentionDays,
        ...(this.args.logKmsKeyArn === undefined ? {} : { kmsKeyId: this.args.logKmsKeyArn }),
        tags: tierTags("observability"),
      }),
      { parent: this },
    );
  }

  /**
   * Logs what a rule blocked or counted, once the log group lets AWS's log delivery write to it
   * (a policy on the group itself: the account's ten shared resource policies stay untouched).
   */
  private enableLogging(
    name: string,
    region: pulumi.Output<string>,
  ): aws.wafv2.WebAclLoggingConfiguration {
    const { accountId: account, partition } = accountOf(this.args.context, { parent: this });
    const deliveryPolicy = new aws.cloudwatch.LogResourcePolicy(
      `${name}-log-delivery`,
      transform(this.args.transform?.logDeliveryPolicy, {
        resourceArn: this.logGroup.arn,
        policyDocument: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "WafLogDelivery",
              Effect: "Allow",
              Principal: { Service: "delivery.logs.amazonaws.com" },
              Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
              Resource: pulumi.interpolate`${this.logGroup.arn}:log-stream:*`,
              Condition: {
                StringEquals: { "aws:SourceAccount": account },
                ArnLike: {
                  "aws:SourceArn": pulumi.interpolate`arn:${partition}:logs:${region}:${account}:*`,
                },
              },
            },
          ],
        }),
      }),
      { parent: this },
    );
    return new aws.wafv2.WebAclLoggingConfiguration(
      `${name}-logging`,
      transform(this.args.transform?.logging, {
        resourceArn: this.webAcl.arn,
        logDestinationConfigs: [this.logGroup.arn],
        redactedFields: REDACTED_HEADERS.map((header) => ({ singleHeader: { name: header } })),
        loggingFilter: {
          defaultBehavior: "DROP",
          filters: [
            {
              behavior: "KEEP",
              requirement: "MEETS_ANY",
              conditions: ["BLOCK", "COUNT"].map((action) => ({ actionCondition: { action } })),
            },
          ],
        },
      }),
      { parent: this, dependsOn: [deliveryPolicy] },
    );
  }
}
