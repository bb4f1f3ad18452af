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

type Level = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/**
 * A request's logger, made only when the request logs something at an enabled level. Fastify
 * gives every request a child logger bound to its id, and pino's child() serializes (and redacts)
 * that binding each time: a few percent of a cached read's CPU, spent mostly on requests that log
 * nothing at the prod level (issue 17). What is logged, and its `reqId`, are unchanged.
 */
class RequestLogger implements FastifyBaseLogger {
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

  fatal(...args: Parameters<LogFn>): void {
    this.log("fatal", args);
  }

  error(...args: Parameters<LogFn>): void {
    this.log("error", args);
  }

  warn(...args: Parameters<LogFn>): void {
    this.log("warn", args);
  }

  info(...args: Parameters<LogFn>): void {
    this.log("info", args);
  }

  debug(...args: Parameters<LogFn>): void {
    this.log("debug", args);
  }

  trace(...args: Parameters<LogFn>): void {
    this.log("trace", args);
  }

  silent(): void {}

  private logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings));
  }

  private log(level: Level, args: Parameters<LogFn>): void {
    if (this.made === undefined && !this.parent.isLevelEnabled(level)) return;
    (this.logger()[level] as (...args: Parameters<LogFn>) => void)(...args);
  }
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
