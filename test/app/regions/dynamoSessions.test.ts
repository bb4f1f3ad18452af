// Sessions in a DynamoDB table (a global table on AWS), against moto: a user's session works in
// either region's app, signing out and deleting the account end all of that user's sessions, and
// when DynamoDB cannot be reached sign-in and /me answer 503 with Retry-After while public reads go on.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  QueryCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { FastifyInstance } from "fastify";
import { DynamoSessionStore, SESSIONS_TABLE_SCHEMA } from "../../../app/src/tiers/dynamoSessions";
import { LocalFileStore } from "../../../app/src/tiers/files";
import { SessionStoreUnavailableError } from "../../../app/src/tiers/sessions";
import { captureLogs, CookieJar, makeTempDir } from "../support/helpers";
import {
  isolatedSchema,
  openTestPostgres,
  needServices,
  startServiceApp,
  TEST_AWS_REGION,
  uniqueName,
  type ServiceApp,
} from "../support/services";
import { TcpProxy } from "../support/tcpProxy";

/** The table as the infrastructure creates it: keys, on-demand billing, TTL on expiresAt. */
async function createSessionsTable(dynamo: DynamoDBClient, table: string): Promise<void> {
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: SESSIONS_TABLE_SCHEMA.partitionKey, AttributeType: "S" },
        { AttributeName: SESSIONS_TABLE_SCHEMA.sortKey, AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: SESSIONS_TABLE_SCHEMA.partitionKey, KeyType: "HASH" },
        { AttributeName: SESSIONS_TABLE_SCHEMA.sortKey, KeyType: "RANGE" },
      ],
    }),
  );
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 30 }, { TableName: table });
  await dynamo.send(
    new UpdateTimeToLiveCommand({
      TableName: table,
      TimeToLiveSpecification: { AttributeName: SESSIONS_TABLE_SCHEMA.ttlAttribute, Enabled: true },
    }),
  );
}

const services = needServices("aws", "database");

describe("sessions in DynamoDB", { skip: services.skip }, () => {
  let dynamo: DynamoDBClient;
  let endpoint: string;
  const table = uniqueName("sessions");
  const cleanups: (() => Promise<void>)[] = [];
  let schema: Awaited<ReturnType<typeof isolatedSchema>>;
  let databaseUrl: string;

  before(async () => {
    const env = services.env();
    endpoint = env.awsEndpoint;
    schema = await isolatedSchema(env.databaseUrl);
    databaseUrl = schema.url(env.databaseUrl);
    dynamo = new DynamoDBClient({ region: TEST_AWS_REGION, endpoint });
    await createSessionsTable(dynamo, table);
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    dynamo.destroy();
    await schema.drop();
  });

  /** A region's app: its own cache and pools, the shared database and sessions table. */
  async function regionApp(sessionsEndpoint = endpoint): Promise<ServiceApp> {
    const dir = await makeTempDir("dynamo-sessions-");
    const logs = captureLogs();
    const t = await startServiceApp(
      {
        database: openTestPostgres(databaseUrl, [], logs.logger),
        sessions: new DynamoSessionStore({
          table,
          region: TEST_AWS_REGION,
          endpoint: sessionsEndpoint,
          requestTimeoutMs: 500,
        }),
        files: new LocalFileStore({ dir: `${dir.path}/files` }),
      },
      { role: "web", logs },
    );
    cleanups.push(async () => {
      await t.app.close();
      await dir.remove();
    });
    return t;
  }

  async function signUpAndIn(app: FastifyInstance, email: string) {
    const created = await app.inject({
      method: "POST",
      url: "/users",
      payload: { name: "Sessions", email, password: "12345678" },
    });
    assert.equal(created.statusCode, 201, created.body);
    return { id: created.json().id as string, jar: await signIn(app, email) };
  }

  async function signIn(app: FastifyInstance, email: string): Promise<CookieJar> {
    const jar = new CookieJar();
    const signedIn = await app.inject({
      method: "POST",
      url: "/sessions",
      payload: { email, password: "12345678" },
    });
    assert.equal(signedIn.statusCode, 201, signedIn.body);
    jar.store(signedIn.headers["set-cookie"]);
    return jar;
  }

  const me = (app: FastifyInstance, jar: CookieJar) => jar.send(app, { method: "GET", url: "/me" });

  async function itemsOf(userId: string) {
    const result = await dynamo.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "userId = :u",
        ExpressionAttributeValues: { ":u": { S: userId } },
        ConsistentRead: true,
      }),
    );
    return result.Items ?? [];
  }

  it("GIVEN a session created through one region's app WHEN the other region's app reads it THEN the user is signed in there too", async () => {
    const first = await regionApp();
    const second = await regionApp();
    const { jar } = await signUpAndIn(first.app, "traveller@example.com");
    assert.equal((await me(first.app, jar)).statusCode, 200);
    const there = await me(second.app, jar);
    assert.equal(there.statusCode, 200, there.body);
  });

  it("GIVEN a stored session THEN the item holds the secret's hash, never the cookie's secret, and an expiry for TTL", async () => {
    const t = await regionApp();
    const { id, jar } = await signUpAndIn(t.app, "hashed@example.com");
    const secret = jar.get("sid")!.split(".").pop()!;
    const [item] = await itemsOf(id);
    assert.ok(item !== undefined);
    assert.ok(!JSON.stringify(item).includes(secret));
    const expiresAt = Number(item.expiresAt?.N);
    assert.ok(expiresAt > Date.now() / 1000, "expiresAt is in epoch seconds, in the future");
  });

  it("GIVEN two devices signed in WHEN one signs out THEN both are signed out (every session of the user)", async () => {
    const t = await regionApp();
    const { id, jar: laptop } = await signUpAndIn(t.app, "two-devices@example.com");
    const phone = await signIn(t.app, "two-devices@example.com");
    assert.equal((await itemsOf(id)).length, 2);
    const out = await laptop.send(t.app, { method: "DELETE", url: "/sessions" });
    assert.equal(out.statusCode, 204);
    assert.equal((await me(t.app, phone)).statusCode, 401);
    assert.equal((await me(t.app, laptop)).statusCode, 401);
    assert.deepEqual(await itemsOf(id), []);
  });

  it("GIVEN two devices signed in WHEN the account is deleted THEN no session of it is left", async () => {
    const t = await regionApp();
    const { id, jar } = await signUpAndIn(t.app, "leaving@example.com");
    await signIn(t.app, "leaving@example.com");
    const deleted = await jar.send(t.app, { method: "DELETE", url: `/users/${id}` });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assert.deepEqual(await itemsOf(id), []);
  });

  it("GIVEN a session past its expiry that TTL has not deleted yet THEN it is not accepted", async () => {
    let now = Date.now();
    const store = new DynamoSessionStore({
      table,
      region: TEST_AWS_REGION,
      endpoint,
      now: () => now,
    });
    try {
      const sessionId = await store.create({ userId: "ttl-user", createdAt: "x" }, 60_000);
      assert.deepEqual(await store.get(sessionId), { userId: "ttl-user", createdAt: "x" });
      now += 61_000;
      assert.equal(await store.get(sessionId), undefined);
      assert.equal(await store.get("no-dot-in-this-id"), undefined);
      assert.equal(await store.get(`ttl-user.${"forged"}`), undefined);
    } finally {
      await store.revokeUser("ttl-user");
      await store.close();
    }
  });

  describe("DynamoDB unreachable", () => {
    let proxy: TcpProxy;
    let t: ServiceApp;
    let userId: string;
    let jar: CookieJar;

    before(async () => {
      proxy = await TcpProxy.start(endpoint);
      t = await regionApp(`http://127.0.0.1:${proxy.port}`);
      ({ id: userId, jar } = await signUpAndIn(t.app, "outage@example.com"));
      proxy.cut();
    });
    after(async () => {
      await proxy?.close();
    });

    it("THEN sign-in answers 503 with Retry-After", async () => {
      const signedIn = await t.app.inject({
        method: "POST",
        url: "/sessions",
        payload: { email: "outage@example.com", password: "12345678" },
      });
      assert.equal(signedIn.statusCode, 503);
      assert.equal(signedIn.headers["retry-after"], "5");
      assert.equal(signedIn.json().error, "sessions_unavailable");
    });

    it("THEN /me answers 503 with Retry-After, never a silent sign-out", async () => {
      const read = await me(t.app, jar);
      assert.equal(read.statusCode, 503);
      assert.equal(read.headers["retry-after"], "5");
      assert.ok(
        jar.get("sid") !== undefined && !String(read.headers["set-cookie"] ?? "").includes("sid="),
      );
    });

    it("THEN public reads still work", async () => {
      const read = await t.app.inject({ method: "GET", url: `/users/${userId}` });
      assert.equal(read.statusCode, 200);
    });

    it("THEN the store's own error says it is unavailable", async () => {
      const store = new DynamoSessionStore({
        table,
        region: TEST_AWS_REGION,
        endpoint: `http://127.0.0.1:${proxy.port}`,
        requestTimeoutMs: 500,
      });
      try {
        await assert.rejects(store.get("u.secret"), SessionStoreUnavailableError);
      } finally {
        await store.close();
      }
    });
  });
});
