/** The embedded database: PostgreSQL compiled to WebAssembly, in this process, data on disk. */
import { mkdir } from "node:fs/promises";
import { PGlite, type Transaction as PGliteTransaction } from "@electric-sql/pglite";
import type { Database, QueryFn, Row, Transaction } from "./database";

function queryOn(target: PGlite | PGliteTransaction): QueryFn {
  return async <R extends Row = Row>(sql: string, params: unknown[] = []) =>
    (await target.query<R>(sql, params)).rows;
}

/** Opens (creating if needed) the database in `dataDir`; `undefined` keeps it in memory. */
export async function openPGlite(dataDir: string | undefined): Promise<Database> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const query = queryOn(db);
  return {
    kind: "pglite",
    // One process, one copy of the data: there is no replica to read from.
    writer: query,
    reader: query,
    replicas: [],
    // PGlite runs one transaction at a time, which is what keeps concurrent migrators in one
    // process apart (the advisory lock is re-entrant within its single session).
    transaction: <T>(work: (tx: Transaction) => Promise<T>) =>
      db.transaction(async (tx) =>
        work({
          query: queryOn(tx),
          exec: async (sql) => {
            await tx.exec(sql);
          },
        }),
      ),
    ping: async () => {
      await db.query("SELECT 1");
    },
    close: async () => {
      if (!db.closed) await db.close();
    },
  };
}
