/**
 * The contract's own rules: every variable is delivered the way it says, its example parses, and
 * the shutdown deadlines nest (the app exits before the load balancer stops draining and before
 * ECS kills it). The stack spec (test/stack/contract.test.ts) checks the synthesized tasks against it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  COMMANDS,
  COMPONENT_TASK_VARIABLES,
  EnvironmentError,
  HEALTH,
  HEALTH_CHECKERS,
  MAX_STOP_TIMEOUT_SECONDS,
  MIGRATE_SECRETS,
  MIGRATE_VARIABLES,
  readVariable,
  TASK_ROLES,
  TASK_SECRETS,
  TASK_VARIABLES,
  type Variable,
  VARIABLES,
  WEB_SHUTDOWN,
  workerShutdown,
} from "../../contract";

const all = Object.values(VARIABLES) as Variable<unknown>[];

describe("contract: environment variables", () => {
  it("GIVEN each variable THEN its key is its name and its example parses", () => {
    for (const [key, variable] of Object.entries(VARIABLES)) {
      assert.equal(variable.name, key);
      assert.doesNotThrow(() => variable.parse(variable.example), variable.name);
    }
  });

  it("GIVEN the task variables THEN each stack-delivered variable reaches some task, as it says, and no local one does", () => {
    const plain = new Set<string>([
      ...TASK_ROLES.flatMap((role) => [...TASK_VARIABLES[role]]),
      ...MIGRATE_VARIABLES,
    ]);
    const secret = new Set<string>([...TASK_SECRETS, ...MIGRATE_SECRETS]);
    for (const variable of all) {
      assert.equal(plain.has(variable.name), variable.delivery === "environment", variable.name);
      assert.equal(secret.has(variable.name), variable.delivery === "secret", variable.name);
    }
  });

  it("GIVEN each role THEN the component sets only the role's own variables", () => {
    for (const role of TASK_ROLES) {
      for (const name of COMPONENT_TASK_VARIABLES[role]) {
        assert.ok((TASK_VARIABLES[role] as readonly string[]).includes(name), `${role}: ${name}`);
      }
    }
  });

  it("GIVEN unset or empty THEN the default applies; GIVEN a bad value THEN the error names the variable", () => {
    assert.equal(readVariable({}, "PORT"), 3000);
    assert.equal(readVariable({ PORT: " " }, "PORT"), 3000);
    assert.equal(readVariable({}, "QUEUE_URL"), undefined);
    assert.equal(
      readVariable({ SHUTDOWN_DEADLINE_SECONDS: "65" }, "SHUTDOWN_DEADLINE_SECONDS"),
      65,
    );
    for (const value of ["0", "-1", "1.5", "soon"]) {
      assert.throws(
        () => readVariable({ SHUTDOWN_DEADLINE_SECONDS: value }, "SHUTDOWN_DEADLINE_SECONDS"),
        (error: EnvironmentError) => error.variable === "SHUTDOWN_DEADLINE_SECONDS",
      );
    }
  });
});

describe("contract: process", () => {
  it("GIVEN each task role THEN its command is its name", () => {
    for (const role of TASK_ROLES) assert.deepEqual(COMMANDS[role], [role]);
  });

  it("GIVEN the checkers THEN the load balancer uses readiness and Route53 liveness", () => {
    assert.equal(HEALTH_CHECKERS.loadBalancer.path, HEALTH.readiness.path);
    assert.equal(HEALTH_CHECKERS.dnsFailover.path, HEALTH.liveness.path);
  });

  it("GIVEN the web deadlines THEN the app exits before draining ends and before ECS kills it", () => {
    assert.ok(WEB_SHUTDOWN.appSeconds < WEB_SHUTDOWN.drainSeconds);
    assert.ok(WEB_SHUTDOWN.appSeconds < WEB_SHUTDOWN.stopTimeoutSeconds);
    assert.ok(WEB_SHUTDOWN.stopTimeoutSeconds <= MAX_STOP_TIMEOUT_SECONDS);
  });

  const workers: Array<[number, number, number]> = [
    // job timeout, app deadline, stop timeout
    [30, 35, 40],
    [60, 65, 70],
    [110, 115, 120],
    [900, 115, 120],
  ];
  for (const [jobTimeout, app, stop] of workers) {
    it(`GIVEN a ${jobTimeout} s job timeout THEN the worker exits by ${app} s and ECS kills it at ${stop} s`, () => {
      assert.deepEqual(workerShutdown(jobTimeout), { appSeconds: app, stopTimeoutSeconds: stop });
    });
  }

  it("GIVEN a job timeout Fargate's limit allows THEN the app waits out the job in hand", () => {
    for (let jobTimeout = 1; jobTimeout <= 110; jobTimeout += 1) {
      const { appSeconds, stopTimeoutSeconds } = workerShutdown(jobTimeout);
      assert.ok(jobTimeout <= appSeconds && appSeconds < stopTimeoutSeconds, String(jobTimeout));
    }
  });
});
