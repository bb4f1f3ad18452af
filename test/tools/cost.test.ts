/**
 * `npm run cost`: the estimate of a small fixed synth against a hand computation, the shipped
 * stacks' estimates (complete, min ≤ max, every tier and region), the errors and the `--json` shape.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { estimate, type Estimate } from "../../tools/cost/estimate";
import { FREE, PRICED } from "../../tools/cost/meters";
import { formatDiff, formatMarkdown, formatText } from "../../tools/cost/report";
import { USAGE, USAGE_NOTES, usageEntries, type UsageAssumptions } from "../../tools/cost/usage";
import { COST_STACKS, ONE_MORE_SHARD, README, readmeWithCostTables } from "../../tools/readme";
import type { SynthResource, SynthResult } from "../../tools/synth";
import { assignTiers, regionOf, TIERS } from "../../tools/tiers";
import { synth, type Synth } from "../../harness";
import { PROJECT_ROOT } from "../../harness/synth";

function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  region: string | null = "us-east-1",
  state: Record<string, unknown> = {},
): SynthResource {
  return {
    urn: `urn:pulumi:test::zero-to-millions::${type}::${name}`,
    type,
    name,
    parent: null,
    protect: false,
    retainOnDelete: false,
    region,
    id: `${name}-id`,
    inputs,
    state: { ...inputs, ...state },
  };
}

const fixed = (resources: SynthResource[]): SynthResult => ({
  project: "zero-to-millions",
  stack: "fixed",
  resources,
  outputs: {},
});

/** Use that only the NAT gateway's traffic depends on, so the hand computation stays short. */
const NAT_ONLY: UsageAssumptions = {
  ...USAGE,
  nat: { gbPerTaskMonth: 10 },
  dynamodb: { ...USAGE.dynamodb, storedGb: 10 },
};

const TASK_DEFINITION_ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/jobs:1";

/** A handful of resources with known us-east-1 prices (tools/cost/prices.ts, read 2025-06-01). */
const HANDFUL = [
  resource("aws:ec2/natGateway:NatGateway", "nat", {}),
  resource("aws:ec2/eip:Eip", "nat-ip", { domain: "vpc" }),
  resource("aws:rds/instance:Instance", "db", {
    engine: "postgres",
    instanceClass: "db.t4g.micro",
    multiAz: true,
    allocatedStorage: 20,
    maxAllocatedStorage: 100,
    storageType: "gp3",
  }),
  resource("aws:elasticache/replicationGroup:ReplicationGroup", "cache", {
    engine: "valkey",
    nodeType: "cache.t4g.micro",
    numCacheClusters: 2,
  }),
  resource("aws:kms/key:Key", "key", { enableKeyRotation: false }),
  resource("aws:secretsmanager/secret:Secret", "secret", {}),
  resource("aws:route53/zone:Zone", "zone", { name: "example.com" }),
  resource("aws:route53/healthCheck:HealthCheck", "health", {
    type: "HTTPS",
    fqdn: "web-123.us-east-1.elb.amazonaws.com",
    requestInterval: 30,
  }),
  resource("aws:cloudwatch/dashboard:Dashboard", "dashboard", {}),
  resource("aws:cloudwatch/metricAlarm:MetricAlarm", "alarm", { period: 60 }),
  resource("aws:dynamodb/table:Table", "table", {
    billingMode: "PROVISIONED",
    writeCapacity: 5,
    readCapacity: 5,
  }),
  resource("aws:wafv2/webAcl:WebAcl", "acl", { scope: "REGIONAL", rules: [{}, {}] }),
  resource("aws:iam/role:Role", "role", {}),
  resource(
    "aws:ecs/taskDefinition:TaskDefinition",
    "jobs-taskdef",
    { cpu: "512", memory: "1024", runtimePlatform: { cpuArchitecture: "X86_64" } },
    "us-east-1",
    { arn: TASK_DEFINITION_ARN },
  ),
  resource("aws:ecs/service:Service", "jobs", {
    taskDefinition: TASK_DEFINITION_ARN,
    desiredCount: 1,
    capacityProviderStrategies: [
      { capacityProvider: "FARGATE", base: 1, weight: 0 },
      { capacityProvider: "FARGATE_SPOT", weight: 1 },
    ],
  }),
  resource("aws:appautoscaling/target:Target", "jobs-scaling", {
    resourceId: "service/cluster/jobs-id",
    scalableDimension: "ecs:service:DesiredCount",
    minCapacity: 1,
    maxCapacity: 4,
  }),
];

describe("GIVEN a small fixed synth with known prices", () => {
  const result = estimate(fixed(HANDFUL), NAT_ONLY);
  const HOURS = 730;

  it("THEN its monthly cost matches the hand computation at minimum and maximum", () => {
    // One Fargate task (0.5 vCPU, 1 GB) stays on demand (base 1); at max 3 more run on Spot (70% off).
    const common =
      HOURS * 0.045 + // NAT gateway hours
      HOURS * 0.005 + // its Elastic IP
      HOURS * 0.016 * 2 + // db.t4g.micro, Multi-AZ
      2 * HOURS * 0.016 * 0.8 + // two cache.t4g.micro Valkey nodes (20% under Redis OSS)
      1 + // KMS key (no rotation)
      0.4 + // secret
      0.5 + // hosted zone
      0.5 +
      1 + // health check of an AWS endpoint, plus HTTPS
      3 + // dashboard
      0.1 + // standard-resolution alarm over one metric
      5 * HOURS * 0.00065 +
      5 * HOURS * 0.00013 +
      10 * 0.25 + // DynamoDB 5 WCU, 5 RCU, 10 GB
      5 +
      2 * 1 + // web ACL with two rules (no web traffic in this synth)
      HOURS * 0.5 * 0.04048 +
      HOURS * 1 * 0.004445; // the on-demand task
    const min = common + 20 * 0.115 * 2 + 1 * 10 * 0.045; // 20 GB Multi-AZ storage; 1 task's NAT GB
    const max =
      common +
      100 * 0.115 * 2 + // storage at its autoscaling ceiling
      4 * 10 * 0.045 + // 4 tasks' NAT GB
      3 * HOURS * (0.5 * 0.04048 + 1 * 0.004445) * 0.3; // 3 Spot tasks
    assert.ok(
      Math.abs(result.monthlyUsd.min - min) < 0.01,
      `min ${result.monthlyUsd.min} ≠ ${min}`,
    );
    assert.ok(
      Math.abs(result.monthlyUsd.max - max) < 0.01,
      `max ${result.monthlyUsd.max} ≠ ${max}`,
    );
  });

  it("THEN each charge names its price's date and page", () => {
    for (const line of result.lines) {
      assert.ok(line.basis.length > 0, `${line.name}: ${line.meter} has no price basis`);
      for (const basis of line.basis) {
        assert.match(basis.asOf, /^\d{4}-\d{2}-\d{2}$/);
        assert.match(basis.source, /^https:\/\/aws\.amazon\.com\//);
      }
    }
  });

  it("THEN free types are counted as free and nothing is unclassified", () => {
    assert.deepEqual(result.unclassified, []);
    assert.ok(result.free.some((f) => f.type === "aws:iam/role:Role" && f.count === 1));
  });
});

describe("GIVEN the usage assumptions", () => {
  it("THEN every number has a note saying what it means, and every note a number", () => {
    const paths = usageEntries(USAGE).map(([path]) => path);
    assert.deepEqual(
      paths.filter((path) => !USAGE_NOTES[path]),
      [],
    );
    assert.deepEqual(
      Object.keys(USAGE_NOTES).filter((path) => !paths.includes(path)),
      [],
    );
  });
});

describe("GIVEN a resource in a region the price table lacks", () => {
  it("THEN the estimate fails naming the region and the table", () => {
    const synthInMumbai = fixed([
      resource("aws:ec2/natGateway:NatGateway", "nat", {}, "ap-south-1"),
    ]);
    assert.throws(
      () => estimate(synthInMumbai),
      /no prices for region ap-south-1 in the price table tools\/cost\/prices\.ts .*Fix:/,
    );
  });

  it("THEN an RDS class the table lacks fails naming the class", () => {
    const bigDatabase = fixed([
      resource("aws:rds/instance:Instance", "db", {
        instanceClass: "db.x2g.16xlarge",
        allocatedStorage: 20,
      }),
    ]);
    assert.throws(
      () => estimate(bigDatabase),
      /no price for RDS PostgreSQL class db\.x2g\.16xlarge in us-east-1/,
    );
  });
});

describe("GIVEN a resource type that is neither priced nor known to be free", () => {
  it("THEN the estimate reports it as unclassified", () => {
    const result = estimate(fixed([resource("aws:sagemaker/endpoint:Endpoint", "model", {})]));
    assert.deepEqual(result.unclassified, [
      { type: "aws:sagemaker/endpoint:Endpoint", names: ["model"] },
    ]);
    assert.match(
      formatText(result),
      /INCOMPLETE: .*\n {2}aws:sagemaker\/endpoint:Endpoint \(model\)/,
    );
  });
});

describe("GIVEN the shipped stacks", () => {
  const STACKS = ["dev", "prod", "localstack"] as const;
  const synths: Record<string, Synth> = {};
  const estimates: Record<string, Estimate> = {};
  const asResult = (s: Synth): SynthResult => ({
    project: s.project,
    stack: s.stack,
    resources: [...s.resources],
    outputs: s.outputs,
  });

  /** Each cost stack with one more physical shard (the README's per-shard cost). */
  const sharded: Record<string, Estimate> = {};

  before(async () => {
    for (const stack of STACKS) {
      synths[stack] = await synth(stack);
      assert.equal(synths[stack].error, undefined, `synth of ${stack} failed`);
      estimates[stack] = estimate(asResult(synths[stack]));
    }
    for (const stack of COST_STACKS) {
      const withShard = await synth(stack, ONE_MORE_SHARD);
      assert.equal(withShard.error, undefined, `synth of ${stack} with two shards failed`);
      sharded[stack] = estimate(asResult(withShard));
    }
  });

  for (const stack of STACKS) {
    it(`THEN every resource type in the ${stack} synth is priced or known to be free`, () => {
      assert.deepEqual(
        estimates[stack]!.unclassified,
        [],
        "Fix: classify the new types in tools/cost/meters.ts (PRICED with a meter, or FREE with the reason)",
      );
    });
  }

  for (const stack of ["dev", "prod"] as const) {
    it(`THEN ${stack}'s totals are positive with min ≤ max, overall, per tier and per region`, () => {
      const e = estimates[stack]!;
      assert.ok(e.monthlyUsd.min > 0);
      for (const subtotal of [{ monthlyUsd: e.monthlyUsd }, ...e.tiers, ...e.regions, ...e.lines]) {
        assert.ok(subtotal.monthlyUsd.min <= subtotal.monthlyUsd.max, JSON.stringify(subtotal));
      }
      const sum = (xs: readonly { monthlyUsd: { max: number } }[]) =>
        xs.reduce((total, x) => total + x.monthlyUsd.max, 0);
      assert.ok(Math.abs(sum(e.tiers) - e.monthlyUsd.max) < 0.05);
      assert.ok(Math.abs(sum(e.regions) - e.monthlyUsd.max) < 0.05);
    });

    it(`THEN every tier and every region of the ${stack} synth has a subtotal`, () => {
      const s = synths[stack]!;
      const tiers = assignTiers(s.resources);
      const priced = s.resources.filter((r) => PRICED[r.type] !== undefined);
      const expectedTiers = new Set(priced.map((r) => tiers.get(r.urn)));
      const expectedRegions = new Set(priced.map(regionOf));
      assert.deepEqual(new Set(estimates[stack]!.tiers.map((t) => t.tier)), expectedTiers);
      assert.deepEqual(new Set(estimates[stack]!.regions.map((r) => r.region)), expectedRegions);
      // prod holds every tier of the architecture; dev all but DNS (it has no domain).
      const expected = stack === "prod" ? TIERS : TIERS.filter((t) => t !== "dns");
      assert.deepEqual(new Set(estimates[stack]!.tiers.map((t) => t.tier)), new Set(expected));
    });
  }

  it("THEN prod costs more than dev at both ends", () => {
    assert.ok(estimates.prod!.monthlyUsd.min > estimates.dev!.monthlyUsd.min);
    assert.ok(estimates.prod!.monthlyUsd.max > estimates.dev!.monthlyUsd.max);
  });

  it("THEN the pull-request table shows each tier's change and the total's", () => {
    const table = formatDiff(estimates.dev, estimates.prod!);
    assert.match(table, /^\*\*prod\*\*: \$[\d,.]+ – \$[\d,.]+ → \$[\d,.]+ – \$[\d,.]+ a month/);
    // header, alignment row, 8 tiers, total
    assert.equal(table.split("\n").filter((l) => l.startsWith("| ")).length, 1 + 1 + 8 + 1);
    assert.match(formatDiff(undefined, estimates.dev!), /no estimate on the base branch/);
    assert.match(
      formatMarkdown(estimates.dev!),
      /^\| tier \| us-east-1 \| us-west-2 \| global \| total \|/,
    );
  });

  it("THEN the README's cost tables match these estimates (npm run docs:cost)", async () => {
    const readme = readFileSync(README, "utf8");
    assert.equal(
      readme,
      await readmeWithCostTables(
        readme,
        COST_STACKS.map((stack) => estimates[stack]!),
        COST_STACKS.map((stack) => sharded[stack]!),
      ),
      "README.md's cost tables are stale: run `npm run docs:cost`",
    );
  });

  it("THEN one more physical shard costs more in every cost stack, most of it in the database tier", () => {
    for (const stack of COST_STACKS) {
      const tier = (e: Estimate) => e.tiers.find((t) => t.tier === "database")!.monthlyUsd.min;
      const added = sharded[stack]!.monthlyUsd.min - estimates[stack]!.monthlyUsd.min;
      assert.ok(added > 0, `${stack}: +${added}`);
      // Alarms are priced under observability; the rest a shard adds is the database tier's.
      assert.ok(tier(sharded[stack]!) - tier(estimates[stack]!) <= added + 0.01, stack);
      assert.ok(tier(sharded[stack]!) - tier(estimates[stack]!) > added / 2, stack);
    }
  });

  it("THEN no type is both priced and free", () => {
    assert.deepEqual(
      Object.keys(PRICED).filter((type) => FREE[type] !== undefined),
      [],
    );
  });
});

describe("GIVEN the command line", () => {
  const run = (...args: string[]) =>
    spawnSync(
      process.execPath,
      ["--import", "tsx", join(PROJECT_ROOT, "tools/cost/cli.ts"), ...args],
      {
        cwd: PROJECT_ROOT,
        encoding: "utf8",
      },
    );

  it("WHEN --json THEN stdout is the estimate as data with the totals at monthlyUsd.min/max", () => {
    const { status, stdout, stderr } = run("--stack", "dev", "--json");
    assert.equal(status, 0, stderr);
    const data = JSON.parse(stdout) as Estimate;
    assert.equal(data.stack, "dev");
    assert.equal(typeof data.monthlyUsd.min, "number");
    assert.equal(typeof data.monthlyUsd.max, "number");
    assert.ok(data.monthlyUsd.min <= data.monthlyUsd.max);
    assert.ok(data.tiers.length > 0 && data.regions.length > 0 && data.lines.length > 0);
    assert.ok(data.assumptions.usage.web.requestsPerSecondPerTask > 0);
    assert.ok(data.assumptions.pricedRegions.includes("us-east-1"));
  });

  it("WHEN the config puts a region outside the price table THEN it exits 1 naming the region and the table", () => {
    const { status, stderr } = run(
      "--stack",
      "dev",
      "--config",
      JSON.stringify({ regions: { primary: "us-east-1", secondary: "ap-south-1" } }),
    );
    assert.equal(status, 1);
    assert.match(
      stderr,
      /no prices for region ap-south-1 in the price table tools\/cost\/prices\.ts/,
    );
  });
});
