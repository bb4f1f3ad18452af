/**
 * The app's environment (docs/CONTRACT.md), read once and validated with an error that names the
 * variable. Every variable is optional: unset, each tier falls back to its embedded implementation.
 */
import { isIP } from "node:net";
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
      };
  redis: { url: string; authToken: string | undefined } | undefined;
  queueUrl: string | undefined;
  files: { kind: "local"; dir: string } | { kind: "s3"; bucket: string; cdnDomain: string };
  aws: { region: string | undefined; endpoint: string | undefined };
  /** Shown as "served by"; `local` when AWS_REGION is unset. */
  region: string;
  metricsNamespace: string;
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
    signInPerAccount?: number;
    signUpPerClient?: number;
  };
}

/** The rate-limit variables, by the setting each one overrides. */
export const RATE_LIMIT_VARIABLES = {
  windowMs: "RATE_LIMIT_WINDOW_SECONDS",
  signInPerClient: "SIGN_IN_LIMIT_PER_CLIENT",
  signInPerAccount: "SIGN_IN_LIMIT_PER_ACCOUNT",
  signUpPerClient: "SIGN_UP_LIMIT_PER_CLIENT",
} as const;

const positiveWholeNumber = z
  .string()
  .regex(/^[1-9]\d{0,8}$/, { message: "must be a whole number from 1 to 999999999" })
  .transform(Number);

function readRateLimits(env: NodeJS.ProcessEnv): Config["rateLimits"] {
  const limits: Config["rateLimits"] = {};
  for (const [setting, name] of Object.entries(RATE_LIMIT_VARIABLES)) {
    const raw = read(env, name);
    if (raw === undefined) continue;
    const value = parseWith(positiveWholeNumber, name, raw);
    limits[setting as keyof Config["rateLimits"]] = setting === "windowMs" ? value * 1000 : value;
  }
  return limits;
}

/** A cookie secret must resist guessing: at least 32 characters (e.g. 32 random bytes, base64). */
export const MIN_COOKIE_SECRET_LENGTH = 32;

function commaList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** TRUSTED_PROXIES: comma-separated IP addresses or CIDR ranges, e.g. 10.0.0.0/16. */
export function parseTrustedProxies(name: string, value: string | undefined): string[] {
  const entries = commaList(value);
  for (const entry of entries) {
    const [address = "", prefix, ...rest] = entry.split("/");
    const family = isIP(address);
    const maxPrefix = family === 6 ? 128 : 32;
    const prefixOk =
      prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (family === 0 || !prefixOk || rest.length > 0) {
      throw new ConfigError(
        name,
        `has ${JSON.stringify(entry)}: use IP addresses or CIDR ranges (e.g. the VPC's 10.0.0.0/16), comma-separated`,
      );
    }
  }
  return entries;
}

/** COOKIE_SECRET: comma-separated secrets, the one that signs first (rotation: prepend a new one). */
export function parseCookieSecrets(name: string, value: string | undefined): string[] | undefined {
  const secrets = commaList(value);
  if (secrets.length === 0) return undefined;
  if (secrets.some((secret) => secret.length < MIN_COOKIE_SECRET_LENGTH)) {
    throw new ConfigError(
      name,
      `has a secret shorter than ${MIN_COOKIE_SECRET_LENGTH} characters; use e.g. 32 random bytes in base64`,
    );
  }
  return secrets;
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
        };

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
    redis,
    queueUrl,
    files,
    aws: { region: awsRegion, endpoint },
    region: awsRegion ?? "local",
    metricsNamespace: read(env, "METRICS_NAMESPACE") ?? "ZeroToMillions",
    dataDir,
    logLevel,
    trustedProxies: parseTrustedProxies("TRUSTED_PROXIES", read(env, "TRUSTED_PROXIES")),
    cookieSecrets: parseCookieSecrets("COOKIE_SECRET", read(env, "COOKIE_SECRET")),
    rateLimits: readRateLimits(env),
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
