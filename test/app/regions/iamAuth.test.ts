// IAM database authentication: a token per pool, reused for 10 of its 15 minutes, signed locally for the region of the
// database endpoint it opens (the writer may be in the other region), with no secret to fetch.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig, parsePostgresUrl } from "../../../app/src/config";
import type { SignerConfig } from "@aws-sdk/rds-signer";
import {
  IAM_TOKEN_LIFETIME_MS,
  IAM_TOKEN_REUSE_MS,
  iamTokenPassword,
  rdsEndpointRegion,
} from "../../../app/src/tiers/iamAuth";
import { openPostgres } from "../../../app/src/tiers/postgres";
import { captureLogs } from "../support/helpers";
import { needServices } from "../support/services";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" };
const WRITER = "app.cluster-abc123.us-east-1.rds.amazonaws.com";
const READER = "app-replica.abc123.eu-west-1.rds.amazonaws.com";

/** An RDS auth token is a presigned URL without its scheme: HOST:PORT/?Action=connect&... */
function parseToken(token: string): URL {
  return new URL(`https://${token}`);
}

describe("IAM database authentication tokens", () => {
  it("GIVEN RDS endpoint names THEN the region is the endpoint's", () => {
    const table: [string, string | undefined][] = [
      [WRITER, "us-east-1"],
      [READER, "eu-west-1"],
      ["db.abc.cn-north-1.rds.amazonaws.com.cn", "cn-north-1"],
      ["db.internal.example", undefined],
      ["127.0.0.1", undefined],
    ];
    for (const [host, region] of table) assert.equal(rdsEndpointRegion(host), region, host);
  });

  it("GIVEN a writer in us-east-1 and a task in eu-west-1 WHEN a connection opens THEN its token is signed for us-east-1, for that host, port and user", async () => {
    const writer = parsePostgresUrl(
      "DATABASE_URL",
      `postgres://app_rt@${WRITER}:5432/app?sslmode=verify-full`,
      undefined,
    );
    const token = await iamTokenPassword(writer, { fallbackRegion: "eu-west-1", credentials })();
    const url = parseToken(token);
    assert.equal(url.host, `${WRITER}:5432`);
    assert.equal(url.searchParams.get("Action"), "connect");
    assert.equal(url.searchParams.get("DBUser"), "app_rt");
    assert.equal(
      url.searchParams.get("X-Amz-Credential")?.split("/").slice(2, 4).join("/"),
      "us-east-1/rds-db",
    );
    assert.equal(url.searchParams.get("X-Amz-Expires"), "900");
    assert.match(url.searchParams.get("X-Amz-Signature") ?? "", /^[0-9a-f]{64}$/);
  });

  it("GIVEN a token of 15 minutes THEN a pool reuses it for 10 of them, never to its end", () => {
    assert.equal(IAM_TOKEN_LIFETIME_MS, 15 * 60_000);
    assert.ok(IAM_TOKEN_REUSE_MS < IAM_TOKEN_LIFETIME_MS);
  });

  describe("GIVEN a pool's connections over time", () => {
    const reader = parsePostgresUrl(
      "DATABASE_READ_URLS",
      `postgres://app_rt@${READER}/app?sslmode=require`,
      undefined,
    );
    /** A signer that counts its signatures, a clock the test moves, and the pool's hook. */
    function pool(fail = false) {
      const signed: SignerConfig[] = [];
      let clock = 1_000_000;
      let count = 0;
      const password = iamTokenPassword(reader, {
        fallbackRegion: undefined,
        now: () => clock,
        signer: (config) => ({
          async getAuthToken() {
            signed.push(config);
            count += 1;
            if (fail && count === 1) throw new Error("no credentials yet");
            return `token-${count}`;
          },
        }),
      });
      return { password, signed, advance: (ms: number) => (clock += ms) };
    }
    const minutes = (n: number) => n * 60_000;
    const table: Array<[string, number[], string[]]> = [
      ["two connections at once", [0, 0], ["token-1", "token-1"]],
      ["one more 9 minutes later", [0, minutes(9)], ["token-1", "token-1"]],
      ["one more 10 minutes later", [0, minutes(10)], ["token-1", "token-2"]],
      [
        "three spread over 25 minutes",
        [0, minutes(12), minutes(12)],
        ["token-1", "token-2", "token-3"],
      ],
    ];
    for (const [label, gaps, tokens] of table) {
      it(`WHEN ${label} THEN they present ${tokens.join(", ")}`, async () => {
        const { password, signed, advance } = pool();
        const presented: string[] = [];
        for (const gap of gaps) {
          advance(gap);
          presented.push(await password());
        }
        assert.deepEqual(presented, tokens);
        assert.equal(signed.length, new Set(tokens).size, "one signature per token");
        assert.deepEqual(
          signed.map((c) => [c.hostname, c.port, c.username, c.region]),
          signed.map(() => [READER, 5432, "app_rt", "eu-west-1"]),
        );
      });
    }

    it("WHEN a signature fails THEN it is not kept: the next connection signs again", async () => {
      const { password } = pool(true);
      await assert.rejects(password(), /no credentials yet/);
      assert.equal(await password(), "token-2");
    });
  });

  it("GIVEN a host that names no region THEN AWS_REGION is used; without it the error says why", async () => {
    const proxy = parsePostgresUrl(
      "DATABASE_URL",
      "postgres://app_rt@db.internal.example/app?sslmode=require",
      undefined,
    );
    const token = await iamTokenPassword(proxy, { fallbackRegion: "eu-west-1", credentials })();
    assert.equal(
      parseToken(token).searchParams.get("X-Amz-Credential")?.split("/")[2],
      "eu-west-1",
    );
    assert.throws(
      () => iamTokenPassword(proxy, { fallbackRegion: undefined, credentials }),
      /token's region is unknown/,
    );
  });

  it("GIVEN DATABASE_AUTH=iam THEN plain connections and a password secret are refused, naming the variable", () => {
    const secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";
    const table: [NodeJS.ProcessEnv, RegExp][] = [
      [
        { DATABASE_URL: `postgres://app_rt@${WRITER}/app`, DATABASE_AUTH: "iam" },
        /^EnvironmentError: DATABASE_URL has no TLS/,
      ],
      [
        {
          DATABASE_URL: `postgres://app_rt@${WRITER}/app?sslmode=require`,
          DATABASE_READ_URLS: `postgres://app_rt@${READER}/app`,
          DATABASE_AUTH: "iam",
        },
        /^EnvironmentError: DATABASE_READ_URLS has no TLS/,
      ],
      [
        {
          DATABASE_URL: `postgres://app_rt@${WRITER}/app?sslmode=require`,
          DATABASE_AUTH: "iam",
          DATABASE_SECRET_ARN: secret,
        },
        /^EnvironmentError: DATABASE_SECRET_ARN/,
      ],
      [
        { DATABASE_URL: `postgres://app_rt@${WRITER}/app`, DATABASE_AUTH: "kerberos" },
        /^EnvironmentError: DATABASE_AUTH is "kerberos"; use one of password, iam/,
      ],
    ];
    for (const [env, message] of table) assert.throws(() => loadConfig(env), message);
    const config = loadConfig({
      DATABASE_URL: `postgres://app_rt@${WRITER}/app?sslmode=verify-full`,
      DATABASE_AUTH: "iam",
    });
    assert.equal(config.database.kind === "postgres" && config.database.auth, "iam");
  });
});

describe("the pools take each connection's password from the provider", () => {
  const services = needServices("database", "replica");
  it(
    "GIVEN a password provider WHEN the writer and the reader connect THEN each asks it for its own endpoint",
    { skip: services.skip },
    async () => {
      const env = services.env();
      const asked: string[] = [];
      const writer = parsePostgresUrl("TEST_DATABASE_URL", env.databaseUrl, undefined);
      const reader = parsePostgresUrl("TEST_DATABASE_READ_URLS", env.readUrls[0]!, undefined);
      const database = openPostgres({
        // The provider stands in for the token signer, which RDS alone can verify.
        writer: { ...writer, password: undefined },
        readers: [{ ...reader, password: undefined }],
        logger: captureLogs().logger,
        passwordFor: (target) => async () => {
          asked.push(`${target.user}@${target.port}`);
          return target.port === writer.port ? writer.password! : reader.password!;
        },
      });
      try {
        await database.writer("SELECT 1");
        await database.reader("SELECT 1");
        assert.deepEqual(asked, [`${writer.user}@${writer.port}`, `${reader.user}@${reader.port}`]);
      } finally {
        await database.close();
      }
    },
  );
});
