import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Database,
  type DatabaseArgs,
  type DatabaseRoleOutputs,
  validateDatabaseArgs,
} from "../../components/database";
import { render, resolve } from "../../harness/component";
import { admittedSources, assertNoAccess } from "./support/dataTier";
import { T } from "./support/types";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";

const ISOLATED_SUBNETS = ["subnet-isolated-a", "subnet-isolated-b"];
const RDS_INSTANCE = "aws:rds/instance:Instance";
const SOURCE_ARN = "arn:aws:rds:us-east-1:123456789012:db:primary-database-writer-1a2b3c4";

/** A small, valid primary-region database; each test states what it changes. */
function baseArgs(overrides: Partial<DatabaseArgs> = {}): DatabaseArgs {
  return {
    vpcId: "vpc-123",
    subnetIds: ISOLATED_SUBNETS,
    engineVersion: "16",
    instanceClass: "db.t4g.micro",
    allocatedStorageGb: 20,
    maxAllocatedStorageGb: 50,
    databaseName: "app",
    masterUsername: "app",
    role: { kind: "writer", readReplicas: 0 },
    enableMultiAz: false,
    backupRetentionDays: 1,
    enableDeletionProtection: false,
    skipFinalSnapshot: true,
    enablePerformanceInsights: true,
    ...overrides,
  };
}

/** The writer's outputs; fails the test when the database has no writer. */
function writerOf(database: Database) {
  const { role } = database;
  assert.ok(role.kind === "writer" || role.kind === "promotedReplica", `a ${role.kind}`);
  return role.writer;
}

/** A writer's in-region readers; fails the test for any other role. */
function readersOf(database: Database) {
  const { role } = database;
  assert.ok(role.kind === "writer", `a ${role.kind}`);
  return role.readers;
}

/** The component synthesized as "db" with `args` (in us-east-1 unless `options.region` says). */
const renderDatabase = (args: DatabaseArgs, options: Parameters<typeof render>[1] = {}) =>
  render(({ provider }) => new Database("db", args, { provider }), options);

const prodArgs = (overrides: Partial<DatabaseArgs> = {}) =>
  baseArgs({
    instanceClass: "db.r6g.large",
    allocatedStorageGb: 100,
    maxAllocatedStorageGb: 1000,
    role: { kind: "writer", readReplicas: 2 },
    enableMultiAz: true,
    backupRetentionDays: 14,
    enableDeletionProtection: true,
    skipFinalSnapshot: false,
    ...overrides,
  });

describe("Database: argument validation", () => {
  const cases: Array<[string, Partial<DatabaseArgs>, RegExp | null]> = [
    ["the dev shape", {}, null],
    ["the prod shape", prodArgs(), null],
    [
      "a prod-unsafe shape (the policy pack's call, not an error)",
      { skipFinalSnapshot: true, backupRetentionDays: 0 },
      null,
    ],
    ["storage autoscaling off (ceiling equals allocation)", { maxAllocatedStorageGb: 20 }, null],
    ["a pinned minor version", { engineVersion: "16.4" }, null],
    [
      "six replicas",
      { role: { kind: "writer", readReplicas: 6 } },
      /readReplicas: 6 must be a whole number from 0 to 5/,
    ],
    [
      "a fractional replica count",
      { role: { kind: "writer", readReplicas: 1.5 } },
      /readReplicas: 1.5/,
    ],
    [
      "a version that is no version",
      { engineVersion: "16.x" },
      /engineVersion: "16.x" must be a PostgreSQL version/,
    ],
    [
      "a version out of standard support",
      { engineVersion: "12" },
      /engineVersion: "12" .* 13 or later/,
    ],
    [
      "a class without the db. prefix",
      { instanceClass: "t4g.micro" },
      /instanceClass: "t4g.micro"/,
    ],
    [
      "storage below gp3's minimum",
      { allocatedStorageGb: 10, maxAllocatedStorageGb: 10 },
      /allocatedStorageGb: 10 must be/,
    ],
    [
      "a ceiling below the allocation",
      { maxAllocatedStorageGb: 10 },
      /maxAllocatedStorageGb: 10 .* storage only grows/,
    ],
    [
      "a ceiling less than 10% above the allocation",
      { maxAllocatedStorageGb: 21 },
      /maxAllocatedStorageGb: 21 must be at least 22/,
    ],
    [
      "replicas without backups",
      { role: { kind: "writer", readReplicas: 1 }, backupRetentionDays: 0 },
      /backupRetentionDays: 0 with role\.readReplicas 1/,
    ],
    ["backups longer than RDS keeps", { backupRetentionDays: 36 }, /backupRetentionDays: 36/],
    ["one subnet", { subnetIds: ["subnet-a"] }, /subnetIds: 1 given/],
    ["a database name with capitals", { databaseName: "App" }, /databaseName: "App"/],
    ["a reserved user name", { masterUsername: "rdsadmin" }, /masterUsername: "rdsadmin"/],
  ];
  itValidatesEachCase((overrides) => validateDatabaseArgs(baseArgs(overrides)), cases);

  itThrowsBeforeAnyChild(
    ({ provider }) =>
      new Database("bad", baseArgs({ role: { kind: "writer", readReplicas: 9 } }), { provider }),
    /Database "bad": invalid arguments/,
  );

  itThrowsBeforeAnyChild(
    ({ provider }) => new Database("Primary_DB", baseArgs(), { provider }),
    /name: "Primary_DB" must be lowercase/,
    "a name RDS identifiers cannot carry",
  );
});

describe("Database: the writer", () => {
  it("GIVEN the prod shape THEN the writer runs in the isolated subnets, encrypted with the component's key, and never public", async () => {
    const { value: database, ofType, named } = await renderDatabase(prodArgs());
    const key = ofType("aws:kms/key:Key")[0]!;
    assert.equal(key.inputs.enableKeyRotation, true);
    assert.deepEqual(
      ofType("aws:rds/subnetGroup:SubnetGroup")[0]!.inputs.subnetIds,
      ISOLATED_SUBNETS,
    );
    const writer = named("db-writer", RDS_INSTANCE);
    assert.equal(writer.inputs.storageEncrypted, true);
    assert.equal(writer.inputs.storageType, "gp3");
    assert.equal(writer.inputs.kmsKeyId, key.state.arn);
    assert.equal(writer.inputs.performanceInsightsKmsKeyId, key.state.arn);
    assert.equal(writer.inputs.publiclyAccessible, false);
    assert.equal(
      writer.inputs.dbSubnetGroupName,
      ofType("aws:rds/subnetGroup:SubnetGroup")[0]!.state.name,
    );
    assert.equal(await resolve(database.kmsKeyArn), key.state.arn);
    assert.match(
      await resolve(writerOf(database).address),
      /^zero-to-millions-test-db-writer\.c[0-9a-f]+\.us-east-1\.rds\.amazonaws\.com$/,
    );
  });

  it("GIVEN any shape THEN RDS manages the master password in Secrets Manager and no password is an input anywhere", async () => {
    const { value: database, ofType, named } = await renderDatabase(prodArgs());
    const writer = named("db-writer", RDS_INSTANCE);
    assert.equal(writer.inputs.manageMasterUserPassword, true);
    assert.equal(writer.inputs.masterUserSecretKmsKeyId, ofType("aws:kms/key:Key")[0]!.state.arn);
    for (const instance of ofType(RDS_INSTANCE)) {
      assert.equal(instance.inputs.password, undefined, instance.name);
      assert.equal(instance.inputs.passwordWo, undefined, instance.name);
    }
    assert.equal(ofType("random:index/randomPassword:RandomPassword").length, 0);
    assert.match(
      await resolve(writerOf(database).masterUserSecretArn),
      /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:rds!db-/,
    );
  });

  const snapshotCases: Array<[string, boolean]> = [
    ["skipFinalSnapshot false", false],
    ["skipFinalSnapshot true", true],
  ];
  for (const [label, skip] of snapshotCases) {
    it(`GIVEN ${label} THEN the writer ${skip ? "is deleted without" : "leaves"} a final snapshot and ${skip ? "drops" : "keeps"} its automated backups`, async () => {
      const { named, ofType } = await renderDatabase(prodArgs({ skipFinalSnapshot: skip }), {
        stack: "prod",
      });
      const writer = named("db-writer", RDS_INSTANCE);
      assert.equal(writer.inputs.skipFinalSnapshot, skip);
      assert.equal(writer.inputs.deleteAutomatedBackups, skip);
      if (skip) {
        assert.equal(writer.inputs.finalSnapshotIdentifier, undefined);
        assert.equal(ofType("random:index/randomId:RandomId").length, 0);
      } else {
        assert.match(
          String(writer.inputs.finalSnapshotIdentifier),
          /^zero-to-millions-prod-db-final-[0-9a-f]{8}$/,
        );
      }
    });
  }

  const safetyCases: Array<[string, Partial<DatabaseArgs>]> = [
    [
      "dev settings",
      { enableMultiAz: false, backupRetentionDays: 1, enableDeletionProtection: false },
    ],
    [
      "prod settings",
      { enableMultiAz: true, backupRetentionDays: 14, enableDeletionProtection: true },
    ],
  ];
  for (const [label, overrides] of safetyCases) {
    it(`GIVEN ${label} THEN multi-AZ, backups and deletion protection follow the arguments`, async () => {
      const { named } = await renderDatabase(baseArgs(overrides));
      const writer = named("db-writer", RDS_INSTANCE);
      assert.equal(writer.inputs.multiAz, overrides.enableMultiAz);
      assert.equal(writer.inputs.backupRetentionPeriod, overrides.backupRetentionDays);
      assert.equal(writer.inputs.deletionProtection, overrides.enableDeletionProtection);
    });
  }

  it("GIVEN engine version 16.4 THEN the parameter group is postgres16 with TLS forced, and minor upgrades stay pinned", async () => {
    const { ofType, named } = await renderDatabase(baseArgs({ engineVersion: "16.4" }));
    const parameterGroup = ofType("aws:rds/parameterGroup:ParameterGroup")[0]!;
    assert.equal(parameterGroup.inputs.family, "postgres16");
    const parameters = parameterGroup.inputs.parameters as Array<{ name: string; value: string }>;
    assert.equal(parameters.find((p) => p.name === "rds.force_ssl")?.value, "1");
    assert.ok(parameters.some((p) => p.name === "log_min_duration_statement"));
    const writer = named("db-writer", RDS_INSTANCE);
    assert.equal(writer.inputs.parameterGroupName, parameterGroup.state.name);
    assert.equal(writer.inputs.autoMinorVersionUpgrade, false);
  });

  it("GIVEN storage autoscaling off THEN the ceiling is 0, which RDS reads as off", async () => {
    const { named } = await renderDatabase(baseArgs({ maxAllocatedStorageGb: 20 }));
    assert.equal(named("db-writer", RDS_INSTANCE).inputs.maxAllocatedStorage, 0);
  });
});

describe("Database: in-region replicas", () => {
  it("GIVEN readReplicas 2 THEN two replicas reference the writer and carry no credentials or database name", async () => {
    const {
      value: database,
      ofType,
      named,
    } = await renderDatabase(prodArgs({ role: { kind: "writer", readReplicas: 2 } }));
    const writer = named("db-writer", RDS_INSTANCE);
    const replicas = ofType(RDS_INSTANCE).filter((r) => r.name.startsWith("db-replica-"));
    assert.equal(replicas.length, 2);
    for (const replica of replicas) {
      assert.equal(replica.inputs.replicateSourceDb, writer.state.identifier);
      for (const rejected of [
        "manageMasterUserPassword",
        "username",
        "dbName",
        "password",
        "finalSnapshotIdentifier",
      ]) {
        assert.equal(replica.inputs[rejected], undefined, `${replica.name}.${rejected}`);
      }
      assert.equal(replica.inputs.publiclyAccessible, false);
      assert.equal(replica.inputs.storageEncrypted, true);
      assert.equal(replica.inputs.skipFinalSnapshot, true);
      assert.equal(replica.inputs.deletionProtection, false);
    }
    const addresses = await Promise.all(
      readersOf(database).map((reader) => resolve(reader.address)),
    );
    assert.deepEqual(
      addresses.map((address) => address.split(".")[0]),
      ["zero-to-millions-test-db-replica-0", "zero-to-millions-test-db-replica-1"],
    );
    assert.deepEqual(await Promise.all(readersOf(database).map((r) => resolve(r.identifier))), [
      "zero-to-millions-test-db-replica-0",
      "zero-to-millions-test-db-replica-1",
    ]);
  });

  it("GIVEN readReplicas 0 THEN only the writer exists", async () => {
    const { value: database, ofType } = await renderDatabase(baseArgs());
    assert.deepEqual(
      ofType(RDS_INSTANCE).map((r) => r.name),
      ["db-writer"],
    );
    assert.deepEqual(readersOf(database), []);
  });
});

describe("Database: cross-region replica", () => {
  it("GIVEN a cross-region replica in eu-west-1 THEN exactly one replica references the source ARN, encrypted with this region's key, and there is no writer", async () => {
    const { value: database, ofType } = await renderDatabase(
      prodArgs({ role: { kind: "crossRegionReplica", sourceArn: SOURCE_ARN } }),
      { region: "eu-west-1" },
    );
    const instances = ofType(RDS_INSTANCE);
    assert.equal(instances.length, 1);
    const replica = instances[0]!;
    const key = ofType("aws:kms/key:Key")[0]!;
    assert.equal(key.region, "eu-west-1");
    assert.equal(replica.region, "eu-west-1");
    assert.equal(replica.inputs.replicateSourceDb, SOURCE_ARN);
    assert.equal(replica.inputs.kmsKeyId, key.state.arn);
    assert.match(String(replica.inputs.kmsKeyId), /^arn:aws:kms:eu-west-1:/);
    assert.equal(replica.inputs.performanceInsightsKmsKeyId, key.state.arn);
    assert.equal(
      replica.inputs.dbSubnetGroupName,
      ofType("aws:rds/subnetGroup:SubnetGroup")[0]!.state.name,
    );
    assert.equal(
      replica.inputs.parameterGroupName,
      ofType("aws:rds/parameterGroup:ParameterGroup")[0]!.state.name,
    );
    for (const rejected of ["manageMasterUserPassword", "username", "dbName", "password"]) {
      assert.equal(replica.inputs[rejected], undefined, rejected);
    }
    assert.equal(database.role.kind, "crossRegionReplica");
    const { replica: outputs } = database.role as Extract<
      DatabaseRoleOutputs,
      { kind: "crossRegionReplica" }
    >;
    assert.match(await resolve(outputs.address), /\.eu-west-1\.rds\.amazonaws\.com$/);
  });

  it("GIVEN a cross-region replica with prod safety settings THEN the replica keeps backups, multi-AZ and deletion protection (it may be promoted)", async () => {
    const { ofType } = await renderDatabase(
      prodArgs({ role: { kind: "crossRegionReplica", sourceArn: SOURCE_ARN } }),
      { region: "eu-west-1" },
    );
    const replica = ofType(RDS_INSTANCE)[0]!;
    assert.equal(replica.inputs.backupRetentionPeriod, 14);
    assert.equal(replica.inputs.multiAz, true);
    assert.equal(replica.inputs.deletionProtection, true);
    assert.equal(replica.inputs.finalSnapshotIdentifier, undefined);
  });
});

describe("Database: network access", () => {
  it("GIVEN no allowFrom THEN the security group has no rules at all", async () => {
    const { ofType } = await renderDatabase(baseArgs());
    assertNoAccess(ofType);
    assert.deepEqual(ofType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"), []);
  });

  it("GIVEN allowFrom for two security groups and two peered ranges THEN exactly those four rules open 5432, none to 0.0.0.0/0", async () => {
    const { value: database, ofType } = await render(({ provider }) => {
      const db = new Database("db", baseArgs(), { provider });
      db.allowFrom("web", { securityGroupId: "sg-web" }, "web tasks");
      db.allowFrom("workers", { securityGroupId: "sg-workers" }, "worker tasks");
      db.allowFrom(
        "secondary",
        { cidrBlocks: ["10.21.64.0/20", "10.21.80.0/20"] },
        "secondary app over peering",
      );
      return db;
    });
    const rules = ofType(T.ingress);
    assert.equal(rules.length, 4);
    const groupId = await resolve(database.securityGroupId);
    assert.deepEqual(admittedSources(rules, groupId, 5432), [
      "10.21.64.0/20",
      "10.21.80.0/20",
      "sg-web",
      "sg-workers",
    ]);
  });

  const refused: Array<[string, string[], RegExp]> = [
    [
      "the whole internet",
      ["0.0.0.0/0"],
      /"0\.0\.0\.0\/0" would open the database to every address/,
    ],
    ["no ranges", [], /cidrBlocks is empty/],
    ["text that is no range", ["10.0.0.0"], /"10\.0\.0\.0" is not an IPv4 CIDR/],
  ];
  for (const [label, cidrBlocks, expected] of refused) {
    it(`GIVEN allowFrom with ${label} THEN it throws and creates no rule`, async () => {
      const { ofType } = await render(({ provider }) => {
        const db = new Database("db", baseArgs(), { provider });
        assert.throws(() => db.allowFrom("anyone", { cidrBlocks }, "anyone"), expected);
        return db;
      });
      assert.deepEqual(ofType(T.ingress), []);
    });
  }
});

describe("Database: logs, monitoring and major upgrades", () => {
  const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
  const INSTANCE = "aws:rds/instance:Instance";

  it("GIVEN a writer and a replica THEN each instance's postgresql and upgrade log groups exist first, with the retention given", async () => {
    const { ofType } = await renderDatabase(
      baseArgs({ role: { kind: "writer", readReplicas: 1 }, logRetentionDays: 14 }),
    );
    const instances = ofType(INSTANCE);
    assert.equal(instances.length, 2);
    const groups = ofType(LOG_GROUP);
    for (const instance of instances) {
      const identifier = String(instance.inputs.identifier);
      assert.deepEqual(instance.inputs.enabledCloudwatchLogsExports, ["postgresql", "upgrade"]);
      for (const log of ["postgresql", "upgrade"]) {
        const group = groups.find(
          (candidate) => candidate.inputs.name === `/aws/rds/instance/${identifier}/${log}`,
        );
        assert.ok(group, `no ${log} log group for ${identifier}`);
        assert.equal(group.inputs.retentionInDays, 14);
      }
    }
  });

  it("GIVEN enhancedMonitoringSeconds 60 THEN every instance reports through a role RDS monitoring may assume", async () => {
    const { ofType } = await renderDatabase(
      baseArgs({ role: { kind: "writer", readReplicas: 1 }, enhancedMonitoringSeconds: 60 }),
    );
    const [role] = ofType("aws:iam/role:Role");
    assert.match(String(role!.inputs.assumeRolePolicy), /monitoring\.rds\.amazonaws\.com/);
    assert.equal(
      ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")[0]!.inputs.policyArn,
      "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    );
    for (const instance of ofType(INSTANCE)) {
      assert.equal(instance.inputs.monitoringInterval, 60);
      assert.equal(instance.inputs.monitoringRoleArn, role!.state.arn);
    }
  });

  it("GIVEN no enhancedMonitoringSeconds THEN there is no monitoring role and no interval", async () => {
    const { ofType } = await renderDatabase(baseArgs());
    assert.deepEqual(ofType("aws:iam/role:Role"), []);
    assert.equal(ofType(INSTANCE)[0]!.inputs.monitoringInterval, undefined);
  });

  it("GIVEN enhancedMonitoringSeconds 7 THEN validation names the allowed values", () => {
    assert.match(
      validateDatabaseArgs(baseArgs({ enhancedMonitoringSeconds: 7 })).join("\n"),
      /enhancedMonitoringSeconds: 7 must be one of 0, 1, 5, 10, 15, 30, 60/,
    );
  });

  it("GIVEN any database THEN a guard records its major version, unacknowledged", async () => {
    const { ofType } = await renderDatabase(baseArgs({ engineVersion: "16.4" }));
    const [guard] = ofType("pulumi-nodejs:dynamic/guard:ChangeGuard");
    const values = guard!.inputs.values as Record<string, { value: string; acknowledged: boolean }>;
    assert.deepEqual(
      Object.values(values).map(({ value, acknowledged }) => [value, acknowledged]),
      [["16", false]],
    );
    // RDS itself refuses a major upgrade the deploy did not acknowledge (review: a failed upgrade
    // recorded by the guard must not be queued for the maintenance window by the next up).
    const writer = ofType("aws:rds/instance:Instance").find((i) => i.name === "db-writer")!;
    assert.equal(writer.inputs.allowMajorVersionUpgrade, false);
  });

  it("GIVEN allowMajorVersionUpgrade THEN the guard is acknowledged and the writer applies the upgrade at once", async () => {
    const { ofType } = await renderDatabase(
      baseArgs({ allowMajorVersionUpgrade: true, role: { kind: "writer", readReplicas: 1 } }),
    );
    const [guard] = ofType("pulumi-nodejs:dynamic/guard:ChangeGuard");
    const values = guard!.inputs.values as Record<string, { acknowledged: boolean }>;
    assert.equal(Object.values(values)[0]!.acknowledged, true);
    const writer = ofType(INSTANCE).find((instance) => instance.name === "db-writer")!;
    assert.equal(writer.inputs.applyImmediately, true);
    assert.equal(writer.inputs.allowMajorVersionUpgrade, true);
    const replica = ofType(INSTANCE).find((instance) => instance.name === "db-replica-0")!;
    assert.equal(replica.inputs.applyImmediately, false);
  });
});

describe("Database: each role takes only its own settings, and offers only its own outputs", () => {
  it("GIVEN a cross-region replica with in-region replicas THEN it does not compile (the union has no such database)", () => {
    const impossible: DatabaseArgs = baseArgs({
      // @ts-expect-error a cross-region replica has no readReplicas
      role: { kind: "crossRegionReplica", sourceArn: SOURCE_ARN, readReplicas: 2 },
    });
    assert.equal(impossible.role.kind, "crossRegionReplica");
  });

  it("GIVEN a promoted replica THEN it offers a writer and no readers", async () => {
    const { value: database, ofType } = await renderDatabase(
      prodArgs({ role: { kind: "promotedReplica" } }),
      { region: "eu-west-1" },
    );
    assert.deepEqual(
      ofType(RDS_INSTANCE).map((instance) => instance.name),
      ["db-replica-0"],
    );
    assert.equal(database.role.kind, "promotedReplica");
    assert.match(
      await resolve(writerOf(database).masterUserSecretArn),
      /^arn:aws:secretsmanager:eu-west-1:/,
    );
  });

  it("GIVEN a former writer THEN it keeps the writer's instances but offers no writer or readers to an app", async () => {
    const { value: database, ofType } = await renderDatabase(
      prodArgs({ role: { kind: "formerWriter", readReplicas: 2 } }),
    );
    assert.deepEqual(
      ofType(RDS_INSTANCE)
        .map((instance) => instance.name)
        .sort(),
      ["db-replica-0", "db-replica-1", "db-writer"],
    );
    const { role } = database;
    assert.equal(role.kind, "formerWriter");
    assert.ok(!("writer" in role) && !("readers" in role));
  });
});

describe("Database: what a replacement or IAM's delay must not break", () => {
  it("GIVEN enhancedMonitoringSeconds 60 THEN every instance waits for the monitoring role's policy attachment (IAM propagation: RDS refuses a role it cannot use yet)", async () => {
    const { ofType } = await renderDatabase(
      baseArgs({ role: { kind: "writer", readReplicas: 1 }, enhancedMonitoringSeconds: 60 }),
    );
    const [attachment] = ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
    assert.ok(attachment, "no policy attachment");
    const instances = ofType(RDS_INSTANCE);
    assert.equal(instances.length, 2);
    for (const instance of instances) {
      // No input of the instance names the attachment, so only an explicit dependsOn puts it here.
      assert.ok(instance.dependsOn.includes(attachment.urn), `${instance.name} does not wait`);
    }
  });

  it("GIVEN a writer with replicas THEN each replica is replaced with the writer (same identifier, so the same replicateSourceDb: RDS would leave it detached, serving the old writer's data)", async () => {
    const { ofType, named } = await renderDatabase(
      prodArgs({ role: { kind: "writer", readReplicas: 2 } }),
    );
    const writer = named("db-writer", RDS_INSTANCE);
    const replicas = ofType(RDS_INSTANCE).filter((r) => r.name.startsWith("db-replica-"));
    assert.equal(replicas.length, 2);
    for (const replica of replicas) {
      assert.deepEqual(replica.replaceWith, [writer.urn], replica.name);
      assert.equal(replica.deleteBeforeReplace, true, replica.name);
    }
    assert.deepEqual(writer.replaceWith, []);
  });

  it("GIVEN a cross-region replica of another region's writer THEN it is replaced with that writer, and once promoted it no longer is", async () => {
    const { ofType } = await render(({ provider, providerFor }) => {
      const primary = new Database("primary", prodArgs(), { provider });
      const source = writerOf(primary);
      new Database(
        "secondary",
        prodArgs({
          role: { kind: "crossRegionReplica", sourceArn: source.arn, source: source.instance },
        }),
        { provider: providerFor("eu-west-1") },
      );
      new Database("promoted", prodArgs({ role: { kind: "promotedReplica" } }), {
        provider: providerFor("eu-west-1"),
      });
    });
    const instances = ofType(RDS_INSTANCE);
    const writer = instances.find((r) => r.name === "primary-writer")!;
    const replica = instances.find((r) => r.name === "secondary-replica-0")!;
    const promoted = instances.find((r) => r.name === "promoted-replica-0")!;
    assert.deepEqual(replica.replaceWith, [writer.urn]);
    assert.deepEqual(promoted.replaceWith, []);
  });

  it("GIVEN dev with skipFinalSnapshot false THEN the writer and a promoted replica keep a final snapshot and their backups on delete, the replicas take none (RDS snapshots no replica)", async () => {
    const { ofType } = await render(({ provider }) => {
      new Database(
        "db",
        baseArgs({ role: { kind: "writer", readReplicas: 1 }, skipFinalSnapshot: false }),
        { provider },
      );
      new Database(
        "promoted",
        baseArgs({ role: { kind: "promotedReplica" }, skipFinalSnapshot: false }),
        { provider },
      );
    });
    for (const name of ["db-writer", "promoted-replica-0"]) {
      const instance = ofType(RDS_INSTANCE).find((r) => r.name === name)!;
      assert.equal(instance.inputs.skipFinalSnapshot, false, name);
      assert.match(String(instance.inputs.finalSnapshotIdentifier), /-final-[0-9a-f]+$/, name);
      assert.equal(instance.inputs.deleteAutomatedBackups, false, name);
    }
    const replica = ofType(RDS_INSTANCE).find((r) => r.name === "db-replica-0")!;
    assert.equal(replica.inputs.skipFinalSnapshot, true);
  });
});
