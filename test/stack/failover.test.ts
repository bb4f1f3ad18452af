/**
 * Regional failover of the database, as a specification over the synth of prod before and after
 * `database.writerRegion: secondary` (README: Deploying): the secondary's cross-region replica is
 * promoted in place into the writer, every region's app writes to it, and the primary's database
 * is left as it was.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { HEALTH, type HealthDependency, type HealthEndpoint } from "../../contract";
import type { StackConfig } from "../../stacks/config";
import { databaseShape } from "../../stacks/region";
import { synth, type Synth, type SynthResource } from "../../harness";
import { PROJECT_ROOT } from "../../harness/synth";
import { parsedStackConfig } from "./support/stacks";
import { WRITER_IN_SECONDARY } from "./support/variants";

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
  targetGroup: "aws:lb/targetGroup:TargetGroup",
  alb: "aws:lb/loadBalancer:LoadBalancer",
  healthCheck: "aws:route53/healthCheck:HealthCheck",
  record: "aws:route53/record:Record",
  tableReplica: "aws:dynamodb/tableReplica:TableReplica",
  service: "aws:ecs/service:Service",
  migrateRun: "pulumi-nodejs:dynamic/migrate:MigrationRun",
  cluster: "aws:ecs/cluster:Cluster",
  distribution: "aws:cloudfront/distribution:Distribution",
  object: "aws:s3/bucketObjectv2:BucketObjectv2",
  bucket: "aws:s3/bucket:Bucket",
  cors: "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
  responseHeaders: "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
} as const;

/** What a region's checks may depend on: its own tiers (contract: HealthDependency). */
const REGIONAL_DEPENDENCIES = new Set<HealthDependency>(["regionReader", "regionCache"]);

const PROMOTED = "secondary-database-replica-0";

let normal: Synth;
let failedOver: Synth;
let config: StackConfig;

before(async () => {
  [normal, failedOver] = await Promise.all([synth("prod"), synth("prod", WRITER_IN_SECONDARY)]);
  for (const result of [normal, failedOver]) assert.equal(result.error, undefined, result.error);
  config = parsedStackConfig("prod", WRITER_IN_SECONDARY);
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

/** The web and worker tasks (the migrate step runs as the master user, next to the writer). */
const appTasks = (s: Synth) =>
  s.ofType(T.taskDefinition).filter((task) => !task.name.endsWith("-migrate-taskdef"));

describe("failover: the migrations run before any web or worker task starts", () => {
  for (const [label, writerRole] of [
    ["before any failover", "primary"],
    ["WHEN database.writerRegion is secondary", "secondary"],
  ] as const) {
    it(`GIVEN prod ${label} THEN one migrate run, in the writer's region, runs its migrate task in the private subnets, and every service of both regions waits for it`, () => {
      const s = writerRole === "primary" ? normal : failedOver;
      const runs = s.ofType(T.migrateRun);
      assert.deepEqual(
        runs.map((run) => run.name),
        [`${writerRole}-migrate-run`],
      );
      const run = runs[0]!;
      assert.equal(run.inputs.region, config.regions[writerRole]);
      assert.equal(
        run.inputs.taskDefinitionArn,
        s.named(`${writerRole}-migrate-taskdef`, T.taskDefinition).state.arn,
      );
      assert.equal(
        run.inputs.securityGroupId,
        s.named(`${writerRole}-migrate-tasks-sg`, T.securityGroup).id,
      );
      const privateSubnets = s
        .ofType(T.subnet)
        .filter((subnet) => subnet.name.startsWith(`${writerRole}-network-private-`))
        .map((subnet) => subnet.id)
        .sort();
      assert.deepEqual([...(run.inputs.subnetIds as string[])].sort(), privateSubnets);
      const services = s.ofType(T.service);
      assert.equal(services.length, 4, "web and workers in two regions");
      for (const service of services) {
        assert.ok(
          (service.dependsOn ?? []).includes(run.urn),
          `${service.name} waits for ${run.name}`,
        );
        assert.equal(
          (service.inputs.tags as Record<string, string>)["migrated-by"],
          run.state.taskId,
          `${service.name} takes the run's task id`,
        );
      }
    });
  }
});

describe("failover: the app's database logins, granted ahead in both regions", () => {
  for (const [label, writerRole] of [
    ["before any failover", "primary"],
    ["WHEN database.writerRegion is secondary", "secondary"],
  ] as const) {
    it(`GIVEN prod ${label} THEN each task role may log in as the app in each region, one statement per region, waiting for no database instance`, () => {
      const s = writerRole === "primary" ? normal : failedOver;
      const grants = s.ofType(T.rolePolicy).filter((p) => p.name.endsWith("-database-connect"));
      assert.equal(grants.length, 4, "web and workers in two regions");
      const account = String(s.named("primary-database-writer", T.db).state.arn).split(":")[4];
      const instances = new Set(s.ofType(T.db).map((db) => db.urn));
      for (const grant of grants) {
        const policy = JSON.parse(String(grant.inputs.policy)) as {
          Statement: Array<{ Action: string; Resource: string }>;
        };
        assert.deepEqual(
          policy.Statement.map((st) => [st.Action, st.Resource]),
          [config.regions.primary, config.regions.secondary].map((region) => [
            "rds-db:connect",
            `arn:aws:rds-db:${region}:${account}:dbuser:*/${config.database.appUsername}`,
          ]),
          grant.name,
        );
        const waits = (grant.dependsOn ?? []).filter((urn) => instances.has(urn));
        assert.deepEqual(waits, [], `${grant.name} waits for no instance`);
      }
    });
  }
});

describe("failover: GIVEN prod before any failover", () => {
  it("THEN both regions' tasks write to the primary's writer as the app's role, with IAM tokens (no password)", () => {
    const writer = normal.named("primary-database-writer", T.db);
    for (const task of appTasks(normal)) {
      const { env, secrets } = appEnv(task);
      assert.ok(
        env.DATABASE_URL!.startsWith(
          `postgres://${config.database.appUsername}@${String(writer.state.address)}:`,
        ),
        task.name,
      );
      assert.equal(env.DATABASE_AUTH, "iam", task.name);
      assert.equal(secrets.DATABASE_PASSWORD, undefined, task.name);
    }
  });

  it("THEN the migrate step runs next to the writer, as the master user, with the writer's own secret", () => {
    const writer = normal.named("primary-database-writer", T.db);
    const migrate = normal.named("primary-migrate-taskdef", T.taskDefinition);
    assert.equal(migrate.region, config.regions.primary);
    const { env, secrets } = appEnv(migrate);
    assert.ok(env.DATABASE_URL!.startsWith(`postgres://${config.database.masterUsername}@`));
    const secret = (writer.state.masterUserSecrets as Array<{ secretArn: string }>)[0]!;
    assert.equal(secrets.DATABASE_PASSWORD, `${secret.secretArn}:password::`);
    assert.equal(env.DATABASE_APP_USER, config.database.appUsername);
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

  it("THEN both regions' tasks write to it and read from it, with IAM tokens (no password)", () => {
    const promoted = failedOver.named(PROMOTED, T.db);
    const tasks = appTasks(failedOver);
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
      assert.equal(env.DATABASE_AUTH, "iam", task.name);
      assert.equal(secrets.DATABASE_PASSWORD, undefined, task.name);
    }
  });

  it("THEN the serving tasks' grants are the ones made before: a failover changes no IAM policy of theirs (IAM's control plane is in us-east-1)", () => {
    // The migrate step's too: its roles and grants exist in both regions; only its task
    // definition follows the writer.
    const policies = (s: Synth) =>
      s
        .ofType(T.rolePolicy)
        .map((policy) => [policy.name, policy.inputs.policy, policy.inputs.role])
        .sort();
    assert.deepEqual(policies(failedOver), policies(normal));
    const promoted = failedOver.named(PROMOTED, T.db);
    for (const grant of failedOver
      .ofType(T.rolePolicy)
      .filter((p) => p.name.endsWith("-database-connect"))) {
      assert.ok(
        String(grant.inputs.policy).includes(
          `:rds-db:${config.regions.secondary}:${String(promoted.state.arn).split(":")[4]}:dbuser:*/${config.database.appUsername}"`,
        ),
        `${grant.name}: rds-db:connect on the promoted instance's region, as the app`,
      );
    }
  });

  it("THEN the set of IAM resources is the same, inputs included: a failover creates, changes and deletes none", () => {
    const iam = (s: Synth) =>
      s.resources
        .filter((r) => r.type.startsWith("aws:iam/"))
        .map((r) => JSON.stringify([r.type, r.name, r.region, r.inputs]))
        .sort();
    assert.deepEqual(iam(failedOver), iam(normal));
  });

  it("THEN the promoted writer's new master secret is one the secondary's migrate execution role may already read", () => {
    const promoted = failedOver.named(PROMOTED, T.db);
    const secret = (promoted.state.masterUserSecrets as Array<{ secretArn: string }>)[0]!;
    const grant = JSON.parse(
      String(failedOver.named("secondary-migrate-execution-secrets", T.rolePolicy).inputs.policy),
    ) as { Statement: Array<{ Sid: string; Resource: string[] }> };
    const readable = grant.Statement.find((st) => st.Sid === "ReadTaskSecrets")!.Resource;
    assert.ok(
      // IAM's `*` at the end of an ARN: any suffix.
      readable.some((pattern) =>
        pattern.endsWith("*")
          ? secret.secretArn.startsWith(pattern.slice(0, -1))
          : secret.secretArn === pattern,
      ),
      `${secret.secretArn} in ${readable.join(", ")}`,
    );
  });

  it("THEN the migrate step moves to the promoted writer's region and takes its new secret there", () => {
    const promoted = failedOver.named(PROMOTED, T.db);
    const migrate = failedOver.named("secondary-migrate-taskdef", T.taskDefinition);
    assert.equal(migrate.region, config.regions.secondary);
    const secret = (promoted.state.masterUserSecrets as Array<{ secretArn: string }>)[0]!;
    assert.equal(appEnv(migrate).secrets.DATABASE_PASSWORD, `${secret.secretArn}:password::`);
    assert.equal(
      failedOver.ofType(T.taskDefinition).filter((t) => t.name.endsWith("-migrate-taskdef")).length,
      1,
    );
  });

  it("THEN uploads land in the surviving region's bucket (the replica), signed for its region", () => {
    const replica = failedOver.named("assets-replica", "aws:s3/bucket:Bucket");
    for (const task of appTasks(failedOver)) {
      const { env } = appEnv(task);
      assert.equal(env.ASSETS_BUCKET, replica.state.bucket, task.name);
      assert.equal(env.ASSETS_BUCKET_REGION, config.regions.secondary, task.name);
    }
  });

  it("THEN the CDN reads the static files first from the bucket the deploy uploads them to (the primary), and the app's files first from the bucket uploads land in (the replica), each failing over to the other; in both directions the browser may upload to the replica (CORS, the page's CSP)", () => {
    /** The regional names of the buckets a behaviour reads, in the order its origin group tries them. */
    const readOrder = (s: Synth, behaviour: { targetOriginId: string }) => {
      const distribution = s.named("assets-distribution", T.distribution);
      const domains = new Map(
        (distribution.inputs.origins as Array<{ originId: string; domainName: string }>).map(
          (origin) => [origin.originId, origin.domainName],
        ),
      );
      const group = (
        distribution.inputs.originGroups as Array<{
          originId: string;
          members: Array<{ originId: string }>;
        }>
      ).find((candidate) => candidate.originId === behaviour.targetOriginId)!;
      return group.members.map((member) => domains.get(member.originId));
    };
    const behaviours = (s: Synth) => {
      const { inputs } = s.named("assets-distribution", T.distribution);
      return {
        fallback: inputs.defaultCacheBehavior as { targetOriginId: string },
        ordered: inputs.orderedCacheBehaviors as Array<{
          pathPattern: string;
          targetOriginId: string;
        }>,
      };
    };
    const regional = (s: Synth, name: string) =>
      String(s.named(name, T.bucket).state.bucketRegionalDomainName);
    for (const [s, uploadsTo] of [
      [normal, "assets-bucket"],
      [failedOver, "assets-replica"],
    ] as const) {
      const { fallback, ordered } = behaviours(s);
      const staticFirst = readOrder(s, fallback)[0];
      const files = s.ofType(T.object);
      assert.ok(files.length > 0, "the static build is uploaded");
      for (const file of files) {
        const bucket = s.resources.find((candidate) => candidate.id === file.inputs.bucket)!;
        assert.equal(String(bucket.state.bucketRegionalDomainName), staticFirst, file.name);
      }
      // Only thumbnails are public; uploaded originals never go through the CDN.
      assert.deepEqual(ordered.map((behaviour) => behaviour.pathPattern).sort(), ["thumbnails/*"]);
      for (const behaviour of ordered) {
        assert.deepEqual(
          readOrder(s, behaviour),
          [
            regional(s, uploadsTo),
            regional(s, uploadsTo === "assets-bucket" ? "assets-replica" : "assets-bucket"),
          ],
          behaviour.pathPattern,
        );
      }
    }
    // A reorder, not a new distribution.
    assert.equal(
      failedOver.named("assets-distribution", T.distribution).urn,
      normal.named("assets-distribution", T.distribution).urn,
    );
    const replica = failedOver.named("assets-replica", T.bucket);
    const cors = failedOver
      .ofType(T.cors, config.regions.secondary)
      .filter((rule) => rule.inputs.bucket === replica.id);
    assert.equal(cors.length, 1, "the replica bucket accepts browser uploads");
    const headers = failedOver.named("assets-headers", T.responseHeaders).inputs
      .securityHeadersConfig as { contentSecurityPolicy: { contentSecurityPolicy: string } };
    assert.ok(
      headers.contentSecurityPolicy.contentSecurityPolicy.includes(
        `https://${regional(failedOver, "assets-replica")}`,
      ),
      "the page may send uploads to the replica",
    );
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

describe("failover: GIVEN prod WHEN database.writerRegion is secondary, every data source call recorded with its provider's region", () => {
  it("THEN no call goes to the primary's provider (account, partition, zones, regions): the program plans without the lost region", () => {
    const primary = config.regions.primary;
    // The spec sees what it looks for: before the failover the same lookups go to the primary.
    assert.ok(normal.calls.some((call) => call.region === primary));
    assert.ok(failedOver.calls.length > 0);
    assert.deepEqual(
      failedOver.calls.filter((call) => call.region === primary).map((call) => call.token),
      [],
    );
  });

  it("THEN every AWS provider asks STS who it is in the writer's region, never in its own (the lost primary)", () => {
    const providers = (s: typeof normal) =>
      s.resources.filter((resource) => resource.type === "pulumi:providers:aws");
    assert.ok(providers(failedOver).length >= 2, "the spec sees the regions' providers");
    for (const [s, writer] of [
      [normal, config.regions.primary],
      [failedOver, config.regions.secondary],
    ] as const) {
      for (const provider of providers(s)) {
        assert.equal(provider.inputs.stsRegion, writer, provider.name);
      }
    }
  });

  it("THEN no availability zone is looked up in either region (config names them): an impaired zone cannot move a region's subnets", () => {
    assert.deepEqual(
      [...normal.calls, ...failedOver.calls]
        .filter((call) => call.token === "aws:index/getAvailabilityZones:getAvailabilityZones")
        .map((call) => call.region),
      [],
    );
    for (const role of ["primary", "secondary"] as const) {
      const zones = failedOver
        .ofType(T.subnet, config.regions[role])
        .map((subnet) => String(subnet.inputs.availabilityZone));
      assert.deepEqual(
        [...new Set(zones)].sort(),
        ["a", "b", "c"].map((letter) => `${config.regions[role]}${letter}`),
        role,
      );
    }
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

/**
 * An alias record has no TTL of its own: resolvers keep the load balancer's answer for the ALB's
 * own TTL, 60 s (Elastic Load Balancing, "Configure DNS for your load balancer").
 */
const ALB_DNS_TTL_SECONDS = 60;

describe("failover: GIVEN the primary's writer is down (prod, writer in the primary)", () => {
  const endpointAt = (path: string): HealthEndpoint => {
    const endpoint = Object.values(HEALTH).find((candidate) => candidate.path === path);
    assert.ok(endpoint, `no health endpoint of the contract at ${path}`);
    return endpoint;
  };
  const secondary = () => config.regions.secondary;

  it("THEN the secondary's load balancer checks a path that depends on the secondary's own tiers only", () => {
    const [group] = normal.ofType(T.targetGroup, secondary());
    const { path } = group!.inputs.healthCheck as { path: string };
    assert.deepEqual(endpointAt(path).dependsOn, HEALTH.readiness.dependsOn);
    for (const dependency of endpointAt(path).dependsOn) {
      assert.ok(REGIONAL_DEPENDENCIES.has(dependency), dependency);
    }
  });

  it("THEN Route53 checks the secondary's own load balancer on a path that depends on nothing, and its alias records evaluate the same load balancer", () => {
    const alb = normal.ofType(T.alb, secondary())[0]!;
    const check = normal.named("app-dns-secondary-health", T.healthCheck);
    assert.equal(check.inputs.fqdn, alb.state.dnsName);
    assert.deepEqual(endpointAt(String(check.inputs.resourcePath)).dependsOn, []);
    const records = normal
      .ofType(T.record)
      .filter(
        (record) =>
          record.name.startsWith("app-dns-secondary-") ||
          record.name === "app-dns-failover-secondary",
      );
    assert.ok(records.length > 0);
    for (const record of records) {
      const [alias] = record.inputs.aliases as Array<{
        name: string;
        evaluateTargetHealth: boolean;
      }>;
      assert.equal(alias!.name, alb.state.dnsName, record.name);
      // Target health is the load balancer's verdict on /readyz: regional, as above.
      assert.equal(alias!.evaluateTargetHealth, true, record.name);
      assert.equal(record.inputs.healthCheckId, check.state.id ?? check.id, record.name);
    }
  });

  it("THEN the secondary's tasks find their sessions in the secondary's own copy of the table", () => {
    const replica = normal.ofType(T.tableReplica, secondary());
    assert.equal(replica.length, 1);
    const grant = normal.named("sessions-secondary-web", T.rolePolicy);
    assert.ok(String(grant.inputs.policy).includes(String(replica[0]!.state.arn)));
    assert.ok(!String(grant.inputs.policy).includes(`:dynamodb:${config.regions.primary}:`));
  });

  it("THEN README states the RTO the synthesized checks give: interval × failure threshold + the ALB's DNS TTL", () => {
    const check = normal.named("app-dns-primary-health", T.healthCheck);
    const interval = Number(check.inputs.requestInterval);
    const threshold = Number(check.inputs.failureThreshold);
    const rto = interval * threshold + ALB_DNS_TTL_SECONDS;
    const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
    assert.ok(
      readme.includes(`${interval} s × ${threshold} + ${ALB_DNS_TTL_SECONDS} s ≈ ${rto} s`),
      `README's failover section must state the RTO as "${interval} s × ${threshold} + ${ALB_DNS_TTL_SECONDS} s ≈ ${rto} s"`,
    );
    assert.ok(
      readme.includes(`\`alarms.replicaLagSeconds\`, ${config.alarms.replicaLagSeconds} s in prod`),
      "README states the RPO as the alarmed replica lag",
    );
  });
});

describe("failover: failing back (README: failback)", () => {
  it("GIVEN the writer back in the primary THEN the secondary's promoted instance becomes a replica again under the same name, which is a replacement the runbook orders explicitly", () => {
    // writerRegion primary again: the same logical name is a cross-region replica (replicateSourceDb
    // set), so the provider replaces the standalone instance; README says to pass --replace.
    const back = normal.named(PROMOTED, T.db);
    const promoted = failedOver.named(PROMOTED, T.db);
    assert.equal(back.urn, promoted.urn);
    assert.ok(back.inputs.replicateSourceDb);
    assert.equal(promoted.inputs.replicateSourceDb, undefined);
  });

  it("GIVEN the writer back in the primary THEN the migrate step and uploads return to the primary", () => {
    assert.equal(
      normal.named("primary-migrate-taskdef", T.taskDefinition).region,
      config.regions.primary,
    );
    assert.equal(
      normal.ofType(T.taskDefinition).filter((t) => t.name === "secondary-migrate-taskdef").length,
      0,
    );
    const bucket = normal.named("assets-bucket", "aws:s3/bucket:Bucket");
    for (const task of appTasks(normal)) {
      assert.equal(appEnv(task).env.ASSETS_BUCKET, bucket.state.bucket, task.name);
      assert.equal(appEnv(task).env.ASSETS_BUCKET_REGION, config.regions.primary, task.name);
    }
  });
});
