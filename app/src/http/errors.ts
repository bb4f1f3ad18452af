/**
 * Every error answer is `{error, message, field}`: `error` a stable code for programs, `message` a
 * sentence for people, `field` the request field at fault (or null). Client mistakes get a 4xx
 * naming the field; only the server's own failures are 5xx.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { PasswordHashingBusyError } from "../passwords";
import { FileStoreUnavailableError } from "../tiers/files";
import { isConnectionError } from "../tiers/postgres";
import { QueueUnavailableError } from "../tiers/queue";
import { JSON_CONTENT_TYPE, PATTERN_MESSAGES } from "./schemas";
import { methodNotAllowed } from "./security";
import { SessionStoreUnavailableError } from "../tiers/sessions";

export interface ErrorBody {
  error: string;
  message: string;
  field: string | null;
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** The field an Ajv issue is about, as a dotted path (`photo.size`), or null for the whole body. */
function fieldOf(issue: ValidationIssue): string | null {
  const path = issue.instancePath
    .split("/")
    .filter((part) => part !== "")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
  const missing = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof missing === "string") path.push(missing);
  return path.length === 0 ? null : path.join(".");
}

function describe(issue: ValidationIssue, field: string | null): string {
  const subject = field ?? "the request body";
  switch (issue.keyword) {
    case "required":
      return `${subject} is required`;
    case "additionalProperties":
      return `${subject} is not a known field`;
    case "type":
      return `${subject} must be ${String(issue.params.type).replace(/^object$/, "a JSON object")}`;
    case "format":
      return `${subject} must be a valid ${String(issue.params.format)}`;
    case "enum":
      return `${subject} must be one of ${(issue.params.allowedValues as unknown[]).join(", ")}`;
    case "pattern":
      return `${subject} ${PATTERN_MESSAGES[String(issue.params.pattern)] ?? "is not in the expected form"}`;
    case "minProperties":
      return `${subject} must contain at least one field`;
    case "dependencies":
      return `${subject} is required to change ${String(issue.params.property)}`;
    default:
      return `${subject} ${issue.message ?? "is invalid"}`;
  }
}

function validationBody(error: FastifyError): ErrorBody {
  const issue = (error.validation?.[0] ?? {
    keyword: "",
    instancePath: "",
    params: {},
  }) as ValidationIssue;
  const field = fieldOf(issue);
  return { error: "invalid_request", message: describe(issue, field), field };
}

/** Fastify's own 4xx errors, reworded for people. */
const FRAMEWORK_MESSAGES: Record<string, { error: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    error: "invalid_json",
    message: "the request body is not valid JSON",
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    error: "invalid_json",
    message: "the request body is empty but its content-type says JSON",
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    error: "payload_too_large",
    message: "the request body is too large",
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    error: "unsupported_media_type",
    message: "this content-type is not accepted here; send application/json",
  },
};

function send(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.status(status).type(JSON_CONTENT_TYPE).send(body);
}

/** Seconds a client is told to wait after a tier outage: about one breaker reset or writer failover. */
const OUTAGE_RETRY_AFTER_SECONDS = "5";

/** How a tier outage is answered: the error code, what the client reads, what the log says. */
interface Outage {
  code: string;
  message: string;
  logAs: string;
}

/** The tiers' own outage errors, as data: each leaves nothing half-done. */
const TIER_OUTAGES: [new (...args: never[]) => Error, Outage][] = [
  [
    QueueUnavailableError,
    {
      code: "queue_unavailable",
      message:
        "The job queue is not accepting jobs right now; nothing was queued. Try again shortly.",
      logAs: "job not queued",
    },
  ],
  [
    SessionStoreUnavailableError,
    {
      code: "sessions_unavailable",
      message: "Sign-in is unavailable right now. Try again shortly.",
      logAs: "session store unavailable",
    },
  ],
  [
    FileStoreUnavailableError,
    {
      code: "files_unavailable",
      message: "File storage is not answering right now; nothing was changed. Try again shortly.",
      logAs: "file store unavailable",
    },
  ],
  [
    PasswordHashingBusyError,
    {
      code: "busy",
      message: "Too many sign-ins are being checked right now. Try again in a few seconds.",
      logAs: "password hashing saturated",
    },
  ],
];

/** Tier outages that leave nothing half-done: the request can be repeated as it was. */
function outage(error: unknown): Outage | undefined {
  const known = TIER_OUTAGES.find(([type]) => error instanceof type);
  if (known !== undefined) return known[1];
  if (isConnectionError(error)) {
    // The writer (perhaps in the other region) or every reader is unreachable: reads that can be
    // served still are; this request could not, and may succeed once the database is back.
    return {
      code: "database_unavailable",
      message: "The database is not answering right now. Try again shortly.",
      logAs: "database unavailable",
    };
  }
  return undefined;
}

export function registerErrorHandling(
  app: FastifyInstance,
  allowedMethods: (path: string) => string[],
): void {
  /** 405 with Allow when the path exists under other methods, else 404. */
  const notFound = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split("?")[0];
    const notAllowed = methodNotAllowed(request, reply, allowedMethods);
    if (notAllowed !== undefined) {
      return send(reply, 405, {
        error: "method_not_allowed",
        message: `${path} does not take ${request.method}; it takes ${notAllowed.allow.join(", ")}`,
        field: null,
      });
    }
    return send(reply, 404, {
      error: "not_found",
      message: `There is no ${request.method} ${path}`,
      field: null,
    });
  };

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    // A body error on a request no route takes (QUERY with no content-type): the route is the answer.
    if (request.is404) return notFound(request, reply);
    if (error.validation !== undefined) return send(reply, 400, validationBody(error));
    if (error instanceof HttpError) {
      return send(reply, error.statusCode, {
        error: error.code,
        message: error.message,
        field: error.field,
      });
    }
    const unavailable = outage(error);
    if (unavailable !== undefined) {
      request.log.error({ err: error }, unavailable.logAs);
      reply.header("retry-after", OUTAGE_RETRY_AFTER_SECONDS);
      return send(reply, 503, {
        error: unavailable.code,
        message: unavailable.message,
        field: null,
      });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const known = error.code === undefined ? undefined : FRAMEWORK_MESSAGES[error.code];
      return send(reply, status, {
        error: known?.error ?? "bad_request",
        message: known?.message ?? error.message,
        field: null,
      });
    }
    request.log.error({ err: error }, "request failed");
    return send(reply, 500, {
      error: "internal",
      message: "Something went wrong on our side. Try again shortly.",
      field: null,
    });
  });

  app.setNotFoundHandler(notFound);
}
