// Unit tests of the rotating database password (DATABASE_SECRET_ARN): the cache behind pg's
// `password` hook, refresh on 28P01 with one retry, single-flight, rate limit, and no leaks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  INVALID_PASSWORD,
  PASSWORD_REFRESH_MIN_INTERVAL_MS,
  RotatingPassword,
  type PasswordSource,
} from "../../app/src/tiers/databasePassword";
import { passwordFromSecretString } from "../../app/src/tiers/secretsManager";
import { captureLogs } from "./support/helpers";

const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-test-AbCdEf";

/** A Secrets Manager stand-in: counts reads, can hold them open, can fail them. */
class FakeSecret implements PasswordSource {
  readonly name = SECRET;
  fetches = 0;
  failWith: Error | undefined;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(public value: string) {}

  /** Holds every read until release(). */
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async fetch(): Promise<string> {
    this.fetches += 1;
    const value = this.value;
    await this.gate;
    if (this.failWith !== undefined) throw this.failWith;
    return value;
  }
}

/** A database server's password check: what pg does on a new connection, with the pool's hook. */
class FakeServer {
  connections = 0;
  constructor(public password: string) {}

  /** Opens a "connection" with `hook`'s password; 28P01 when it is not the server's. */
  connect(hook: () => Promise<string>) {
    return async (): Promise<string> => {
      this.connections += 1;
      const offered = await hook();
      if (offered !== this.password) {
        throw Object.assign(new Error('password authentication failed for user "app"'), {
          code: INVALID_PASSWORD,
        });
      }
      return "connected";
    };
  }
}

class FakeClock {
  constructor(public ms = 1_000_000) {}
  now = () => this.ms;
}

function setup(options: { secret?: string; server?: string; minRefreshIntervalMs?: number } = {}) {
  const secret = new FakeSecret(options.secret ?? "p1");
  const server = new FakeServer(options.server ?? "p1");
  const clock = new FakeClock();
  const logs = captureLogs("trace");
  const password = new RotatingPassword({
    source: secret,
    logger: logs.logger,
    now: clock.now,
    ...(options.minRefreshIntervalMs === undefined
      ? {}
      : { minRefreshIntervalMs: options.minRefreshIntervalMs }),
  });
  return { secret, server, clock, logs, password };
}

describe("RotatingPassword", () => {
  it("GIVEN a rate limit THEN it is a named 30-second constant", () => {
    assert.equal(PASSWORD_REFRESH_MIN_INTERVAL_MS, 30_000);
  });

  it("GIVEN DATABASE_PASSWORD and a secret THEN the pool starts on the former and the secret wins once read", async () => {
    const { secret, password } = setup({ secret: "from-secret" });
    const hook = password.passwordFor("from-env");
    assert.equal(await hook(), "from-env");
    assert.equal(secret.fetches, 0, "the hook does not read the secret while it has a password");
    assert.equal(await password.load(), true);
    assert.equal(await hook(), "from-secret");
    assert.equal(secret.fetches, 1);
  });

  it("GIVEN the secret unreadable at startup THEN load() logs and resolves false, and DATABASE_PASSWORD is used", async () => {
    const { secret, password, logs } = setup();
    secret.failWith = new Error("AccessDeniedException");
    assert.equal(await password.load(), false);
    assert.equal(await password.passwordFor("from-env")(), "from-env");
    assert.ok(
      logs.lines().some((line) => line.msg === "could not read the database password secret"),
    );
  });

  it("GIVEN no password at all and the secret unreadable THEN the hook fails with a clear error, rate-limited", async () => {
    const { secret, password } = setup();
    secret.failWith = new Error("unreachable");
    await password.load();
    const hook = password.passwordFor(undefined);
    await assert.rejects(hook(), /no database password: the secret .* could not be read/);
    await assert.rejects(hook(), /no database password/);
    assert.equal(
      secret.fetches,
      2,
      "startup, then one refresh; the second hook call is rate-limited",
    );
  });

  it("GIVEN a rotation WHEN a new connection is refused with 28P01 THEN the secret is re-read and the connection retried once", async () => {
    const { secret, server, password, logs } = setup();
    await password.load();
    const connect = server.connect(password.passwordFor(undefined));
    assert.equal(await password.retryOnAuthFailure(connect), "connected");

    server.password = "p2";
    secret.value = "p2";
    assert.equal(await password.retryOnAuthFailure(connect), "connected");
    assert.equal(secret.fetches, 2, "startup + one refresh");
    assert.equal(server.connections, 3, "the refused connection was tried exactly once more");
    assert.ok(logs.lines().some((line) => line.reason === "password refused (28P01)"));
  });

  it("GIVEN a stale DATABASE_PASSWORD and a secret unread at startup WHEN refused THEN the refresh is not rate-limited by the startup read", async () => {
    const { secret, server, password } = setup({ server: "p2" });
    secret.failWith = new Error("throttled");
    await password.load();
    secret.failWith = undefined;
    secret.value = "p2";
    const connect = server.connect(password.passwordFor("p1"));
    assert.equal(await password.retryOnAuthFailure(connect), "connected");
    assert.equal(secret.fetches, 2);
  });

  it("GIVEN many connections refused at once THEN one read serves them all (single-flight) and each retries once", async () => {
    // No rate limit here, so that only the single-flight can keep this to one read.
    const { secret, server, password } = setup({ minRefreshIntervalMs: 0 });
    await password.load();
    server.password = "p2";
    secret.value = "p2";
    secret.hold();
    const hook = password.passwordFor(undefined);
    const results = Promise.all(
      Array.from({ length: 20 }, () => password.retryOnAuthFailure(server.connect(hook))),
    );
    // Let every attempt fail and join the read, then let the read finish.
    await new Promise((resolve) => setImmediate(resolve));
    secret.release();
    assert.deepEqual(await results, Array(20).fill("connected"));
    assert.equal(secret.fetches, 2, "startup + exactly one refresh for twenty failures");
    assert.equal(server.connections, 40, "each connection: one refusal, one retry");
  });

  it("GIVEN a refusal that arrives after another caller already refreshed THEN it retries without another read", async () => {
    const { secret, server, password } = setup();
    await password.load();
    const hook = password.passwordFor(undefined);
    server.password = "p2";
    secret.value = "p2";
    // This attempt sees version 1 (p1), but its refusal is only reported after a refresh by
    // someone else: like a slow connection racing a fast one.
    let refuse!: () => void;
    const slow = password.retryOnAuthFailure(async () => {
      if (server.connections++ === 0) {
        await new Promise<void>((resolve) => (refuse = resolve));
        throw Object.assign(new Error("refused"), { code: INVALID_PASSWORD });
      }
      return hook();
    });
    assert.equal(await password.retryOnAuthFailure(server.connect(hook)), "connected");
    refuse();
    assert.equal(await slow, "p2");
    assert.equal(secret.fetches, 2, "startup + one refresh");
  });

  it("GIVEN a genuinely wrong password (the secret agrees with it) THEN it reads once and does not retry", async () => {
    const { secret, server, password, logs } = setup({ server: "something-else" });
    await password.load();
    const connect = server.connect(password.passwordFor(undefined));
    await assert.rejects(password.retryOnAuthFailure(connect), { code: INVALID_PASSWORD });
    assert.equal(secret.fetches, 2);
    assert.equal(server.connections, 1, "an unchanged password is not worth a retry");
    assert.ok(logs.lines().some((line) => line.msg === "database password unchanged"));
  });

  it("GIVEN repeated refusals THEN the secret is read at most once per interval", async () => {
    const { secret, server, password, clock, logs } = setup({ server: "wrong" });
    await password.load();
    const connect = server.connect(password.passwordFor(undefined));
    for (let i = 0; i < 50; i += 1) {
      await assert.rejects(password.retryOnAuthFailure(connect), { code: INVALID_PASSWORD });
      clock.ms += 100;
    }
    assert.equal(secret.fetches, 2, "startup + one refresh in 5 s of refusals");
    assert.equal(
      logs.lines().filter((line) => line.retryInMs !== undefined).length,
      1,
      "the rate limit is logged once per interval, not once per refusal",
    );

    clock.ms += PASSWORD_REFRESH_MIN_INTERVAL_MS;
    await assert.rejects(password.retryOnAuthFailure(connect), { code: INVALID_PASSWORD });
    assert.equal(secret.fetches, 3, "after the interval, one more read");

    // And a rotation inside the interval is picked up as soon as it ends.
    server.password = "p2";
    secret.value = "p2";
    await assert.rejects(password.retryOnAuthFailure(connect), { code: INVALID_PASSWORD });
    assert.equal(secret.fetches, 3);
    clock.ms += PASSWORD_REFRESH_MIN_INTERVAL_MS;
    assert.equal(await password.retryOnAuthFailure(connect), "connected");
    assert.equal(secret.fetches, 4);
  });

  it("GIVEN the refreshed password is refused too THEN the connection is retried only once", async () => {
    const { secret, password } = setup();
    await password.load();
    secret.value = "p2";
    let attempts = 0;
    await assert.rejects(
      password.retryOnAuthFailure(async () => {
        attempts += 1;
        throw Object.assign(new Error("refused"), { code: INVALID_PASSWORD });
      }),
      { code: INVALID_PASSWORD },
    );
    assert.equal(attempts, 2);
    assert.equal(secret.fetches, 2);
  });

  it("GIVEN no rate limit and a secret that changes on every read THEN still only one retry per connection", async () => {
    let reads = 0;
    const password = new RotatingPassword({
      source: { name: SECRET, fetch: async () => `p${(reads += 1)}` },
      logger: captureLogs().logger,
      minRefreshIntervalMs: 0,
    });
    await password.load();
    let attempts = 0;
    await assert.rejects(
      password.retryOnAuthFailure(async () => {
        attempts += 1;
        if (attempts > 5) throw new Error("runaway retries");
        throw Object.assign(new Error("refused"), { code: INVALID_PASSWORD });
      }),
      { code: INVALID_PASSWORD },
    );
    assert.equal(attempts, 2);
    assert.equal(reads, 2);
  });

  it("GIVEN any other error THEN it propagates without a read or a retry", async () => {
    const { secret, password } = setup();
    await password.load();
    for (const code of ["ECONNREFUSED", "57P01", "42P01", "28000", undefined]) {
      let attempts = 0;
      await assert.rejects(
        password.retryOnAuthFailure(async () => {
          attempts += 1;
          throw Object.assign(new Error("other"), { code });
        }),
        /other/,
      );
      assert.equal(attempts, 1, String(code));
    }
    assert.equal(secret.fetches, 1, "only the startup read");
  });

  it("GIVEN a fetch that throws synchronously THEN later refreshes still read (no stuck in-flight read)", async () => {
    const logs = captureLogs();
    const clock = new FakeClock();
    let fetches = 0;
    const password = new RotatingPassword({
      source: {
        name: SECRET,
        fetch: () => {
          fetches += 1;
          if (fetches === 1) throw new Error("synchronous failure");
          return Promise.resolve("p2");
        },
      },
      logger: logs.logger,
      now: clock.now,
    });
    assert.equal(await password.load(), false);
    assert.equal(await password.load(), true);
    assert.equal(await password.passwordFor(undefined)(), "p2");
  });

  it("GIVEN every path (read, change, refusal, failure, rate limit, malformed secret) THEN no password is ever logged", async () => {
    const values = ["initial-Secret-1", "rotated-Secret-2", "env-Secret-0"];
    const { secret, server, password, clock, logs } = setup({
      secret: values[0],
      server: values[0],
    });
    await password.load();
    const connect = server.connect(password.passwordFor(values[2]));
    await password.retryOnAuthFailure(connect);
    server.password = values[1]!;
    secret.value = values[1]!;
    await password.retryOnAuthFailure(connect);
    server.password = "nobody-knows";
    await assert.rejects(password.retryOnAuthFailure(connect));
    await assert.rejects(password.retryOnAuthFailure(connect));
    clock.ms += PASSWORD_REFRESH_MIN_INTERVAL_MS;
    secret.failWith = new Error("AccessDeniedException: not authorized");
    await assert.rejects(password.retryOnAuthFailure(connect));

    // A secret whose value is not JSON: JSON.parse's own message would quote its start.
    const malformed = new RotatingPassword({
      source: {
        name: SECRET,
        fetch: async () => passwordFromSecretString(SECRET, `${values[1]} is not json`),
      },
      logger: logs.logger,
    });
    assert.equal(await malformed.load(), false);

    const text = logs.text();
    assert.ok(text.length > 0 && logs.lines().length >= 6, "the paths were logged");
    for (const value of values) assert.ok(!text.includes(value), `${value} leaked into the logs`);
  });
});

describe("passwordFromSecretString", () => {
  it("GIVEN the RDS-managed secret's JSON THEN it returns the password", () => {
    assert.equal(
      passwordFromSecretString(SECRET, JSON.stringify({ username: "app", password: "pw" })),
      "pw",
    );
  });

  it("GIVEN a malformed or incomplete secret THEN the error names the secret and never quotes the value", () => {
    for (const value of [
      "hunter2-Plain-Text",
      '{"username":"app","password":"hunter2-Plain-Text"',
      '{"username":"app","pass":"hunter2-Plain-Text"}',
      '{"password":98765}',
      '"hunter2-Plain-Text"',
      undefined,
    ]) {
      assert.throws(
        () => passwordFromSecretString(SECRET, value),
        (error: Error) => error.message.includes(SECRET) && !/hunter2|98765/.test(error.message),
        String(value),
      );
    }
  });
});
