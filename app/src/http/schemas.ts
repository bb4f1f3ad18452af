/**
 * Request and response shapes, written once in zod: the TypeScript types come from z.infer, and
 * the JSON Schemas that Fastify validates with (and @fastify/swagger publishes) from z.toJSONSchema.
 */
import { z } from "zod";

export type JsonSchema = Record<string, unknown>;

/** What every JSON answer is sent as (Fastify's own default for a serialized object). */
export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/**
 * Draft-07 for Fastify's Ajv. Where zod emits both `format` and the `pattern` that implements it,
 * the pattern is dropped: ajv-formats checks the format, and a failed pattern would only produce
 * an unreadable message.
 */
export function jsonSchema(schema: z.ZodType): JsonSchema {
  const generated = z.toJSONSchema(schema, { target: "draft-07", io: "input" }) as JsonSchema;
  delete generated.$schema;
  return stripFormatPatterns(generated) as JsonSchema;
}

function stripFormatPatterns(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripFormatPatterns);
  if (typeof node !== "object" || node === null) return node;
  const entries = Object.entries(node).filter(([key]) => !(key === "pattern" && "format" in node));
  return Object.fromEntries(entries.map(([key, value]) => [key, stripFormatPatterns(value)]));
}

export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

const NOT_BLANK = /\S/;
/**
 * No C0/C1 controls (NUL among them: PostgreSQL cannot store it), no bidirectional overrides,
 * embeddings, isolates or marks (they make "gpj.exe" read as "exe.jpg"), no line or paragraph
 * separators. Written as \u escapes so the same source works in JavaScript, Ajv and Python.
 * Matching control characters is the point, hence the lint exception.
 */
// eslint-disable-next-line no-control-regex
const PRINTABLE = /^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]*$/;
/** Public user ids: random UUIDs (v4), so ids in URLs cannot be walked. */
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What a failed `pattern` means, by pattern source: the JSON Schema itself cannot say it. */
export const PATTERN_MESSAGES: Record<string, string> = {
  [NOT_BLANK.source]: "must not be blank",
  [PRINTABLE.source]: "must not contain control or bidirectional-formatting characters",
  [USER_ID.source]: "must be a user id (a lower-case UUID, as POST /users returned it)",
};

const name = z.string().min(1).max(100).regex(NOT_BLANK).regex(PRINTABLE);
// zod's email pattern is ASCII only: it already refuses every character PRINTABLE does.
const email = z.email().max(254);
/** A password being set: the length rules apply. */
const newPassword = z.string().min(8).max(200);
/** A password being checked: whatever was set (rules may have changed since). */
const givenPassword = z.string().min(1).max(200);

export const CreateUserBody = z.strictObject({
  name,
  email,
  password: newPassword,
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const UpdateUserBody = z
  .strictObject({
    name: name.optional(),
    email: email.optional(),
    password: newPassword.optional(),
    currentPassword: givenPassword
      .optional()
      .describe("the account's password now: required to change email or password"),
  })
  // Emitted into the JSON Schema, where Ajv enforces them: a PATCH must change something, and a
  // stolen session alone cannot take the account over by changing its email or password.
  .meta({
    minProperties: 1,
    dependencies: { email: ["currentPassword"], password: ["currentPassword"] },
  });
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;

export const SignInBody = z.strictObject({
  email: z.string().min(1).max(254).regex(PRINTABLE),
  password: givenPassword,
});
export type SignInBody = z.infer<typeof SignInBody>;

export const UserIdParams = z.strictObject({
  id: z.string().regex(USER_ID),
});
export type UserIdParams = z.infer<typeof UserIdParams>;

export const StartPhotoBody = (maxBytes: number) =>
  z.strictObject({
    contentType: z.enum(IMAGE_TYPES),
    size: z.int().min(1).max(maxBytes),
  });
export type StartPhotoBody = z.infer<ReturnType<typeof StartPhotoBody>>;

export const CompletePhotoBody = z.strictObject({ key: z.string().min(1).max(300) });
export type CompletePhotoBody = z.infer<typeof CompletePhotoBody>;

/** What anyone may see of a user. */
export const PublicUser = z
  .object({
    id: z.string(),
    name: z.string(),
    photo: z.object({ thumbnailUrl: z.string() }).nullable(),
  })
  .meta({
    title: "PublicUser",
    description: "The public view of a user: what anyone but the account's owner sees.",
  });
export type PublicUser = z.infer<typeof PublicUser>;

/** The whole account, answered only to its owner. */
export const User = PublicUser.extend({ email: z.string(), createdAt: z.string() }).meta({
  title: "User",
  description: "The account as its owner sees it: the public view plus the private fields.",
});
export type User = z.infer<typeof User>;

/** GET /users/:id: the owner gets User, everyone else PublicUser. */
export const UserOrPublicUser = z.union([User, PublicUser]);

export const UserEnvelope = z.object({ user: User });

export const PhotoUpload = z.object({
  key: z.string(),
  upload: z.object({
    method: z.literal("PUT"),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
  }),
});

export const JobAccepted = z.object({ jobId: z.string() });

export const ErrorResponse = z.object({
  error: z.string(),
  message: z.string(),
  field: z.string().nullable(),
});

export const Meta = z.object({
  region: z.string(),
  instance: z.string(),
  mode: z.object({
    database: z.enum(["pglite", "postgres"]),
    cache: z.enum(["memory", "redis"]),
    queue: z.enum(["memory", "sqs"]),
    files: z.enum(["local", "s3"]),
  }),
});

export const Health = z.object({
  status: z.enum(["ok", "unavailable"]),
  checks: z.record(z.string(), z.string()).optional(),
});

/** The same error shape for every status a route can answer with. */
export function errors(...statuses: number[]): Record<number, JsonSchema> {
  const schema = jsonSchema(ErrorResponse);
  return Object.fromEntries(statuses.map((status) => [status, schema]));
}
