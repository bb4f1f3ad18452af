import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blocksOverlap, parseIpv4Block, subBlock } from "../../components/cidr";
import { vpcCidrProblem } from "../../components/network";
import { synth } from "../../harness";
import { stackConfig } from "../../harness/synth";
import { parsedStackConfig } from "./support/stacks";
import {
  BASE_DEFAULTS,
  ConfigError,
  type Defaults,
  ENVIRONMENT_DEFAULTS,
  ENVIRONMENT_OVERRIDES,
  ENVIRONMENTS,
  parseConfig,
  rawConfigFromPulumi,
} from "../../stacks/config";
import { valueAt } from "../../scripts/config-reference";
import { deepMerge } from "../../stacks/deepMerge";
import { stageSwitches } from "../../stacks/stages";
import { configProblems, itReportsEachConfigProblem } from "./support/config";

const STACKS = ["dev", "prod", "localstack"] as const;

describe("stack config: each invalid setting is named with its key path and what is allowed", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      "an unknown region",
      { environment: "dev", regions: { primary: "mars-1" } },
      /^regions\.primary: .*"us-east-1"\|/,
    ],
    [
      "the same region twice",
      { environment: "dev", regions: { primary: "us-east-1", secondary: "us-east-1" } },
      /^regions\.secondary: must differ from regions\.primary/,
    ],
    [
      "minTasks above maxTasks",
      { environment: "dev", web: { minTasks: 5, maxTasks: 2 } },
      /^web\.minTasks: 5 is greater than web\.maxTasks \(2\)/,
    ],
    [
      "a negative replica count",
      { environment: "dev", database: { readReplicas: -1 } },
      /^database\.readReplicas: .*>=0/,
    ],
    [
      "a CIDR that does not parse",
      { environment: "dev", network: { cidrs: { primary: "10.0.0.0/33" } } },
      /^network\.cidrs\.primary: "10\.0\.0\.0\/33" must be an IPv4 CIDR/,
    ],
    [
      "a CIDR with host bits set",
      { environment: "dev", network: { cidrs: { primary: "10.10.1.0/16" } } },
      /^network\.cidrs\.primary: .*no host bits set/,
    ],
    [
      "overlapping region CIDRs",
      {
        environment: "dev",
        network: { cidrs: { primary: "10.0.0.0/16", secondary: "10.0.0.0/17" } },
      },
      /^network\.cidrs\.secondary: overlaps/,
    ],
    [
      "an availability zone of another region",
      {
        environment: "dev",
        network: { availabilityZoneNames: { secondary: ["us-west-2a", "us-east-1b"] } },
      },
      /^network\.availabilityZoneNames\.secondary: us-east-1b is not an availability zone of us-west-2/,
    ],
    [
      "fewer zone names than zones",
      { environment: "prod", network: { availabilityZoneNames: { primary: ["us-east-1a"] } } },
      /^network\.availabilityZoneNames\.primary: 1 names for network\.availabilityZones 3/,
    ],
    [
      "a zone named twice",
      {
        environment: "dev",
        network: { availabilityZoneNames: { primary: ["us-east-1a", "us-east-1a"] } },
      },
      /^network\.availabilityZoneNames\.primary: us-east-1a, us-east-1a names a zone twice/,
    ],
    ["a missing required key", {}, /^environment: /],
    ["an unknown top-level key", { environment: "dev", databse: {} }, /^databse: unknown key/],
    [
      "an unknown nested key",
      { environment: "dev", web: { minTask: 1 } },
      /^web\.minTask: unknown key/,
    ],
    [
      "an unknown environment",
      { environment: "qa" },
      /^environment: .*"dev"\|"prod"\|"localstack"/,
    ],
    [
      "a Fargate memory size that does not fit the CPU",
      { environment: "dev", web: { cpu: 256, memory: 4096 } },
      /^web\.memory: 4096 MiB does not fit web\.cpu 256; allowed: 512, 1024, 2048/,
    ],
    [
      "a CPU size Fargate lacks",
      { environment: "dev", workers: { cpu: 300 } },
      /^workers\.cpu: 300 is not a Fargate CPU size/,
    ],
    [
      "a log retention CloudWatch refuses",
      { environment: "dev", logs: { retentionDays: 10 } },
      /^logs\.retentionDays: must be one of 1, 3, 5, 7, 14/,
    ],
    [
      "more shards' writers and replicas than RDS's per-region quota of DB instances",
      {
        environment: "prod",
        database: { shards: 14, shardMap: "0-8191:0" },
      },
      /^database\.shards: database\.shards 14 × \(1 writer \+ database\.readReplicas 2\) is 42 DB instances in the primary region, over database\.instanceQuota 40 .*Service Quotas/,
    ],
    [
      "a zone id without its domain",
      { environment: "dev", dns: { zoneId: "Z123ABC" } },
      /^dns\.zoneId: set dns\.domain too/,
    ],
    [
      "one location in both regions",
      { environment: "dev", dns: { locations: { primary: ["EU"], secondary: ["EU"] } } },
      /^dns\.locations: EU listed for both regions/,
    ],
    [
      "a web tier that can scale to zero",
      { environment: "dev", web: { minTasks: 0 } },
      /^web\.minTasks: must be at least 1/,
    ],
    [
      "storage that cannot grow",
      { environment: "dev", database: { allocatedStorageGb: 100, maxAllocatedStorageGb: 50 } },
      /^database\.maxAllocatedStorageGb: 50 is below/,
    ],
    [
      "backups off while the writer feeds replicas",
      { environment: "dev", database: { backupRetentionDays: 0 } },
      /^database\.backupRetentionDays: 0 turns backups off/,
    ],
    [
      "a job timeout shorter than the average job",
      { environment: "dev", workers: { jobTimeoutSeconds: 1, averageJobSeconds: 2 } },
      /^workers\.jobTimeoutSeconds: 1 is shorter than workers\.averageJobSeconds \(2\)/,
    ],
    [
      "a default TTL above the longest",
      { environment: "dev", cdn: { defaultTtlSeconds: 600, maxTtlSeconds: 60 } },
      /^cdn\.defaultTtlSeconds: 600 is above cdn\.maxTtlSeconds \(60\)/,
    ],
    [
      "a domain with a trailing dot",
      { environment: "dev", dns: { domain: "example.com." } },
      /^dns\.domain: must be a lowercase DNS name without a trailing dot/,
    ],
    [
      "an emulator-only switch offered as a setting",
      { environment: "dev", cache: { enableParameterGroup: false } },
      /^cache\.enableParameterGroup: unknown key/,
    ],
  ];
  itReportsEachConfigProblem(cases);

  it("GIVEN several mistakes at once THEN ONE error lists every one of them", () => {
    const problems = configProblems({
      environment: "dev",
      regions: { primary: "mars-1" },
      web: { minTasks: 5, maxTasks: 2 },
      database: { readReplicas: -1 },
      network: { cidrs: { primary: "not-a-cidr" } },
      bogus: true,
    });
    assert.equal(problems.length, 5, problems.join("\n"));
    const message = new ConfigError(problems).message;
    assert.match(message, /^Invalid configuration for zero-to-millions \(5 problems\):/);
    for (const key of [
      "regions.primary",
      "web.minTasks",
      "database.readReplicas",
      "network.cidrs.primary",
      "bogus",
    ]) {
      assert.match(message, new RegExp(`- ${key.replace(/\./g, "\\.")}`));
    }
  });
});

describe("stack config: the components' own checks run with config validation, naming the config key", () => {
  // Settings the schema's types allow but a component refuses: reported by parseConfig, before any
  // resource exists, with the config key instead of the component's argument name.
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      "a storage ceiling less than 10% above the storage (Database)",
      { environment: "dev", database: { maxAllocatedStorageGb: 21 } },
      /^database\.maxAllocatedStorageGb: 21 must be at least 22 .*\(Database's check\)$/,
    ],
    [
      "a PostgreSQL major out of RDS standard support (Database)",
      { environment: "dev", database: { engineVersion: "12" } },
      /^database\.engineVersion: "12" is out of RDS standard support/,
    ],
    [
      "a master user name RDS reserves (Database)",
      { environment: "dev", database: { masterUsername: "rdsadmin" } },
      /^database\.masterUsername: "rdsadmin" .*reserved/,
    ],
    [
      "an engine version the cache engine lacks (Cache)",
      { environment: "dev", cache: { engine: "redis", engineVersion: "7.2" } },
      /^cache\.engineVersion: "7\.2" is not a version of redis/,
    ],
    [
      "a subdivision Route53 cannot route (GeoDns)",
      {
        environment: "dev",
        dns: { domain: "example.com", locations: { primary: ["NA"], secondary: ["FR-75"] } },
      },
      /^dns\.locations\.secondary: location "FR-75": Route53 supports subdivisions only for US states/,
    ],
  ];
  itReportsEachConfigProblem(cases, "parseConfig names the config key");

  it("GIVEN a schema problem and a component problem THEN both are reported at once", () => {
    const problems = configProblems({
      environment: "dev",
      regions: { primary: "mars-1" },
      database: { maxAllocatedStorageGb: 21 },
    });
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0]!, /^regions\.primary: /);
    assert.match(problems[1]!, /^database\.maxAllocatedStorageGb: 21 must be at least 22/);
  });

  it("GIVEN a problem both the schema and a component find THEN it is reported once, as the schema words it", () => {
    const problems = configProblems({ environment: "dev", web: { minTasks: 5, maxTasks: 2 } });
    assert.deepEqual(problems, [
      "web.minTasks: 5 is greater than web.maxTasks (2); lower minTasks or raise maxTasks",
    ]);
  });

  for (const stack of STACKS) {
    it(`GIVEN the ${stack} defaults THEN every component accepts them`, () => {
      assert.deepEqual(configProblems(rawConfigFromPulumi(stackConfig(stack))), []);
    });
  }

  it("GIVEN invalid component settings WHEN the program runs THEN it fails with the config key and registers no resource", async () => {
    const result = await synth("dev", { database: { maxAllocatedStorageGb: 21 } });
    assert.match(result.error ?? "", /Invalid configuration/);
    assert.match(result.error ?? "", /database\.maxAllocatedStorageGb: 21 must be at least 22/);
    assert.deepEqual(result.resources, []);
  });
});

/** Every leaf of `raw` (lists are leaves) as [dotted key, value]. */
function leaves(raw: unknown, path: string[] = []): Array<[string, unknown]> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return [[path.join("."), raw]];
  }
  return Object.entries(raw).flatMap(([key, value]) => leaves(value, [...path, key]));
}

/** The keys of `raw` (a stack's raw config) whose value equals its environment's default. */
function restatedDefaults(raw: Record<string, unknown>): string[] {
  const defaults = ENVIRONMENT_DEFAULTS[raw.environment as (typeof ENVIRONMENTS)[number]];
  return leaves(raw)
    .filter(([key]) => key !== "environment")
    .filter(([key, value]) => JSON.stringify(valueAt(defaults, key)) === JSON.stringify(value))
    .map(([key]) => key);
}

describe("stack config: every default in one place", () => {
  for (const stack of STACKS) {
    it(`GIVEN Pulumi.${stack}.yaml THEN it states only what differs from the ${stack} defaults`, () => {
      const raw = rawConfigFromPulumi(stackConfig(stack));
      assert.deepEqual(
        restatedDefaults(raw),
        [],
        `Pulumi.${stack}.yaml restates defaults; remove those keys (the defaults live in stacks/configDefaults.ts)`,
      );
    });
  }

  it("GIVEN a stack file that restates a default THEN the check above names it", () => {
    const raw = {
      environment: "prod",
      web: { maxTasks: 30, minTasks: 5 },
      dns: { domain: "x.io" },
    };
    assert.deepEqual(restatedDefaults(raw), ["web.maxTasks"]);
  });

  for (const environment of ENVIRONMENTS) {
    it(`GIVEN the ${environment} overrides THEN each changes the base (none restates it)`, () => {
      const restated = leaves(ENVIRONMENT_OVERRIDES[environment]).filter(
        ([key, value]) => JSON.stringify(valueAt(BASE_DEFAULTS, key)) === JSON.stringify(value),
      );
      assert.deepEqual(restated, []);
    });
  }

  it("GIVEN the base and an environment's overrides THEN its defaults are their merge, at the default stage's switches", () => {
    for (const environment of ENVIRONMENTS) {
      const merged = deepMerge(BASE_DEFAULTS, ENVIRONMENT_OVERRIDES[environment]) as Defaults;
      assert.deepEqual(
        ENVIRONMENT_DEFAULTS[environment],
        deepMerge(merged, stageSwitches(merged.stage)),
      );
    }
  });
});

describe("stack config: one deep merge", () => {
  it("GIVEN nested objects THEN keys merge, lists and scalars are replaced, null removes", () => {
    const base = { a: { b: 1, c: [1, 2], d: "x" }, e: true };
    const merged = deepMerge(base, { a: { b: 2, c: [3], d: null }, f: 1 });
    assert.deepEqual(merged, { a: { b: 2, c: [3] }, e: true, f: 1 });
    assert.deepEqual(base, { a: { b: 1, c: [1, 2], d: "x" }, e: true }, "base untouched");
  });

  it("GIVEN --config with null THEN the harness unsets the stack file's key too", () => {
    const config = stackConfig("prod", { alarms: { email: null }, dns: null });
    assert.equal(config["zero-to-millions:dns"], undefined);
    assert.deepEqual(JSON.parse(config["zero-to-millions:alarms"]!), {});
  });
});

describe("stack config: defaults per environment", () => {
  it("GIVEN only the environment THEN every knob has its environment's default", () => {
    assert.deepEqual(parseConfig({ environment: "prod" }), {
      environment: "prod",
      ...ENVIRONMENT_DEFAULTS.prod,
    });
  });

  it("GIVEN an override of one nested key THEN its siblings keep their defaults", () => {
    const config = parseConfig({ environment: "dev", web: { maxTasks: 8 } });
    assert.equal(config.web.maxTasks, 8);
    assert.equal(config.web.minTasks, ENVIRONMENT_DEFAULTS.dev.web.minTasks);
  });

  it("GIVEN the defaults THEN dev is smaller and cheaper than prod, and prod is sturdier", () => {
    const dev = ENVIRONMENT_DEFAULTS.dev;
    const prod = ENVIRONMENT_DEFAULTS.prod;
    assert.deepEqual([dev.network.natGateways, prod.network.natGateways], ["single", "perAz"]);
    assert.ok(dev.network.availabilityZones < prod.network.availabilityZones);
    assert.ok(dev.web.cpu < prod.web.cpu && dev.web.maxTasks < prod.web.maxTasks);
    assert.deepEqual([dev.database.enableMultiAz, prod.database.enableMultiAz], [false, true]);
    assert.deepEqual(
      [dev.database.enableDeletionProtection, prod.database.enableDeletionProtection],
      [false, true],
    );
    assert.ok(prod.database.backupRetentionDays >= 7);
    assert.ok(dev.cache.replicas === 0 && prod.cache.replicas >= 1);
    assert.equal(dev.workers.minTasks, 0);
  });

  it("GIVEN Pulumi's config map THEN only the project's keys are read, JSON values parsed", () => {
    const raw = rawConfigFromPulumi({
      "zero-to-millions:environment": "dev",
      "zero-to-millions:web": '{"minTasks":2}',
      "aws:region": "us-east-1",
    });
    assert.deepEqual(raw, { environment: "dev", web: { minTasks: 2 } });
  });

  for (const stack of STACKS) {
    it(`GIVEN Pulumi.${stack}.yaml THEN it is valid`, () => {
      const config = parsedStackConfig(stack);
      assert.equal(config.environment, stack);
    });
  }
});

describe("CIDR arithmetic (components/cidr.ts, on ipaddr.js) and the VPC ranges it allows", () => {
  const cases: Array<[string, { block: boolean; vpc: boolean }]> = [
    ["10.0.0.0/16", { block: true, vpc: true }],
    ["10.0.0.0/20", { block: true, vpc: true }],
    ["10.0.0.0/21", { block: true, vpc: false }],
    ["10.0.0.0/15", { block: true, vpc: false }],
    ["10.0.1.0/16", { block: false, vpc: false }],
    ["256.0.0.0/16", { block: false, vpc: false }],
    ["10.0.0/16", { block: false, vpc: false }],
    ["10.0.0.0/33", { block: false, vpc: false }],
  ];
  for (const [cidr, expected] of cases) {
    it(`GIVEN ${cidr} THEN it ${expected.block ? "parses" : "is rejected"}${expected.vpc ? " and is a VPC range" : ""}`, () => {
      assert.equal(parseIpv4Block(cidr) !== undefined, expected.block);
      assert.equal(vpcCidrProblem(cidr) === undefined, expected.vpc);
    });
  }
  it("GIVEN nested and disjoint ranges THEN overlap is detected only for the nested", () => {
    const block = (cidr: string) => parseIpv4Block(cidr)!;
    assert.equal(blocksOverlap(block("10.0.0.0/16"), block("10.0.16.0/20")), true);
    assert.equal(blocksOverlap(block("10.0.16.0/20"), block("10.0.0.0/16")), true);
    assert.equal(blocksOverlap(block("10.0.0.0/16"), block("10.1.0.0/16")), false);
  });
  it("GIVEN a /16 THEN its blocks of 4 more bits are numbered from its start", () => {
    const vpc = parseIpv4Block("10.20.0.0/16")!;
    assert.deepEqual(
      [0, 1, 15].map((index) => subBlock(vpc, 4, index)),
      ["10.20.0.0/20", "10.20.16.0/20", "10.20.240.0/20"],
    );
    assert.throws(() => subBlock(vpc, 4, 16), /has no block 16 of \/20/);
  });
});

describe("stack config: a setting reaches its resource", () => {
  it("GIVEN web.maxTasks in the stack's config THEN both regions' web scalable targets take it as their ceiling", async () => {
    const result = await synth("prod", { web: { maxTasks: 60 } });
    assert.equal(result.error, undefined);
    for (const role of ["primary", "secondary"]) {
      const target = result.named(`${role}-web-scaling`, "aws:appautoscaling/target:Target");
      assert.equal(target.inputs.maxCapacity, 60);
    }
  });
});

describe("stack config: the program refuses bad config before declaring anything", () => {
  it("GIVEN invalid config WHEN the program runs THEN it fails with every problem and registers no resource", async () => {
    const result = await synth("dev", {
      web: { minTasks: 5, maxTasks: 2 },
      regions: { primary: "mars-1" },
      typo: 1,
    });
    assert.match(result.error ?? "", /web\.minTasks: 5 is greater than web\.maxTasks/);
    assert.match(result.error ?? "", /regions\.primary/);
    assert.match(result.error ?? "", /typo: unknown key/);
    assert.deepEqual(result.resources, []);
  });
});
