/**
 * The database password when RDS rotates it. RDS keeps the master password in Secrets Manager and
 * changes it every few days; ECS hands a task the value once, when the task starts. Sessions that
 * are already open survive a rotation, but every new connection after it fails with 28P01 until
 * the task is replaced. So the pools ask this for the password on every new connection (pg's
 * `password` hook); it answers from a cache, and re-reads the secret when a connection is refused
 * with 28P01, after which that connection is tried once more.
 *
 * Re-reads are single-flight (any number of failing connections share one fetch) and rate-limited
 * (a genuinely wrong password must not hammer Secrets Manager). The value is never logged.
 */
import type { Logger } from "pino";
import { errorCode } from "./database";

/** PostgreSQL's SQLSTATE for a failed password authentication (invalid_password). */
export const INVALID_PASSWORD = "28P01";

/** At most one re-read of the secret after failures per this many milliseconds. */
export const PASSWORD_REFRESH_MIN_INTERVAL_MS = 30_000;

/** Where the current password comes from: Secrets Manager in production, a fake in tests. */
export interface PasswordSource {
  /** For logs: which secret (an ARN), never its value. */
  readonly name: string;
  /** The current password. Errors must not contain it. */
  fetch(): Promise<string>;
  close?(): void;
}

export interface RotatingPasswordOptions {
  source: PasswordSource;
  logger: Logger;
  minRefreshIntervalMs?: number;
  now?: () => number;
}

export class RotatingPassword {
  private readonly source: PasswordSource;
  private readonly logger: Logger;
  private readonly minRefreshIntervalMs: number;
  private readonly now: () => number;
  /** The secret's value as last read; undefined until a read succeeds. */
  private current: string | undefined;
  /** Bumped whenever `current` changes, so a caller can tell whether a newer password exists. */
  private version = 0;
  private inFlight: Promise<void> | undefined;
  private lastRefreshAt = Number.NEGATIVE_INFINITY;
  private rateLimitLogged = false;

  constructor(options: RotatingPasswordOptions) {
    this.source = options.source;
    this.logger = options.logger;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? PASSWORD_REFRESH_MIN_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * The read at startup. It does not count against the refresh rate limit, and a failure is logged
   * rather than thrown: the pools fall back to their own password (DATABASE_PASSWORD) meanwhile.
   * Resolves true when the secret was read.
   */
  async load(): Promise<boolean> {
    await this.fetchShared("startup");
    return this.current !== undefined;
  }

  /**
   * pg's `password` option for one pool: the secret's value once read, else `fallback` (the pool's
   * own password: from its URL or DATABASE_PASSWORD). With neither, it tries a (rate-limited) read.
   */
  passwordFor(fallback: string | undefined): () => Promise<string> {
    return async () => {
      const known = this.current ?? fallback;
      if (known !== undefined) return known;
      await this.refreshAfter(this.version, "no password yet");
      if (this.current !== undefined) return this.current;
      throw new Error(
        `no database password: the secret ${this.source.name} could not be read and DATABASE_PASSWORD is unset`,
      );
    };
  }

  /**
   * Runs `attempt` (something that opens a connection); if the server refuses the password (28P01),
   * re-reads the secret and, when that yields a different password, runs `attempt` once more.
   * 28P01 only ever answers authentication, so the statement behind `attempt` never ran.
   */
  async retryOnAuthFailure<T>(attempt: () => Promise<T>): Promise<T> {
    const seen = this.version;
    try {
      return await attempt();
    } catch (error) {
      if (errorCode(error) !== INVALID_PASSWORD) throw error;
      if (!(await this.refreshAfter(seen, "password refused (28P01)"))) throw error;
      this.logger.info(
        { secret: this.source.name },
        "retrying the connection with the new password",
      );
      return attempt();
    }
  }

  close(): void {
    this.source.close?.();
  }

  /**
   * Makes sure a password newer than version `seen` is known, if there is one: another caller may
   * already have read it (then no fetch), or be reading it (then wait for that read), or else this
   * reads it, at most once per `minRefreshIntervalMs`. True when the password changed since `seen`.
   */
  private async refreshAfter(seen: number, reason: string): Promise<boolean> {
    if (this.version === seen && this.inFlight === undefined) {
      const waitMs = this.lastRefreshAt + this.minRefreshIntervalMs - this.now();
      if (waitMs > 0) {
        if (!this.rateLimitLogged) {
          this.rateLimitLogged = true;
          this.logger.warn(
            { secret: this.source.name, retryInMs: waitMs },
            "database password refused again soon after a refresh; not reading the secret again yet",
          );
        }
        return false;
      }
      this.lastRefreshAt = this.now();
      this.rateLimitLogged = false;
      void this.fetchShared(reason);
    }
    await this.inFlight;
    return this.version !== seen;
  }

  /** One read of the secret at a time; concurrent callers share it. Never rejects. */
  private fetchShared(reason: string): Promise<void> {
    // `.finally` runs asynchronously, so inFlight is cleared only after it was set, even when
    // fetch() throws synchronously.
    this.inFlight ??= this.fetchOnce(reason).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchOnce(reason: string): Promise<void> {
    try {
      const value = await this.source.fetch();
      const changed = value !== this.current;
      if (changed) {
        this.current = value;
        this.version += 1;
      }
      this.logger.info(
        { secret: this.source.name, reason, changed },
        changed ? "database password read from the secret" : "database password unchanged",
      );
    } catch (error) {
      this.logger.warn(
        { secret: this.source.name, reason, err: error },
        "could not read the database password secret",
      );
    }
  }
}
