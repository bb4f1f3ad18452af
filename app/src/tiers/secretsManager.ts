/** Reads the database password from its Secrets Manager secret (or an emulator at AWS_ENDPOINT_URL). */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SecretRef } from "../config";
import type { PasswordSource } from "./databasePassword";

export interface SecretsManagerPasswordOptions {
  secret: SecretRef;
  endpoint: string | undefined;
  /** A read that takes longer is abandoned (it runs while a connection waits for its password). */
  timeoutMs?: number;
}

/**
 * The `password` of a secret whose value is JSON, the RDS-managed secret's shape
 * (`{"username": ..., "password": ...}`). Errors never quote the value: JSON.parse's own message
 * would show the start of it.
 */
export function passwordFromSecretString(secret: string, value: string | undefined): string {
  if (value === undefined) throw new Error(`secret ${secret} has no string value`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(`secret ${secret} is not JSON (expected {"username": ..., "password": ...})`);
  }
  const password =
    typeof parsed === "object" && parsed !== null && "password" in parsed
      ? (parsed as { password: unknown }).password
      : undefined;
  if (typeof password !== "string" || password === "") {
    throw new Error(`secret ${secret} has no "password" string`);
  }
  return password;
}

/**
 * A PasswordSource on Secrets Manager. The client's region is the secret's own (from its ARN): the
 * RDS-managed secret lives in the primary database's region, which need not be the task's.
 */
export function secretsManagerPassword(options: SecretsManagerPasswordOptions): PasswordSource {
  const { arn, region } = options.secret;
  const client = new SecretsManagerClient({
    region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  });
  const timeoutMs = options.timeoutMs ?? 5_000;
  return {
    name: arn,
    fetch: async () => {
      const result = await client.send(new GetSecretValueCommand({ SecretId: arn }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
      return passwordFromSecretString(arn, result.SecretString);
    },
    close: () => client.destroy(),
  };
}
