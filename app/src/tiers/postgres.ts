/** The full-stack database: a writer pool and round-robin reader pools with failover. */
import pg from "pg";
import type { Logger } from "pino";
import type { PostgresTarget } from "../config";
import { errorCode, type Database, type QueryFn, type Row, type Transaction } from "./database";
import type { RotatingPassword } from "./databasePassword";

/** Node socket errors that mean "this server cannot be reached", not "this query is wrong". */
const SOCKET_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs after which another server may well answer: connection exceptions (class 08),
 * shutdowns, a replica still starting, and a query cancelled by a replication conflict.
 */
const RETRY_ELSEWHERE_STATES = new Set(["57P01", "57P02", "57P03", "40001"]);

/** pg reports lost connections and its own timeouts as plain errors with these messages. */
const CONNECTION_MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|connection timeout|query read timeout|server closed the connection|not queryable/i;

/** True when the error says the server is unreachable or unusable, so another one should be tried. */
export function isConnectionError(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && (SOCKET_ERRORS.has(code) || RETRY_ELSEWHERE_STATES.has(code))) {
    return true;
  }
  if (code?.startsWith("08")) return true;
  return error instanceof Error && CONNECTION_MESSAGES.test(error.message);
}

export interface ReaderTarget {
  /** For logs: host:port, never credentials. */
  name: string;
  query: QueryFn;
}

export interface ReadRouterOptions {
  readers: ReaderTarget[];
  writer: ReaderTarget;
  /** How long a reader that failed to connect is skipped. */
  downForMs?: number;
  logger: Logger;
  now?: () => number;
}

/** A reader found down: skipped without a connection attempt until its back-off ends. */
export class ReaderDownError extends Error {
  readonly code = "ECONNREFUSED";
  constructor(reader: string) {
    super(`reader ${reader} is skipped after a connection failure`);
    this.name = "ReaderDownError";
  }
}

/**
 * Each reader on its own, sharing the router's view of which readers are down: a reader that
 * failed to connect is skipped (a ReaderDownError at once) for `downForMs`, and its failure is
 * logged once. Reads that must come from one particular replica go through these.
 */
export function guardReaders(options: ReadRouterOptions): ReaderTarget[] {
  const { readers, logger } = options;
  const downForMs = options.downForMs ?? 5_000;
  const now = options.now ?? Date.now;
  const downUntil = readers.map(() => 0);
  return readers.map((reader, index) => ({
    name: reader.name,
    query: async <R extends Row = Row>(sql: string, params?: unknown[]) => {
      if (downUntil[index]! > now()) throw new ReaderDownError(reader.name);
      try {
        return await reader.query<R>(sql, params);
      } catch (error) {
        if (isConnectionError(error)) {
          downUntil[index] = now() + downForMs;
          logger.warn(
            { degraded: "reader", reader: reader.name, err: error, downForMs },
            "reader unreachable; trying the next reader, then the writer",
          );
        }
        throw error;
      }
    },
  }));
}

/**
 * Spreads reads round-robin over the readers. A reader that fails with a connection error is
 * skipped for `downForMs` and the read moves on to the next one, then to the writer, so one lost
 * replica never fails a request. Other errors (bad SQL, constraint) are the caller's and propagate.
 */
export function createReadRouter(options: ReadRouterOptions): QueryFn {
  return routeOver(guardReaders(options), options.writer);
}

/** Round-robin over readers already guarded (guardReaders), then the writer. */
export function routeOver(readers: ReaderTarget[], writer: ReaderTarget): QueryFn {
  let next = 0;
  return async <R extends Row = Row>(sql: string, params?: unknown[]) => {
    const start = next;
    next = readers.length === 0 ? 0 : (next + 1) % readers.length;
    for (let offset = 0; offset < readers.length; offset += 1) {
      const reader = readers[(start + offset) % readers.length]!;
      try {
        return await reader.query<R>(sql, params);
      } catch (error) {
        if (!isConnectionError(error)) throw error;
      }
    }
    return writer.query<R>(sql, params);
  };
}

export interface PostgresOptions {
  writer: PostgresTarget;
  readers: PostgresTarget[];
  logger: Logger;
  /** Per pool. Small on purpose: many tasks share one RDS instance's connection limit. */
  poolSize?: number;
  connectTimeoutMs?: number;
  /** A query still unanswered after this is abandoned (a half-open connection never answers). */
  queryTimeoutMs?: number;
  readerDownForMs?: number;
  /**
   * The rotating master password (DATABASE_SECRET_ARN), shared by the writer and every reader:
   * each new connection asks it for the password, and one refused with 28P01 is retried once after
   * a re-read of the secret. The database owns it from here (close() closes it).
   */
  password?: RotatingPassword;
  /**
   * Where each pool's connections get their password, when not from `password` or the target's
   * own: IAM authentication's per-connection token (DATABASE_AUTH=iam, see iamAuth.ts).
   */
  passwordFor?: (target: PostgresTarget) => () => Promise<string>;
}

function poolFor(target: PostgresTarget, options: PostgresOptions, role: string): pg.Pool {
  const pool = new pg.Pool({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password:
      options.passwordFor !== undefined
        ? options.passwordFor(target)
        : options.password === undefined
          ? target.password
          : options.password.passwordFor(target.password),
    ssl: target.ssl,
    ...(target.options === undefined ? {} : { options: target.options }),
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3_000,
    query_timeout: options.queryTimeoutMs ?? 15_000,
    idleTimeoutMillis: 30_000,
    application_name: `zero-to-millions-${role}`,
  });
  // An idle client whose server went away emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection.
  pool.on("error", (error) => {
    options.logger.warn({ err: error, database: role }, "idle database connection lost");
  });
  return pool;
}

function queryOn(target: pg.PoolClient): QueryFn {
  return async <R extends Row = Row>(sql: string, params: unknown[] = []) =>
    (await target.query<R>(sql, params)).rows;
}

/** Runs a statement on a pool, retrying once when a rotated password refused the new connection. */
function queryOnPool(pool: pg.Pool, password: RotatingPassword | undefined): QueryFn {
  return async <R extends Row = Row>(sql: string, params: unknown[] = []) => {
    const run = () => pool.query<R>(sql, params);
    return (await (password === undefined ? run() : password.retryOnAuthFailure(run))).rows;
  };
}

export function openPostgres(options: PostgresOptions): Database {
  const writerPool = poolFor(options.writer, options, "writer");
  const readerPools = options.readers.map((target, index) =>
    poolFor(target, options, `reader-${index}`),
  );
  const { password } = options;
  const writer = queryOnPool(writerPool, password);
  const writerTarget = { name: `${options.writer.host}:${options.writer.port}`, query: writer };
  const replicas = guardReaders({
    writer: writerTarget,
    readers: readerPools.map((pool, index) => ({
      name: `${options.readers[index]!.host}:${options.readers[index]!.port}`,
      query: queryOnPool(pool, password),
    })),
    logger: options.logger,
    ...(options.readerDownForMs === undefined ? {} : { downForMs: options.readerDownForMs }),
  });
  const reader = routeOver(replicas, writerTarget);

  return {
    kind: "postgres",
    writer,
    reader,
    replicas: replicas.map((replica) => replica.query),
    transaction: async <T>(work: (tx: Transaction) => Promise<T>) => {
      const connect = () => writerPool.connect();
      const client = await (password === undefined
        ? connect()
        : password.retryOnAuthFailure(connect));
      let broken: Error | undefined;
      // A checked-out client has no pool listening for its errors: without this, a connection
      // dropped mid-transaction (a failover) would be an unhandled 'error' event and end the process.
      const onError = (error: Error) => (broken = error);
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await work({
          query: queryOn(client),
          exec: async (sql) => {
            await client.query(sql);
          },
        });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        // A connection that failed mid-transaction is thrown away rather than reused.
        if (isConnectionError(error) && error instanceof Error) broken = error;
        else await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.off("error", onError);
        client.release(broken);
      }
    },
    ping: async () => {
      await writer("SELECT 1");
    },
    close: async () => {
      await Promise.all([writerPool, ...readerPools].map((pool) => pool.end()));
      password?.close();
    },
  };
}
