// Against the real PostgreSQL primary and its streaming replica (scripts/services.sh).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { migrate } from "../../../app/src/migrations";
import { migrationsDir } from "../../../app/src/paths";
import { createMemoryCache } from "../../../app/src/tiers/cache";
import type { Database } from "../../../app/src/tiers/database";
import { LocalFileStore } from "../../../app/src/tiers/files";
import { captureLogs, eventually, makeTempDir } from "../support/helpers";
import {
  isolatedSchema,
  migratedSchema,
  openTestPostgres,
  needServices,
  startServiceApp,
  type ServiceApp,
} from "../support/services";
import { TcpProxy } from "../support/tcpProxy";

async function inRecovery(query: Database["reader"]): Promise<boolean> {
  const [row] = await query<{ recovery: boolean }>("SELECT pg_is_in_recovery() AS recovery");
  return row?.recovery === true;
}

const services = needServices("database", "replica");

describe("PostgreSQL primary and replica", { skip: services.skip }, () => {
  let schema: Awaited<ReturnType<typeof migratedSchema>>;
  let writerUrl: string;
  let replicaUrl: string;

  before(async () => {
    const env = services.env();
    schema = await migratedSchema(env.databaseUrl);
    writerUrl = schema.writerUrl;
    replicaUrl = schema.url(env.readUrls[0]!);
  });
  after(async () => {
    await schema?.drop();
  });

  it("GIVEN a fresh schema WHEN four instances migrate at once THEN each migration is applied once", async () => {
    const fresh = await isolatedSchema(services.env().databaseUrl);
    const databases = Array.from({ length: 4 }, () =>
      openTestPostgres(fresh.url(services.env().databaseUrl), [], captureLogs().logger),
    );
    try {
      const applied = await Promise.all(
        databases.map((db) => migrate(db, migrationsDir(), captureLogs().logger)),
      );
      const versions = applied.flat().sort();
      assert.deepEqual(versions, [...new Set(versions)], "no version applied twice");
      const rows = await databases[0]!.writer("SELECT version FROM schema_migrations");
      assert.equal(rows.length, versions.length);
    } finally {
      await Promise.all(databases.map((db) => db.close()));
      await fresh.drop();
    }
  });

  describe("read/write split through the app", () => {
    let t: ServiceApp;
    let db: Database;
    let files: { path: string; remove(): Promise<void> };

    before(async () => {
      files = await makeTempDir("pg-files-");
      const logs = captureLogs();
      db = openTestPostgres(writerUrl, [replicaUrl], logs.logger);
      t = await startServiceApp(
        {
          database: db,
          files: new LocalFileStore({ dir: files.path }),
        },
        { logs },
      );
    });
    after(async () => {
      await t?.app.close();
      await files?.remove();
    });

    it("GIVEN the two pools THEN the writer is the primary and the reader the replica", async () => {
      assert.equal(await inRecovery(db.writer), false);
      assert.equal(await inRecovery(db.reader), true);
    });

    it("GIVEN a user written to the primary WHEN another client reads it THEN the replica serves it once replicated", async () => {
      const created = await t.app.inject({
        method: "POST",
        url: "/users",
        payload: { name: "Replicated", email: "replicated@example.com", password: "12345678" },
      });
      assert.equal(created.statusCode, 201);
      const id = created.json().id as string;
      const [row] = await eventually(async () => {
        const rows = await db.reader<{ name: string }>(
          "SELECT name FROM users WHERE public_id = $1",
          [id],
        );
        return rows.length > 0 ? rows : undefined;
      }, "the row on the replica");
      assert.equal(row?.name, "Replicated");
      const read = await t.app.inject({ method: "GET", url: `/users/${id}` });
      assert.equal(read.statusCode, 200);
      assert.equal(read.json().name, "Replicated");
    });

    it("GIVEN a client that just wrote WHEN it reads at once THEN it sees its write (writer), never a 404", async () => {
      for (let i = 0; i < 5; i += 1) {
        const created = await t.app.inject({
          method: "POST",
          url: "/users",
          payload: { name: `Fresh ${i}`, email: `fresh${i}@example.com`, password: "12345678" },
        });
        const cookie = [created.headers["set-cookie"] ?? []]
          .flat()
          .map((c) => c.split(";")[0])
          .join("; ");
        const read = await t.app.inject({
          method: "GET",
          url: `/users/${created.json().id}`,
          headers: { cookie },
        });
        assert.equal(read.statusCode, 200);
      }
    });
  });

  describe("a reader down", () => {
    let proxy: TcpProxy;
    let t: ServiceApp;
    let files: { path: string; remove(): Promise<void> };
    let userId: string;

    before(async () => {
      proxy = await TcpProxy.start(replicaUrl);
      files = await makeTempDir("pg-down-files-");
      const logs = captureLogs();
      // Two readers: the replica through a proxy the test can cut, and the replica directly.
      const db = openTestPostgres(
        writerUrl,
        [proxy.urlFor(replicaUrl), replicaUrl],
        logs.logger,
        300,
      );
      t = await startServiceApp(
        {
          database: db,
          // A cache that never hits, so that every read reaches a reader.
          cache: { ...createMemoryCache(), get: async () => undefined },
          files: new LocalFileStore({ dir: files.path }),
        },
        { logs },
      );
      const created = await t.app.inject({
        method: "POST",
        url: "/users",
        payload: { name: "Survivor", email: "survivor@example.com", password: "12345678" },
      });
      userId = created.json().id;
      await eventually(async () => {
        const read = await t.app.inject({ method: "GET", url: `/users/${userId}` });
        return read.statusCode === 200 ? true : undefined;
      }, "replication");
    });
    after(async () => {
      await t?.app.close();
      await proxy?.close();
      await files?.remove();
    });

    async function readMany(count: number): Promise<number[]> {
      const statuses: number[] = [];
      for (let i = 0; i < count; i += 1) {
        const response = await t.app.inject({ method: "GET", url: `/users/${userId}` });
        statuses.push(response.statusCode);
      }
      return statuses;
    }

    it("GIVEN one of two readers cut off WHEN reading repeatedly THEN every read succeeds via the other", async () => {
      proxy.cut();
      const statuses = await readMany(10);
      assert.deepEqual(statuses, Array(10).fill(200));
      assert.ok(
        t.logs.lines().some((line) => line.degraded === "reader"),
        "the lost reader is logged as degraded",
      );
      proxy.restore();
    });

    it("GIVEN every reader cut off WHEN reading THEN the writer serves; once restored the reader is used again", async () => {
      proxy.cut();
      const logs = captureLogs();
      const onlyCut = openTestPostgres(writerUrl, [proxy.urlFor(replicaUrl)], logs.logger, 300);
      try {
        const [row] = await onlyCut.reader<{ recovery: boolean }>(
          "SELECT pg_is_in_recovery() AS recovery",
        );
        assert.equal(row?.recovery, false, "the writer answered the read");
        proxy.restore();
        const back = await eventually(async () => {
          const [again] = await onlyCut.reader<{ recovery: boolean }>(
            "SELECT pg_is_in_recovery() AS recovery",
          );
          return again?.recovery === true ? true : undefined;
        }, "the reader to come back after its backoff");
        assert.equal(back, true);
      } finally {
        proxy.restore();
        await onlyCut.close();
      }
    });
  });
});
