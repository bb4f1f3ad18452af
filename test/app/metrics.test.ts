// Unit tests of the CloudWatch embedded-metric-format writer.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_LATENCY_SAMPLES, MAX_VALUES_PER_LINE, Metrics } from "../../app/src/metrics";

function recorder(service: "web" | "worker") {
  const lines: string[] = [];
  const metrics = new Metrics({
    namespace: "ZeroToMillions",
    service,
    write: (line) => lines.push(line),
    now: () => 1_700_000_000_000,
  });
  return { metrics, lines };
}

describe("EMF metrics", () => {
  it("GIVEN counts and latencies WHEN flushed THEN one JSON line in EMF with the Service dimension", () => {
    const { metrics, lines } = recorder("web");
    metrics.count("CacheHit");
    metrics.count("CacheHit");
    metrics.count("CacheMiss");
    metrics.count("Signups");
    metrics.latency(12.345);
    metrics.latency(3);
    metrics.sawUser("1");
    metrics.sawUser("1");
    metrics.sawUser("2");
    metrics.flush();

    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes("\n"));
    assert.deepEqual(JSON.parse(lines[0]!), {
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: "ZeroToMillions",
            Dimensions: [["Service"]],
            Metrics: [
              { Name: "CacheHit", Unit: "Count" },
              { Name: "CacheMiss", Unit: "Count" },
              { Name: "Signups", Unit: "Count" },
              { Name: "ActiveUsers", Unit: "Count" },
              { Name: "RequestLatency", Unit: "Milliseconds" },
            ],
          },
        ],
      },
      Service: "web",
      CacheHit: 2,
      CacheMiss: 1,
      Signups: 1,
      ActiveUsers: 2,
      RequestLatency: [12.35, 3],
    });
  });

  it("GIVEN a flush WHEN flushed again with nothing new THEN the web tier reports ActiveUsers 0 and counters reset", () => {
    const { metrics, lines } = recorder("web");
    metrics.count("Signups");
    metrics.flush();
    metrics.flush();
    const second = JSON.parse(lines[1]!);
    assert.equal(second.ActiveUsers, 0);
    assert.equal(second.Signups, undefined);
  });

  it("GIVEN an idle worker WHEN flushed THEN nothing is written", () => {
    const { metrics, lines } = recorder("worker");
    metrics.flush();
    assert.equal(lines.length, 0);
  });

  it("GIVEN more latency values than EMF allows per array THEN they are split over lines, counters once", () => {
    const { metrics, lines } = recorder("worker");
    metrics.count("JobsProcessed", 3);
    for (let i = 0; i < MAX_VALUES_PER_LINE * 2 + 1; i += 1) metrics.latency(i);
    metrics.flush();
    const documents = lines.map((line) => JSON.parse(line));
    assert.deepEqual(
      documents.map((document) => document.RequestLatency.length),
      [MAX_VALUES_PER_LINE, MAX_VALUES_PER_LINE, 1],
    );
    assert.deepEqual(
      documents.map((document) => document.JobsProcessed),
      [3, undefined, undefined],
    );
    for (const document of documents) {
      const declared = document._aws.CloudWatchMetrics[0].Metrics.map(
        (m: { Name: string }) => m.Name,
      );
      for (const name of declared) assert.ok(name in document, `${name} has a value`);
    }
  });

  it("GIVEN start() WHEN stop() THEN the remainder is flushed", () => {
    const { metrics, lines } = recorder("worker");
    metrics.start();
    metrics.count("JobsFailed");
    metrics.stop();
    assert.equal(JSON.parse(lines[0]!).JobsFailed, 1);
  });
  it("GIVEN far more requests than the sample keeps THEN the latency lines stay bounded and the sample stays representative", () => {
    const lines: string[] = [];
    let seed = 42;
    // A small deterministic generator, so the sample (and this test) is the same every run.
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const metrics = new Metrics({
      namespace: "Test",
      service: "web",
      write: (line) => lines.push(line),
      random,
    });
    const requests = MAX_LATENCY_SAMPLES * 50;
    // Latencies 0..99 ms, uniformly: the sample's median should sit near 50.
    for (let i = 0; i < requests; i += 1) metrics.latency(i % 100);
    const documents = metrics.flush();
    const sample = documents.flatMap(
      (document) => (document.RequestLatency as number[] | undefined) ?? [],
    );
    assert.equal(sample.length, MAX_LATENCY_SAMPLES);
    assert.equal(documents.length, MAX_LATENCY_SAMPLES / MAX_VALUES_PER_LINE);
    const median = [...sample].sort((a, b) => a - b)[sample.length / 2]!;
    assert.ok(median >= 40 && median <= 60, `median of the sample is ${median}`);
    assert.equal(metrics.flush().length, 1, "the next interval starts empty (only ActiveUsers)");
  });
});
