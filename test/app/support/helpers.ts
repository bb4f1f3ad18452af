// Shared test helpers: temp dirs, log capture, a cookie jar for inject(), a spying database, images.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import type { Logger } from "pino";
import sharp from "sharp";
import { createLogger } from "../../../app/src/logger";
import type { Database, QueryFn, Row } from "../../../app/src/tiers/database";

export async function makeTempDir(
  prefix: string,
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export interface LogLine {
  level: string;
  msg?: string;
  degraded?: string;
  [field: string]: unknown;
}

/** A pino logger whose JSON lines are kept in memory, plus the raw text (to look for secrets). */
export function captureLogs(level = "info"): {
  logger: Logger;
  lines(): LogLine[];
  text(): string;
} {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  const logger = createLogger(level, stream);
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as LogLine),
  };
}

/** Keeps the cookies a response sets, for the next inject() of the same "browser". */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(setCookie: string | string[] | undefined): void {
    for (const header of [setCookie ?? []].flat()) {
      const [pair, ...attributes] = header.split(";");
      const separator = pair!.indexOf("=");
      const name = pair!.slice(0, separator).trim();
      const value = pair!.slice(separator + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  delete(name: string): void {
    this.cookies.delete(name);
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  /** app.inject() from this "browser": its cookies go along; what the response sets is not kept. */
  send(app: FastifyInstance, request: InjectOptions): Promise<LightMyRequestResponse> {
    return app.inject({ ...request, headers: { ...request.headers, cookie: this.header() } });
  }
}

/** POST /sessions, which must answer 201; the session cookie lands in `jar`, which is returned. */
export async function signInTo(
  app: FastifyInstance,
  credentials: { email: string; password: string },
  options: { jar?: CookieJar; remoteAddress?: string } = {},
): Promise<CookieJar> {
  const response = await app.inject({
    method: "POST",
    url: "/sessions",
    payload: { email: credentials.email, password: credentials.password },
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  });
  assert.equal(response.statusCode, 201, response.body);
  const jar = options.jar ?? new CookieJar();
  jar.store(response.headers["set-cookie"]);
  return jar;
}

export interface QueryRecord {
  side: "writer" | "reader";
  sql: string;
}

/** Wraps a database so tests can see which side served each query, and slow reads down. */
export function spyDatabase(
  database: Database,
  options: { readerDelayMs?: number } = {},
): Database & { queries: QueryRecord[]; reset(): void } {
  const queries: QueryRecord[] = [];
  const wrap =
    (side: QueryRecord["side"], query: QueryFn): QueryFn =>
    async <R extends Row = Row>(sql: string, params?: unknown[]) => {
      queries.push({ side, sql });
      if (side === "reader" && options.readerDelayMs !== undefined) {
        await sleep(options.readerDelayMs);
      }
      return query<R>(sql, params);
    };
  return {
    kind: database.kind,
    writer: wrap("writer", database.writer),
    reader: wrap("reader", database.reader),
    replicas: database.replicas.map((replica) => wrap("reader", replica)),
    transaction: (work) => database.transaction(work),
    ping: () => database.ping(),
    close: () => database.close(),
    queries,
    reset: () => {
      queries.length = 0;
    },
  };
}

export async function makePng(width = 320, height = 240): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: { r: 228, g: 87, b: 46 } },
  })
    .png()
    .toBuffer();
}

/** A sign-up body, as POST /users takes it. */
export interface NewUser {
  name: string;
  email: string;
  password: string;
}

/**
 * Sign-up bodies no earlier call of this factory made: `<name> 1`, `<emailPrefix>1@example.com`,
 * then 2, 3…, all with `password`; one factory per test file keeps its accounts apart.
 */
export function newUsers(name: string, emailPrefix: string, password: string): () => NewUser {
  let counter = 0;
  return () => {
    counter += 1;
    return { name: `${name} ${counter}`, email: `${emailPrefix}${counter}@example.com`, password };
  };
}
