/**
 * The app's environment (docs/CONTRACT.md), read once and validated with an error that names the
 * variable. Every variable is optional: unset, each tier falls back to its embedded implementation.
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";

export type Role = "web" | "worker" | "all";
export const ROLES: readonly Role[] = ["web", "worker", "all"];

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string | undefined;
  /** libpq semantics: "require" encrypts without verifying; "verify-full" also checks the cert. */
  ssl: false | { rejectUnauthorized: boolean };
  /** libpq's `options` parameter (e.g. `-c search_path=...`), passed through. */
  options: string | undefined;
}

/** A Secrets Manager secret, by ARN; `region` is the ARN's (the secret may live in another region). */
export interface SecretRef {
  arn: string;
  region: string;
}

export interface Config {
  port: number;
  database:
    | { kind: "pglite"; dataDir: string }
    | {
        kind: "postgres";
        writer: PostgresTarget;
        readers: PostgresTarget[];
        /** The RDS-managed master secret (JSON with `password`): read at start and after a rotation. */
        passwordSecret: SecretRef | undefined;
        /** DATABASE_AUTH: a password (URL, DATABASE_PASSWORD, secret) or an RDS IAM token per connection. */
        auth: DatabaseAuth;
        /** DATABASE_MIGRATIONS: apply pending migrations at start, or only check that none are pending. */
        migrations: MigrationsMode;
      };
  redis: { url: string; authToken: string | undefined } | undefined;
  queueUrl: string | undefined;
  files:
    | { kind: "local"; dir: string }
    /** `region` is the bucket's (ASSETS_BUCKET_REGION, else AWS_REGION), not necessarily the task's. */
    | { kind: "s3"; bucket: string; region: string; cdnDomain: string };
  /** SESSIONS_TABLE: sessions in this region's replica of a DynamoDB global table. */
  sessionsTable: string | undefined;
  /** Cross-region cache invalidation (docs/CONTRACT.md); undefined: this region only. */
  invalidation: InvalidationConfig | undefined;
  aws: { region: string | undefined; endpoint: string | undefined };
  /** Shown as "served by"; `local` when AWS_REGION is unset. */
  region: string;
  metricsNamespace: string;
  dataDir: string;
  logLevel: string;
}

export type DatabaseAuth = "password" | "iam";
export const DATABASE_AUTHS: readonly DatabaseAuth[] = ["password", "iam"];
export type MigrationsMode = "on-start" | "verify";
export const MIGRATIONS_MODES: readonly MigrationsMode[] = ["on-start", "verify"];

/** An SQS queue and the region its client must use (the URL's own, else AWS_REGION). */
export interface QueueRef {
  url: string;
  region: string;
}

export interface InvalidationConfig {
  /** CACHE_INVALIDATION_QUEUE_URL: this region's queue, which this region's web tasks consume. */
  queue: QueueRef;
  /** CACHE_INVALIDATION_PUBLISH_URLS: every region's queue (this one's included); writes publish to all. */
  publishTo: QueueRef[];
}

/** A bad or inconsistent environment; `variable` names the culprit. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = "ConfigError";
  }
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;

/** Unset and empty are the same: an empty variable in a task definition means "not configured". */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function parseWith<T>(schema: z.ZodType<T>, name: string, value: string | undefined): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const shown = value === undefined ? "is missing" : `is ${JSON.stringify(value)}`;
  throw new ConfigError(name, `${shown}: ${result.error.issues[0]?.message ?? "invalid"}`);
}

const portSchema = z
  .string()
  .regex(/^\d+$/, { message: "must be a whole number from 0 to 65535" })
  .transform(Number)
  .pipe(z.number().int().min(0).max(65535, { message: "must be at most 65535" }));

/** Parses one `postgres://user[:password]@host[:port]/database?sslmode=...` URL. */
export function parsePostgresUrl(
  name: string,
  value: string,
  fallbackPassword: string | undefined,
): PostgresTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, "is not a URL (expected postgres://USER@HOST:5432/DB)");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ConfigError(name, `must start with postgres://, not ${url.protocol}//`);
  }
  if (url.hostname === "") throw new ConfigError(name, "has no host");
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database === "" || database.includes("/")) {
    throw new ConfigError(name, "must name one database in its path (postgres://USER@HOST/DB)");
  }
  if (url.username === "") throw new ConfigError(name, "has no user name");
  const port = url.port === "" ? 5432 : Number(url.port);
  const sslmode = url.searchParams.get("sslmode") ?? "disable";
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw new ConfigError(name, `has sslmode=${sslmode}; use one of ${SSL_MODES.join(", ")}`);
  }
  const password = url.password === "" ? fallbackPassword : decodeURIComponent(url.password);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    database,
    user: decodeURIComponent(url.username),
    password,
    // Like libpq: below verify-ca the connection is encrypted but the certificate is not checked
    // (RDS's CA is not in Node's default store; set NODE_EXTRA_CA_CERTS and verify-full for that).
    ssl:
      sslmode === "disable" || sslmode === "allow"
        ? false
        : { rejectUnauthorized: sslmode === "verify-ca" || sslmode === "verify-full" },
    options: url.searchParams.get("options") ?? undefined,
  };
}

/** arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME (RDS-managed names look like rds!db-...). */
const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:([a-z]{2}(?:-[a-z]+)+-\d+):\d{12}:secret:[^\s:]+$/;

/** Parses a Secrets Manager secret ARN; the region comes from the ARN, not from AWS_REGION. */
export function parseSecretArn(name: string, value: string): SecretRef {
  const region = SECRET_ARN.exec(value)?.[1];
  if (region === undefined) {
    throw new ConfigError(
      name,
      `is ${JSON.stringify(value)}: must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)`,
    );
  }
  return { arn: value, region };
}

function parseUrl(name: string, value: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, `is not a URL: ${JSON.stringify(value)}`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(
      name,
      `must start with ${protocols.map((p) => `${p}//`).join(" or ")}, not ${url.protocol}//`,
    );
  }
  return value;
}

const IAM_NEEDS_TLS =
  "has no TLS (sslmode unset or disable) but DATABASE_AUTH=iam: RDS takes IAM tokens over TLS only. Fix: add ?sslmode=verify-full";

const AWS_REGION_NAME = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

function parseRegion(name: string, value: string): string {
  if (!AWS_REGION_NAME.test(value)) {
    throw new ConfigError(
      name,
      `is ${JSON.stringify(value)}: must be an AWS region such as eu-west-1`,
    );
  }
  return value;
}

/** sqs.REGION.amazonaws.com/ACCOUNT/NAME (or the legacy REGION.queue.amazonaws.com). */
const SQS_HOST =
  /^(?:sqs\.([a-z]{2}(?:-[a-z]+)+-\d+)|([a-z]{2}(?:-[a-z]+)+-\d+)\.queue)\.amazonaws\.com(?:\.cn)?$/;

/** A queue URL with its region: the host's for AWS, else `fallbackRegion` (an emulator's URL). */
export function parseQueueRef(
  name: string,
  value: string,
  fallbackRegion: string | undefined,
): QueueRef {
  const url = new URL(parseUrl(name, value, ["https:", "http:"]));
  const match = SQS_HOST.exec(url.hostname);
  const region = match?.[1] ?? match?.[2] ?? fallbackRegion;
  if (region === undefined) {
    throw new ConfigError(name, `names no region (${url.hostname}) and AWS_REGION is unset`);
  }
  return { url: value, region };
}

/** DynamoDB's rule for table names. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

function parseEnum<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `is ${JSON.stringify(value)}; use one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** Reads and validates the whole environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const port = parseWith(portSchema, "PORT", read(env, "PORT") ?? "3000");
  const dataDirRaw = read(env, "DATA_DIR") ?? "./data";
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);

  const databaseUrl = read(env, "DATABASE_URL");
  const readUrls = (read(env, "DATABASE_READ_URLS") ?? "")
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url !== "");
  const databasePassword = read(env, "DATABASE_PASSWORD");
  if (databaseUrl === undefined && readUrls.length > 0) {
    throw new ConfigError("DATABASE_READ_URLS", "is set but DATABASE_URL (the writer) is not");
  }
  const secretArn = read(env, "DATABASE_SECRET_ARN");
  const passwordSecret =
    secretArn === undefined ? undefined : parseSecretArn("DATABASE_SECRET_ARN", secretArn);
  if (databaseUrl === undefined && passwordSecret !== undefined) {
    throw new ConfigError("DATABASE_SECRET_ARN", "is set but DATABASE_URL (the writer) is not");
  }
  const auth = parseEnum("DATABASE_AUTH", read(env, "DATABASE_AUTH") ?? "password", DATABASE_AUTHS);
  const migrations = parseEnum(
    "DATABASE_MIGRATIONS",
    read(env, "DATABASE_MIGRATIONS") ?? "verify",
    MIGRATIONS_MODES,
  );
  if (databaseUrl === undefined && read(env, "DATABASE_AUTH") !== undefined) {
    throw new ConfigError("DATABASE_AUTH", "is set but DATABASE_URL (the writer) is not");
  }
  if (auth === "iam" && passwordSecret !== undefined) {
    throw new ConfigError(
      "DATABASE_SECRET_ARN",
      "is set with DATABASE_AUTH=iam: IAM authentication uses no password; unset one of them",
    );
  }
  const database: Config["database"] =
    databaseUrl === undefined
      ? { kind: "pglite", dataDir: resolve(dataDir, "pglite") }
      : {
          kind: "postgres",
          writer: parsePostgresUrl("DATABASE_URL", databaseUrl, databasePassword),
          readers: readUrls.map((url) =>
            parsePostgresUrl("DATABASE_READ_URLS", url, databasePassword),
          ),
          passwordSecret,
          auth,
          migrations,
        };
  if (database.kind === "postgres" && auth === "iam") {
    // RDS accepts IAM tokens over TLS only.
    if (database.writer.ssl === false) throw new ConfigError("DATABASE_URL", IAM_NEEDS_TLS);
    if (database.readers.some((reader) => reader.ssl === false)) {
      throw new ConfigError("DATABASE_READ_URLS", IAM_NEEDS_TLS);
    }
  }

  const redisUrl = read(env, "REDIS_URL");
  const redis =
    redisUrl === undefined
      ? undefined
      : {
          url: parseUrl("REDIS_URL", redisUrl, ["redis:", "rediss:"]),
          authToken: read(env, "REDIS_AUTH_TOKEN"),
        };

  const queueUrlRaw = read(env, "QUEUE_URL");
  const queueUrl =
    queueUrlRaw === undefined ? undefined : parseUrl("QUEUE_URL", queueUrlRaw, ["https:", "http:"]);

  const bucket = read(env, "ASSETS_BUCKET");
  const cdnDomain = read(env, "CDN_DOMAIN");
  if ((bucket === undefined) !== (cdnDomain === undefined)) {
    const missing = bucket === undefined ? "ASSETS_BUCKET" : "CDN_DOMAIN";
    const present = bucket === undefined ? "CDN_DOMAIN" : "ASSETS_BUCKET";
    throw new ConfigError(missing, `is missing; it is needed together with ${present}`);
  }
  if (cdnDomain !== undefined && !/^[a-z0-9.-]+(:\d+)?$/i.test(cdnDomain)) {
    throw new ConfigError("CDN_DOMAIN", `must be a bare host name such as d123.cloudfront.net`);
  }
  const awsRegion = read(env, "AWS_REGION");
  if (awsRegion === undefined && (queueUrl !== undefined || bucket !== undefined)) {
    throw new ConfigError("AWS_REGION", "is missing; QUEUE_URL and ASSETS_BUCKET need it");
  }
  const bucketRegionRaw = read(env, "ASSETS_BUCKET_REGION");
  if (bucketRegionRaw !== undefined && bucket === undefined) {
    throw new ConfigError("ASSETS_BUCKET_REGION", "is set but ASSETS_BUCKET is not");
  }
  const files: Config["files"] =
    bucket !== undefined && cdnDomain !== undefined && awsRegion !== undefined
      ? {
          kind: "s3",
          bucket,
          region:
            bucketRegionRaw === undefined
              ? awsRegion
              : parseRegion("ASSETS_BUCKET_REGION", bucketRegionRaw),
          cdnDomain,
        }
      : { kind: "local", dir: resolve(dataDir, "files") };

  const sessionsTableRaw = read(env, "SESSIONS_TABLE");
  if (sessionsTableRaw !== undefined && !TABLE_NAME.test(sessionsTableRaw)) {
    throw new ConfigError(
      "SESSIONS_TABLE",
      `is ${JSON.stringify(sessionsTableRaw)}: must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)`,
    );
  }
  if (sessionsTableRaw !== undefined && awsRegion === undefined) {
    throw new ConfigError(
      "AWS_REGION",
      "is missing; SESSIONS_TABLE needs it (this region's replica)",
    );
  }

  const invalidationQueueRaw = read(env, "CACHE_INVALIDATION_QUEUE_URL");
  const publishRaw = (read(env, "CACHE_INVALIDATION_PUBLISH_URLS") ?? "")
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url !== "");
  if ((invalidationQueueRaw === undefined) !== (publishRaw.length === 0)) {
    const missing =
      invalidationQueueRaw === undefined
        ? "CACHE_INVALIDATION_QUEUE_URL"
        : "CACHE_INVALIDATION_PUBLISH_URLS";
    throw new ConfigError(
      missing,
      "is missing; CACHE_INVALIDATION_QUEUE_URL and CACHE_INVALIDATION_PUBLISH_URLS go together",
    );
  }
  const invalidation: InvalidationConfig | undefined =
    invalidationQueueRaw === undefined
      ? undefined
      : {
          queue: parseQueueRef("CACHE_INVALIDATION_QUEUE_URL", invalidationQueueRaw, awsRegion),
          publishTo: publishRaw.map((url) =>
            parseQueueRef("CACHE_INVALIDATION_PUBLISH_URLS", url, awsRegion),
          ),
        };
  if (
    invalidation !== undefined &&
    !invalidation.publishTo.some((q) => q.url === invalidation.queue.url)
  ) {
    throw new ConfigError(
      "CACHE_INVALIDATION_PUBLISH_URLS",
      "must include CACHE_INVALIDATION_QUEUE_URL: this region's cache needs the LSN-gated delete too",
    );
  }
  const endpointRaw = read(env, "AWS_ENDPOINT_URL");
  const endpoint =
    endpointRaw === undefined
      ? undefined
      : parseUrl("AWS_ENDPOINT_URL", endpointRaw, ["http:", "https:"]);

  const logLevel = parseWith(z.enum(LOG_LEVELS), "LOG_LEVEL", read(env, "LOG_LEVEL") ?? "info");

  return {
    port,
    database,
    redis,
    queueUrl,
    files,
    sessionsTable: sessionsTableRaw,
    invalidation,
    aws: { region: awsRegion, endpoint },
    region: awsRegion ?? "local",
    metricsNamespace: read(env, "METRICS_NAMESPACE") ?? "ZeroToMillions",
    dataDir,
    logLevel,
  };
}

/** The process argument: `web`, `worker` or `all` (default). */
export function parseRole(argument: string | undefined): Role {
  const role = argument ?? "all";
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new ConfigError(
      "the process argument",
      `is ${JSON.stringify(role)}; use web, worker or all`,
    );
  }
  return role as Role;
}

/**
 * Roles that split web and worker into separate processes need a queue both can reach: the
 * in-process queue would strand every job in the web process.
 */
export function checkRole(role: Role, config: Config): void {
  if (role !== "all" && config.queueUrl === undefined) {
    throw new ConfigError(
      "QUEUE_URL",
      `is missing; the ${role} role runs apart from the ${role === "web" ? "worker" : "web"} tier and needs the shared queue (or run "all")`,
    );
  }
}

/** What only the migrate command reads, besides the database variables (docs/CONTRACT.md). */
export interface MigrateConfig {
  /** DATABASE_APP_USER (+ DATABASE_APP_PASSWORD): the app's role to create and grant. */
  appRole: { name: string; password: string | undefined } | undefined;
}

export function loadMigrateConfig(env: NodeJS.ProcessEnv): MigrateConfig {
  const name = read(env, "DATABASE_APP_USER");
  const password = read(env, "DATABASE_APP_PASSWORD");
  if (name === undefined && password !== undefined) {
    throw new ConfigError("DATABASE_APP_PASSWORD", "is set but DATABASE_APP_USER is not");
  }
  if (name !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new ConfigError(
      "DATABASE_APP_USER",
      `is ${JSON.stringify(name)}: use 1-63 of a-z, 0-9 and _, not starting with a digit`,
    );
  }
  return { appRole: name === undefined ? undefined : { name, password } };
}
