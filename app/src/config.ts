/**
 * The app's environment (docs/CONTRACT.md), read once and validated with an error that names the
 * variable. Every variable is optional: unset, each tier falls back to its embedded implementation.
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { parseShardMap, type ShardMap } from "./sharding/shardMap";

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

/** One more physical shard: its writer and in-region readers. */
export interface PhysicalShardTarget {
  writer: PostgresTarget;
  readers: PostgresTarget[];
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
        /** Physical shards 1..N-1 (DATABASE_SHARDS); shard 0 is the writer and readers above. */
        shards: PhysicalShardTarget[];
      };
  /** DATABASE_SHARD_MAP: the map seeded into an empty directory; unset, an even split. */
  shardMap: ShardMap | undefined;
  redis: { url: string; authToken: string | undefined } | undefined;
  queueUrl: string | undefined;
  files: { kind: "local"; dir: string } | { kind: "s3"; bucket: string; cdnDomain: string };
  aws: { region: string | undefined; endpoint: string | undefined };
  /** Shown as "served by"; `local` when AWS_REGION is unset. */
  region: string;
  metricsNamespace: string;
  dataDir: string;
  logLevel: string;
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

const ShardTargetsSchema = z.array(
  z.strictObject({ url: z.string().min(1), readUrls: z.array(z.string().min(1)).default([]) }),
);

/**
 * DATABASE_SHARDS: physical shards 1..N-1 as JSON,
 * `[{"url":"postgres://...","readUrls":["postgres://..."]}]` (shard 0 is DATABASE_URL).
 */
export function parseShardTargets(
  value: string | undefined,
  fallbackPassword: string | undefined,
): PhysicalShardTarget[] {
  if (value === undefined) return [];
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new ConfigError(
      "DATABASE_SHARDS",
      'is not JSON; expected [{"url":"postgres://...","readUrls":[...]}] for shards 1..N-1',
    );
  }
  const parsed = ShardTargetsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      "DATABASE_SHARDS",
      `at ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}; expected [{"url":"postgres://...","readUrls":[...]}]`,
    );
  }
  return parsed.data.map((shard, index) => ({
    writer: parsePostgresUrl(`DATABASE_SHARDS[${index}].url`, shard.url, fallbackPassword),
    readers: shard.readUrls.map((url) =>
      parsePostgresUrl(`DATABASE_SHARDS[${index}].readUrls`, url, fallbackPassword),
    ),
  }));
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
          shards: parseShardTargets(read(env, "DATABASE_SHARDS"), databasePassword),
        };
  if (databaseUrl === undefined && read(env, "DATABASE_SHARDS") !== undefined) {
    throw new ConfigError("DATABASE_SHARDS", "is set but DATABASE_URL (physical shard 0) is not");
  }

  const shardMapText = read(env, "DATABASE_SHARD_MAP");
  let shardMap: ShardMap | undefined;
  if (shardMapText !== undefined) {
    try {
      shardMap = parseShardMap(
        shardMapText,
        database.kind === "postgres" ? database.shards.length + 1 : 1,
      );
    } catch (error) {
      throw new ConfigError("DATABASE_SHARD_MAP", `is unusable: ${(error as Error).message}`);
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
  const files: Config["files"] =
    bucket !== undefined && cdnDomain !== undefined
      ? { kind: "s3", bucket, cdnDomain }
      : { kind: "local", dir: resolve(dataDir, "files") };

  const awsRegion = read(env, "AWS_REGION");
  if (awsRegion === undefined && (queueUrl !== undefined || files.kind === "s3")) {
    throw new ConfigError("AWS_REGION", "is missing; QUEUE_URL and ASSETS_BUCKET need it");
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
    shardMap,
    redis,
    queueUrl,
    files,
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
