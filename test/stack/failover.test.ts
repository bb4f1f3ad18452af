/**
 * Regional failover of the database, as a specification over the synth of prod before and after
 * `database.writerRegion: secondary` (README: Deploying): the secondary's cross-region replica is
 * promoted in place into the writer, every region's app writes to it, and the primary's database
 * is left as it was.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { parseConfig, rawConfigFromPulumi, type StackConfig } from "../../stacks/config";
import { databaseShape } from "../../stacks/region";
import { synth, type Synth, type SynthResource } from "../../harness";
import { stackConfig } from "../../harness/synth";

const T = {
  db: "aws:rds/instance:Instance",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  route: "aws:ec2/route:Route",
  routeTable: "aws:ec2/routeTable:RouteTable",
  subnet: "aws:ec2/subnet:Subnet",
  peering: "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
  vpc: "aws:ec2/vpc:Vpc",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
} as const;

const FAILOVER = { database: { writerRegion: "secondary" } };
const PROMOTED = "secondary-database-replica-0";

let normal: Synth;
let failedOver: Synth;
let config: StackConfig;

before(async () => {
  [normal, failedOver] = await Promise.all([synth("prod"), synth("prod", FAILOVER)]);
  for (const result of [normal, failedOver]) assert.equal(result.error, undefined, result.error);
  config = parseConfig(rawConfigFromPulumi(stackConfig("prod", FAILOVER)));
});

const appEnv = (task: SynthResource) => {
  const [container] = JSON.parse(String(task.inputs.containerDefinitions)) as Array<{
    environment: Array<{ name: string; value: string }>;
    secrets: Array<{ name: string; valueFrom: string }>;
  }>;
  return {
    env: Object.fromEntries(container!.environment.map((e) => [e.name, e.value])),
    secrets: Object.fromEntries(container!.secrets.map((e) => [e.name, e.valueFrom])),
  };
};

describe("failover: where each region's database stands", () => {
  const cases: Array<[string, string, string]> = [
    ["primary", "primary", "writer"],
    ["secondary", "primary", "replica"],
    ["secondary", "secondary", "promotedReplica"],
    ["primary", "secondary", "formerWriter"],
  ];
  for (const [role, writerRegion, shape] of cases) {
    it(`GIVEN the ${role} region WHEN the writer is in the ${writerRegion} THEN its database is a ${shape}`, () => {
      assert.equal(
        databaseShape(role as "primary" | "secondary", writerRegion as "primary" | "secondary"),
        shape,
      );
    });
  }
});

describe("failover: GIVEN prod before any failover", () => {
  it("THEN both regions' tasks write to the primary's writer and name its password's secret", () => {
    const writer = normal.named("primary-database-writer", T.db);
    const secret = (writer.state.masterUserSecrets as Array<{ secretArn: string }>)[0]!.secretArn;
    for (const task of normal.ofType(T.taskDefinition)) {
      const { env } = appEnv(task);
      assert.ok(env.DATABASE_URL!.includes(`@${String(writer.state.address)}:`), task.name);
      assert.equal(env.DATABASE_SECRET_ARN, secret, task.name);
    }
  });
});

describe("failover: GIVEN prod WHEN database.writerRegion is secondary", () => {
  it("THEN the secondary's replica is promoted in place: the same resource, without a source", () => {
    const replica = normal.named(PROMOTED, T.db);
    const promoted = failedOver.named(PROMOTED, T.db);
    assert.equal(promoted.urn, replica.urn, "a new URN would replace the replica instead");
    assert.ok(replica.inputs.replicateSourceDb, "before: a replica of the primary's writer");
    assert.equal(promoted.inputs.replicateSourceDb, undefined);
    assert.equal(promoted.region, config.regions.secondary);
  });

  it("THEN the promoted writer has its own backups, final snapshot and master password in its region", () => {
    const promoted = failedOver.named(PROMOTED, T.db);
    assert.equal(promoted.inputs.backupRetentionPeriod, config.database.backupRetentionDays);
    assert.ok(Number(promoted.inputs.backupRetentionPeriod) >= 1);
    assert.equal(promoted.inputs.skipFinalSnapshot, config.database.skipFinalSnapshot);
    assert.match(
      String(promoted.inputs.finalSnapshotIdentifier),
      /^zero-to-millions-prod-secondary-database-final-/,
    );
    assert.equal(promoted.inputs.deletionProtection, config.database.enableDeletionProtection);
    assert.equal(promoted.inputs.manageMasterUserPassword, true);
    assert.match(
      String(promoted.inputs.masterUserSecretKmsKeyId),
      new RegExp(`^arn:aws:kms:${config.regions.secondary}:`),
    );
    assert.equal(promoted.inputs.applyImmediately, true);
  });

  it("THEN nothing the replica took from its source is set, so nothing forces a replacement", () => {
    const promoted = failedOver.named(PROMOTED, T.db);
    for (const key of ["engine", "allocatedStorage", "dbName", "username"]) {
      assert.equal(promoted.inputs[key], undefined, key);
    }
    const replica = normal.named(PROMOTED, T.db);
    for (const key of ["kmsKeyId", "dbSubnetGroupName", "instanceClass", "storageType"]) {
      assert.deepEqual(promoted.inputs[key], replica.inputs[key], key);
    }
  });

  it("THEN both regions' tasks write to it, read from it and take its password", () => {
    const promoted = failedOver.named(PROMOTED, T.db);
    const tasks = failedOver.ofType(T.taskDefinition);
    assert.deepEqual(
      [...new Set(tasks.map((task) => task.region))].sort(),
      [config.regions.primary, config.regions.secondary].sort(),
    );
    for (const task of tasks) {
      const { env, secrets } = appEnv(task);
      assert.ok(
        env.DATABASE_URL!.includes(`@${String(promoted.state.address)}:`),
        `${task.name}: ${env.DATABASE_URL}`,
      );
      // No replica follows the new writer, and the primary's replicas follow the former one.
      assert.equal(env.DATABASE_READ_URLS, "", task.name);
      const secret = (promoted.state.masterUserSecrets as Array<{ secretArn: string }>)[0]!;
      assert.equal(secrets.DATABASE_PASSWORD, `${secret.secretArn}:password::`, task.name);
    }
  });

  it("THEN both regions' tasks name its secret, and their task roles may read it (rotation)", () => {
    const promoted = failedOver.named(PROMOTED, T.db);
    const secret = (promoted.state.masterUserSecrets as Array<{ secretArn: string }>)[0]!.secretArn;
    for (const task of failedOver.ofType(T.taskDefinition)) {
      assert.equal(appEnv(task).env.DATABASE_SECRET_ARN, secret, task.name);
    }
    const grants = failedOver
      .ofType(T.rolePolicy)
      .filter((p) => p.name.endsWith("-database-password"));
    assert.equal(grants.length, 4, "web and workers, in both regions");
    for (const grant of grants) {
      const policy = JSON.parse(String(grant.inputs.policy)) as {
        Statement: Array<{ Action: string; Resource: string }>;
      };
      assert.deepEqual(
        policy.Statement.map((statement) => [statement.Action, statement.Resource]),
        [
          ["secretsmanager:GetSecretValue", secret],
          ["kms:Decrypt", promoted.inputs.kmsKeyId],
        ],
        grant.name,
      );
    }
  });

  it("THEN every task's execution role may decrypt the password with the secondary database's key", () => {
    const promoted = failedOver.named(PROMOTED, T.db);
    for (const policy of failedOver
      .ofType(T.rolePolicy)
      .filter((p) => p.name.endsWith("-execution-secrets"))) {
      assert.ok(
        String(policy.inputs.policy).includes(String(promoted.inputs.kmsKeyId)),
        policy.name,
      );
    }
  });

  it("THEN the primary's database is left exactly as it was", () => {
    const primaryDbs = (s: Synth) =>
      s
        .ofType(T.db, config.regions.primary)
        .map((db) => [db.urn, db.inputs])
        .sort();
    assert.deepEqual(primaryDbs(failedOver), primaryDbs(normal));
  });

  it("THEN the peering stays and its routes join the primary's app subnets to the secondary's data subnets", () => {
    assert.equal(
      failedOver.named("peering-connection", T.peering).urn,
      normal.named("peering-connection", T.peering).urn,
    );
    const cidrs = (region: string, kind: string) =>
      failedOver
        .ofType(T.subnet, region)
        .filter((subnet) => (subnet.inputs.tags as Record<string, string>)["subnet-kind"] === kind)
        .map((subnet) => String(subnet.inputs.cidrBlock))
        .sort();
    const tableIds = (region: string, pattern: RegExp) =>
      new Set(
        failedOver
          .ofType(T.routeTable, region)
          .filter((t) => pattern.test(t.name))
          .map((t) => t.id),
      );
    // The peering's routes (the internet and NAT routes are aws.ec2.Route resources too).
    const routes = (region: string) =>
      failedOver
        .ofType(T.route, region)
        .filter((route) => route.inputs.vpcPeeringConnectionId !== undefined);
    const { primary, secondary } = config.regions;
    const primaryApp = tableIds(primary, /^primary-network-private-rt-\d$/);
    const secondaryData = tableIds(secondary, /^secondary-network-isolated-rt$/);
    assert.deepEqual(
      [...new Set(routes(primary).map((r) => String(r.inputs.destinationCidrBlock)))].sort(),
      cidrs(secondary, "isolated"),
    );
    for (const route of routes(primary))
      assert.ok(primaryApp.has(String(route.inputs.routeTableId)), route.name);
    assert.deepEqual(
      routes(secondary)
        .map((r) => String(r.inputs.destinationCidrBlock))
        .sort(),
      cidrs(primary, "private"),
    );
    for (const route of routes(secondary))
      assert.ok(secondaryData.has(String(route.inputs.routeTableId)), route.name);
  });

  it("THEN the new writer admits the primary's app subnets, and the former writer no other region's", () => {
    const group = (s: Synth, name: string) => s.named(name, T.securityGroup).id;
    const admitted = (s: Synth, groupName: string) =>
      s
        .ofType(T.ingress)
        .filter(
          (rule) => rule.inputs.securityGroupId === group(s, groupName) && rule.inputs.cidrIpv4,
        )
        .map((rule) => String(rule.inputs.cidrIpv4))
        .sort();
    const primaryAppCidrs = failedOver
      .ofType(T.subnet, config.regions.primary)
      .filter(
        (subnet) => (subnet.inputs.tags as Record<string, string>)["subnet-kind"] === "private",
      )
      .map((subnet) => String(subnet.inputs.cidrBlock))
      .sort();
    assert.deepEqual(admitted(failedOver, "secondary-database-sg"), primaryAppCidrs);
    assert.deepEqual(admitted(failedOver, "primary-database-sg"), []);
    assert.notDeepEqual(
      admitted(normal, "primary-database-sg"),
      [],
      "before: the secondary's app wrote to the primary",
    );
  });
});

describe("failover: GIVEN a prebuilt image in the primary region's ECR", () => {
  const repository = "zero-to-millions@sha256:" + "0".repeat(64);
  const ecr = (region: string) => `123456789012.dkr.ecr.${region}.amazonaws.com/${repository}`;

  it("THEN each region's tasks pull from their own region's replica, so the secondary needs nothing from the primary", async () => {
    const s = await synth("prod", { image: { uri: ecr(config.regions.primary) } });
    assert.equal(s.error, undefined, s.error);
    for (const task of s.ofType(T.taskDefinition)) {
      const [container] = JSON.parse(String(task.inputs.containerDefinitions)) as Array<{
        image: string;
      }>;
      assert.equal(container!.image, ecr(task.region!), task.name);
    }
  });

  it("THEN an image outside ECR is pulled as it is, in both regions", async () => {
    const uri = "public.ecr.aws/docker/library/node:20-slim";
    const s = await synth("prod", { image: { uri } });
    for (const task of s.ofType(T.taskDefinition)) {
      assert.match(
        String(task.inputs.containerDefinitions),
        /"image":"public\.ecr\.aws\/docker\/library\/node:20-slim"/,
      );
    }
  });
});
