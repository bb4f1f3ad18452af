/**
 * Request and response shapes, written once in zod: the TypeScript types come from z.infer, and
 * the JSON Schemas that Fastify validates with (and @fastify/swagger publishes) from z.toJSONSchema.
 */
import { z } from "zod";

export type JsonSchema = Record<string, unknown>;

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
const USER_ID = /^[1-9][0-9]{0,18}$/;

/** What a failed `pattern` means, by pattern source: the JSON Schema itself cannot say it. */
export const PATTERN_MESSAGES: Record<string, string> = {
  [NOT_BLANK.source]: "must not be blank",
  [USER_ID.source]: "must be a user id (a positive whole number)",
};

const name = z.string().min(1).max(100).regex(NOT_BLANK);
const email = z.email().max(254);

export const CreateUserBody = z.strictObject({
  name,
  email,
  password: z.string().min(8).max(200),
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const UpdateUserBody = z
  .strictObject({ name: name.optional(), email: email.optional() })
  // Emitted into the JSON Schema, where Ajv enforces it: a PATCH must change something.
  .meta({ minProperties: 1 });
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;

export const SignInBody = z.strictObject({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(200),
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

export const User = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  createdAt: z.string(),
  photo: z.object({ thumbnailUrl: z.string() }).nullable(),
});
export type User = z.infer<typeof User>;

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
