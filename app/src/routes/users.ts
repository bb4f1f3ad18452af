/** POST /users, GET|PATCH|DELETE /users/:id. Writes go to the writer, reads through the cache. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HttpError } from "../http/errors";
import {
  currentSession,
  afterWrite,
  readUser,
  requireSelf,
  SESSION_COOKIE,
  setCookie,
  startSession,
  userNotFound,
  type RouteContext,
} from "../http/context";
import {
  CreateUserBody,
  errors,
  jsonSchema,
  UpdateUserBody,
  User,
  UserIdParams,
  UserOrPublicUser,
} from "../http/schemas";
import { errorCode, UNIQUE_VIOLATION } from "../tiers/database";
import { SessionStoreUnavailableError } from "../tiers/sessions";
import {
  cacheKeyForUser,
  deleteUser,
  findUserWithPassword,
  insertUser,
  toPublicUser,
  toUser,
  updateUser,
} from "../users";
import { accountChangeRateLimit, passwordFailures, signUpRateLimit } from "../http/rateLimits";

function emailTaken(): HttpError {
  return new HttpError(409, "email_taken", "An account with this email already exists.", "email");
}

export async function userRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { database, files } = context.tiers;
  const failures = passwordFailures(app, context);
  const accountChanges = accountChangeRateLimit(app, context);

  /**
   * 403 unless `password` is the account's: one scrypt check, as sign-in costs, limited and
   * counted as a sign-in of the account (a stolen session is no unlimited password oracle).
   */
  async function requireCurrentPassword(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    password: string,
  ): Promise<void> {
    const row = await findUserWithPassword(database.writer, { id });
    if (row === undefined) throw userNotFound(id);
    await failures.reserve(request, reply, row.email);
    if (!(await context.passwords.verify(password, row.password_hash))) {
      throw new HttpError(
        403,
        "wrong_password",
        "The current password is wrong.",
        "currentPassword",
      );
    }
    await failures.refund(request);
  }

  app.post<{ Body: CreateUserBody }>(
    "/users",
    {
      schema: {
        summary: "Sign up",
        tags: ["users"],
        body: jsonSchema(CreateUserBody),
        response: { 201: jsonSchema(User), ...errors(400, 409, 413, 429, 503) },
      },
      preHandler: signUpRateLimit(app, context),
    },
    async (request, reply) => {
      const { name, email, password } = request.body;
      const passwordHash = await context.passwords.hash(password);
      let row;
      try {
        row = await insertUser(database.writer, { name, email, passwordHash });
      } catch (error) {
        if (errorCode(error) === UNIQUE_VIOLATION) throw emailTaken();
        throw error;
      }
      context.metrics.count("Signups");
      // A read of this id may have cached "not there yet" moments ago on another path.
      await afterWrite(request, reply, context, [cacheKeyForUser(row.id)]);
      request.log.info({ userId: row.id }, "user signed up");
      return reply.status(201).header("location", `/users/${row.id}`).send(toUser(row, files));
    },
  );

  app.get<{ Params: UserIdParams }>(
    "/users/:id",
    {
      schema: {
        summary:
          "Read a user (cached; x-cache says hit or miss): the whole account to its owner, the public view to everyone else",
        tags: ["users"],
        params: jsonSchema(UserIdParams),
        response: { 200: jsonSchema(UserOrPublicUser), ...errors(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { user, cache } = await readUser(request, context, id);
      reply.header("x-cache", cache);
      if (user === undefined) throw userNotFound(id);
      // Only a request that carries a session cookie costs a session lookup; if the session store
      // is down, the reader gets the public view rather than an error.
      const session =
        request.cookies[SESSION_COOKIE] === undefined
          ? undefined
          : await currentSession(request, context).catch((error: unknown) => {
              if (error instanceof SessionStoreUnavailableError) return undefined;
              throw error;
            });
      return session?.data.userId === id ? user : toPublicUser(user);
    },
  );

  app.patch<{ Params: UserIdParams; Body: UpdateUserBody }>(
    "/users/:id",
    {
      schema: {
        summary:
          "Change your name, email or password (email and password need currentPassword; a new password ends your other sessions)",
        tags: ["users"],
        params: jsonSchema(UserIdParams),
        body: jsonSchema(UpdateUserBody),
        response: { 200: jsonSchema(User), ...errors(400, 401, 403, 404, 409, 413, 429, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await requireSelf(request, context, id);
      const { currentPassword, password, ...changes } = request.body;
      // Each costs a hash; successes count too (a name alone costs nothing and is not limited).
      if (currentPassword !== undefined || password !== undefined) {
        await accountChanges(request, reply);
      }
      // The schema requires currentPassword with email or password; given with a name, it is checked too.
      if (currentPassword !== undefined) {
        await requireCurrentPassword(request, reply, id, currentPassword);
      }
      const passwordHash =
        password === undefined ? undefined : await context.passwords.hash(password);
      let row;
      try {
        row = await updateUser(database.writer, id, {
          ...changes,
          ...(passwordHash === undefined ? {} : { passwordHash }),
        });
      } catch (error) {
        if (errorCode(error) === UNIQUE_VIOLATION) throw emailTaken();
        throw error;
      }
      if (row === undefined) throw userNotFound(id);
      await afterWrite(request, reply, context, [cacheKeyForUser(id)]);
      if (passwordHash !== undefined) {
        // Whoever else held a session (perhaps the reason for the change) is signed out; this
        // client keeps going on a new session.
        await context.tiers.sessions.revokeUser(id);
        await startSession(request, reply, context, id);
        request.log.info({ userId: id }, "password changed");
      }
      return toUser(row, files);
    },
  );

  app.delete<{ Params: UserIdParams }>(
    "/users/:id",
    {
      schema: {
        summary: "Delete your account (and sign out)",
        tags: ["users"],
        params: jsonSchema(UserIdParams),
        response: { 204: { type: "null" }, ...errors(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await requireSelf(request, context, id);
      if (!(await deleteUser(database.writer, id))) throw userNotFound(id);
      await afterWrite(request, reply, context, [cacheKeyForUser(id)]);
      // Every session of the account, on every device and in every region.
      await context.tiers.sessions.revokeUser(id);
      setCookie(request, reply, SESSION_COOKIE, "", 0);
      request.log.info({ userId: id }, "user deleted");
      return reply.status(204).send();
    },
  );
}
