/** POST /sessions (sign in), GET /me, DELETE /sessions (sign out). */
import type { FastifyInstance } from "fastify";
import {
  cookie,
  currentSession,
  readUser,
  SESSION_COOKIE,
  setCookie,
  startSession,
  type RouteContext,
} from "../http/context";
import { HttpError } from "../http/errors";
import { errors, jsonSchema, SignInBody, UserEnvelope } from "../http/schemas";
import { passwordFailures, signInRateLimit } from "../http/rateLimits";
import { findAccountForSignIn } from "../sharding/accounts";
import { toUser } from "../users";

export async function sessionRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { sessions, shards, files } = context.tiers;
  const failures = passwordFailures(app, context);

  app.post<{ Body: SignInBody }>(
    "/sessions",
    {
      schema: {
        summary: "Sign in: sets the sid cookie",
        tags: ["sessions"],
        body: jsonSchema(SignInBody),
        response: { 201: jsonSchema(UserEnvelope), ...errors(400, 401, 413, 429, 503) },
      },
      preHandler: signInRateLimit(app, context, failures),
    },
    async (request, reply) => {
      const { email, password } = request.body;
      // Replicas first, then writers (findAccountForSignIn): sign-in outlives a writer outage.
      const row = await findAccountForSignIn(shards, email);
      const { passwords } = context;
      const valid =
        row === undefined
          ? await passwords.verifyAgainstDecoy(password)
          : await passwords.verify(password, row.password_hash);
      if (row === undefined || !valid) {
        throw new HttpError(401, "invalid_credentials", "The email or password is wrong.");
      }
      // Only failures count against the account: the owner's own sign-ins never lock it.
      await failures.refund(request);
      // A new id at every sign-in: a session id planted before sign-in is worth nothing after.
      const previous = cookie(request, SESSION_COOKIE);
      if (previous !== undefined && previous !== "") await sessions.delete(previous);
      await startSession(request, reply, context, row.id);
      context.metrics.sawUser(row.id);
      request.log.info({ userId: row.id }, "signed in");
      return reply.status(201).send({ user: toUser(row, files) });
    },
  );

  app.get(
    "/me",
    {
      schema: {
        summary: "The signed-in user",
        tags: ["sessions"],
        response: { 200: jsonSchema(UserEnvelope), ...errors(401, 503) },
      },
    },
    async (request, reply) => {
      const session = await currentSession(request, context);
      if (session === undefined) {
        throw new HttpError(401, "unauthenticated", "Nobody is signed in.");
      }
      const { user, cache } = await readUser(request, context, session.data.userId);
      reply.header("x-cache", cache);
      if (user === undefined) {
        // The account was deleted elsewhere: the session goes with it.
        await sessions.delete(session.sessionId);
        setCookie(request, reply, SESSION_COOKIE, "", 0);
        throw new HttpError(401, "unauthenticated", "Nobody is signed in.");
      }
      return { user };
    },
  );

  app.delete(
    "/sessions",
    {
      schema: {
        summary: "Sign out: ends every session of the signed-in user, in every region",
        tags: ["sessions"],
        response: { 204: { type: "null" }, ...errors(503) },
      },
    },
    async (request, reply) => {
      const session = await currentSession(request, context);
      if (session !== undefined) await sessions.revokeUser(session.data.userId);
      setCookie(request, reply, SESSION_COOKIE, "", 0);
      return reply.status(204).send();
    },
  );
}
