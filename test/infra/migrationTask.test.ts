import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MigrationTask,
  type MigrationTaskArgs,
  validateMigrationTaskArgs,
} from "../../components/migrationTask";
import { MAX_STOP_TIMEOUT_SECONDS } from "../../contract";
import { render } from "../../harness/component";
import { T } from "./support/types";

const MASTER_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf";
const DATABASE_KEY = "arn:aws:kms:us-east-1:123456789012:key/database";

const ARGS: MigrationTaskArgs = {
  cluster: { arn: "arn:aws:ecs:us-east-1:123456789012:cluster/app", name: "app" },
  vpcId: "vpc-123",
  subnetIds: ["subnet-private-a", "subnet-private-b"],
  image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:0123",
  command: ["migrate"],
  cpu: 256,
  memory: 512,
  environment: { AWS_REGION: "us-east-1", DATABASE_APP_USER: "app_rw" },
  secrets: { DATABASE_PASSWORD: { arn: MASTER_SECRET, jsonKey: "password" } },
  secretKmsKeyArns: [DATABASE_KEY],
  logRetentionDays: 7,
};

const containerOf = (inputs: Record<string, unknown>) =>
  (
    JSON.parse(String(inputs.containerDefinitions)) as Array<{
      command: string[];
      stopTimeout: number;
      secrets: Array<{ name: string; valueFrom: string }>;
    }>
  )[0]!;

describe("MigrationTask: GIVEN the migrate command with the master credential", () => {
  it("THEN there is a task definition and nothing that runs it by itself (no service, no scaling)", async () => {
    const { ofType } = await render(
      ({ provider }) => new MigrationTask("migrate", ARGS, { provider }),
    );
    assert.equal(ofType(T.taskDefinition).length, 1);
    assert.equal(ofType(T.service).length, 0);
    assert.equal(ofType(T.scalableTarget).length, 0);
  });

  it("THEN the container runs the command, gets the master password as a secret and the longest stop timeout", async () => {
    const { ofType } = await render(
      ({ provider }) => new MigrationTask("migrate", ARGS, { provider }),
    );
    const container = containerOf(ofType(T.taskDefinition)[0]!.inputs);
    assert.deepEqual(container.command, ["migrate"]);
    assert.deepEqual(container.secrets, [
      { name: "DATABASE_PASSWORD", valueFrom: `${MASTER_SECRET}:password::` },
    ]);
    assert.equal(container.stopTimeout, MAX_STOP_TIMEOUT_SECONDS);
  });

  it("THEN only its execution role may read the master secret", async () => {
    const { ofType } = await render(
      ({ provider }) => new MigrationTask("migrate", ARGS, { provider }),
    );
    const policies = ofType(T.rolePolicy).map((p) => p.name);
    assert.deepEqual(policies, ["migrate-execution-secrets"]);
  });

  it("WHEN the arguments are bad THEN every problem is reported, naming the argument", () => {
    const problems = validateMigrationTaskArgs({ ...ARGS, command: [], memory: 3 });
    assert.ok(
      problems.some((p) => p.startsWith("command")),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => p.startsWith("memory")),
      problems.join("\n"),
    );
  });
});

describe("MigrationTask: GIVEN the region without the writer (runsHere: false)", () => {
  const PATTERN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:rds!db-*";
  it("THEN its roles, security group and secret grant exist, ready for a failover, and no task definition", async () => {
    const { ofType } = await render(
      ({ provider }) =>
        new MigrationTask(
          "migrate",
          { ...ARGS, environment: {}, secrets: {}, secretGrantArns: [PATTERN], runsHere: false },
          { provider },
        ),
    );
    assert.equal(ofType(T.taskDefinition).length, 0);
    assert.equal(ofType("aws:iam/role:Role").length, 2, "execution and task roles");
    assert.equal(ofType("aws:ec2/securityGroup:SecurityGroup").length, 1);
    const grant = JSON.parse(String(ofType(T.rolePolicy)[0]!.inputs.policy)) as {
      Statement: Array<{ Sid: string; Resource: string[] }>;
    };
    assert.deepEqual(grant.Statement.find((s) => s.Sid === "ReadTaskSecrets")!.Resource, [PATTERN]);
  });
});
