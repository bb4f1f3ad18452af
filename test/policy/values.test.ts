/**
 * The pack's pure helpers: reading values that preview may not know, policy documents, links
 * between resources, and the small classifiers the rules share.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as policySdk from "@pulumi/policy";
import type { PolicyResource } from "@pulumi/policy";
import { environmentOf } from "../../policy/environment";
import { containersWithoutLogging } from "../../policy/rules/compute";
import { starOnStarStatements } from "../../policy/rules/identity";
import { isWebPortOnly } from "../../policy/rules/network";
import { deadLetterTargetOf } from "../../policy/rules/queue";
import { MODERN_TLS_POLICY, redirectsToHttps } from "../../policy/rules/web";
import {
  UNKNOWN,
  isWorldCidr,
  policyStatements,
  read,
  readPlain,
  readSetting,
  refersTo,
  sameTarget,
} from "../../policy/values";
import { UNKNOWN_IN_PREVIEW, enforcementLevelOf } from "./runner";

const { unknownCheckingProxy } = policySdk as unknown as {
  unknownCheckingProxy: <T>(value: T) => T;
};

describe("values: reading what preview may not know", () => {
  const props = unknownCheckingProxy({
    known: 1,
    unknown: UNKNOWN_IN_PREVIEW,
    nested: { list: ["a", UNKNOWN_IN_PREVIEW] },
  });

  it("GIVEN a known value THEN read returns it", () =>
    assert.equal(
      read(() => props.known),
      1,
    ));
  it("GIVEN an unknown value THEN read returns UNKNOWN instead of throwing", () =>
    assert.equal(
      read(() => props.unknown),
      UNKNOWN,
    ));
  it("GIVEN an object with an unknown deep inside THEN readPlain returns UNKNOWN", () =>
    assert.equal(
      readPlain(() => props.nested),
      UNKNOWN,
    ));
  it("GIVEN a known object THEN readPlain returns a plain copy", () =>
    assert.deepEqual(
      readPlain(() => unknownCheckingProxy({ a: [1, { b: 2 }] })),
      { a: [1, { b: 2 }] },
    ));
  it("GIVEN an error that is not about unknowns THEN read rethrows it", () =>
    assert.throws(() => read(() => JSON.parse("{")), SyntaxError));
});

describe("values: IAM policy documents", () => {
  const cases: Array<[string, unknown, ReturnType<typeof policyStatements>]> = [
    [
      "JSON text with one statement object",
      JSON.stringify({
        Statement: { Effect: "Allow", Action: "s3:GetObject", Resource: "*", Principal: "*" },
      }),
      [
        {
          effect: "Allow",
          actions: ["s3:GetObject"],
          resources: ["*"],
          principals: ["*"],
          conditionKeys: [],
        },
      ],
    ],
    [
      "an object with principals by kind and a condition",
      {
        Statement: [
          {
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: ["arn:aws:s3:::b/*"],
            Principal: { AWS: ["*", "arn:aws:iam::1:root"], Service: "cloudfront.amazonaws.com" },
            Condition: { StringEquals: { "AWS:SourceArn": "arn" } },
          },
        ],
      },
      [
        {
          effect: "Allow",
          actions: ["s3:GetObject"],
          resources: ["arn:aws:s3:::b/*"],
          principals: ["*", "AWS:arn:aws:iam::1:root", "Service:cloudfront.amazonaws.com"],
          conditionKeys: ["aws:sourcearn"],
        },
      ],
    ],
    ["text that is not JSON", "{", undefined],
  ];
  for (const [label, document, expected] of cases) {
    it(`GIVEN ${label} THEN its statements are normalized`, () =>
      assert.deepEqual(policyStatements(document), expected));
  }

  const starCases: Array<[string, Record<string, unknown>, number[]]> = [
    ["* on *", { Effect: "Allow", Action: "*", Resource: "*" }, [0]],
    [
      "*:* among other actions on *",
      { Effect: "Allow", Action: ["s3:GetObject", "*:*"], Resource: ["*"] },
      [0],
    ],
    ["* on one ARN", { Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::b" }, []],
    ["a deny of * on *", { Effect: "Deny", Action: "*", Resource: "*" }, []],
    ["s3:* on *", { Effect: "Allow", Action: "s3:*", Resource: "*" }, []],
  ];
  for (const [label, statement, expected] of starCases) {
    it(`GIVEN ${label} THEN star-on-star statements are ${JSON.stringify(expected)}`, () =>
      assert.deepEqual(starOnStarStatements({ Statement: [statement] }), expected));
  }
});

describe("values: classifiers", () => {
  const cidrs: Array<[unknown, boolean]> = [
    ["0.0.0.0/0", true],
    ["::/0", true],
    ["10.0.0.0/8", false],
    ["0.0.0.0/1", false],
    [undefined, false],
  ];
  for (const [cidr, world] of cidrs) {
    it(`GIVEN ${String(cidr)} THEN isWorldCidr is ${world}`, () =>
      assert.equal(isWorldCidr(cidr), world));
  }

  const ports: Array<[string, string, number | undefined, number | undefined, boolean]> = [
    ["tcp 443", "tcp", 443, 443, true],
    ["protocol 6 on 80", "6", 80, 80, true],
    ["tcp 80-443", "tcp", 80, 443, false],
    ["udp 443", "udp", 443, 443, false],
    ["every protocol", "-1", undefined, undefined, false],
  ];
  for (const [label, protocol, fromPort, toPort, expected] of ports) {
    it(`GIVEN ${label} THEN isWebPortOnly is ${expected}`, () =>
      assert.equal(isWebPortOnly({ protocol, fromPort, toPort }), expected));
  }

  const policies: Array<[string, boolean]> = [
    ["ELBSecurityPolicy-TLS13-1-2-2021-06", true],
    ["ELBSecurityPolicy-TLS13-1-3-2021-06", true],
    ["ELBSecurityPolicy-TLS-1-2-Ext-2018-06", true],
    ["ELBSecurityPolicy-FS-1-2-Res-2020-10", true],
    ["ELBSecurityPolicy-2016-08", false],
    ["ELBSecurityPolicy-TLS-1-1-2017-01", false],
    ["ELBSecurityPolicy-TLS13-1-0-2021-06", false],
  ];
  for (const [policy, modern] of policies) {
    it(`GIVEN ${policy} THEN it is ${modern ? "" : "not "}TLS 1.2+`, () =>
      assert.equal(MODERN_TLS_POLICY.test(policy), modern));
  }

  it("GIVEN one redirect to HTTPS THEN the listener redirects", () =>
    assert.ok(redirectsToHttps([{ type: "redirect", redirect: { protocol: "HTTPS" } }])));
  it("GIVEN a redirect to HTTP or a forward THEN it does not", () => {
    assert.ok(!redirectsToHttps([{ type: "redirect", redirect: { protocol: "HTTP" } }]));
    assert.ok(!redirectsToHttps([{ type: "forward" }]));
  });

  it("GIVEN containers with and without logging THEN the silent ones are named (or numbered)", () => {
    assert.deepEqual(
      containersWithoutLogging(
        JSON.stringify([
          { name: "web", logConfiguration: { logDriver: "awslogs" } },
          { name: "sidecar" },
          {},
        ]),
      ),
      ["sidecar", "#2"],
    );
    assert.equal(containersWithoutLogging("{"), undefined);
  });

  it("GIVEN a redrive policy as text or object THEN its dead-letter target is read", () => {
    assert.deepEqual(deadLetterTargetOf('{"deadLetterTargetArn":"arn:dlq"}'), ["arn:dlq"]);
    assert.deepEqual(deadLetterTargetOf({ deadLetterTargetArn: "arn:dlq" }), ["arn:dlq"]);
    assert.deepEqual(deadLetterTargetOf(undefined), []);
  });
});

describe("values: links between resources", () => {
  const stackResource = (
    urn: string,
    props: Record<string, unknown>,
    dependsOn: Record<string, PolicyResource[]> = {},
  ) =>
    ({
      urn,
      props: unknownCheckingProxy(props),
      propertyDependencies: dependsOn,
    }) as unknown as PolicyResource;
  const bucket = stackResource("urn:bucket", { id: "assets-1", bucket: "assets-1" });
  const other = stackResource("urn:other", {});
  const cases: Array<[string, PolicyResource, PolicyResource, string]> = [
    ["the bucket's id", stackResource("urn:block", { bucket: "assets-1" }), bucket, "yes"],
    ["another bucket's id", stackResource("urn:block", { bucket: "logs-1" }), bucket, "no"],
    [
      "an unknown value set from nothing (computed by the provider)",
      stackResource("urn:block", { bucket: UNKNOWN_IN_PREVIEW }),
      bucket,
      "no",
    ],
    [
      "an unknown value depending on the bucket",
      stackResource("urn:block", { bucket: UNKNOWN_IN_PREVIEW }, { bucket: [bucket] }),
      bucket,
      "yes",
    ],
    [
      "an unknown value depending on another resource",
      stackResource("urn:block", { bucket: UNKNOWN_IN_PREVIEW }, { bucket: [other] }),
      bucket,
      "no",
    ],
    [
      "a known value against a bucket whose id is unknown",
      stackResource("urn:block", { bucket: "assets-1" }),
      stackResource("urn:bucket", { id: UNKNOWN_IN_PREVIEW, bucket: UNKNOWN_IN_PREVIEW }),
      "unknown",
    ],
  ];
  for (const [label, from, to, expected] of cases) {
    it(`GIVEN ${label} THEN refersTo is "${expected}"`, () =>
      assert.equal(refersTo(from, "bucket", to, ["id", "bucket"]), expected));
  }
});

describe("values: settings and shared targets in stack checks", () => {
  const stackResource = (
    props: Record<string, unknown>,
    dependsOn: Record<string, string[]> = {},
  ) =>
    ({
      urn: "urn:x",
      props: unknownCheckingProxy(props),
      propertyDependencies: Object.fromEntries(
        Object.entries(dependsOn).map(([key, urns]) => [key, urns.map((urn) => ({ urn }))]),
      ),
    }) as unknown as PolicyResource;

  const settings: Array<[string, PolicyResource, unknown]> = [
    ["a known value", stackResource({ p: "v" }), "v"],
    ["an unset value", stackResource({}), undefined],
    [
      "an unknown value set from another resource",
      stackResource({ p: UNKNOWN_IN_PREVIEW }, { p: ["urn:y"] }),
      UNKNOWN,
    ],
    [
      "an unknown value set from nothing (computed)",
      stackResource({ p: UNKNOWN_IN_PREVIEW }),
      undefined,
    ],
  ];
  for (const [label, resource, expected] of settings) {
    it(`GIVEN ${label} THEN readSetting gives ${String(expected)}`, () =>
      assert.equal(readSetting(resource, "p"), expected));
  }

  const groups = (value: unknown) => (Array.isArray(value) ? value : []);
  const targets: Array<[string, PolicyResource, PolicyResource, string]> = [
    [
      "the same known id",
      stackResource({ p: "sg-1" }),
      stackResource({ q: ["sg-0", "sg-1"] }),
      "yes",
    ],
    ["different known ids", stackResource({ p: "sg-1" }), stackResource({ q: ["sg-2"] }), "no"],
    [
      "unknown values from the same resource",
      stackResource({ p: UNKNOWN_IN_PREVIEW }, { p: ["urn:sg"] }),
      stackResource({ q: UNKNOWN_IN_PREVIEW }, { q: ["urn:sg"] }),
      "yes",
    ],
    [
      "unknown values from different resources",
      stackResource({ p: UNKNOWN_IN_PREVIEW }, { p: ["urn:sg-a"] }),
      stackResource({ q: UNKNOWN_IN_PREVIEW }, { q: ["urn:sg-b"] }),
      "no",
    ],
    [
      "an unknown value against a written-out id",
      stackResource({ p: UNKNOWN_IN_PREVIEW }, { p: ["urn:sg"] }),
      stackResource({ q: ["sg-1"] }),
      "unknown",
    ],
    ["a value against an unset list", stackResource({ p: "sg-1" }), stackResource({}), "no"],
  ];
  for (const [label, a, b, expected] of targets) {
    it(`GIVEN ${label} THEN sameTarget is "${expected}"`, () =>
      assert.equal(
        sameTarget({ resource: a, property: "p" }, { resource: b, property: "q", values: groups }),
        expected,
      ));
  }
});

describe("environment and enforcement config", () => {
  const config = (value: unknown) => ({
    getConfig: <T extends object>() => (value === undefined ? {} : { environment: value }) as T,
  });
  it("GIVEN no config THEN the environment is prod (fail closed)", () =>
    assert.equal(environmentOf(config(undefined)), "prod"));
  it("GIVEN dev THEN it is dev", () => assert.equal(environmentOf(config("dev")), "dev"));
  it("GIVEN a misspelt environment THEN it throws naming the choices", () =>
    assert.throws(
      () => environmentOf(config("production")),
      /environment "production" must be one of dev, localstack, prod/,
    ));

  const levels: Array<[string, Parameters<typeof enforcementLevelOf>[2], string]> = [
    ["no config", {}, "mandatory"],
    ["all advisory", { all: "advisory" }, "advisory"],
    [
      "the rule's own entry over all",
      { all: "advisory", "rule-x": { enforcementLevel: "disabled" } },
      "disabled",
    ],
    ["remediate", { "rule-x": "remediate" }, "mandatory"],
  ];
  for (const [label, packConfig, expected] of levels) {
    it(`GIVEN ${label} THEN a mandatory rule runs as ${expected}`, () =>
      assert.equal(enforcementLevelOf("rule-x", "mandatory", packConfig), expected));
  }
});
