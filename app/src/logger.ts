/** JSON logs with pino. Secrets are redacted by path, so a careless log call cannot leak them. */
import type { FastifyBaseLogger, FastifyServerOptions } from "fastify";
import pino, {
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type LogFn,
  type Logger,
} from "pino";

export const REDACTED_PATHS = [
  "password",
  "*.password",
  "passwordHash",
  "*.passwordHash",
  "password_hash",
  "*.password_hash",
  "token",
  "*.token",
  "authToken",
  "*.authToken",
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
];

export function createLogger(
  level: string,
  destination?: DestinationStream,
  base: Record<string, unknown> = {},
): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...base },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
type Level = (typeof LEVELS)[number];

/**
 * A request's logger, made only when the request logs something at an enabled level. Fastify
 * gives every request a child logger bound to its id, and pino's child() serializes (and redacts)
 * that binding each time: a few percent of a cached read's CPU, spent mostly on requests that log
 * nothing at the prod level (issue 17). What is logged, and its `reqId`, are unchanged.
 */
class RequestLogger implements FastifyBaseLogger {
  // One method per level, on the prototype (below): nothing is allocated per request.
  declare fatal: LogFn;
  declare error: LogFn;
  declare warn: LogFn;
  declare info: LogFn;
  declare debug: LogFn;
  declare trace: LogFn;
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }

  silent(): void {}

  /** Writes at `level` through the request's child, made now unless the level is off. */
  logAt(level: Level, args: Parameters<LogFn>): void {
    if (this.made === undefined && !this.parent.isLevelEnabled(level)) return;
    (this.logger()[level] as (...args: Parameters<LogFn>) => void)(...args);
  }

  private logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings));
  }
}
for (const level of LEVELS) {
  RequestLogger.prototype[level] = function (this: RequestLogger, ...args: Parameters<LogFn>) {
    this.logAt(level, args);
  } as LogFn;
}

/**
 * Fastify's `childLoggerFactory` for a pino root logger: the request's logger is made on its first
 * enabled log call. A route's own log level (`logLevel`) gets its child at once.
 */
export const lazyRequestLogger: NonNullable<FastifyServerOptions["childLoggerFactory"]> = (
  logger,
  bindings,
  options,
) =>
  options.level === undefined
    ? new RequestLogger(logger as Logger, bindings)
    : logger.child(bindings, options);
