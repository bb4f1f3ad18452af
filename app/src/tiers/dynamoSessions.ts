/**
 * Sessions in DynamoDB: a global table with a replica in every region of the stack, the app using
 * its own region's replica. A user sent to the other region (failover, or weighted routing) finds
 * their session there; nothing is evicted under memory pressure as in the cache.
 *
 * One item per session, partitioned by user: a user's sessions are one strongly consistent Query
 * away, so signing out and deleting an account revoke them all, and the deletes replicate to every
 * region. The session id in the cookie is `<userId>.<secret>`; the item holds only the secret's
 * hash. DynamoDB's TTL deletes expired items eventually (within days), so reads check the expiry.
 */
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  newSessionId,
  sessionHash,
  SessionStoreUnavailableError,
  type SessionData,
  type SessionStore,
} from "./sessions";

/** The table's keys and TTL attribute, and what the web role may do on it: the contract's. */
export { SESSIONS_TABLE_ACTIONS, SESSIONS_TABLE_SCHEMA } from "../../../contract";

export interface DynamoSessionStoreOptions {
  table: string;
  /** This task's region: the replica next to it. */
  region: string;
  endpoint: string | undefined;
  /** One attempt is abandoned after this; the request then answers 503 rather than hang. */
  requestTimeoutMs?: number;
  now?: () => number;
}

interface SessionItem {
  userId: string;
  sessionHash: string;
  createdAt: string;
  expiresAt: number;
}

/** `<userId>.<secret>`: the user part finds the partition, the secret proves the session. */
function splitSessionId(sessionId: string): { userId: string; secret: string } | undefined {
  const dot = sessionId.lastIndexOf(".");
  if (dot <= 0 || dot === sessionId.length - 1) return undefined;
  return { userId: sessionId.slice(0, dot), secret: sessionId.slice(dot + 1) };
}

export class DynamoSessionStore implements SessionStore {
  readonly kind = "dynamodb";
  private readonly client: DynamoDBClient;
  private readonly documents: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;

  constructor(options: DynamoSessionStoreOptions) {
    const timeoutMs = options.requestTimeoutMs ?? 2_000;
    this.client = new DynamoDBClient({
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      // A user waits on this: two short attempts, then a 503 with Retry-After.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs },
    });
    this.documents = DynamoDBDocumentClient.from(this.client);
    this.table = options.table;
    this.now = options.now ?? Date.now;
  }

  async create(data: SessionData, ttlMs: number): Promise<string> {
    const secret = newSessionId();
    const item: SessionItem = {
      userId: data.userId,
      sessionHash: sessionHash(secret),
      createdAt: data.createdAt,
      expiresAt: Math.ceil((this.now() + ttlMs) / 1000),
    };
    await this.guarded(() =>
      this.documents.send(new PutCommand({ TableName: this.table, Item: item })),
    );
    return `${data.userId}.${secret}`;
  }

  async get(sessionId: string): Promise<SessionData | undefined> {
    const parts = splitSessionId(sessionId);
    if (parts === undefined) return undefined;
    const result = await this.guarded(() =>
      this.documents.send(
        new GetCommand({
          TableName: this.table,
          Key: { userId: parts.userId, sessionHash: sessionHash(parts.secret) },
          ConsistentRead: true,
        }),
      ),
    );
    const item = result.Item as Partial<SessionItem> | undefined;
    if (item === undefined || typeof item.expiresAt !== "number") return undefined;
    if (item.expiresAt * 1000 <= this.now()) return undefined;
    return typeof item.createdAt === "string"
      ? { userId: parts.userId, createdAt: item.createdAt }
      : undefined;
  }

  async delete(sessionId: string): Promise<void> {
    const parts = splitSessionId(sessionId);
    if (parts === undefined) return;
    await this.guarded(() =>
      this.documents.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { userId: parts.userId, sessionHash: sessionHash(parts.secret) },
        }),
      ),
    );
  }

  async revokeUser(userId: string): Promise<void> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.guarded(() =>
        this.documents.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: "userId = :userId",
            ExpressionAttributeValues: { ":userId": userId },
            ProjectionExpression: "sessionHash",
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      const hashes = (page.Items ?? []).map((item) => String(item.sessionHash));
      await Promise.all(
        hashes.map((hash) =>
          this.guarded(() =>
            this.documents.send(
              new DeleteCommand({ TableName: this.table, Key: { userId, sessionHash: hash } }),
            ),
          ),
        ),
      );
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async guarded<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new SessionStoreUnavailableError(error);
    }
  }
}
