/**
 * The database tier: one writer and any number of readers, with the same SQL on PGlite (embedded)
 * and PostgreSQL (full stack). Callers pick the side explicitly: `writer` for writes and reads that
 * must see them, `reader` for everything that can tolerate replication lag.
 */

export type Row = Record<string, unknown>;

/** Runs one parameterised statement and returns its rows. */
export type QueryFn = <R extends Row = Row>(sql: string, params?: unknown[]) => Promise<R[]>;

export interface Transaction {
  query: QueryFn;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database {
  readonly kind: "pglite" | "postgres";
  readonly writer: QueryFn;
  readonly reader: QueryFn;
  /**
   * Each replica of this region on its own (empty when reads go to the writer): for reads that
   * must come from a replica that has replayed the WAL up to a given LSN (replication/lsn.ts).
   */
  readonly replicas: readonly QueryFn[];
  /** Runs `work` in one transaction on the writer: committed if it resolves, rolled back if not. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Throws unless the writer answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL's SQLSTATE for a unique constraint violation. */
export const UNIQUE_VIOLATION = "23505";

export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
