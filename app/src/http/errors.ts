/**
 * Every error answer is `{error, message, field}`: `error` a stable code for programs, `message` a
 * sentence for people, `field` the request field at fault (or null). Client mistakes get a 4xx
 * naming the field; only the server's own failures are 5xx.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { QueueUnavailableError } from "../tiers/queue";
import { PATTERN_MESSAGES } from "./schemas";
import { isConnectionError } from "../tiers/postgres";
import { SessionStoreUnavailableError } from "../tiers/sessions";

/** A writer failover (Multi-AZ, or promoting the other region) takes about this long. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

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
  return reply.status(status).type("application/json; charset=utf-8").send(body);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.validation !== undefined) return send(reply, 400, validationBody(error));
    if (error instanceof HttpError) {
      return send(reply, error.statusCode, {
        error: error.code,
        message: error.message,
        field: error.field,
      });
    }
    if (error instanceof QueueUnavailableError) {
      request.log.error({ err: error }, "job not queued");
      reply.header("retry-after", "5");
      return send(reply, 503, {
        error: "queue_unavailable",
        message:
          "The job queue is not accepting jobs right now; nothing was queued. Try again shortly.",
        field: null,
      });
    }
    if (error instanceof SessionStoreUnavailableError) {
      request.log.error({ err: error }, "session store unavailable");
      reply.header("retry-after", "5");
      return send(reply, 503, {
        error: "sessions_unavailable",
        message: "Sign-in is unavailable right now. Try again shortly.",
        field: null,
      });
    }
    if (isConnectionError(error)) {
      // The writer (perhaps in the other region) or every reader is unreachable: reads that can be
      // served still are; this request could not, and may succeed once the database is back.
      request.log.error({ err: error }, "database unreachable");
      reply.header("retry-after", String(DATABASE_RETRY_AFTER_SECONDS));
      return send(reply, 503, {
        error: "database_unavailable",
        message: "The database is unreachable right now; nothing was changed. Try again shortly.",
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

  app.setNotFoundHandler((request, reply) =>
    send(reply, 404, {
      error: "not_found",
      message: `There is no ${request.method} ${request.url.split("?")[0]}`,
      field: null,
    }),
  );
}
