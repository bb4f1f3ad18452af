// Sharding by user id on real PostgreSQL, three physical shards (test/app/support/shards.ts):
// the API speaks public ids (random UUIDs), the directory maps them to internal ids, which say
// their logical shard; every row a user owns is on the shard the map names, and an email
// belongs to one account across all shards, also when sign-ups for it race on different shards.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { newThumbnailJob, processThumbnailJob } from "../../../app/src/jobs/thumbnail";
import { reserveEmail, RESERVATION_GRACE_MS } from "../../../app/src/sharding/accounts";
import { idParts, LOGICAL_SHARDS, logicalShardOf } from "../../../app/src/sharding/ids";
import { CookieJar, makePng } from "../support/helpers";
import { needServices, uniqueName } from "../support/services";
import { PHYSICAL_SHARDS, startShardedStack, type ShardedStack } from "../support/shards";

const services = needServices("database");

describe("sharding by user id (three physical shards)", { skip: services.skip }, () => {
  let s: ShardedStack;

  before(async () => {
    s = await startShardedStack(services.env().databaseUrl);
  });
  after(async () => {
    await s?.close();
  });

  const newUser = (name = uniqueName("user")) => ({
    name,
    email: `${name}@example.com`,
    password: "correct horse battery staple",
  });

  /** The internal id the directory holds for a public id (it never leaves the server). */
  async function internalId(publicId: string): Promise<string | undefined> {
    const [row] = await s.sql(
      0,
      "SELECT user_id::text AS user_id FROM user_public_ids WHERE public_id = $1",
      [publicId],
    );
    return row?.user_id as string | undefined;
  }

  /** Signs up; `id` is the public id the API returned, `userId` the internal one. */
  async function signUp(user = newUser()) {
    const response = await s.service.app.inject({ method: "POST", url: "/users", payload: user });
    assert.equal(response.statusCode, 201, response.body);
    const created = response.json<{ id: string; email: string }>();
    const userId = await internalId(created.id);
    assert.ok(userId !== undefined, "the directory maps the new public id");
    assert.ok(!response.body.includes(userId), "the internal id never leaves the server");
    return { ...created, userId };
  }

  /** Physical shards holding a row of `table` whose `column` is `id`. */
  async function whereIs(table: string, column: string, id: string): Promise<number[]> {
    const found: number[] = [];
    for (let shard = 0; shard < PHYSICAL_SHARDS; shard += 1) {
      const rows = await s.sql(shard, `SELECT 1 FROM ${table} WHERE ${column} = $1`, [id]);
      if (rows.length > 0) found.push(shard);
    }
    return found;
  }

  it("GIVEN sign-ups THEN public ids are UUIDs, internal ids are decimal strings past 2^53 that name their logical shard, and each user is on the one physical shard the map gives it", async () => {
    const users = [];
    for (let index = 0; index < 12; index += 1) users.push(await signUp());
    const physicals = new Set<number>();
    for (const user of users) {
      assert.match(
        user.id,
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.match(user.userId, /^[1-9][0-9]+$/);
      assert.ok(BigInt(user.userId) > BigInt(Number.MAX_SAFE_INTEGER));
      const parts = idParts(user.userId);
      assert.ok(Math.abs(parts.createdAtMs - Date.now()) < 60_000, "the id carries its time");
      const home = s.shards.physicalShardOf(logicalShardOf(user.userId));
      physicals.add(home);
      assert.deepEqual(await whereIs("users", "id", user.userId), [home]);
      assert.deepEqual(await whereIs("users", "public_id", user.id), [home]);
      const read = await s.service.app.inject({ method: "GET", url: `/users/${user.id}` });
      assert.equal(read.statusCode, 200);
      assert.equal(read.json<{ id: string }>().id, user.id);
    }
    assert.equal(physicals.size, PHYSICAL_SHARDS, "consecutive sign-ups spread over every shard");
    const logicals = new Set(users.map((user) => logicalShardOf(user.userId)));
    assert.equal(logicals.size, users.length, "round robin: no two of them share a logical shard");
  });

  it("GIVEN the OpenAPI document THEN user ids are strings in responses and parameters", async () => {
    await s.service.app.ready();
    const spec = s.service.app.swagger() as unknown as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: { name: string; schema: { type: string } }[];
            responses: Record<
              string,
              {
                content?: Record<
                  string,
                  { schema: { properties?: Record<string, { type: string }> } }
                >;
              }
            >;
          }
        >
      >;
    };
    const read = spec.paths["/users/{id}"]!.get!;
    assert.equal(read.parameters?.find((p) => p.name === "id")?.schema.type, "string");
    const created = spec.paths["/users"]!.post!.responses["201"]!.content!["application/json"]!;
    assert.equal(created.schema.properties?.id?.type, "string");
  });

  it("GIVEN a processed photo job THEN its record is on the user's shard, next to the user", async () => {
    const user = await signUp();
    const key = `uploads/${user.id}/${crypto.randomUUID()}.png`;
    await s.files.write(key, await makePng(), "image/png");
    const job = newThumbnailJob(user.id, key);
    const outcome = await processThumbnailJob(job, {
      shards: s.shards,
      files: s.files,
      cache: s.service.app.services.cache,
      logger: s.service.logs.logger,
      maxUploadBytes: 5 * 1024 * 1024,
    });
    assert.equal(outcome, "processed");
    const home = s.shards.physicalShardOf(logicalShardOf(user.userId));
    assert.deepEqual(await whereIs("jobs", "id", job.id), [home]);
    const [row] = await s.sql(home, "SELECT user_id::text AS user_id FROM jobs WHERE id = $1", [
      job.id,
    ]);
    assert.equal(row?.user_id, user.userId);
  });

  it("GIVEN 16 concurrent sign-ups with one email, each on another logical shard THEN exactly one succeeds and one row exists across all shards", async () => {
    const user = newUser();
    const responses = await Promise.all(
      Array.from({ length: 16 }, () =>
        s.service.app.inject({ method: "POST", url: "/users", payload: { ...user } }),
      ),
    );
    const codes = responses.map((response) => response.statusCode).sort();
    assert.deepEqual(
      codes,
      [201, ...Array.from({ length: 15 }, () => 409)],
      responses.map((response) => response.body).join("\n"),
    );
    let rows = 0;
    for (let shard = 0; shard < PHYSICAL_SHARDS; shard += 1) {
      rows += (await s.sql(shard, "SELECT 1 FROM users WHERE email = $1", [user.email])).length;
    }
    assert.equal(rows, 1);
    const directory = await s.sql(
      0,
      "SELECT user_id::text AS id FROM user_directory WHERE email = $1",
      [user.email],
    );
    const winner = responses.find((r) => r.statusCode === 201)!.json<{ id: string }>().id;
    assert.deepEqual(
      directory.map((row) => row.id),
      [await internalId(winner)],
    );
    const publicIds = await s.sql(
      0,
      "SELECT public_id::text AS id FROM user_public_ids WHERE user_id = ANY($1::bigint[])",
      [directory.map((row) => row.id)],
    );
    assert.deepEqual(
      publicIds.map((row) => row.id),
      [winner],
      "the losers' reservations left no public id behind",
    );
  });

  it("GIVEN two users changing to one address at once THEN one gets it and the other 409", async () => {
    const jars: CookieJar[] = [];
    const ids: string[] = [];
    const userIds: string[] = [];
    const passwords: string[] = [];
    for (let index = 0; index < 2; index += 1) {
      const user = newUser();
      const created = await signUp(user);
      passwords.push(user.password);
      ids.push(created.id);
      userIds.push(created.userId);
      const jar = new CookieJar();
      const signIn = await s.service.app.inject({
        method: "POST",
        url: "/sessions",
        payload: { email: user.email, password: user.password },
      });
      assert.equal(signIn.statusCode, 201);
      jar.store(signIn.headers["set-cookie"]);
      jars.push(jar);
    }
    const wanted = `${uniqueName("wanted")}@example.com`;
    const responses = await Promise.all(
      ids.map((id, index) =>
        s.service.app.inject({
          method: "PATCH",
          url: `/users/${id}`,
          headers: { cookie: jars[index]!.header() },
          payload: { email: wanted, currentPassword: passwords[index] },
        }),
      ),
    );
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [200, 409]);
    const winner = userIds[responses.findIndex((r) => r.statusCode === 200)]!;
    const directory = await s.sql(
      0,
      "SELECT user_id::text AS id FROM user_directory WHERE email = $1",
      [wanted],
    );
    assert.deepEqual(
      directory.map((row) => row.id),
      [winner],
    );
  });

  it("GIVEN a sign-up that died after reserving its email THEN the email is held for the grace period, then reclaimed", async () => {
    const user = newUser();
    const dead = await reserveEmail(s.shards, user.email); // no row on any shard follows
    const refused = await s.service.app.inject({ method: "POST", url: "/users", payload: user });
    assert.equal(refused.statusCode, 409, "a sign-up in flight is never robbed");
    await s.sql(
      0,
      "UPDATE user_directory SET reserved_at = now() - make_interval(secs => $2) WHERE email = $1",
      [user.email, (RESERVATION_GRACE_MS / 1000) * 2],
    );
    const created = await signUp(user);
    assert.notEqual(created.userId, dead.userId);
    assert.notEqual(created.id, dead.publicId);
    assert.equal(
      await internalId(dead.publicId),
      undefined,
      "the dead public id was reclaimed too",
    );
    const signIn = await s.service.app.inject({
      method: "POST",
      url: "/sessions",
      payload: { email: user.email, password: user.password },
    });
    assert.equal(signIn.statusCode, 201);
  });

  it("GIVEN a deleted account THEN its email is free for a new sign-up at once", async () => {
    const user = newUser();
    const created = await signUp(user);
    const jar = new CookieJar();
    const signIn = await s.service.app.inject({
      method: "POST",
      url: "/sessions",
      payload: { email: user.email, password: user.password },
    });
    jar.store(signIn.headers["set-cookie"]);
    const deleted = await s.service.app.inject({
      method: "DELETE",
      url: `/users/${created.id}`,
      headers: { cookie: jar.header() },
    });
    assert.equal(deleted.statusCode, 204);
    assert.equal(await internalId(created.id), undefined, "the public id left the directory");
    const read = await s.service.app.inject({ method: "GET", url: `/users/${created.id}` });
    assert.equal(read.statusCode, 404);
    await signUp(user);
  });

  it("GIVEN one user read far more than others THEN the hot-shard report names its logical shard first", async () => {
    const celebrity = await signUp();
    const fan = await signUp();
    s.shards.takeHotShards(1); // start counting now
    for (let index = 0; index < 30; index += 1) {
      await s.service.app.inject({ method: "GET", url: `/users/${celebrity.id}` });
    }
    await s.service.app.inject({ method: "GET", url: `/users/${fan.id}` });
    const [hottest] = s.shards.takeHotShards(5);
    assert.equal(hottest?.logicalShard, logicalShardOf(celebrity.userId));
    assert.ok(hottest!.logicalShard < LOGICAL_SHARDS);
    assert.equal(hottest?.physicalShard, s.shards.physicalShardOf(hottest.logicalShard));
  });
});
