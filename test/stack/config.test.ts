import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ConfigError,
  ENVIRONMENT_DEFAULTS,
  cidrsOverlap,
  parseCidr,
  parseConfig,
  rawConfigFromPulumi,
} from "../../stacks/config";
import { synth } from "../../harness";
import { stackConfig } from "../../harness/synth";

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return [...error.problems];
  }
  return [];
}

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
      /^network\.cidrs\.primary: must be an IPv4 CIDR/,
    ],
    [
      "overlapping region CIDRs",
      {
        environment: "dev",
        network: { cidrs: { primary: "10.0.0.0/16", secondary: "10.0.0.0/17" } },
      },
      /^network\.cidrs\.secondary: overlaps/,
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
  ];
  for (const [label, raw, expected] of cases) {
    it(`GIVEN ${label} THEN the error names it`, () => {
      const problems = problemsOf(raw);
      assert.ok(
        problems.some((problem) => expected.test(problem)),
        `no problem matched ${expected}:\n${problems.join("\n")}`,
      );
    });
  }

  it("GIVEN several mistakes at once THEN ONE error lists every one of them", () => {
    const problems = problemsOf({
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

  for (const stack of ["dev", "prod"]) {
    it(`GIVEN Pulumi.${stack}.yaml THEN it is valid`, () => {
      const config = parseConfig(rawConfigFromPulumi(stackConfig(stack)));
      assert.equal(config.environment, stack);
    });
  }
});

describe("stack config: CIDR helpers", () => {
  const cases: Array<[string, boolean]> = [
    ["10.0.0.0/16", true],
    ["10.0.0.0/20", true],
    ["10.0.0.0/21", false],
    ["10.0.0.0/15", false],
    ["10.0.1.0/16", false],
    ["256.0.0.0/16", false],
    ["10.0.0/16", false],
  ];
  for (const [cidr, valid] of cases) {
    it(`GIVEN ${cidr} THEN it ${valid ? "parses" : "is rejected"}`, () => {
      assert.equal(parseCidr(cidr) !== undefined, valid);
    });
  }
  it("GIVEN nested and disjoint ranges THEN overlap is detected only for the nested", () => {
    assert.equal(cidrsOverlap(parseCidr("10.0.0.0/16")!, parseCidr("10.0.16.0/20")!), true);
    assert.equal(cidrsOverlap(parseCidr("10.0.0.0/16")!, parseCidr("10.1.0.0/16")!), false);
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
