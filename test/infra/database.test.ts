import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Database, type DatabaseArgs, validateDatabaseArgs } from "../../components/database";
import { render, resolve } from "../../harness/component";

const RDS_INSTANCE = "aws:rds/instance:Instance";
const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const ISOLATED_SUBNETS = ["subnet-isolated-a", "subnet-isolated-b"];
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
    readReplicas: 0,
    enableMultiAz: false,
    backupRetentionDays: 1,
    enableDeletionProtection: false,
    skipFinalSnapshot: true,
    enablePerformanceInsights: true,
    ...overrides,
  };
}

const prodArgs = (overrides: Partial<DatabaseArgs> = {}) =>
  baseArgs({
    instanceClass: "db.r6g.large",
    allocatedStorageGb: 100,
    maxAllocatedStorageGb: 1000,
    readReplicas: 2,
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
    ["six replicas", { readReplicas: 6 }, /readReplicas: 6 must be a whole number from 0 to 5/],
    ["a fractional replica count", { readReplicas: 1.5 }, /readReplicas: 1.5/],
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
      { readReplicas: 1, backupRetentionDays: 0 },
      /backupRetentionDays: 0 with readReplicas 1/,
    ],
    ["backups longer than RDS keeps", { backupRetentionDays: 36 }, /backupRetentionDays: 36/],
    [
      "a cross-region replica with in-region replicas",
      { replicaOf: { arn: SOURCE_ARN }, readReplicas: 2 },
      /replicaOf and readReplicas/,
    ],
    ["one subnet", { subnetIds: ["subnet-a"] }, /subnetIds: 1 given/],
    ["a database name with capitals", { databaseName: "App" }, /databaseName: "App"/],
    ["a reserved user name", { masterUsername: "rdsadmin" }, /masterUsername: "rdsadmin"/],
  ];
  for (const [label, overrides, expected] of cases) {
    it(`GIVEN ${label} THEN ${expected ? "it names the argument" : "there is no problem"}`, () => {
      const problems = validateDatabaseArgs(baseArgs(overrides));
      if (expected === null) assert.deepEqual(problems, []);
      else assert.match(problems.join("\n"), expected);
    });
  }

  it("GIVEN invalid arguments WHEN the component is built THEN it throws before creating any child", async () => {
    const rendered = await render(({ provider }) => {
      assert.throws(
        () => new Database("bad", baseArgs({ readReplicas: 9 }), { provider }),
        /Database "bad": invalid arguments/,
      );
      return null;
    });
    assert.deepEqual(
      rendered.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")),
      [],
    );
  });

  it("GIVEN a name RDS identifiers cannot carry WHEN the component is built THEN it names the name", async () => {
    await render(({ provider }) => {
      assert.throws(
        () => new Database("Primary_DB", baseArgs(), { provider }),
        /name: "Primary_DB" must be lowercase/,
      );
      return null;
    });
  });
});

describe("Database: the writer", () => {
  it("GIVEN the prod shape THEN the writer runs in the isolated subnets, encrypted with the component's key, and never public", async () => {
    const {
      value: database,
      ofType,
      named,
    } = await render(({ provider }) => new Database("db", prodArgs(), { provider }));
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
      await resolve(database.writerAddress!),
      /^db-writer-id\.c[0-9a-f]+\.us-east-1\.rds\.amazonaws\.com$/,
    );
  });

  it("GIVEN any shape THEN RDS manages the master password in Secrets Manager and no password is an input anywhere", async () => {
    const {
      value: database,
      ofType,
      named,
    } = await render(({ provider }) => new Database("db", prodArgs(), { provider }));
    const writer = named("db-writer", RDS_INSTANCE);
    assert.equal(writer.inputs.manageMasterUserPassword, true);
    assert.equal(writer.inputs.masterUserSecretKmsKeyId, ofType("aws:kms/key:Key")[0]!.state.arn);
    for (const instance of ofType(RDS_INSTANCE)) {
      assert.equal(instance.inputs.password, undefined, instance.name);
      assert.equal(instance.inputs.passwordWo, undefined, instance.name);
    }
    assert.equal(ofType("random:index/randomPassword:RandomPassword").length, 0);
    assert.match(
      await resolve(database.masterUserSecretArn!),
      /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:rds!db-/,
    );
  });

  const snapshotCases: Array<[string, boolean]> = [
    ["skipFinalSnapshot false", false],
    ["skipFinalSnapshot true", true],
  ];
  for (const [label, skip] of snapshotCases) {
    it(`GIVEN ${label} THEN the writer ${skip ? "is deleted without" : "leaves"} a final snapshot and ${skip ? "drops" : "keeps"} its automated backups`, async () => {
      const { named, ofType } = await render(
        ({ provider }) => new Database("db", prodArgs({ skipFinalSnapshot: skip }), { provider }),
        {
          stack: "prod",
        },
      );
      const writer = named("db-writer", RDS_INSTANCE);
      assert.equal(writer.inputs.skipFinalSnapshot, skip);
      assert.equal(writer.inputs.deleteAutomatedBackups, skip);
      if (skip) {
        assert.equal(writer.inputs.finalSnapshotIdentifier, undefined);
        assert.equal(ofType("random:index/randomId:RandomId").length, 0);
      } else {
        assert.match(String(writer.inputs.finalSnapshotIdentifier), /^prod-db-final-[0-9a-f]{8}$/);
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
      const { named } = await render(
        ({ provider }) => new Database("db", baseArgs(overrides), { provider }),
      );
      const writer = named("db-writer", RDS_INSTANCE);
      assert.equal(writer.inputs.multiAz, overrides.enableMultiAz);
      assert.equal(writer.inputs.backupRetentionPeriod, overrides.backupRetentionDays);
      assert.equal(writer.inputs.deletionProtection, overrides.enableDeletionProtection);
    });
  }

  it("GIVEN engine version 16.4 THEN the parameter group is postgres16 with TLS forced, and minor upgrades stay pinned", async () => {
    const { ofType, named } = await render(
      ({ provider }) => new Database("db", baseArgs({ engineVersion: "16.4" }), { provider }),
    );
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
    const { named } = await render(
      ({ provider }) => new Database("db", baseArgs({ maxAllocatedStorageGb: 20 }), { provider }),
    );
    assert.equal(named("db-writer", RDS_INSTANCE).inputs.maxAllocatedStorage, 0);
  });
});

describe("Database: in-region replicas", () => {
  it("GIVEN readReplicas 2 THEN two replicas reference the writer and carry no credentials or database name", async () => {
    const {
      value: database,
      ofType,
      named,
    } = await render(
      ({ provider }) => new Database("db", prodArgs({ readReplicas: 2 }), { provider }),
    );
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
      database.readerAddresses.map((address) => resolve(address)),
    );
    assert.deepEqual(
      addresses.map((address) => address.split(".")[0]),
      ["db-replica-0-id", "db-replica-1-id"],
    );
    assert.deepEqual(await Promise.all(database.readerIdentifiers.map((id) => resolve(id))), [
      "db-replica-0-id",
      "db-replica-1-id",
    ]);
  });

  it("GIVEN readReplicas 0 THEN only the writer exists", async () => {
    const { value: database, ofType } = await render(
      ({ provider }) => new Database("db", baseArgs(), { provider }),
    );
    assert.deepEqual(
      ofType(RDS_INSTANCE).map((r) => r.name),
      ["db-writer"],
    );
    assert.deepEqual(database.readerAddresses, []);
  });
});

describe("Database: cross-region replica", () => {
  it("GIVEN replicaOf in eu-west-1 THEN exactly one replica references the source ARN, encrypted with this region's key, and there is no writer", async () => {
    const { value: database, ofType } = await render(
      ({ providerFor }) =>
        new Database("db", prodArgs({ readReplicas: 0, replicaOf: { arn: SOURCE_ARN } }), {
          provider: providerFor("eu-west-1"),
        }),
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
    assert.equal(database.writerAddress, undefined);
    assert.equal(database.masterUserSecretArn, undefined);
    assert.equal(database.readerAddresses.length, 1);
    assert.match(await resolve(database.readerAddresses[0]!), /\.eu-west-1\.rds\.amazonaws\.com$/);
  });

  it("GIVEN replicaOf with prod safety settings THEN the replica keeps backups, multi-AZ and deletion protection (it may be promoted)", async () => {
    const { ofType } = await render(
      ({ providerFor }) =>
        new Database("db", prodArgs({ readReplicas: 0, replicaOf: { arn: SOURCE_ARN } }), {
          provider: providerFor("eu-west-1"),
        }),
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
    const { ofType } = await render(({ provider }) => new Database("db", baseArgs(), { provider }));
    const group = ofType("aws:ec2/securityGroup:SecurityGroup")[0]!;
    assert.equal(group.inputs.ingress, undefined);
    assert.equal(group.inputs.egress, undefined);
    assert.deepEqual(ofType(INGRESS_RULE), []);
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
    const rules = ofType(INGRESS_RULE);
    assert.equal(rules.length, 4);
    const groupId = await resolve(database.securityGroupId);
    for (const rule of rules) {
      assert.equal(rule.inputs.securityGroupId, groupId);
      assert.deepEqual(
        [rule.inputs.ipProtocol, rule.inputs.fromPort, rule.inputs.toPort],
        ["tcp", 5432, 5432],
      );
      assert.notEqual(rule.inputs.cidrIpv4, "0.0.0.0/0");
    }
    assert.deepEqual(
      rules.map((r) => r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4).sort(),
      ["10.21.64.0/20", "10.21.80.0/20", "sg-web", "sg-workers"],
    );
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
      assert.deepEqual(ofType(INGRESS_RULE), []);
    });
  }
});
