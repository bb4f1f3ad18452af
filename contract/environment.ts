/**
 * The environment variables the app reads, each with its parser, and which of them the stack sets
 * for a task of each role. The app's loader (app/src/config.ts) reads through `readVariable`; the
 * stack (stacks/region.ts, components/webService.ts, components/queueWorkers.ts) builds each task's
 * environment and secrets from the typed records below. Dependency-free: both sides import it.
 */
import { METRICS_NAMESPACE } from "./metrics";
import { type TaskRole, WEB_SHUTDOWN } from "./process";

/** A bad or inconsistent environment; `variable` names the culprit. */
export class EnvironmentError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = "EnvironmentError";
  }
}

/**
 * How a variable reaches a task: `environment` (a plain value in the task definition), `secret`
 * (the task definition's `secrets`, read from Secrets Manager when the task starts) or `local`
 * (never set by the stack: development, tests, the embedded mode and password-based setups).
 */
export type Delivery = "environment" | "secret" | "local";

export interface Variable<T> {
  readonly name: string;
  readonly delivery: Delivery;
  readonly meaning: string;
  /** A value of the right form: the docs show it, and specs use it for a secret's value. */
  readonly example: string;
  /** What an unset (or empty) variable means; without it, unset is `undefined`. */
  readonly default?: string;
  /** Parses a set, non-empty value; throws EnvironmentError naming the variable. */
  parse(value: string): T;
}

/** A Secrets Manager secret, by ARN; `region` is the ARN's (the secret may live in another region). */
export interface SecretRef {
  arn: string;
  region: string;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MAX_PORT = 65_535;
/** arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME (RDS-managed names look like rds!db-...). */
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:secret:[^\s:]+$/;
const HOST_NAME = /^[a-z0-9.-]+(:\d+)?$/i;

function shown(value: string): string {
  return `is ${JSON.stringify(value)}`;
}

export function parsePort(name: string, value: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= MAX_PORT)) {
    throw new EnvironmentError(
      name,
      `${shown(value)}: must be a whole number from 0 to ${MAX_PORT}`,
    );
  }
  return port;
}

export function parseWholeSeconds(name: string, value: string): number {
  const seconds = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= 1)) {
    throw new EnvironmentError(
      name,
      `${shown(value)}: must be a whole number of seconds, 1 or more`,
    );
  }
  return seconds;
}

/** A URL whose scheme is one of `protocols` (such as "redis:"); returns it unchanged. */
export function parseUrl(name: string, value: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EnvironmentError(name, `is not a URL: ${JSON.stringify(value)}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new EnvironmentError(
      name,
      `must start with ${protocols.map((p) => `${p}//`).join(" or ")}, not ${url.protocol}//`,
    );
  }
  return value;
}

/** Parses a Secrets Manager secret ARN; the region comes from the ARN, not from AWS_REGION. */
export function parseSecretArn(name: string, value: string): SecretRef {
  const region = SECRET_ARN.exec(value)?.[1];
  if (region === undefined) {
    throw new EnvironmentError(
      name,
      `${shown(value)}: must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)`,
    );
  }
  return { arn: value, region };
}

/** An AWS region name (eu-west-1, us-gov-west-1). */
const AWS_REGION_NAME = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/** `value` when it matches `pattern`, else an error saying what it `must` be. */
function parseMatching(name: string, value: string, pattern: RegExp, must: string): string {
  if (!pattern.test(value)) throw new EnvironmentError(name, `${shown(value)}: ${must}`);
  return value;
}

export function parseRegion(name: string, value: string): string {
  return parseMatching(name, value, AWS_REGION_NAME, "must be an AWS region such as eu-west-1");
}

/** sqs.REGION.amazonaws.com/ACCOUNT/NAME (and the legacy REGION.queue.amazonaws.com). */
const SQS_HOST =
  /^(?:sqs\.([a-z]{2}(?:-[a-z]+)+-\d+)|([a-z]{2}(?:-[a-z]+)+-\d+)\.queue)\.amazonaws\.com(?:\.cn)?$/;

/** The region in an SQS queue URL's host; undefined for an emulator's URL. */
export function sqsQueueRegion(url: string): string | undefined {
  const match = SQS_HOST.exec(new URL(url).hostname);
  return match?.[1] ?? match?.[2];
}

/** One of `allowed`, or an error listing them. */
function parseChoice<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new EnvironmentError(name, `${shown(value)}; use one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** How the app authenticates to PostgreSQL: a password, or an RDS IAM token per connection. */
export const DATABASE_AUTHS = ["password", "iam"] as const;
export type DatabaseAuth = (typeof DATABASE_AUTHS)[number];
/** Whether a task applies migrations when it starts, or only checks that none are pending. */
export const MIGRATIONS_MODES = ["verify", "on-start"] as const;
export type MigrationsMode = (typeof MIGRATIONS_MODES)[number];

/** DynamoDB's rule for table names. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
/** A PostgreSQL role name the migrate step can create without quoting surprises. */
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const POSTGRES_PROTOCOLS = ["postgres:", "postgresql:"];

function commaList(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const IPV6 = /^[0-9a-f:]*:[0-9a-f:.]*$/i;

/** Comma-separated IP addresses or CIDR ranges, such as the VPC's 10.0.0.0/16. */
export function parseAddressRanges(name: string, value: string): string[] {
  const entries = commaList(value);
  for (const entry of entries) {
    const [address = "", prefix, ...rest] = entry.split("/");
    const family = IPV4.test(address) ? 4 : IPV6.test(address) ? 6 : 0;
    const maxPrefix = family === 6 ? 128 : 32;
    const prefixOk =
      prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (family === 0 || !prefixOk || rest.length > 0) {
      throw new EnvironmentError(
        name,
        `has ${JSON.stringify(entry)}: use IP addresses or CIDR ranges (e.g. the VPC's 10.0.0.0/16), comma-separated`,
      );
    }
  }
  return entries;
}

/** A cookie secret must resist guessing: at least 32 characters (e.g. 32 random bytes, base64). */
export const MIN_COOKIE_SECRET_LENGTH = 32;

/** Comma-separated secrets, the one that signs first (rotation: prepend the new one). */
export function parseCookieSecrets(name: string, value: string): string[] {
  const secrets = commaList(value);
  if (secrets.some((secret) => secret.length < MIN_COOKIE_SECRET_LENGTH)) {
    throw new EnvironmentError(
      name,
      `has a secret shorter than ${MIN_COOKIE_SECRET_LENGTH} characters; use e.g. 32 random bytes in base64`,
    );
  }
  return secrets;
}

export function parsePositiveWholeNumber(name: string, value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) {
    throw new EnvironmentError(name, `${shown(value)}: must be a whole number from 1 to 999999999`);
  }
  return Number(value);
}

/** One more physical shard's URLs, as DATABASE_SHARDS lists them. */
export interface ShardUrls {
  url: string;
  readUrls: string[];
  /** The shard writer's own RDS-managed master secret; absent: DATABASE_URL's password applies. */
  secretArn: SecretRef | undefined;
}

const SHARDS_FORM =
  'expected [{"url":"postgres://...","readUrls":["postgres://..."],"secretArn":"arn:..."}] for shards 1..N-1 (secretArn optional)';

/** DATABASE_SHARDS: a JSON array of {url, readUrls?}, each URL a postgres:// one. */
export function parseShardUrls(name: string, value: string): ShardUrls[] {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new EnvironmentError(name, `is not JSON; ${SHARDS_FORM}`);
  }
  if (!Array.isArray(json)) throw new EnvironmentError(name, `is not a JSON array; ${SHARDS_FORM}`);
  return json.map((entry: unknown, index) => {
    const where = `${name}[${index}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new EnvironmentError(name, `at [${index}] is not an object; ${SHARDS_FORM}`);
    }
    const { url, readUrls = [], secretArn, ...rest } = entry as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (typeof url !== "string" || unknown.length > 0) {
      throw new EnvironmentError(
        name,
        `at [${index}] needs "url"${unknown.length > 0 ? ` and has unknown keys ${unknown.join(", ")}` : ""}; ${SHARDS_FORM}`,
      );
    }
    if (!Array.isArray(readUrls) || readUrls.some((reader) => typeof reader !== "string")) {
      throw new EnvironmentError(name, `at [${index}]: "readUrls" must be a list of URLs`);
    }
    if (secretArn !== undefined && typeof secretArn !== "string") {
      throw new EnvironmentError(name, `at [${index}]: "secretArn" must be a secret's ARN`);
    }
    return {
      url: parseUrl(`${where}.url`, url, POSTGRES_PROTOCOLS),
      readUrls: (readUrls as string[]).map((reader) =>
        parseUrl(`${where}.readUrls`, reader, POSTGRES_PROTOCOLS),
      ),
      secretArn:
        secretArn === undefined ? undefined : parseSecretArn(`${where}.secretArn`, secretArn),
    };
  });
}

/** Keeps whether a variable has a default in its type, so that `readVariable` can say "never undefined". */
function variable<T, D extends string | undefined = undefined>(
  spec: Variable<T> & { default?: D },
): Variable<T> & { default: D } {
  return spec as Variable<T> & { default: D };
}

const text = (value: string) => value;

/** Every variable the app reads, by name. */
export const VARIABLES = {
  PORT: variable({
    name: "PORT",
    delivery: "environment",
    meaning: "the web listener's port; the ALB target group and the container port use it",
    example: "3000",
    default: "3000",
    parse: (value) => parsePort("PORT", value),
  }),
  DATABASE_URL: variable({
    name: "DATABASE_URL",
    delivery: "environment",
    meaning: "the writer, postgres://USER@HOST:5432/DB?sslmode=require, no password",
    example: "postgres://app@writer.example:5432/app?sslmode=require",
    parse: (value) => parseUrl("DATABASE_URL", value, POSTGRES_PROTOCOLS),
  }),
  DATABASE_READ_URLS: variable({
    name: "DATABASE_READ_URLS",
    delivery: "environment",
    meaning: "comma-separated reader URLs, same form as DATABASE_URL (empty: read from the writer)",
    example: "postgres://app@reader.example:5432/app?sslmode=require",
    parse: (value) =>
      commaList(value).map((url) => parseUrl("DATABASE_READ_URLS", url, POSTGRES_PROTOCOLS)),
  }),
  DATABASE_PASSWORD: variable({
    name: "DATABASE_PASSWORD",
    delivery: "secret",
    meaning:
      "key `password` of the RDS-managed master secret, for the migrate step only; used when a URL has no password",
    example: "a-database-password",
    parse: text,
  }),
  DATABASE_SECRET_ARN: variable({
    name: "DATABASE_SECRET_ARN",
    // The stack's tasks log in with IAM tokens (DATABASE_AUTH=iam); a password setup may use it.
    delivery: "local",
    meaning: "ARN of the RDS-managed master secret, re-read after a rotation (docs/CONTRACT.md)",
    example: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0000-AbCdEf",
    parse: (value) => parseSecretArn("DATABASE_SECRET_ARN", value),
  }),
  DATABASE_SHARDS: variable({
    name: "DATABASE_SHARDS",
    // Set by the stack with database.shards above 1; absent, the one shard is DATABASE_URL.
    delivery: "environment",
    meaning:
      "physical shards 1..N-1 as JSON [{url, readUrls, secretArn}], same URL form; secretArn, the shard writer's master secret, for password authentication only (the stack's migrate step); physical shard 0 is DATABASE_URL (README, Sharding)",
    example: '[{"url":"postgres://app@shard1.example:5432/app?sslmode=require","readUrls":[]}]',
    parse: (value) => parseShardUrls("DATABASE_SHARDS", value),
  }),
  DATABASE_SHARD_MAP: variable({
    name: "DATABASE_SHARD_MAP",
    delivery: "environment",
    meaning:
      "the shard map seeded into an empty directory, FROM-TO:PHYSICAL ranges over logical shards 0-8191 (unset: an even split)",
    example: "0-4095:0,4096-8191:1",
    parse: text,
  }),
  REDIS_URL: variable({
    name: "REDIS_URL",
    delivery: "environment",
    meaning: "rediss://HOST:6379 (TLS) or redis://",
    example: "rediss://cache.example:6379",
    parse: (value) => parseUrl("REDIS_URL", value, ["redis:", "rediss:"]),
  }),
  REDIS_AUTH_TOKEN: variable({
    name: "REDIS_AUTH_TOKEN",
    delivery: "local",
    meaning:
      "a password for a self-hosted Redis; used when the URL has none and REDIS_IAM_USER is unset (the stacks use IAM authentication)",
    example: "a-redis-password",
    parse: text,
  }),
  REDIS_IAM_USER: variable({
    name: "REDIS_IAM_USER",
    delivery: "environment",
    meaning:
      "the ElastiCache user (IAM authentication) the app signs in as, with a SigV4 token for REDIS_IAM_CACHE_ID renewed before its 15-minute expiry",
    example: "zero-to-millions-prod-primary-cache-app",
    parse: text,
  }),
  REDIS_IAM_CACHE_ID: variable({
    name: "REDIS_IAM_CACHE_ID",
    delivery: "environment",
    meaning: "the replication group id the IAM token is signed for (lowercase)",
    example: "zero-to-millions-prod-primary-cache",
    parse: text,
  }),
  QUEUE_URL: variable({
    name: "QUEUE_URL",
    delivery: "environment",
    meaning: "the SQS queue of jobs",
    example: "https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
    parse: (value) => parseUrl("QUEUE_URL", value, ["https:", "http:"]),
  }),
  AWS_REGION: variable({
    name: "AWS_REGION",
    delivery: "environment",
    meaning: 'the region the task runs in (also shown as "served by")',
    example: "us-east-1",
    parse: text,
  }),
  AWS_ENDPOINT_URL: variable({
    name: "AWS_ENDPOINT_URL",
    delivery: "local",
    meaning: "an AWS API emulator (moto), for tests",
    example: "http://127.0.0.1:55000",
    parse: (value) => parseUrl("AWS_ENDPOINT_URL", value, ["http:", "https:"]),
  }),
  ASSETS_BUCKET: variable({
    name: "ASSETS_BUCKET",
    delivery: "environment",
    meaning:
      "the S3 bucket for uploads and thumbnails (every stage); without CDN_DOMAIN the app serves public thumbnails from it at /files/thumbnails/",
    example: "zero-to-millions-assets",
    parse: text,
  }),
  CDN_DOMAIN: variable({
    name: "CDN_DOMAIN",
    delivery: "environment",
    meaning:
      "the CloudFront domain that serves the bucket's thumbnails (stage 4 on; needs ASSETS_BUCKET)",
    example: "d123.cloudfront.net",
    parse: (value) => {
      if (!HOST_NAME.test(value)) {
        throw new EnvironmentError(
          "CDN_DOMAIN",
          "must be a bare host name such as d123.cloudfront.net",
        );
      }
      return value;
    },
  }),
  METRICS_NAMESPACE: variable({
    name: "METRICS_NAMESPACE",
    delivery: "environment",
    meaning: "the CloudWatch embedded-metric-format namespace",
    example: METRICS_NAMESPACE,
    default: METRICS_NAMESPACE,
    parse: text,
  }),
  SHUTDOWN_DEADLINE_SECONDS: variable({
    name: "SHUTDOWN_DEADLINE_SECONDS",
    delivery: "environment",
    meaning:
      "after SIGTERM the app exits within this, before ECS kills it (contract/process.ts: shutdown deadlines)",
    example: "65",
    // Unset (local development, `all`): the web role's deadline.
    default: String(WEB_SHUTDOWN.appSeconds),
    parse: (value) => parseWholeSeconds("SHUTDOWN_DEADLINE_SECONDS", value),
  }),
  ASSETS_BUCKET_REGION: variable({
    name: "ASSETS_BUCKET_REGION",
    delivery: "environment",
    meaning:
      "web and worker environment: the region of ASSETS_BUCKET (default AWS_REGION): S3 calls and presigned URLs are signed for it; every region's tasks use the bucket of the region holding the writer (the replica after a failover)",
    example: "eu-west-1",
    parse: (value) => parseRegion("ASSETS_BUCKET_REGION", value),
  }),
  SESSIONS_TABLE: variable({
    name: "SESSIONS_TABLE",
    delivery: "environment",
    meaning:
      "web environment: the DynamoDB global table of sessions; the app uses its replica in AWS_REGION (unset: Redis, else in-process)",
    example: "zero-to-millions-prod-sessions",
    parse: (value) =>
      parseMatching(
        "SESSIONS_TABLE",
        value,
        TABLE_NAME,
        "must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)",
      ),
  }),
  CACHE_INVALIDATION_QUEUE_URL: variable({
    name: "CACHE_INVALIDATION_QUEUE_URL",
    delivery: "environment",
    meaning:
      "web and worker environment: this region's cache-invalidation SQS queue, consumed by its web tasks (with CACHE_INVALIDATION_PUBLISH_URLS)",
    example: "https://sqs.eu-west-1.amazonaws.com/123456789012/invalidations",
    parse: (value) => parseUrl("CACHE_INVALIDATION_QUEUE_URL", value, ["https:", "http:"]),
  }),
  CACHE_INVALIDATION_PUBLISH_URLS: variable({
    name: "CACHE_INVALIDATION_PUBLISH_URLS",
    delivery: "environment",
    meaning:
      "web and worker environment: comma-separated: every region's cache-invalidation queue, this region's included; each write sends {key, lsn} to all",
    example:
      "https://sqs.us-east-1.amazonaws.com/123456789012/invalidations,https://sqs.eu-west-1.amazonaws.com/123456789012/invalidations",
    parse: (value) =>
      commaList(value).map((url) =>
        parseUrl("CACHE_INVALIDATION_PUBLISH_URLS", url, ["https:", "http:"]),
      ),
  }),
  DATABASE_AUTH: variable({
    name: "DATABASE_AUTH",
    delivery: "environment",
    meaning:
      "web, worker and migrate environment: `password` (URL, DATABASE_PASSWORD, DATABASE_SECRET_ARN) or `iam`: an RDS IAM token per connection, signed for each endpoint's region",
    example: "iam",
    default: "password",
    parse: (value) => parseChoice("DATABASE_AUTH", value, DATABASE_AUTHS),
  }),
  DATABASE_MIGRATIONS: variable({
    name: "DATABASE_MIGRATIONS",
    delivery: "environment",
    meaning:
      "web and worker environment: `verify` (the stack runs the migrate step): a task only checks, on a reader, that no migration is pending; `on-start`: it applies them (embedded, local)",
    example: "verify",
    default: "on-start",
    parse: (value) => parseChoice("DATABASE_MIGRATIONS", value, MIGRATIONS_MODES),
  }),
  DATABASE_APP_USER: variable({
    name: "DATABASE_APP_USER",
    delivery: "environment",
    meaning:
      "migrate environment: the app's own database role, which it creates and grants row access (no DDL)",
    example: "app_rt",
    parse: (value) =>
      parseMatching(
        "DATABASE_APP_USER",
        value,
        ROLE_NAME,
        "use 1-63 of a-z, 0-9 and _, not starting with a digit",
      ),
  }),
  DATABASE_APP_PASSWORD: variable({
    name: "DATABASE_APP_PASSWORD",
    delivery: "local",
    meaning:
      "migrate secret, optional: the app role's password; unset, the role gets rds_iam (when the server has it) and logs in with IAM tokens",
    example: "an-app-role-password",
    parse: text,
  }),
  DATA_DIR: variable({
    name: "DATA_DIR",
    delivery: "local",
    meaning: "PGlite data and local files of the embedded mode",
    example: "./data",
    default: "./data",
    parse: text,
  }),
  LOG_LEVEL: variable({
    name: "LOG_LEVEL",
    delivery: "local",
    meaning: "the pino level",
    example: "info",
    default: "info",
    parse: (value) => {
      if (!(LOG_LEVELS as readonly string[]).includes(value)) {
        throw new EnvironmentError(
          "LOG_LEVEL",
          `${shown(value)}: use one of ${LOG_LEVELS.join(", ")}`,
        );
      }
      return value as LogLevel;
    },
  }),
  // The load balancer's nodes are in the VPC, so the stack trusts the VPC's range, and nobody else.
  TRUSTED_PROXIES: variable({
    name: "TRUSTED_PROXIES",
    delivery: "environment",
    meaning:
      "peers (addresses or CIDR ranges, the VPC's) allowed to set X-Forwarded-For/-Proto; unset: none",
    example: "10.0.0.0/16",
    parse: (value) => parseAddressRanges("TRUSTED_PROXIES", value),
  }),
  COOKIE_SECRET: variable({
    name: "COOKIE_SECRET",
    delivery: "secret",
    meaning:
      "cookie-signing secrets, comma-separated, newest first, each 32+ characters; unset: one per process",
    example: "c2lnbmluZy1zZWNyZXQtb2YtYXQtbGVhc3QtMzItY2hhcnM",
    parse: (value) => parseCookieSecrets("COOKIE_SECRET", value),
  }),
  RATE_LIMIT_WINDOW_SECONDS: variable({
    name: "RATE_LIMIT_WINDOW_SECONDS",
    delivery: "local",
    meaning: "the window of the sign-in and sign-up limits (app default 900)",
    example: "900",
    parse: (value) => parseWholeSeconds("RATE_LIMIT_WINDOW_SECONDS", value),
  }),
  SIGN_IN_LIMIT_PER_CLIENT: variable({
    name: "SIGN_IN_LIMIT_PER_CLIENT",
    delivery: "local",
    meaning: "sign-in attempts per client address per window (app default 50)",
    example: "50",
    parse: (value) => parsePositiveWholeNumber("SIGN_IN_LIMIT_PER_CLIENT", value),
  }),
  SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT: variable({
    name: "SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT",
    delivery: "local",
    meaning: "failed sign-ins of one account from one client address per window (app default 10)",
    example: "10",
    parse: (value) => parsePositiveWholeNumber("SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT", value),
  }),
  SIGN_IN_LIMIT_PER_ACCOUNT: variable({
    name: "SIGN_IN_LIMIT_PER_ACCOUNT",
    delivery: "local",
    meaning: "failed sign-ins of one account from all addresses per window (app default 100)",
    example: "100",
    parse: (value) => parsePositiveWholeNumber("SIGN_IN_LIMIT_PER_ACCOUNT", value),
  }),
  SIGN_UP_LIMIT_PER_CLIENT: variable({
    name: "SIGN_UP_LIMIT_PER_CLIENT",
    delivery: "local",
    meaning: "sign-ups per client address per window (app default 20)",
    example: "20",
    parse: (value) => parsePositiveWholeNumber("SIGN_UP_LIMIT_PER_CLIENT", value),
  }),
  ACCOUNT_CHANGE_LIMIT_PER_CLIENT: variable({
    name: "ACCOUNT_CHANGE_LIMIT_PER_CLIENT",
    delivery: "local",
    meaning:
      "email or password changes (PATCH /users/:id with currentPassword or password), right or wrong, per client address per window (app default 20)",
    example: "20",
    parse: (value) => parsePositiveWholeNumber("ACCOUNT_CHANGE_LIMIT_PER_CLIENT", value),
  }),
  ACCOUNT_CHANGE_LIMIT_PER_USER: variable({
    name: "ACCOUNT_CHANGE_LIMIT_PER_USER",
    delivery: "local",
    meaning: "email or password changes, right or wrong, per account per window (app default 10)",
    example: "10",
    parse: (value) => parsePositiveWholeNumber("ACCOUNT_CHANGE_LIMIT_PER_USER", value),
  }),
} as const;

export type VariableName = keyof typeof VARIABLES;
type ValueOf<V> = V extends Variable<infer T> ? T : never;

/**
 * Reads one variable: unset and empty are the same ("not configured"), and fall back to the
 * variable's default when it has one.
 */
export function readVariable<N extends VariableName>(
  env: Readonly<Record<string, string | undefined>>,
  name: N,
): (typeof VARIABLES)[N] extends { default: string }
  ? ValueOf<(typeof VARIABLES)[N]>
  : ValueOf<(typeof VARIABLES)[N]> | undefined {
  const spec = VARIABLES[name] as Variable<unknown>;
  const raw = env[name]?.trim();
  const value = raw === undefined || raw === "" ? spec.default : raw;
  return (value === undefined ? undefined : spec.parse(value)) as never;
}

/** What every task gets, whatever its role: where the data, the cache, the queues, the assets and the metrics are. */
const SHARED_TASK_VARIABLES = [
  "AWS_REGION",
  "DATABASE_URL",
  "DATABASE_READ_URLS",
  "DATABASE_SHARDS",
  "DATABASE_SHARD_MAP",
  "DATABASE_AUTH",
  "DATABASE_MIGRATIONS",
  "REDIS_URL",
  "REDIS_IAM_USER",
  "REDIS_IAM_CACHE_ID",
  "ASSETS_BUCKET",
  "ASSETS_BUCKET_REGION",
  "CDN_DOMAIN",
  "METRICS_NAMESPACE",
  "QUEUE_URL",
  "CACHE_INVALIDATION_QUEUE_URL",
  "CACHE_INVALIDATION_PUBLISH_URLS",
] as const satisfies readonly VariableName[];

/** The plain variables a task of each role gets, in full (the stack spec checks every task against it). */
export const TASK_VARIABLES = {
  web: [
    ...SHARED_TASK_VARIABLES,
    "SESSIONS_TABLE",
    "PORT",
    "SHUTDOWN_DEADLINE_SECONDS",
    "TRUSTED_PROXIES",
  ],
  worker: [...SHARED_TASK_VARIABLES, "SHUTDOWN_DEADLINE_SECONDS"],
} as const satisfies Record<TaskRole, readonly VariableName[]>;

/**
 * The part of each role's variables its component sets, because only it knows the value: the web
 * tier's port and deadline (WebService), the workers' own queue and deadline (QueueWorkers).
 */
export const COMPONENT_TASK_VARIABLES = {
  web: ["PORT", "SHUTDOWN_DEADLINE_SECONDS"],
  worker: ["QUEUE_URL", "SHUTDOWN_DEADLINE_SECONDS"],
} as const satisfies { [R in TaskRole]: readonly (typeof TASK_VARIABLES)[R][number][] };

/**
 * What every web and worker task reads from Secrets Manager when it starts, all in its own region:
 * no database or cache password (the app signs in to both with IAM tokens), so nothing of the
 * other region.
 */
export const TASK_SECRETS = ["COOKIE_SECRET"] as const satisfies readonly VariableName[];

/**
 * The migrate step's plain variables (MIGRATE_COMMAND): shard 0's writer as the master user, the
 * app's role, and the other shards' writers with their master secrets (with database.shards > 1).
 */
export const MIGRATE_VARIABLES = [
  "AWS_REGION",
  "DATABASE_URL",
  "DATABASE_APP_USER",
  "DATABASE_SHARDS",
] as const satisfies readonly VariableName[];

/** The migrate step alone gets the master password, from the writer's own region. */
export const MIGRATE_SECRETS = ["DATABASE_PASSWORD"] as const satisfies readonly VariableName[];

/**
 * The variables of the tiers a stack may leave out (README: The path), by tier: the stack omits
 * them when the tier is absent, and the app falls back to its in-process implementation (cache
 * and sessions in memory, files on the task's disk, jobs in the web process). The stack sets the
 * files tier at every stage; the cdn tier, only with the CDN (the app then serves thumbnails itself).
 */
export const TIER_VARIABLES = {
  cache: ["REDIS_URL", "REDIS_IAM_USER", "REDIS_IAM_CACHE_ID"],
  files: ["ASSETS_BUCKET", "ASSETS_BUCKET_REGION"],
  cdn: ["CDN_DOMAIN"],
  queue: ["QUEUE_URL"],
} as const satisfies Record<string, readonly VariableName[]>;
export type Tier = keyof typeof TIER_VARIABLES;
type TierVariable = (typeof TIER_VARIABLES)[Tier][number];
/** Variables a stack sets only with more than one physical shard (database.shards > 1). */
export const SHARD_VARIABLES = [
  "DATABASE_SHARDS",
  "DATABASE_SHARD_MAP",
] as const satisfies readonly VariableName[];
type OptionalVariable = TierVariable | (typeof SHARD_VARIABLES)[number];

type TaskVariable<R extends TaskRole> = (typeof TASK_VARIABLES)[R][number];
type ComponentVariable<R extends TaskRole> = (typeof COMPONENT_TASK_VARIABLES)[R][number];
type StackVariable<R extends TaskRole> = Exclude<TaskVariable<R>, ComponentVariable<R>>;

/**
 * The stack's part of a role's environment (stacks/region.ts): one value per variable, no more,
 * no less; a tier's variables only where the tier exists.
 */
export type StackTaskEnvironment<R extends TaskRole, V> = {
  [K in Exclude<StackVariable<R>, OptionalVariable>]: V;
} & { [K in Extract<StackVariable<R>, OptionalVariable>]?: V };
/** The component's part of a role's environment. */
export type ComponentTaskEnvironment<R extends TaskRole, V> = { [K in ComponentVariable<R>]: V };
/** Every task's secrets, one reference per variable; a tier's only where the tier exists. */
export type TaskSecrets<S> = {
  [K in Exclude<(typeof TASK_SECRETS)[number], OptionalVariable>]: S;
} & { [K in Extract<(typeof TASK_SECRETS)[number], OptionalVariable>]?: S };

/** The variables a task of `role` gets when only the tiers in `present` exist. */
export function taskVariablesWith(role: TaskRole, present: readonly Tier[]): VariableName[] {
  return TASK_VARIABLES[role].filter((name) => tierPresent(name, present));
}

/** The secrets a task gets when only the tiers in `present` exist. */
export function taskSecretsWith(present: readonly Tier[]): VariableName[] {
  return TASK_SECRETS.filter((name) => tierPresent(name, present));
}

function tierPresent(name: VariableName, present: readonly Tier[]): boolean {
  const tier = (Object.keys(TIER_VARIABLES) as Tier[]).find((candidate) =>
    (TIER_VARIABLES[candidate] as readonly string[]).includes(name),
  );
  return tier === undefined || present.includes(tier);
}
/** The migrate step's environment and secrets, one value per variable. */
export type MigrateEnvironment<V> = {
  [K in Exclude<(typeof MIGRATE_VARIABLES)[number], OptionalVariable>]: V;
} & { [K in Extract<(typeof MIGRATE_VARIABLES)[number], OptionalVariable>]?: V };
export type MigrateSecrets<S> = { [K in (typeof MIGRATE_SECRETS)[number]]: S };
