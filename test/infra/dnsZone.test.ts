import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DnsZone, existingZoneProblem, validateDnsZoneArgs } from "../../components/dnsZone";
import { render, resolve } from "../../harness/component";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";

/**
 * The errors a deployment fails with when an Output the engine reads rejects: Pulumi's runtime
 * turns them into unhandled rejections (and a failed update), so they are caught here instead of
 * by the test runner.
 */
async function unhandledRejectionsDuring(action: () => Promise<unknown>): Promise<Error[]> {
  const errors: Error[] = [];
  const runnerListeners = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", (reason) => errors.push(reason as Error));
  try {
    await action().catch((error: Error) => errors.push(error));
    await new Promise((done) => setTimeout(done, 50));
  } finally {
    process.removeAllListeners("unhandledRejection");
    for (const listener of runnerListeners) process.on("unhandledRejection", listener);
  }
  return errors;
}

describe("DnsZone: argument validation", () => {
  const cases: Array<[string, Parameters<typeof validateDnsZoneArgs>[0], RegExp | null]> = [
    ["a domain alone", { domain: "example.com" }, null],
    ["a domain and a zone id", { domain: "example.co.uk", zoneId: "Z0123456789ABC" }, null],
    [
      "an uppercase domain",
      { domain: "Example.com" },
      /domain: "Example.com" must be a lowercase DNS name/,
    ],
    [
      "a trailing dot",
      { domain: "example.com." },
      /domain: "example.com." .*without a trailing dot/,
    ],
    [
      "a zone id that is no zone id",
      { domain: "example.com", zoneId: "hostedzone/Z1" },
      /zoneId: "hostedzone\/Z1" must be a Route53 zone id/,
    ],
  ];
  itValidatesEachCase(validateDnsZoneArgs, cases);

  itThrowsBeforeAnyChild(
    ({ provider }) => new DnsZone("bad", { domain: "EXAMPLE" }, { provider }),
    /DnsZone "bad": invalid arguments/,
  );
});

describe("DnsZone: an existing zone's check", () => {
  const cases: Array<
    [string, { zoneId: string; name: string; privateZone?: boolean }, RegExp | null]
  > = [
    ["the same name", { zoneId: "Z1", name: "example.com" }, null],
    [
      "the same name with a trailing dot and capitals",
      { zoneId: "Z1", name: "Example.COM." },
      null,
    ],
    [
      "another domain",
      { zoneId: "Z1", name: "example.org" },
      /zoneId: zone Z1 serves "example.org", not domain "example.com"/,
    ],
    [
      "a private zone",
      { zoneId: "Z1", name: "example.com", privateZone: true },
      /zoneId: zone Z1 is private/,
    ],
  ];
  for (const [label, zone, expected] of cases) {
    it(`GIVEN a zone with ${label} THEN ${expected ? "the problem names zoneId" : "it fits"}`, () => {
      const problem = existingZoneProblem(zone, "example.com");
      if (expected === null) assert.equal(problem, undefined);
      else assert.match(problem ?? "", expected);
    });
  }
});

describe("DnsZone: resources", () => {
  it("GIVEN no zone id WHEN built THEN it creates a public zone for the domain that is never force-destroyed", async () => {
    const { value: zone, ofType } = await render(
      ({ provider }) => new DnsZone("dns", { domain: "example.com" }, { provider }),
    );
    const zones = ofType("aws:route53/zone:Zone");
    assert.equal(zones.length, 1);
    assert.equal(zones[0]!.inputs.name, "example.com");
    assert.equal(zones[0]!.inputs.forceDestroy, false);
    assert.equal(zones[0]!.inputs.vpcs, undefined);
    assert.deepEqual(zones[0]!.inputs.tags, { tier: "dns" });
    assert.equal(await resolve(zone.zoneId), zones[0]!.state.zoneId);
    assert.equal((await resolve(zone.nameServers)).length, 4);
    assert.equal(zone.domain, "example.com");
  });

  it("GIVEN the id of a zone that serves the domain WHEN built THEN it creates nothing and passes the id through", async () => {
    const { value: zone, resources } = await render(
      ({ provider }) =>
        new DnsZone("dns", { domain: "example.com", zoneId: "Z0123456789ABC" }, { provider }),
    );
    assert.deepEqual(
      resources.filter((r) => r.type.startsWith("aws:")),
      [],
    );
    assert.equal(await resolve(zone.zoneId), "Z0123456789ABC");
    assert.deepEqual(await resolve(zone.nameServers), []);
  });

  it("GIVEN the id of a zone that serves another domain WHEN deployed THEN it fails with an error naming zoneId", async () => {
    const errors = await unhandledRejectionsDuring(() =>
      render(
        ({ provider }) =>
          new DnsZone("dns", { domain: "other.org", zoneId: "Z0123456789ABC" }, { provider }),
      ),
    );
    assert.ok(errors.length > 0, "the deployment should fail");
    for (const error of errors) {
      assert.match(
        error.message,
        /DnsZone "dns": zoneId: zone Z0123456789ABC serves "example.com", not domain "other.org"/,
      );
    }
  });
});
