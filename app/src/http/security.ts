/**
 * What the app does about a hostile client, in one place:
 * - security headers (helmet) with a Content-Security-Policy the page works under, worked out once
 *   at start-up: @fastify/helmet rebuilt the middleware (and parsed the policy) on every request,
 *   a tenth of a cached read's CPU (issue 17, BENCHMARKS.md); set by the one hook that sets every
 *   response's own headers;
 * - signed cookies (@fastify/cookie): the secrets sign, the first one signs new cookies, all of
 *   them verify, so a secret can be rotated by putting the new one first;
 * - request ids: a client's x-request-id is kept only when short and plain, else a new one;
 * - 405 with Allow for a method a known path does not declare (404 stays for unknown paths).
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import fastifyCookie from "@fastify/cookie";
import helmet, { type HelmetOptions } from "helmet";
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";

/** Origins the page loads from besides its own: where thumbnails and uploads live. */
export interface BrowserOrigins {
  images: string[];
  uploads: string[];
}

/**
 * The headers helmet sets for `options`, worked out once: helmet's middleware only sets and removes
 * headers, and with no per-request nonce it sets the same ones on every response.
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => {
      headers[name] = value;
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  };
  helmet(options)(
    {} as IncomingMessage,
    recorder as unknown as ServerResponse,
    (error?: unknown) => {
      if (error !== undefined) throw error;
    },
  );
  return headers;
}

/**
 * Every response's own headers, set by one onRequest hook (each hook is a step of every request,
 * issue 17): helmet's security headers for `origins`, worked out once; `fixed`, the same on every
 * response of this process (which region and instance served it); and the request id.
 */
export async function registerResponseHeaders(
  app: FastifyInstance,
  origins: BrowserOrigins,
  fixed: Record<string, string>,
): Promise<void> {
  const security = securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:", ...origins.images],
        connectSrc: ["'self'", ...origins.uploads],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: "deny" },
    // HSTS is ignored over plain http (embedded on a laptop) and holds behind HTTPS.
    strictTransportSecurity: { maxAge: 365 * 24 * 60 * 60, includeSubDomains: true },
    referrerPolicy: { policy: "no-referrer" },
  });
  const headers = { ...security, ...fixed };
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(headers);
    reply.header("x-request-id", request.id);
    done();
  });
}

/**
 * Cookies are parsed when a route first asks for them (`requestCookies`), not by a hook on every
 * request: most requests, cached reads above all, carry none (issue 17). Setting a cookie works
 * as before.
 */
export async function registerCookies(app: FastifyInstance, secrets: string[]): Promise<void> {
  await app.register(fastifyCookie, { secret: secrets, hook: false });
}

type Cookies = Record<string, string | undefined>;
const NO_COOKIES: Cookies = Object.freeze({});

/** The request's cookies, parsed once, on first use. */
export function requestCookies(request: FastifyRequest): Cookies {
  // Null until parsed: the plugin parses on its own only when a cookie is set.
  let cookies = request.cookies as Cookies | null;
  if (cookies === null) {
    const header = request.headers.cookie;
    cookies = header === undefined ? NO_COOKIES : request.server.parseCookie(header);
    request.cookies = cookies;
  }
  return cookies;
}

/** Short and plain: an ALB trace id or a UUID fits; markup, spaces and 8 kB do not. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:=+/-]{1,64}$/;

/** The shape of the ids this app makes: a process's prefix (hex) and a counter. */
const OWN_REQUEST_ID = /^[0-9a-f]{18}-[0-9a-z]+$/;

/**
 * Fastify's `genReqId`: the client's x-request-id when it is short and plain, else this process's
 * next id. Ours are a random prefix per process (72 bits: no two instances share one) and a
 * counter, unique without asking the system for randomness per request as a UUID would (about
 * 1 % of a cached read's CPU, issue 17). They are predictable, so a client's id in their shape is
 * not kept: no client can make its requests log under the id of someone else's.
 */
export function requestIds(): (request: IncomingMessage) => string {
  const prefix = randomBytes(9).toString("hex");
  let issued = 0;
  return (request) => {
    const given = request.headers["x-request-id"];
    if (typeof given === "string" && CLIENT_REQUEST_ID.test(given) && !OWN_REQUEST_ID.test(given)) {
      return given;
    }
    issued += 1;
    return `${prefix}-${issued.toString(36)}`;
  };
}

/** Turns a route URL into a matcher: `:param` is one segment, `*` the rest. */
function routePattern(url: string): RegExp {
  const source = url
    .split("/")
    .map((segment) =>
      segment.startsWith(":")
        ? "[^/]+"
        : segment === "*"
          ? ".*"
          : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("/");
  return new RegExp(`^${source}$`);
}

/**
 * Collects every route's path and methods (call before the routes are registered) and returns the
 * methods a path allows. The static page's catch-all (`/*`) is left out: it would make every path
 * "allow" GET.
 */
export function trackAllowedMethods(app: FastifyInstance): (path: string) => string[] {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook("onRoute", (route: RouteOptions) => {
    if (route.url === "/*" || route.url === "*") return;
    routes.push({ pattern: routePattern(route.url), methods: [route.method].flat() });
  });
  return (path) => {
    const allowed = new Set<string>();
    for (const route of routes) {
      if (route.pattern.test(path)) for (const method of route.methods) allowed.add(method);
    }
    return [...allowed].sort();
  };
}

/** 405 when the path is known under other methods; undefined when a 404 is the right answer. */
export function methodNotAllowed(
  request: FastifyRequest,
  reply: FastifyReply,
  allowedMethods: (path: string) => string[],
): { allow: string[] } | undefined {
  const path = request.url.split("?")[0] ?? "";
  const allow = allowedMethods(path);
  if (allow.length === 0 || allow.includes(request.method)) return undefined;
  reply.header("allow", allow.join(", "));
  return { allow };
}
