/**
 * POST /users, GET|PATCH|DELETE /users/:id. Writes go to the writer of the user's shard, reads
 * through the cache; the email directory keeps emails unique across shards (sharding/accounts.ts).
 */
import type { FastifyInstance } from "fastify";
import { HttpError } from "../http/errors";
import {
  markWrite,
  readUser,
  requireSelf,
  SESSION_COOKIE,
  setCookie,
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
} from "../http/schemas";
import { hashPassword } from "../passwords";
import { createAccount, deleteAccount, EmailTakenError, updateAccount } from "../sharding/accounts";
import { cacheKeyForUser, toUser } from "../users";

function emailTaken(): HttpError {
  return new HttpError(409, "email_taken", "An account with this email already exists.", "email");
}

export async function userRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { shards, files } = context.tiers;

  app.post<{ Body: CreateUserBody }>(
    "/users",
    {
      schema: {
        summary: "Sign up",
        tags: ["users"],
        body: jsonSchema(CreateUserBody),
        response: { 201: jsonSchema(User), ...errors(400, 409, 413) },
      },
    },
    async (request, reply) => {
      const { name, email, password } = request.body;
      const passwordHash = await hashPassword(password);
      let row;
      try {
        row = await createAccount(shards, { name, email, passwordHash });
      } catch (error) {
        if (error instanceof EmailTakenError) throw emailTaken();
        throw error;
      }
      context.metrics.count("Signups");
      // A read of this id may have cached "not there yet" moments ago on another path.
      await context.cache.invalidate(cacheKeyForUser(row.id));
      markWrite(request, reply, context);
      request.log.info({ userId: row.id }, "user signed up");
      return reply.status(201).header("location", `/users/${row.id}`).send(toUser(row, files));
    },
  );

  app.get<{ Params: UserIdParams }>(
    "/users/:id",
    {
      schema: {
        summary: "Read a user (cached; x-cache says hit or miss)",
        tags: ["users"],
        params: jsonSchema(UserIdParams),
        response: { 200: jsonSchema(User), ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      const { user, cache } = await readUser(request, context, request.params.id);
      reply.header("x-cache", cache);
      if (user === undefined) throw userNotFound(request.params.id);
      return user;
    },
  );

  app.patch<{ Params: UserIdParams; Body: UpdateUserBody }>(
    "/users/:id",
    {
      schema: {
        summary: "Change your name or email",
        tags: ["users"],
        params: jsonSchema(UserIdParams),
        body: jsonSchema(UpdateUserBody),
        response: { 200: jsonSchema(User), ...errors(400, 401, 403, 404, 409, 413) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      await requireSelf(request, context, id);
      let row;
      try {
        row = await updateAccount(shards, id, request.body);
      } catch (error) {
        if (error instanceof EmailTakenError) throw emailTaken();
        throw error;
      }
      if (row === undefined) throw userNotFound(id);
      await context.cache.invalidate(cacheKeyForUser(id));
      markWrite(request, reply, context);
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
        response: { 204: { type: "null" }, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const session = await requireSelf(request, context, id);
      if (!(await deleteAccount(shards, id))) throw userNotFound(id);
      await context.cache.invalidate(cacheKeyForUser(id));
      await context.tiers.sessions.delete(session.sessionId);
      setCookie(request, reply, SESSION_COOKIE, "", 0);
      markWrite(request, reply, context);
      request.log.info({ userId: id }, "user deleted");
      return reply.status(204).send();
    },
  );
}
