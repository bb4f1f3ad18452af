/**
 * The sessions table (SESSIONS_TABLE): the key schema the stack creates and the app reads and
 * writes, and the DynamoDB actions the app uses on it, which is all its task role is granted.
 */

/**
 * One item per session, partitioned by user so that one Query finds (and revokes) all of a user's
 * sessions. Both keys are strings; DynamoDB's TTL deletes items past `expiresAt` (epoch seconds).
 */
export const SESSIONS_TABLE_SCHEMA = {
  partitionKey: "userId",
  sortKey: "sessionHash",
  ttlAttribute: "expiresAt",
} as const;

/** What the web tier does with sessions: read, create, delete one, and list a user's to revoke. */
export const SESSIONS_TABLE_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:DeleteItem",
  "dynamodb:Query",
] as const;
