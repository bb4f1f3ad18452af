import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  GeoDns,
  type GeoDnsArgs,
  type GeoDnsRegion,
  geolocationFor,
  validateGeoDnsArgs,
  weightsFor,
} from "../../components/geoDns";
import { render, resolve } from "../../harness/component";
import type { RecordedResource } from "../../harness/mocks";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";

const ZONE_ID = "Z0123456789ABC";
const PRIMARY_ALB = "web-primary-123.us-east-1.elb.amazonaws.com";
const SECONDARY_ALB = "web-secondary-456.eu-west-1.elb.amazonaws.com";

function region(role: "primary" | "secondary", locations: string[]): GeoDnsRegion {
  return role === "primary"
    ? {
        role,
        region: "us-east-1",
        albDnsName: PRIMARY_ALB,
        albZoneId: "Z35SXDOTRQ7X7K",
        healthCheck: { protocol: "HTTPS", path: "/readyz" },
        locations,
      }
    : {
        role,
        region: "eu-west-1",
        albDnsName: SECONDARY_ALB,
        albZoneId: "Z32O12XQLNTSW2",
        healthCheck: { protocol: "HTTPS", path: "/readyz" },
        locations,
      };
}

function geoArgs(overrides: Partial<GeoDnsArgs> = {}): GeoDnsArgs {
  return {
    zoneId: ZONE_ID,
    recordName: "app",
    domain: "example.com",
    routing: "geolocation",
    primaryWeight: 50,
    regions: [region("primary", ["NA", "SA"]), region("secondary", ["EU", "AF", "DE"])],
    ...overrides,
  };
}

type Alias = { name: string; zoneId: string; evaluateTargetHealth: boolean };
const aliasOf = (record: RecordedResource) => (record.inputs.aliases as Alias[])[0]!;

describe("GeoDns: location codes", () => {
  const cases: Array<[string, ReturnType<typeof geolocationFor>]> = [
    ["EU", { continent: "EU" }],
    ["NA", { continent: "NA" }],
    ["AF", { continent: "AF" }],
    ["DE", { country: "DE" }],
    ["UA", { country: "UA" }],
    ["US-CA", { country: "US", subdivision: "CA" }],
    ["US-DC", { country: "US", subdivision: "DC" }],
  ];
  for (const [code, expected] of cases) {
    it(`GIVEN ${code} THEN it routes ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(geolocationFor(code), expected);
    });
  }

  const bad: Array<[string, RegExp]> = [
    ["usa", /location "usa": use a continent code/],
    ["U", /location "U"/],
    ["*", /location "\*"/],
    ["", /location ""/],
    ["US-ZZ", /location "US-ZZ": Route53 supports subdivisions only for US states/],
    ["DE-BY", /location "DE-BY": Route53 supports subdivisions only for US states/],
  ];
  for (const [code, expected] of bad) {
    it(`GIVEN "${code}" THEN it is rejected with the code named`, () => {
      assert.throws(() => geolocationFor(code), expected);
    });
  }
});

describe("GeoDns: weights", () => {
  const cases: Array<[number, { primary: number; secondary: number }]> = [
    [70, { primary: 70, secondary: 30 }],
    [50, { primary: 50, secondary: 50 }],
    [100, { primary: 100, secondary: 0 }],
    [0, { primary: 0, secondary: 100 }],
  ];
  for (const [weight, expected] of cases) {
    it(`GIVEN primaryWeight ${weight} THEN the split is ${expected.primary}/${expected.secondary}`, () => {
      assert.deepEqual(weightsFor(weight), expected);
    });
  }
  for (const weight of [-1, 101, 50.5, Number.NaN]) {
    it(`GIVEN primaryWeight ${weight} THEN it is rejected naming primaryWeight`, () => {
      assert.throws(
        () => weightsFor(weight),
        /primaryWeight: .* must be a whole percent from 0 to 100/,
      );
    });
  }
});

describe("GeoDns: argument validation", () => {
  const cases: Array<[string, GeoDnsArgs, RegExp | null]> = [
    ["two regions with distinct locations", geoArgs(), null],
    [
      "the primary alone (a stack of one region)",
      geoArgs({ regions: [region("primary", [])] }),
      null,
    ],
    [
      "the secondary alone",
      geoArgs({ regions: [region("secondary", ["EU"])] }),
      /regions: got roles \[secondary\]; pass the primary alone, or one primary and one secondary/,
    ],
    [
      "two primaries",
      geoArgs({ regions: [region("primary", []), region("primary", [])] }),
      /regions: got roles \[primary, primary\]/,
    ],
    [
      "a location in both regions",
      geoArgs({ regions: [region("primary", ["NA", "EU"]), region("secondary", ["EU"])] }),
      /regions.secondary.locations: "EU" is listed for primary already/,
    ],
    [
      "a bad location code",
      geoArgs({ regions: [region("primary", ["North America"]), region("secondary", [])] }),
      /regions.primary.locations: location "North America"/,
    ],
    [
      "a weight above 100",
      geoArgs({ routing: "weighted", primaryWeight: 120 }),
      /primaryWeight: 120/,
    ],
    [
      "a health check path without a slash",
      geoArgs({
        regions: [
          { ...region("primary", []), healthCheck: { protocol: "HTTPS", path: "readyz" } },
          region("secondary", []),
        ],
      }),
      /regions.primary.healthCheck.path: "readyz" must start with \//,
    ],
    [
      "a record name with a dot",
      geoArgs({ recordName: "app.eu" }),
      /recordName: "app.eu" must be one lowercase DNS label/,
    ],
  ];
  itValidatesEachCase(validateGeoDnsArgs, cases);

  const rejected: Array<[string, GeoDnsArgs]> = [
    [
      "a bad location code",
      geoArgs({ regions: [region("primary", ["XYZ"]), region("secondary", [])] }),
    ],
    ["a bad weight", geoArgs({ routing: "weighted", primaryWeight: -5 })],
  ];
  for (const [label, args] of rejected)
    itThrowsBeforeAnyChild(
      ({ provider }) => new GeoDns("bad", args, { provider }),
      /GeoDns "bad": invalid arguments/,
      label,
    );
});

describe("GeoDns: geolocation routing", () => {
  const build = () => render(({ provider }) => new GeoDns("app-dns", geoArgs(), { provider }));

  it("GIVEN two regions THEN each gets an HTTPS health check on its load balancer's health path", async () => {
    const { value: dns, named } = await build();
    for (const [role, alb] of [
      ["primary", PRIMARY_ALB],
      ["secondary", SECONDARY_ALB],
    ] as const) {
      const check = named(`app-dns-${role}-health`, "aws:route53/healthCheck:HealthCheck");
      assert.equal(check.inputs.type, "HTTPS");
      assert.equal(check.inputs.fqdn, alb);
      assert.equal(check.inputs.port, 443);
      assert.equal(check.inputs.resourcePath, "/readyz");
      assert.equal(check.inputs.failureThreshold, 3);
      assert.equal(check.inputs.requestInterval, 30);
      assert.equal(check.inputs.regions, undefined);
      assert.equal((check.inputs.tags as Record<string, string>).tier, "dns");
      assert.equal(await resolve(dns.healthCheckIds[role]), `app-dns-${role}-health-id`);
    }
  });

  it("GIVEN locations per region THEN every location has an A alias to its region's load balancer with its health check", async () => {
    const { ofType } = await build();
    const geo = ofType("aws:route53/record:Record").filter(
      (r) => r.inputs.geolocationRoutingPolicies && r.inputs.setIdentifier !== "default",
    );
    const primary = { alb: PRIMARY_ALB, check: "app-dns-primary-health-id" };
    const secondary = { alb: SECONDARY_ALB, check: "app-dns-secondary-health-id" };
    const expected: Record<string, { alb: string; check: string; location: object }> = {
      "primary-NA": { ...primary, location: { continent: "NA" } },
      "primary-SA": { ...primary, location: { continent: "SA" } },
      "secondary-EU": { ...secondary, location: { continent: "EU" } },
      "secondary-AF": { ...secondary, location: { continent: "AF" } },
      "secondary-DE": { ...secondary, location: { country: "DE" } },
    };
    assert.deepEqual(geo.map((r) => r.inputs.setIdentifier).sort(), Object.keys(expected).sort());
    for (const record of geo) {
      const want = expected[record.inputs.setIdentifier as string]!;
      assert.equal(record.inputs.name, "app.example.com");
      assert.equal(record.inputs.type, "A");
      assert.equal(record.inputs.zoneId, ZONE_ID);
      assert.deepEqual(record.inputs.geolocationRoutingPolicies, [want.location]);
      assert.equal(record.inputs.healthCheckId, want.check);
      assert.equal(aliasOf(record).name, want.alb);
      assert.equal(aliasOf(record).evaluateTargetHealth, true);
    }
  });

  it("GIVEN geolocation routing THEN the default location aliases a failover pair: the primary first, the secondary when it fails", async () => {
    const { named } = await build();
    const fallback = named("app-dns-default", "aws:route53/record:Record");
    assert.deepEqual(fallback.inputs.geolocationRoutingPolicies, [{ country: "*" }]);
    assert.equal(fallback.inputs.name, "app.example.com");
    assert.deepEqual(aliasOf(fallback), {
      name: "failover.app.example.com",
      zoneId: ZONE_ID,
      evaluateTargetHealth: true,
    });

    const primary = named("app-dns-failover-primary", "aws:route53/record:Record");
    const secondary = named("app-dns-failover-secondary", "aws:route53/record:Record");
    for (const [record, type, alb, check] of [
      [primary, "PRIMARY", PRIMARY_ALB, "app-dns-primary-health-id"],
      [secondary, "SECONDARY", SECONDARY_ALB, "app-dns-secondary-health-id"],
    ] as const) {
      assert.equal(record.inputs.name, "failover.app.example.com");
      assert.deepEqual(record.inputs.failoverRoutingPolicies, [{ type }]);
      assert.equal(record.inputs.healthCheckId, check);
      assert.equal(aliasOf(record).name, alb);
      assert.equal(aliasOf(record).evaluateTargetHealth, true);
    }
  });

  it("GIVEN IPv4 load balancers THEN only A records exist, and dualstack adds an AAAA twin of each", async () => {
    const ipv4 = await build();
    assert.deepEqual(
      new Set(ipv4.ofType("aws:route53/record:Record").map((r) => r.inputs.type)),
      new Set(["A"]),
    );
    const dualstack = await render(
      ({ provider }) => new GeoDns("app-dns", geoArgs({ dualstack: true }), { provider }),
    );
    const records = dualstack.ofType("aws:route53/record:Record");
    assert.equal(
      records.filter((r) => r.inputs.type === "AAAA").length,
      records.filter((r) => r.inputs.type === "A").length,
    );
    assert.equal(aliasOf(dualstack.named("app-dns-default-aaaa")).name, "failover.app.example.com");
  });

  it("GIVEN a record name and domain THEN fqdn is the app's name", async () => {
    const { value: dns } = await build();
    assert.equal(await resolve(dns.fqdn), "app.example.com");
  });
});

describe("GeoDns: weighted routing", () => {
  it("GIVEN primaryWeight 70 THEN two weighted aliases split 70/30, each with its region's health check", async () => {
    const { ofType } = await render(
      ({ provider }) =>
        new GeoDns("app-dns", geoArgs({ routing: "weighted", primaryWeight: 70 }), { provider }),
    );
    const records = ofType("aws:route53/record:Record");
    assert.equal(records.length, 2);
    const byRole = Object.fromEntries(records.map((r) => [r.inputs.setIdentifier as string, r]));
    assert.deepEqual(byRole.primary!.inputs.weightedRoutingPolicies, [{ weight: 70 }]);
    assert.deepEqual(byRole.secondary!.inputs.weightedRoutingPolicies, [{ weight: 30 }]);
    assert.equal(byRole.primary!.inputs.healthCheckId, "app-dns-primary-health-id");
    assert.equal(byRole.secondary!.inputs.healthCheckId, "app-dns-secondary-health-id");
    assert.equal(aliasOf(byRole.secondary!).name, SECONDARY_ALB);
    for (const record of records) {
      assert.equal(record.inputs.name, "app.example.com");
      assert.equal(aliasOf(record).evaluateTargetHealth, true);
      assert.equal(record.inputs.geolocationRoutingPolicies, undefined);
    }
    assert.equal(ofType("aws:route53/healthCheck:HealthCheck").length, 2);
  });

  it("GIVEN HTTP health checks THEN they probe port 80", async () => {
    const http = (role: "primary" | "secondary"): GeoDnsRegion => ({
      ...region(role, []),
      healthCheck: { protocol: "HTTP", path: "/healthz" },
    });
    const { ofType } = await render(
      ({ provider }) =>
        new GeoDns(
          "app-dns",
          geoArgs({ routing: "weighted", regions: [http("primary"), http("secondary")] }),
          { provider },
        ),
    );
    for (const check of ofType("aws:route53/healthCheck:HealthCheck")) {
      assert.deepEqual(
        [check.inputs.type, check.inputs.port, check.inputs.resourcePath],
        ["HTTP", 80, "/healthz"],
      );
    }
  });
});

describe("GeoDns: one region (stages 1 to 5)", () => {
  const oneRegion = (overrides: Partial<GeoDnsArgs> = {}) =>
    render(
      ({ provider }) =>
        new GeoDns("app-dns", geoArgs({ regions: [region("primary", ["NA"])], ...overrides }), {
          provider,
        }),
    );

  it("GIVEN geolocation routing THEN only the default record (the two-region default's name and set identifier) aliases the load balancer, with no health check", async () => {
    const { value: dns, ofType } = await oneRegion();
    const records = ofType("aws:route53/record:Record");
    assert.deepEqual(
      records.map((r) => r.name),
      ["app-dns-default"],
    );
    const record = records[0]!;
    assert.equal(record.inputs.name, "app.example.com");
    assert.equal(record.inputs.type, "A");
    assert.equal(record.inputs.setIdentifier, "default");
    assert.deepEqual(record.inputs.geolocationRoutingPolicies, [{ country: "*" }]);
    assert.equal(record.inputs.healthCheckId, undefined);
    assert.deepEqual(aliasOf(record), {
      name: PRIMARY_ALB,
      zoneId: "Z35SXDOTRQ7X7K",
      evaluateTargetHealth: true,
    });
    assert.equal(ofType("aws:route53/healthCheck:HealthCheck").length, 0);
    assert.deepEqual(Object.keys(dns.healthCheckIds), []);
  });

  it("GIVEN weighted routing THEN only the primary's weighted record (its two-region name and set identifier), with no health check", async () => {
    const { ofType } = await oneRegion({ routing: "weighted", primaryWeight: 70 });
    const records = ofType("aws:route53/record:Record");
    assert.deepEqual(
      records.map((r) => [r.name, r.inputs.setIdentifier, r.inputs.weightedRoutingPolicies]),
      [["app-dns-primary-weighted", "primary", [{ weight: 70 }]]],
    );
    assert.equal(records[0]!.inputs.healthCheckId, undefined);
    assert.equal(aliasOf(records[0]!).name, PRIMARY_ALB);
  });

  for (const routing of ["geolocation", "weighted"] as const) {
    it(`GIVEN ${routing} routing THEN adding the secondary keeps every one-region record under its name, set identifier and kind (an update, never a swap)`, async () => {
      const one = (await oneRegion({ routing })).ofType("aws:route53/record:Record");
      const two = (
        await render(({ provider }) => new GeoDns("app-dns", geoArgs({ routing }), { provider }))
      ).ofType("aws:route53/record:Record");
      for (const record of one) {
        const kept = two.find((r) => r.name === record.name);
        assert.ok(kept, `${record.name} is gone with two regions`);
        for (const input of ["name", "type", "setIdentifier"]) {
          assert.equal(kept.inputs[input], record.inputs[input], `${record.name}.${input}`);
        }
        assert.equal(
          kept.inputs.geolocationRoutingPolicies === undefined,
          record.inputs.geolocationRoutingPolicies === undefined,
        );
      }
    });
  }
});
