/**
 * The architecture, as a specification over the synth of both stacks: what each region holds,
 * how the tiers are wired, and how dev differs from prod.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ENVIRONMENT_DEFAULTS, type StackConfig } from "../../stacks/config";
import type { SynthResource } from "../../harness";
import { loadStacksBefore } from "./support/stacks";

const T = {
  vpc: "aws:ec2/vpc:Vpc",
  subnet: "aws:ec2/subnet:Subnet",
  nat: "aws:ec2/natGateway:NatGateway",
  alb: "aws:lb/loadBalancer:LoadBalancer",
  listener: "aws:lb/listener:Listener",
  ecsService: "aws:ecs/service:Service",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  scalableTarget: "aws:appautoscaling/target:Target",
  db: "aws:rds/instance:Instance",
  cache: "aws:elasticache/replicationGroup:ReplicationGroup",
  queue: "aws:sqs/queue:Queue",
  table: "aws:dynamodb/table:Table",
  tableReplica: "aws:dynamodb/tableReplica:TableReplica",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  provider: "pulumi:providers:aws",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  kmsKey: "aws:kms/key:Key",
} as const;

const STACKS = ["dev", "prod"] as const;
const loaded = loadStacksBefore(STACKS);

const regionsOf = (config: StackConfig) => [config.regions.primary, config.regions.secondary];
const isWriter = (db: SynthResource) => db.inputs.replicateSourceDb === undefined;
const containers = (task: SynthResource) =>
  JSON.parse(String(task.inputs.containerDefinitions)) as Array<{
    command?: string[];
    environment?: Array<{ name: string; value: string }>;
    secrets?: Array<{ name: string; valueFrom: string }>;
  }>;

for (const stack of STACKS) {
  describe(`${stack}: every region holds every tier`, () => {
    it("spans exactly its two regions, with one tagged provider each", () => {
      const { synth: s, config } = loaded[stack]!;
      const regions = new Set(s.resources.map((r) => r.region).filter((r) => r !== null));
      assert.deepEqual([...regions].sort(), regionsOf(config).sort());
      assert.equal(s.ofType(T.provider).length, 2);
      for (const provider of s.ofType(T.provider)) {
        // Provider inputs reach the engine as JSON text.
        const tags = (
          JSON.parse(String(provider.inputs.defaultTags)) as { tags: Record<string, string> }
        ).tags;
        assert.deepEqual(
          [tags.project, tags.stack, tags.region],
          ["zero-to-millions", stack, provider.inputs.region],
        );
      }
    });

    it("creates every AWS resource with an explicit regional provider (none falls back to an ambient region)", () => {
      const { synth: s } = loaded[stack]!;
      const homeless = s.resources.filter((r) => r.type.startsWith("aws:") && r.region === null);
      assert.deepEqual(
        homeless.map((r) => r.urn),
        [],
      );
    });

    for (const role of ["primary", "secondary"] as const) {
      it(`${role} region: a VPC with subnets in ${ENVIRONMENT_DEFAULTS[stack].network.availabilityZones} AZs, an ALB, web and worker services, a job queue and a cache-invalidation queue each with a DLQ, a cache and a copy of the sessions table`, () => {
        const { synth: s, config } = loaded[stack]!;
        const region = config.regions[role];
        const azs = config.network.availabilityZones;
        assert.equal(s.ofType(T.vpc, region).length, 1);
        assert.equal(s.ofType(T.subnet, region).length, 3 * azs);
        assert.equal(
          s.ofType(T.nat, region).length,
          config.network.natGateways === "perAz" ? azs : 1,
        );
        assert.equal(s.ofType(T.alb, region).length, 1);
        assert.equal(s.ofType(T.ecsService, region).length, 2);
        assert.equal(s.ofType(T.queue, region).length, 4);
        assert.equal(s.ofType(T.cache, region).length, 1);
        const sessionCopies = [...s.ofType(T.table, region), ...s.ofType(T.tableReplica, region)];
        assert.equal(sessionCopies.length, 1);
      });
    }

    it("the primary region holds the writer and its in-region replicas; the secondary holds one cross-region replica", () => {
      const { synth: s, config } = loaded[stack]!;
      const primaryDbs = s.ofType(T.db, config.regions.primary);
      const writers = primaryDbs.filter(isWriter);
      assert.equal(writers.length, 1);
      const writer = writers[0]!;
      const inRegionReplicas = primaryDbs.filter((db) => !isWriter(db));
      assert.equal(inRegionReplicas.length, config.database.readReplicas);
      for (const replica of inRegionReplicas) {
        assert.equal(replica.inputs.replicateSourceDb, writer.state.identifier);
      }
      const secondaryDbs = s.ofType(T.db, config.regions.secondary);
      assert.equal(secondaryDbs.length, 1);
      // A cross-region replica names its source by ARN and is encrypted with a key of its own region.
      assert.equal(secondaryDbs[0]!.inputs.replicateSourceDb, writer.state.arn);
      const keyArn = String(secondaryDbs[0]!.inputs.kmsKeyId);
      assert.match(keyArn, new RegExp(`^arn:aws:kms:${config.regions.secondary}:`));
    });

    it("the database and the cache admit only the app's task groups (and the secondary's app subnets, for writes)", () => {
      const { synth: s, config } = loaded[stack]!;
      const groupIds = (pattern: RegExp) =>
        new Set(
          s
            .ofType(T.securityGroup)
            .filter((g) => pattern.test(g.name))
            .map((g) => g.id),
        );
      const appGroups = groupIds(/-(web|workers|migrate)-tasks-sg$/);
      const dataGroups = groupIds(/-(database|cache)-sg$/);
      // web, workers and the migrate step in both regions (migrate's ready for a failover)
      assert.equal(appGroups.size, 6);
      assert.equal(dataGroups.size, 4);
      const secondaryAppCidrs = s
        .ofType(T.subnet, config.regions.secondary)
        .filter(
          (subnet) => (subnet.inputs.tags as Record<string, string>)["subnet-kind"] === "private",
        )
        .map((subnet) => String(subnet.inputs.cidrBlock));
      const rules = s
        .ofType(T.ingress)
        .filter((rule) => dataGroups.has(String(rule.inputs.securityGroupId)));
      const fromGroups = rules.filter(
        (rule) => rule.inputs.referencedSecurityGroupId !== undefined,
      );
      const fromCidrs = rules.filter((rule) => rule.inputs.referencedSecurityGroupId === undefined);
      // web and workers, to the database and to the cache, and migrate to the database, in two regions
      assert.equal(fromGroups.length, 10);
      for (const rule of fromGroups)
        assert.ok(appGroups.has(String(rule.inputs.referencedSecurityGroupId)), rule.name);
      assert.deepEqual(
        fromCidrs.map((rule) => rule.inputs.cidrIpv4).sort(),
        [...secondaryAppCidrs].sort(),
      );
      for (const rule of fromCidrs)
        assert.equal(
          rule.region,
          config.regions.primary,
          `${rule.name} admits CIDRs outside the writer's region`,
        );
    });

    it("autoscaling bounds follow config for web and workers in both regions", () => {
      const { synth: s, config } = loaded[stack]!;
      for (const region of regionsOf(config)) {
        const bounds = s
          .ofType(T.scalableTarget, region)
          .map((target) => [target.inputs.minCapacity, target.inputs.maxCapacity])
          .sort();
        assert.deepEqual(
          bounds,
          [
            [config.web.minTasks, config.web.maxTasks],
            [config.workers.minTasks, config.workers.maxTasks],
          ].sort(),
        );
      }
    });

    it("web and worker tasks get every tier's endpoint as env vars and secrets only through `secrets`", () => {
      const { synth: s, config } = loaded[stack]!;
      for (const task of s.ofType(T.taskDefinition)) {
        const [container] = containers(task);
        // The migrate step has its own spec (test/stack/contract.test.ts, failover.test.ts).
        if (container?.command?.[0] === "migrate") continue;
        const env = Object.fromEntries(
          (container?.environment ?? []).map((e) => [e.name, e.value]),
        );
        for (const name of [
          "DATABASE_URL",
          "DATABASE_READ_URLS",
          "REDIS_URL",
          "REDIS_IAM_USER",
          "REDIS_IAM_CACHE_ID",
          "QUEUE_URL",
          "ASSETS_BUCKET",
          "CDN_DOMAIN",
          "AWS_REGION",
        ]) {
          if (name === "QUEUE_URL" && container?.command?.[0] === "worker") continue;
          assert.ok(env[name], `${task.name} lacks ${name}`);
        }
        assert.equal(env.AWS_REGION, task.region);
        assert.doesNotMatch(
          JSON.stringify(env),
          /password|mock-/i,
          `${task.name} carries a secret in plain env`,
        );
        const secrets = Object.fromEntries(
          (container?.secrets ?? []).map((e) => [e.name, e.valueFrom]),
        );
        // IAM tokens: no database password reaches a web or worker task.
        assert.equal(secrets.DATABASE_PASSWORD, undefined, task.name);
        assert.equal(env.DATABASE_AUTH, "iam", task.name);
        // The cache has no password: the task signs in as the cache's IAM user.
        assert.equal(secrets.REDIS_AUTH_TOKEN, undefined);
        const cacheUser = s
          .ofType("aws:elasticache/user:User", task.region ?? undefined)
          .find((user) => user.name.endsWith("-cache-app-user"))!;
        assert.equal(env.REDIS_IAM_USER, cacheUser.state.userId);
        // Writes always go to the primary's writer, from either region.
        const writer = s.ofType(T.db, config.regions.primary).find(isWriter)!;
        assert.ok(
          env.DATABASE_URL!.includes(String(writer.state.address)),
          `${task.name} writes elsewhere: ${env.DATABASE_URL}`,
        );
      }
    });

    it("the web tier's queue URL is its own region's queue", () => {
      const { synth: s } = loaded[stack]!;
      for (const task of s.ofType(T.taskDefinition)) {
        const [container] = containers(task);
        const queueUrl = (container?.environment ?? []).find((e) => e.name === "QUEUE_URL")?.value;
        if (queueUrl) assert.match(queueUrl, new RegExp(`^https://sqs\\.${task.region}\\.`));
      }
    });

    it("every web and worker service waits for every policy on its task role, wherever it was granted: no task starts before it may read its secrets, files, sessions and queues", () => {
      const { synth: s } = loaded[stack]!;
      const services = s.ofType(T.ecsService);
      assert.equal(services.length, 4, "web and workers in two regions");
      for (const service of services) {
        const task = s.resources.find(
          (r) =>
            r.id === service.inputs.taskDefinition || r.state.arn === service.inputs.taskDefinition,
        );
        assert.ok(task, `${service.name}: its task definition`);
        const roleName = String(task.inputs.taskRoleArn).split("/").pop();
        const grants = s.ofType(T.rolePolicy).filter((policy) => policy.inputs.role === roleName);
        // Granted by the tier itself and by the other components (CDN, sessions, logins, queues).
        assert.ok(grants.length >= 4, `${service.name}: ${grants.map((g) => g.name).join(", ")}`);
        const missing = grants
          .filter((grant) => !(service.dependsOn ?? []).includes(grant.urn))
          .map((grant) => grant.name);
        assert.deepEqual(missing, [], `${service.name} starts without these grants`);
      }
    });

    it("every task told the CDN's name (CDN_DOMAIN) waits for the files buckets' policies and keys: CloudFront may read the buckets before a task links to it", () => {
      const { synth: s } = loaded[stack]!;
      const needed = [
        ...s
          .ofType(T.bucketPolicy)
          .filter((policy) => /assets-(bucket|replica)-policy$/.test(policy.name)),
        ...s.ofType(T.kmsKey).filter((key) => /assets-(bucket|replica)-key$/.test(key.name)),
      ];
      assert.equal(needed.length, 4, needed.map((r) => r.name).join(", "));
      const tasks = s
        .ofType(T.taskDefinition)
        .filter((task) =>
          containers(task).some((c) => c.environment?.some((e) => e.name === "CDN_DOMAIN")),
        );
      assert.ok(tasks.length >= 2, "web tasks in both regions carry CDN_DOMAIN");
      for (const task of tasks) {
        const missing = needed
          .filter((r) => !(task.dependsOn ?? []).includes(r.urn))
          .map((r) => r.name);
        assert.deepEqual(missing, [], `${task.name} is told the CDN's name before these`);
      }
    });

    it("every taggable resource carries its tier", () => {
      const { synth: s } = loaded[stack]!;
      const untagged = s.resources.filter(
        (r) =>
          r.type.startsWith("aws:") &&
          r.inputs.tags !== undefined &&
          !(r.inputs.tags as Record<string, string>).tier,
      );
      assert.deepEqual(
        untagged.map((r) => r.name),
        [],
      );
    });
  });
}

describe("dev is visibly smaller and cheaper than prod", () => {
  const count = (stack: string, type: string) => loaded[stack]!.synth.ofType(type).length;
  it("has fewer NAT gateways, subnets and database instances", () => {
    assert.ok(count("dev", T.nat) < count("prod", T.nat));
    assert.ok(count("dev", T.subnet) < count("prod", T.subnet));
    assert.ok(count("dev", T.db) < count("prod", T.db));
  });
  it("runs single-AZ databases without deletion protection in dev, multi-AZ protected writers in prod", () => {
    const writer = (stack: string) => loaded[stack]!.synth.ofType(T.db).find(isWriter)!;
    assert.deepEqual(
      [writer("dev").inputs.multiAz, writer("dev").inputs.deletionProtection],
      [false, false],
    );
    assert.deepEqual(
      [writer("prod").inputs.multiAz, writer("prod").inputs.deletionProtection],
      [true, true],
    );
    assert.ok(Number(writer("prod").inputs.backupRetentionPeriod) >= 7);
  });
  it("has cache failover only in prod", () => {
    for (const group of loaded.prod!.synth.ofType(T.cache))
      assert.equal(group.inputs.automaticFailoverEnabled, true);
    for (const group of loaded.dev!.synth.ofType(T.cache))
      assert.notEqual(group.inputs.automaticFailoverEnabled, true);
  });
});
