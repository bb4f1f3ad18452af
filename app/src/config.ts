/**
 * The app's environment, read once through the contract's parsers (contract/environment.ts) and
 * checked for consistency, with an error that names the variable. Every variable is optional:
 * unset, each tier falls back to its embedded implementation.
 */
import { isAbsolute, resolve } from "node:path";
import { parse as parseConnectionString } from "pg-connection-string";
import {
  type DatabaseAuth,
  DEFAULT_PROCESS_ROLE,
  EnvironmentError,
  type MigrationsMode,
  PROCESS_ROLES,
  type ProcessRole,
  readVariable,
  type SecretRef,
  sqsQueueRegion,
} from "../../contract";
import { DEFAULT_RATE_LIMITS } from "./http/rateLimits";
import { parseShardMap, type ShardMap } from "./sharding/shardMap";

export {
  type DatabaseAuth,
  EnvironmentError as ConfigError,
  type MigrationsMode,
  parseSecretArn,
  type SecretRef,
} from "../../contract";

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

export type Role = ProcessRole;
export const ROLES: readonly Role[] = PROCESS_ROLES;

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

/** One more physical shard: its writer and in-region readers. */
export interface PhysicalShardTarget {
  writer: PostgresTarget;
  readers: PostgresTarget[];
  /** The shard writer's own master secret; undefined: shard 0's password (DATABASE_SECRET_ARN). */
  passwordSecret?: SecretRef | undefined;
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
        /** Physical shards 1..N-1 (DATABASE_SHARDS); shard 0 is the writer and readers above. */
        shards: PhysicalShardTarget[];
        /** DATABASE_AUTH (every shard): a password (URL, DATABASE_PASSWORD, secret) or an RDS IAM token per connection. */
        auth: DatabaseAuth;
        /** DATABASE_MIGRATIONS: apply pending migrations at start, or only check that none are pending. */
        migrations: MigrationsMode;
      };
  /** DATABASE_SHARD_MAP: the map seeded into an empty directory; unset, an even split. */
  shardMap: ShardMap | undefined;
  redis:
    | {
        url: string;
        /** REDIS_AUTH_TOKEN: a self-hosted Redis's password, when the URL has none. */
        authToken: string | undefined;
        /** REDIS_IAM_USER and REDIS_IAM_CACHE_ID: ElastiCache IAM authentication (no password). */
        iam: { userId: string; cacheId: string; region: string } | undefined;
      }
    | undefined;
  queueUrl: string | undefined;
  files:
    | { kind: "local"; dir: string }
    /**
     * `region` is the bucket's (ASSETS_BUCKET_REGION, else AWS_REGION), not necessarily the task's.
     * `cdnDomain` (CDN_DOMAIN) serves the public files; unset (stages below the CDN), the app does.
     */
    | { kind: "s3"; bucket: string; region: string; cdnDomain: string | undefined };
  /** SESSIONS_TABLE: sessions in this region's replica of a DynamoDB global table. */
  sessionsTable: string | undefined;
  /** Cross-region cache invalidation (docs/CONTRACT.md); undefined: this region only. */
  invalidation: InvalidationConfig | undefined;
  aws: { region: string | undefined; endpoint: string | undefined };
  /** Shown as "served by"; `local` when AWS_REGION is unset. */
  region: string;
  metricsNamespace: string;
  /** After SIGTERM the process exits within this, clean or not (contract: shutdown deadlines). */
  shutdownDeadlineSeconds: number;
  dataDir: string;
  logLevel: string;
  /** TRUSTED_PROXIES: the load balancer's addresses or CIDR ranges (the VPC's); none when unset. */
  trustedProxies: string[];
  /** COOKIE_SECRET: signing secrets, newest first; undefined means one random per process. */
  cookieSecrets: string[] | undefined;
  /** Sign-in and sign-up limits that are set; the rest keep the app's defaults (http/rateLimits.ts). */
  rateLimits: {
    windowMs?: number;
    signInPerClient?: number;
    signInFailuresPerAccountClient?: number;
    signInFailuresPerAccount?: number;
    signUpPerClient?: number;
    accountChangesPerClient?: number;
    accountChangesPerUser?: number;
  };
}

/** The rate limits that are set; the rest keep the app's defaults (app/src/http/rateLimits.ts). */
function readRateLimits(env: NodeJS.ProcessEnv): Config["rateLimits"] {
  const windowSeconds = readVariable(env, "RATE_LIMIT_WINDOW_SECONDS");
  const limits = {
    windowMs: windowSeconds === undefined ? undefined : windowSeconds * 1000,
    signInPerClient: readVariable(env, "SIGN_IN_LIMIT_PER_CLIENT"),
    signInFailuresPerAccountClient: readVariable(env, "SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT"),
    signInFailuresPerAccount: readVariable(env, "SIGN_IN_LIMIT_PER_ACCOUNT"),
    signUpPerClient: readVariable(env, "SIGN_UP_LIMIT_PER_CLIENT"),
    accountChangesPerClient: readVariable(env, "ACCOUNT_CHANGE_LIMIT_PER_CLIENT"),
    accountChangesPerUser: readVariable(env, "ACCOUNT_CHANGE_LIMIT_PER_USER"),
  };
  const set = Object.fromEntries(
    Object.entries(limits).filter(([, value]) => value !== undefined),
  ) as Config["rateLimits"];
  // The all-addresses cap must outnumber one address's, or one address locks the owner out.
  const perAccount = set.signInFailuresPerAccount ?? DEFAULT_RATE_LIMITS.signInFailuresPerAccount;
  const perAccountClient =
    set.signInFailuresPerAccountClient ?? DEFAULT_RATE_LIMITS.signInFailuresPerAccountClient;
  if (perAccount <= perAccountClient) {
    throw new EnvironmentError(
      "SIGN_IN_LIMIT_PER_ACCOUNT",
      `(${perAccount}) must be larger than SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT (${perAccountClient}): otherwise one address's failures lock the owner out everywhere. Fix: raise SIGN_IN_LIMIT_PER_ACCOUNT or lower SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT`,
    );
  }
  return set;
}

const IAM_NEEDS_TLS =
  "has no TLS (sslmode unset or disable) but DATABASE_AUTH=iam: RDS takes IAM tokens over TLS only. Fix: add ?sslmode=verify-full";

const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
const DEFAULT_POSTGRES_PORT = 5432;

/**
 * Throws `<name> is missing; <the variables that are set and need it> need it (<why>)` when the
 * variable is unset and any of `neededBy` is set.
 */
const LIST = new Intl.ListFormat("en");

function requireVariable(
  name: string,
  value: unknown,
  neededBy: Record<string, unknown>,
  why?: string,
): void {
  const needing = Object.keys(neededBy).filter((other) => neededBy[other] !== undefined);
  if (value !== undefined || needing.length === 0) return;
  const verb = needing.length === 1 ? "needs" : "need";
  const reason = why === undefined ? "" : ` (${why})`;
  throw new EnvironmentError(name, `is missing; ${LIST.format(needing)} ${verb} it${reason}`);
}

/** ElastiCache IAM authentication, when REDIS_IAM_USER says so; every problem named. */
function readRedisIam(
  env: Readonly<Record<string, string | undefined>>,
  redisUrl: string,
): { userId: string; cacheId: string; region: string } | undefined {
  const userId = readVariable(env, "REDIS_IAM_USER");
  const cacheId = readVariable(env, "REDIS_IAM_CACHE_ID");
  if (userId === undefined && cacheId === undefined) return undefined;
  if (userId === undefined) {
    throw new EnvironmentError("REDIS_IAM_USER", "is missing; REDIS_IAM_CACHE_ID needs it");
  }
  if (cacheId === undefined) {
    throw new EnvironmentError("REDIS_IAM_CACHE_ID", "is missing; REDIS_IAM_USER needs it");
  }
  if (new URL(redisUrl).protocol !== "rediss:") {
    throw new EnvironmentError(
      "REDIS_URL",
      "must be rediss:// (TLS): ElastiCache accepts IAM tokens over TLS only",
    );
  }
  const region = readVariable(env, "AWS_REGION");
  if (region === undefined) {
    throw new EnvironmentError("AWS_REGION", "is missing; REDIS_IAM_USER signs its tokens for it");
  }
  return { userId, cacheId: cacheId.toLowerCase(), region };
}

/**
 * Parses one `postgres://user[:password]@host[:port]/database?sslmode=...` URL with pg's own
 * parser (pg-connection-string, libpq semantics), then checks what the app needs of it.
 */
export function parsePostgresUrl(
  name: string,
  value: string,
  fallbackPassword: string | undefined,
): PostgresTarget {
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    throw new EnvironmentError(name, "is not a URL (expected postgres://USER@HOST:5432/DB)");
  }
  if (protocol !== "postgres:" && protocol !== "postgresql:") {
    throw new EnvironmentError(name, `must start with postgres://, not ${protocol}//`);
  }
  const sslmode = new URL(value).searchParams.get("sslmode") ?? "disable";
  if (!(SSL_MODES as readonly string[]).includes(sslmode)) {
    throw new EnvironmentError(name, `has sslmode=${sslmode}; use one of ${SSL_MODES.join(", ")}`);
  }
  let parsed: ReturnType<typeof parseConnectionString>;
  try {
    // Like libpq: below verify-ca the connection is encrypted but the certificate is not checked
    // (RDS's CA is not in Node's default store; set NODE_EXTRA_CA_CERTS and verify-full for that).
    parsed = parseConnectionString(value, { useLibpqCompat: true });
  } catch (error) {
    throw new EnvironmentError(name, `is not usable: ${(error as Error).message}`);
  }
  if (!parsed.host) throw new EnvironmentError(name, "has no host");
  const database = parsed.database ?? "";
  if (database === "" || database.includes("/")) {
    throw new EnvironmentError(
      name,
      "must name one database in its path (postgres://USER@HOST/DB)",
    );
  }
  if (!parsed.user) throw new EnvironmentError(name, "has no user name");
  const ssl = parsed.ssl;
  return {
    host: parsed.host,
    port: parsed.port ? Number(parsed.port) : DEFAULT_POSTGRES_PORT,
    database,
    user: parsed.user,
    password: parsed.password ? parsed.password : fallbackPassword,
    ssl:
      ssl === undefined || ssl === false || ssl === ""
        ? false
        : { rejectUnauthorized: typeof ssl === "object" ? (ssl.rejectUnauthorized ?? true) : true },
    options: parsed.options,
  };
}

/**
 * Reads and validates the whole environment; throws ConfigError naming the first bad variable.
 * Every variable is read through the contract (`readVariable`), so a variable the app reads is
 * one the contract declares.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): Config {
  const port = readVariable(env, "PORT");
  const dataDirRaw = readVariable(env, "DATA_DIR");
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);

  const databaseUrl = readVariable(env, "DATABASE_URL");
  const readUrls = readVariable(env, "DATABASE_READ_URLS") ?? [];
  const databasePassword = readVariable(env, "DATABASE_PASSWORD");
  if (databaseUrl === undefined && readUrls.length > 0) {
    throw new EnvironmentError("DATABASE_READ_URLS", "is set but DATABASE_URL (the writer) is not");
  }
  const passwordSecret = readVariable(env, "DATABASE_SECRET_ARN");
  if (databaseUrl === undefined && passwordSecret !== undefined) {
    throw new EnvironmentError(
      "DATABASE_SECRET_ARN",
      "is set but DATABASE_URL (the writer) is not",
    );
  }
  const auth = readVariable(env, "DATABASE_AUTH");
  if (
    auth === "iam" &&
    (readVariable(env, "DATABASE_SHARDS") ?? []).some((shard) => shard.secretArn !== undefined)
  ) {
    throw new EnvironmentError(
      "DATABASE_SHARDS",
      "names a secretArn with DATABASE_AUTH=iam: IAM authentication uses no password; drop the secretArns",
    );
  }
  if (auth === "iam" && passwordSecret !== undefined) {
    throw new EnvironmentError(
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
          shards: (readVariable(env, "DATABASE_SHARDS") ?? []).map((shard, index) => ({
            writer: parsePostgresUrl(`DATABASE_SHARDS[${index}].url`, shard.url, databasePassword),
            readers: shard.readUrls.map((url) =>
              parsePostgresUrl(`DATABASE_SHARDS[${index}].readUrls`, url, databasePassword),
            ),
            passwordSecret: shard.secretArn,
          })),
          auth,
          migrations: readVariable(env, "DATABASE_MIGRATIONS"),
        };
  if (databaseUrl === undefined && readVariable(env, "DATABASE_SHARDS") !== undefined) {
    throw new EnvironmentError(
      "DATABASE_SHARDS",
      "is set but DATABASE_URL (physical shard 0) is not",
    );
  }
  if (database.kind === "postgres" && auth === "iam") {
    // RDS accepts IAM tokens over TLS only, on every shard.
    if (database.writer.ssl === false) throw new EnvironmentError("DATABASE_URL", IAM_NEEDS_TLS);
    if (database.readers.some((reader) => reader.ssl === false)) {
      throw new EnvironmentError("DATABASE_READ_URLS", IAM_NEEDS_TLS);
    }
    database.shards.forEach((shard, index) => {
      if (shard.writer.ssl === false || shard.readers.some((reader) => reader.ssl === false)) {
        throw new EnvironmentError(`DATABASE_SHARDS[${index}]`, IAM_NEEDS_TLS);
      }
    });
  }
  const shardMapText = readVariable(env, "DATABASE_SHARD_MAP");
  let shardMap: ShardMap | undefined;
  if (shardMapText !== undefined) {
    try {
      shardMap = parseShardMap(
        shardMapText,
        database.kind === "postgres" ? database.shards.length + 1 : 1,
      );
    } catch (error) {
      throw new EnvironmentError("DATABASE_SHARD_MAP", `is unusable: ${(error as Error).message}`);
    }
  }

  const redisUrl = readVariable(env, "REDIS_URL");
  const redis =
    redisUrl === undefined
      ? undefined
      : {
          url: redisUrl,
          authToken: readVariable(env, "REDIS_AUTH_TOKEN"),
          iam: readRedisIam(env, redisUrl),
        };

  const queueUrl = readVariable(env, "QUEUE_URL");

  const bucket = readVariable(env, "ASSETS_BUCKET");
  const cdnDomain = readVariable(env, "CDN_DOMAIN");
  // A bucket without a CDN is a stage below it (the app serves the public files); a CDN without
  // the bucket it serves is a mistake.
  requireVariable(
    "ASSETS_BUCKET",
    bucket,
    { CDN_DOMAIN: cdnDomain },
    "it serves the bucket's files: set ASSETS_BUCKET with it, or unset CDN_DOMAIN",
  );
  const sessionsTable = readVariable(env, "SESSIONS_TABLE");
  const awsRegion = readVariable(env, "AWS_REGION");
  requireVariable("AWS_REGION", awsRegion, {
    QUEUE_URL: queueUrl,
    ASSETS_BUCKET: bucket,
    SESSIONS_TABLE: sessionsTable,
  });
  const bucketRegion = readVariable(env, "ASSETS_BUCKET_REGION");
  if (bucketRegion !== undefined && bucket === undefined) {
    throw new EnvironmentError("ASSETS_BUCKET_REGION", "is set but ASSETS_BUCKET is not");
  }
  const files: Config["files"] =
    bucket !== undefined && awsRegion !== undefined
      ? { kind: "s3", bucket, region: bucketRegion ?? awsRegion, cdnDomain }
      : { kind: "local", dir: resolve(dataDir, "files") };
  const endpoint = readVariable(env, "AWS_ENDPOINT_URL");

  const invalidationQueue = readVariable(env, "CACHE_INVALIDATION_QUEUE_URL");
  const publishUrls = readVariable(env, "CACHE_INVALIDATION_PUBLISH_URLS") ?? [];
  if ((invalidationQueue === undefined) !== (publishUrls.length === 0)) {
    throw new EnvironmentError(
      invalidationQueue === undefined
        ? "CACHE_INVALIDATION_QUEUE_URL"
        : "CACHE_INVALIDATION_PUBLISH_URLS",
      "is missing; CACHE_INVALIDATION_QUEUE_URL and CACHE_INVALIDATION_PUBLISH_URLS go together",
    );
  }
  const queueRef = (name: string, url: string): QueueRef => {
    const region = sqsQueueRegion(url) ?? awsRegion;
    if (region === undefined) {
      throw new EnvironmentError(name, `names no region (${url}) and AWS_REGION is unset`);
    }
    return { url, region };
  };
  const invalidation: InvalidationConfig | undefined =
    invalidationQueue === undefined
      ? undefined
      : {
          queue: queueRef("CACHE_INVALIDATION_QUEUE_URL", invalidationQueue),
          publishTo: publishUrls.map((url) => queueRef("CACHE_INVALIDATION_PUBLISH_URLS", url)),
        };
  if (invalidation !== undefined && !publishUrls.includes(invalidation.queue.url)) {
    throw new EnvironmentError(
      "CACHE_INVALIDATION_PUBLISH_URLS",
      "must include CACHE_INVALIDATION_QUEUE_URL: this region's cache needs the LSN-gated delete too",
    );
  }

  return {
    port,
    database,
    shardMap,
    redis,
    queueUrl,
    files,
    sessionsTable,
    invalidation,
    aws: { region: awsRegion, endpoint },
    region: awsRegion ?? "local",
    metricsNamespace: readVariable(env, "METRICS_NAMESPACE"),
    shutdownDeadlineSeconds: readVariable(env, "SHUTDOWN_DEADLINE_SECONDS"),
    dataDir,
    logLevel: readVariable(env, "LOG_LEVEL"),
    trustedProxies: readVariable(env, "TRUSTED_PROXIES") ?? [],
    cookieSecrets: readVariable(env, "COOKIE_SECRET"),
    rateLimits: readRateLimits(env),
  };
}

/** The process argument: `web`, `worker` or `all` (default). */
export function parseRole(argument: string | undefined): Role {
  const role = argument ?? DEFAULT_PROCESS_ROLE;
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new EnvironmentError(
      "the process argument",
      `is ${JSON.stringify(role)}; use ${ROLES.join(", ").replace(/, (\w+)$/, " or $1")}`,
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
    throw new EnvironmentError(
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

export function loadMigrateConfig(
  env: Readonly<Record<string, string | undefined>>,
): MigrateConfig {
  const name = readVariable(env, "DATABASE_APP_USER");
  const password = readVariable(env, "DATABASE_APP_PASSWORD");
  if (name === undefined && password !== undefined) {
    throw new EnvironmentError("DATABASE_APP_PASSWORD", "is set but DATABASE_APP_USER is not");
  }
  return { appRole: name === undefined ? undefined : { name, password } };
}
