// docker-compose.yml and scripts/services.sh run the same local services two ways; both take
// their ports and credentials from .env, so the TEST_* variables services.sh writes fit either.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";

const ROOT = join(__dirname, "..", "..");

/** .env as Compose reads it: KEY=VALUE lines, # comments. */
function dotenv(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(join(ROOT, ".env"), "utf8").split("\n")) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1]!] = match[2]!;
  }
  return values;
}

interface ComposeService {
  ports?: string[];
  environment?: Record<string, string>;
}

/** docker-compose.yml after Compose's ${VAR} interpolation from .env (`$$` stays a literal `$`). */
function compose(env: Record<string, string>): Record<string, ComposeService> {
  const text = readFileSync(join(ROOT, "docker-compose.yml"), "utf8").replace(
    /(\$?)\$\{([A-Z0-9_]+)\}/g,
    (whole, escaped: string, name: string) => {
      if (escaped) return whole;
      const value = env[name];
      assert.ok(
        value !== undefined,
        `docker-compose.yml uses \${${name}}, which .env does not set`,
      );
      return value;
    },
  );
  return (parseYaml(text, { merge: true }) as { services: Record<string, ComposeService> })
    .services;
}

/** What `scripts/services.sh env` prints: the variables `start` writes to .services/env. */
function servicesEnv(): Record<string, string> {
  const output = execFileSync("bash", [join(ROOT, "scripts", "services.sh"), "env"], {
    encoding: "utf8",
  });
  return Object.fromEntries(
    [...output.matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map((match) => [match[1]!, match[2]!]),
  );
}

/** The loopback port a Compose service is published on. */
function publishedPort(service: ComposeService): number {
  const [mapping] = service.ports ?? [];
  assert.ok(mapping, "the service publishes no port");
  return Number(mapping.split(":").at(-2));
}

describe("local services: docker-compose.yml and scripts/services.sh agree", () => {
  const env = dotenv();
  const services = compose(env);
  const tests = servicesEnv();

  it("GIVEN both setups THEN each service answers on the same loopback port", () => {
    const url = (name: string) => new URL(tests[name]!);
    assert.equal(publishedPort(services.postgres!), Number(url("TEST_DATABASE_URL").port));
    assert.equal(publishedPort(services.replica!), Number(url("TEST_DATABASE_READ_URLS").port));
    assert.equal(publishedPort(services.redis!), Number(url("TEST_REDIS_URL").port));
    assert.equal(publishedPort(services.moto!), Number(url("TEST_AWS_ENDPOINT_URL").port));
  });

  it("GIVEN both setups THEN the database login, database name and AWS credentials are the same", () => {
    const database = new URL(tests.TEST_DATABASE_URL!);
    const primary = services.postgres!.environment!;
    assert.equal(primary.POSTGRES_USER, database.username);
    assert.equal(primary.POSTGRES_PASSWORD, database.password);
    assert.equal(primary.POSTGRES_DB, database.pathname.slice(1));
    const app = services.web!.environment!;
    assert.equal(app.DATABASE_PASSWORD, database.password);
    assert.equal(app.AWS_ACCESS_KEY_ID, tests.AWS_ACCESS_KEY_ID);
    assert.equal(app.AWS_SECRET_ACCESS_KEY, tests.AWS_SECRET_ACCESS_KEY);
    assert.equal(app.AWS_REGION, tests.AWS_REGION);
  });

  it("GIVEN services.sh THEN its ports are the ones .env sets", () => {
    // services.sh's values are .env's, not numbers of its own.
    assert.equal(new URL(tests.TEST_DATABASE_URL!).port, env.LOCAL_POSTGRES_PORT);
    assert.equal(new URL(tests.TEST_REDIS_URL!).port, env.LOCAL_REDIS_PORT);
  });
});
