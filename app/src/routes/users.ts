/**
 * POST /users, GET|PATCH|DELETE /users/:id, by public id. Writes go to the writer of the user's
 * shard, reads through the cache; the directory maps public ids to shards and keeps emails unique
 * across shards (sharding/accounts.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { CacheOutcome } from "../cacheAside";
import { HttpError } from "../http/errors";
import {
  cookie,
  currentSession,
  afterWrite,
  readUser,
  readUserHeld,
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
  JSON_CONTENT_TYPE,
  jsonSchema,
  UpdateUserBody,
  User,
  UserIdParams,
  UserOrPublicUser,
} from "../http/schemas";
import { SessionStoreUnavailableError } from "../tiers/sessions";
import {
  createAccount,
  deleteAccount,
  EmailTakenError,
  updateAccount,
  userIdOf,
} from "../sharding/accounts";
import { cacheKeyForUser, findUserWithPassword, toPublicUser, toUser } from "../users";
import { accountChangeRateLimit, passwordFailures, signUpRateLimit } from "../http/rateLimits";

/** The internal id of the signed-in owner's account, from the directory's writer; 404 when gone. */
async function ownAccountId(context: RouteContext, id: string): Promise<string> {
  const userId = await userIdOf(context.tiers.shards.directory.writer, id);
  if (userId === undefined) throw userNotFound(id);
  return userId;
}

function emailTaken(): HttpError {
  return new HttpError(409, "email_taken", "An account with this email already exists.", "email");
}

export async function userRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { shards, files } = context.tiers;
  const failures = passwordFailures(app, context);
  const accountChanges = accountChangeRateLimit(app, context);
  /**
   * The public view's body per cached user value: a cached value is one frozen object for as long
   * as its cache entry is unchanged (CacheAside), so a hot user is serialized once, not per read
   * (issue 17). Keyed weakly: a replaced value takes its body with it.
   */
  const publicBodies = new WeakMap<User, Buffer>();
  const publicBody = (reply: FastifyReply, user: User): Buffer => {
    let body = publicBodies.get(user);
    if (body === undefined) {
      // The route's own 200 serializer: the same bytes, and fields, as an object answer would get.
      const serialized = reply.serialize(toPublicUser(user));
      body = Buffer.from(
        serialized instanceof ArrayBuffer ? new Uint8Array(serialized) : serialized,
      );
      publicBodies.set(user, body);
    }
    return body;
  };

  /**
   * 403 unless `password` is the account's: one scrypt check, as sign-in costs, limited and
   * counted as a sign-in of the account (a stolen session is no unlimited password oracle).
   * `userId` is the internal id the directory maps public id `id` to; the row is on its shard.
   */
  async function requireCurrentPassword(
    request: FastifyRequest,
    reply: FastifyReply,
    ids: { id: string; userId: string },
    password: string,
  ): Promise<void> {
    const row = await findUserWithPassword(shards.forUser(ids.userId).writer, ids.userId);
    if (row === undefined) throw userNotFound(ids.id);
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
        row = await createAccount(shards, { name, email, passwordHash });
      } catch (error) {
        if (error instanceof EmailTakenError) throw emailTaken();
        throw error;
      }
      context.metrics.count("Signups");
      // A read of this id may have cached "not there yet" moments ago on another path.
      await afterWrite(request, reply, context, row.user_id, [cacheKeyForUser(row.id)]);
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
    (request, reply) => {
      const { id } = request.params;
      // A user held in process memory, read by a client with no session and no recent write, is
      // answered with no promise at all: the same bytes and headers as the read below (issue 17).
      if (cookie(request, SESSION_COOKIE) === undefined) {
        const held = readUserHeld(request, context, id);
        if (held !== undefined) {
          const user = found(reply, id, held);
          reply.type(JSON_CONTENT_TYPE).send(publicBody(reply, user));
          return;
        }
      }
      return readAndAnswer(request, reply, id);
    },
  );

  /** GET /users/:id through the cache: the whole account to its owner, the public view to others. */
  async function readAndAnswer(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
  ): Promise<User | FastifyReply> {
    const user = found(reply, id, await readUser(request, context, id));
    // Only a request that carries a session cookie costs a session lookup; if the session store
    // is down, the reader gets the public view rather than an error.
    const session =
      cookie(request, SESSION_COOKIE) === undefined
        ? undefined
        : await currentSession(request, context).catch((error: unknown) => {
            if (error instanceof SessionStoreUnavailableError) return undefined;
            throw error;
          });
    if (session?.data.userId === id) return user;
    return reply.type(JSON_CONTENT_TYPE).send(publicBody(reply, user));
  }

  /** The user a read found, saying whether the cache had it (x-cache); 404 when there is none. */
  function found(
    reply: FastifyReply,
    id: string,
    { user, cache }: { user: User | undefined; cache: CacheOutcome },
  ): User {
    reply.header("x-cache", cache);
    if (user === undefined) throw userNotFound(id);
    return user;
  }

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
      const userId = await ownAccountId(context, id);
      const { currentPassword, password, ...changes } = request.body;
      // Each costs a hash; successes count too (a name alone costs nothing and is not limited).
      if (currentPassword !== undefined || password !== undefined) {
        await accountChanges(request, reply);
      }
      // The schema requires currentPassword with email or password; given with a name, it is checked too.
      if (currentPassword !== undefined) {
        await requireCurrentPassword(request, reply, { id, userId }, currentPassword);
      }
      const passwordHash =
        password === undefined ? undefined : await context.passwords.hash(password);
      let row;
      try {
        row = await updateAccount(shards, userId, {
          ...changes,
          ...(passwordHash === undefined ? {} : { passwordHash }),
        });
      } catch (error) {
        if (error instanceof EmailTakenError) throw emailTaken();
        throw error;
      }
      if (row === undefined) throw userNotFound(id);
      await afterWrite(request, reply, context, userId, [cacheKeyForUser(id)]);
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
      const userId = await ownAccountId(context, id);
      if (!(await deleteAccount(shards, userId))) throw userNotFound(id);
      await afterWrite(request, reply, context, userId, [cacheKeyForUser(id)]);
      // Every session of the account, on every device and in every region.
      await context.tiers.sessions.revokeUser(id);
      setCookie(request, reply, SESSION_COOKIE, "", 0);
      request.log.info({ userId: id }, "user deleted");
      return reply.status(204).send();
    },
  );
}
