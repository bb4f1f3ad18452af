// Unit tests of the environment parsing: defaults, full stack, and errors that name the variable.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkRole,
  ConfigError,
  loadConfig,
  parsePostgresUrl,
  parseRole,
} from "../../app/src/config";
import { WEB_SHUTDOWN } from "../../contract";

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env, "/srv");
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail("expected a ConfigError");
}

/** A shard writer's RDS-managed master secret, as the stack passes it in DATABASE_SHARDS. */
const SHARD_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234-AbCdEf";

describe("loadConfig", () => {
  it("GIVEN an empty environment THEN every tier is embedded under ./data on port 3000", () => {
    const config = loadConfig({}, "/srv");
    assert.equal(config.port, 3000);
    assert.deepEqual(config.database, { kind: "pglite", dataDir: "/srv/data/pglite" });
    assert.equal(config.redis, undefined);
    assert.equal(config.queueUrl, undefined);
    assert.deepEqual(config.files, { kind: "local", dir: "/srv/data/files" });
    assert.equal(config.region, "local");
    assert.equal(config.metricsNamespace, "ZeroToMillions");
    assert.equal(config.logLevel, "info");
  });

  it("GIVEN DATABASE_SHARDS and DATABASE_SHARD_MAP THEN the physical shards and the seed map are parsed", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://app@s0.example/app",
      DATABASE_PASSWORD: "pw",
      DATABASE_SHARDS: JSON.stringify([
        {
          url: "postgres://app@s1.example/app",
          readUrls: ["postgres://app@s1r.example/app"],
          secretArn: SHARD_SECRET,
        },
        { url: "postgres://app@s2.example:6432/app" },
      ]),
      DATABASE_SHARD_MAP: "0-4095:0,4096-6000:1,6001-8191:2",
    });
    assert.equal(config.database.kind, "postgres");
    if (config.database.kind !== "postgres") return;
    assert.deepEqual(
      config.database.shards.map((shard) => [
        shard.writer.host,
        shard.writer.port,
        shard.writer.password,
        shard.readers.map((reader) => reader.host),
      ]),
      [
        ["s1.example", 5432, "pw", ["s1r.example"]],
        ["s2.example", 6432, "pw", []],
      ],
    );
    // Shard 1 reads its own master secret; shard 2 shares shard 0's password.
    assert.deepEqual(
      config.database.shards.map((shard) => shard.passwordSecret?.arn),
      [SHARD_SECRET, undefined],
    );
    assert.deepEqual(
      [0, 4095, 4096, 6000, 6001, 8191].map((logical) => config.shardMap?.[logical]),
      [0, 0, 1, 1, 2, 2],
    );
  });

  it("GIVEN no SHUTDOWN_DEADLINE_SECONDS THEN the web role's deadline applies; GIVEN one THEN it is kept", () => {
    assert.equal(loadConfig({}).shutdownDeadlineSeconds, WEB_SHUTDOWN.appSeconds);
    assert.equal(loadConfig({ SHUTDOWN_DEADLINE_SECONDS: "65" }).shutdownDeadlineSeconds, 65);
  });

  it("GIVEN a URL with an encoded password, an IPv6 host, verify-full and options THEN pg's parser reads each part", () => {
    const target = parsePostgresUrl(
      "DATABASE_URL",
      "postgresql://app:p%40ss@[::1]:6432/db?sslmode=verify-full&options=-c%20search_path%3Dt1",
      "fallback",
    );
    assert.deepEqual(target, {
      host: "::1",
      port: 6432,
      database: "db",
      user: "app",
      password: "p@ss",
      ssl: { rejectUnauthorized: true },
      options: "-c search_path=t1",
    });
  });

  it("GIVEN PORT=0 THEN port 0 is kept (0 is a value: pick a free port)", () => {
    assert.equal(loadConfig({ PORT: "0" }).port, 0);
  });

  it("GIVEN REDIS_IAM_USER and REDIS_IAM_CACHE_ID THEN the cache signs in with IAM tokens for the task's region", () => {
    const config = loadConfig(
      {
        REDIS_URL: "rediss://cache.example:6379",
        REDIS_IAM_USER: "zero-to-millions-prod-primary-cache-app",
        REDIS_IAM_CACHE_ID: "Zero-To-Millions-Prod-Primary-Cache",
        AWS_REGION: "eu-west-1",
      },
      "/srv",
    );
    assert.deepEqual(config.redis?.iam, {
      userId: "zero-to-millions-prod-primary-cache-app",
      cacheId: "zero-to-millions-prod-primary-cache",
      region: "eu-west-1",
    });
  });

  const redisIamProblems: Array<[string, NodeJS.ProcessEnv, string, RegExp]> = [
    [
      "a user without a cache id",
      { REDIS_IAM_CACHE_ID: undefined },
      "REDIS_IAM_CACHE_ID",
      /is missing/,
    ],
    ["a cache id without a user", { REDIS_IAM_USER: undefined }, "REDIS_IAM_USER", /is missing/],
    [
      "IAM over plain TCP",
      { REDIS_URL: "redis://cache.example:6379" },
      "REDIS_URL",
      /must be rediss:\/\/ \(TLS\)/,
    ],
    ["IAM without a region", { AWS_REGION: undefined }, "AWS_REGION", /signs its tokens for it/],
  ];
  for (const [label, changes, variable, problem] of redisIamProblems) {
    it(`GIVEN ${label} THEN the error names ${variable}`, () => {
      const base: NodeJS.ProcessEnv = {
        REDIS_URL: "rediss://cache.example:6379",
        REDIS_IAM_USER: "app",
        REDIS_IAM_CACHE_ID: "cache",
        AWS_REGION: "eu-west-1",
      };
      const error = configError({ ...base, ...changes });
      assert.equal(error.variable, variable);
      assert.match(error.message, problem);
    });
  }

  it("GIVEN the full stack THEN writer, readers, redis, queue and bucket are parsed", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://app@writer.example:5432/app?sslmode=require",
      DATABASE_READ_URLS:
        "postgres://app@r1.example/app?sslmode=require, postgres://app@r2.example:6432/app",
      DATABASE_PASSWORD: "from-secrets-manager",
      REDIS_URL: "rediss://cache.example:6379",
      REDIS_AUTH_TOKEN: "token",
      QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
      AWS_REGION: "eu-west-1",
      ASSETS_BUCKET: "assets",
      CDN_DOMAIN: "d123.cloudfront.net",
      METRICS_NAMESPACE: "Custom",
      LOG_LEVEL: "debug",
    });
    assert.equal(config.database.kind, "postgres");
    if (config.database.kind !== "postgres") return;
    assert.deepEqual(config.database.writer, {
      host: "writer.example",
      port: 5432,
      database: "app",
      user: "app",
      password: "from-secrets-manager",
      ssl: { rejectUnauthorized: false },
      options: undefined,
    });
    assert.deepEqual(
      config.database.readers.map((reader) => [reader.host, reader.port, reader.ssl]),
      [
        ["r1.example", 5432, { rejectUnauthorized: false }],
        ["r2.example", 6432, false],
      ],
    );
    assert.deepEqual(config.redis, {
      url: "rediss://cache.example:6379",
      authToken: "token",
      iam: undefined,
    });
    assert.deepEqual(config.files, {
      kind: "s3",
      bucket: "assets",
      region: "eu-west-1",
      cdnDomain: "d123.cloudfront.net",
    });
    assert.equal(config.region, "eu-west-1");
    assert.equal(config.metricsNamespace, "Custom");
  });

  it("GIVEN ASSETS_BUCKET without CDN_DOMAIN (stages below the CDN) THEN files are in S3 and the app serves them itself", () => {
    const config = loadConfig({ AWS_REGION: "eu-west-1", ASSETS_BUCKET: "assets" });
    assert.deepEqual(config.files, {
      kind: "s3",
      bucket: "assets",
      region: "eu-west-1",
      cdnDomain: undefined,
    });
  });

  it("GIVEN CDN_DOMAIN without ASSETS_BUCKET THEN the error names both", () => {
    assert.throws(
      () => loadConfig({ AWS_REGION: "eu-west-1", CDN_DOMAIN: "d123.cloudfront.net" }),
      /^EnvironmentError: ASSETS_BUCKET is missing; CDN_DOMAIN needs it \(it serves the bucket.s files/,
    );
  });

  it("GIVEN ASSETS_BUCKET and SESSIONS_TABLE without AWS_REGION THEN the error names each that needs it", () => {
    assert.throws(
      () => loadConfig({ ASSETS_BUCKET: "assets", SESSIONS_TABLE: "sessions" }),
      /^EnvironmentError: AWS_REGION is missing; ASSETS_BUCKET and SESSIONS_TABLE need it$/,
    );
  });

  it("GIVEN a password in the URL THEN it wins over DATABASE_PASSWORD", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://app:in%40url@127.0.0.1:55432/app",
      DATABASE_PASSWORD: "other",
    });
    assert.equal(config.database.kind === "postgres" && config.database.writer.password, "in@url");
  });

  it("GIVEN no DATABASE_SECRET_ARN THEN there is no password secret (DATABASE_PASSWORD alone)", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://app@h/app", DATABASE_PASSWORD: "pw" });
    assert.equal(config.database.kind === "postgres" && config.database.passwordSecret, undefined);
  });

  it("GIVEN DATABASE_SECRET_ARN in another region than AWS_REGION THEN the secret's region is the ARN's", () => {
    // RDS-managed secrets are named rds!db-<uuid>; Secrets Manager appends -XXXXXX to the ARN.
    const arn =
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-3f1c9a2e-6b1d-4c3e-9f0a-abcdef012345-AbCdEf";
    const config = loadConfig({
      DATABASE_URL: "postgres://app@writer.example/app?sslmode=require",
      DATABASE_READ_URLS: "postgres://app@reader.example/app?sslmode=require",
      DATABASE_PASSWORD: "initial",
      DATABASE_SECRET_ARN: arn,
      AWS_REGION: "eu-west-1",
    });
    assert.equal(config.database.kind, "postgres");
    if (config.database.kind !== "postgres") return;
    assert.deepEqual(config.database.passwordSecret, { arn, region: "us-east-1" });
    assert.equal(config.aws.region, "eu-west-1");
    // DATABASE_PASSWORD stays the pools' initial password.
    assert.equal(config.database.writer.password, "initial");
    assert.equal(config.database.readers[0]?.password, "initial");
  });

  it("GIVEN a GovCloud or China secret ARN THEN its region is taken too", () => {
    for (const [arn, region] of [
      [
        "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:db-AbCdEf",
        "us-gov-west-1",
      ],
      ["arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:path/to/db-AbCdEf", "cn-north-1"],
    ] as const) {
      const config = loadConfig({ DATABASE_URL: "postgres://app@h/app", DATABASE_SECRET_ARN: arn });
      assert.equal(
        config.database.kind === "postgres" && config.database.passwordSecret?.region,
        region,
      );
    }
  });

  it("GIVEN nothing about proxies, cookies or limits THEN no proxy is trusted, secrets are per process, limits are the app's", () => {
    const config = loadConfig({});
    assert.deepEqual(config.trustedProxies, []);
    assert.equal(config.cookieSecrets, undefined);
    assert.deepEqual(config.rateLimits, {});
  });

  it("GIVEN the VPC range, two cookie secrets and limits THEN each is read as given", () => {
    const secrets = ["n".repeat(32), "o".repeat(40)];
    const config = loadConfig({
      TRUSTED_PROXIES: "10.0.0.0/16, 192.0.2.7, fd00::/8",
      COOKIE_SECRET: secrets.join(","),
      RATE_LIMIT_WINDOW_SECONDS: "60",
      SIGN_IN_LIMIT_PER_CLIENT: "5",
      SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT: "3",
      SIGN_IN_LIMIT_PER_ACCOUNT: "30",
      SIGN_UP_LIMIT_PER_CLIENT: "2",
    });
    assert.deepEqual(config.trustedProxies, ["10.0.0.0/16", "192.0.2.7", "fd00::/8"]);
    assert.deepEqual(config.cookieSecrets, secrets);
    assert.deepEqual(config.rateLimits, {
      windowMs: 60_000,
      signInPerClient: 5,
      signInFailuresPerAccountClient: 3,
      signInFailuresPerAccount: 30,
      signUpPerClient: 2,
    });
  });

  // Each variable set on its own, to a value it refuses (or needing a variable left unset).
  const badAlone: Record<string, string[]> = {
    PORT: ["abc", "70000"],
    DATABASE_URL: [
      "not a url",
      "mysql://app@host/app",
      "postgres://app@host",
      "postgres://host/app",
      "postgres://app@host/app?sslmode=sometimes",
      "postgres://app@host/app?sslmode=verify-ca",
    ],
    DATABASE_READ_URLS: ["postgres://app@h/app"],
    DATABASE_SHARDS: ['[{"url":"postgres://app@s1/app"}]'],
    DATABASE_SHARD_MAP: ["0-8190:0", "0-8191:1", "0-100:0,100-8191:0"],
    DATABASE_SECRET_ARN: ["arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"],
    REDIS_URL: ["http://cache:6379"],
    AWS_ENDPOINT_URL: ["localhost:4566"],
    LOG_LEVEL: ["loud"],
    TRUSTED_PROXIES: ["alb.internal", "10.0.0.0/33", "10.0.0.0/16, 1"],
    COOKIE_SECRET: ["short", `${"a".repeat(32)},short`],
    RATE_LIMIT_WINDOW_SECONDS: ["0"],
    SIGN_IN_LIMIT_PER_CLIENT: ["-1"],
    SIGN_IN_LIMIT_PER_ACCOUNT: ["ten"],
    SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT: ["0"],
    SIGN_UP_LIMIT_PER_CLIENT: ["1.5"],
    SHUTDOWN_DEADLINE_SECONDS: ["0", "soon"],
  };
  const bad: [string, NodeJS.ProcessEnv][] = [
    ...Object.entries(badAlone).flatMap(([variable, values]) =>
      values.map((value): [string, NodeJS.ProcessEnv] => [variable, { [variable]: value }]),
    ),
    ["DATABASE_READ_URLS", { DATABASE_URL: "postgres://app@h/app", DATABASE_READ_URLS: "nope" }],
    [
      "DATABASE_SHARDS",
      { DATABASE_URL: "postgres://app@h/app", DATABASE_SHARDS: "postgres://app@s1/app" },
    ],
    ["DATABASE_SHARDS", { DATABASE_URL: "postgres://app@h/app", DATABASE_SHARDS: '[{"uri":"x"}]' }],
    [
      "DATABASE_SHARDS[0].url",
      { DATABASE_URL: "postgres://app@h/app", DATABASE_SHARDS: '[{"url":"nope"}]' },
    ],
    [
      "DATABASE_SHARDS[0].secretArn",
      {
        DATABASE_URL: "postgres://app@h/app",
        DATABASE_SHARDS: '[{"url":"postgres://app@s1/app","secretArn":"my-db-secret"}]',
      },
    ],
    [
      "DATABASE_SHARDS",
      {
        DATABASE_URL: "postgres://app@h/app?sslmode=require",
        DATABASE_AUTH: "iam",
        DATABASE_SHARDS: `[{"url":"postgres://app@s1/app?sslmode=require","secretArn":"${SHARD_SECRET}"}]`,
      },
    ],
    [
      "DATABASE_SHARDS[0]",
      {
        DATABASE_URL: "postgres://app@h/app?sslmode=require",
        DATABASE_AUTH: "iam",
        DATABASE_SHARDS: '[{"url":"postgres://app@s1/app"}]',
      },
    ],
    ...[
      "my-db-secret",
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:",
      "arn:aws:secretsmanager::123456789012:secret:db-AbCdEf",
      "arn:aws:secretsmanager:us-east-1:1234:secret:db-AbCdEf",
      "arn:aws:ssm:us-east-1:123456789012:parameter/db",
      "arn:aws:secretsmanager:US-EAST-1:123456789012:secret:db-AbCdEf",
    ].map((arn): [string, NodeJS.ProcessEnv] => [
      "DATABASE_SECRET_ARN",
      { DATABASE_URL: "postgres://app@h/app", DATABASE_SECRET_ARN: arn },
    ]),
    ["QUEUE_URL", { QUEUE_URL: "sqs", AWS_REGION: "us-east-1" }],
    ["AWS_REGION", { QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/q" }],
    ["AWS_REGION", { SESSIONS_TABLE: "sessions" }],
    ["ASSETS_BUCKET", { CDN_DOMAIN: "d.cloudfront.net" }],
    ["CDN_DOMAIN", { ASSETS_BUCKET: "b", CDN_DOMAIN: "https://d.cloudfront.net", AWS_REGION: "x" }],
  ];
  // The all-addresses cap against one address's, each side set or left at the app's default.
  const lockoutProne: Record<string, string>[] = [
    { SIGN_IN_LIMIT_PER_ACCOUNT: "10", SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT: "10" },
    { SIGN_IN_LIMIT_PER_ACCOUNT: "5", SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT: "10" },
    { SIGN_IN_LIMIT_PER_ACCOUNT: "10" },
    { SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT: "100" },
  ];
  for (const env of lockoutProne) {
    it(`GIVEN ${JSON.stringify(env)} THEN the error names both sign-in account limits`, () => {
      const error = configError(env);
      assert.equal(error.variable, "SIGN_IN_LIMIT_PER_ACCOUNT");
      assert.match(error.message, /^SIGN_IN_LIMIT_PER_ACCOUNT .*SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT/);
    });
  }
  it("GIVEN SIGN_IN_LIMIT_PER_ACCOUNT one above SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT THEN both are kept", () => {
    const config = loadConfig({
      SIGN_IN_LIMIT_PER_ACCOUNT: "11",
      SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT: "10",
    });
    assert.equal(config.rateLimits.signInFailuresPerAccount, 11);
    assert.equal(config.rateLimits.signInFailuresPerAccountClient, 10);
  });

  for (const [variable, env] of bad) {
    it(`GIVEN ${JSON.stringify(env)} THEN the error names ${variable}`, () => {
      const error = configError(env);
      assert.equal(error.variable, variable);
      assert.ok(error.message.startsWith(variable), error.message);
    });
  }
});

describe("roles", () => {
  it("GIVEN no argument THEN the role is all; an unknown one is refused", () => {
    assert.equal(parseRole(undefined), "all");
    assert.equal(parseRole("worker"), "worker");
    assert.throws(() => parseRole("cron"), /web, worker or all/);
  });

  it("GIVEN web or worker without QUEUE_URL THEN the error names QUEUE_URL", () => {
    const config = loadConfig({});
    assert.doesNotThrow(() => checkRole("all", config));
    assert.throws(
      () => checkRole("web", config),
      (error: ConfigError) => error.variable === "QUEUE_URL",
    );
    assert.throws(
      () => checkRole("worker", config),
      (error: ConfigError) => error.variable === "QUEUE_URL",
    );
  });
});
