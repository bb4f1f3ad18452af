/**
 * EdgeLogs: the CDN's access logs only with a distribution (a stage below the CDN's has none),
 * the zone's query logs only with a zone of the stack's own, and never neither.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EdgeLogs, type EdgeLogsArgs, validateEdgeLogsArgs } from "../../components/edgeLogs";
import { render } from "../../harness/component";
import { itValidatesEachCase } from "./support/validation";

const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery";
const QUERY_LOG = "aws:route53/queryLog:QueryLog";
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const DISTRIBUTION_ARN = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHEXAMPLE";
const ZONE = { zoneId: "Z0EXAMPLE", domain: "example.com" };

const args = (overrides: Partial<EdgeLogsArgs> = {}): EdgeLogsArgs => ({
  retentionDays: 90,
  kmsKeyArn: KEY_ARN,
  distributionArn: DISTRIBUTION_ARN,
  zone: ZONE,
  ...overrides,
});

describe("EdgeLogs: argument validation", () => {
  const cases: Array<[string, Partial<EdgeLogsArgs>, RegExp | null]> = [
    ["a distribution and a zone", {}, null],
    ["a zone alone", { distributionArn: undefined }, null],
    ["a distribution alone", { zone: undefined }, null],
    [
      "neither",
      { distributionArn: undefined, zone: undefined },
      /distributionArn and zone: both unset, so there is nothing to log/,
    ],
    ["a retention CloudWatch lacks", { retentionDays: 8 }, /retentionDays: 8 is not a period/],
  ];
  itValidatesEachCase((overrides) => validateEdgeLogsArgs(args(overrides)), cases);
});

describe("EdgeLogs: GIVEN a zone and no distribution (below the CDN's stage)", () => {
  it("THEN the zone's query logs exist and no CloudFront log group or delivery does", async () => {
    const { distributionArn: _, ...zoneOnly } = args();
    const r = await render(({ provider }) => new EdgeLogs("edge-logs", zoneOnly, { provider }));
    assert.deepEqual(
      r.ofType(LOG_GROUP).map((group) => group.name),
      ["edge-logs-dns"],
    );
    assert.equal(r.ofType(DELIVERY).length, 0);
    assert.equal(r.ofType(QUERY_LOG).length, 1);
  });

  it("THEN with the distribution too, both log groups and the delivery exist", async () => {
    const r = await render(({ provider }) => new EdgeLogs("edge-logs", args(), { provider }));
    assert.deepEqual(
      r
        .ofType(LOG_GROUP)
        .map((group) => group.name)
        .sort(),
      ["edge-logs-cdn", "edge-logs-dns"],
    );
    assert.equal(r.ofType(DELIVERY).length, 1);
  });
});
