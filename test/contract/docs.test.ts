/**
 * The prose that describes the contract (docs/CONTRACT.md, README.md) says what the code says:
 * which health path each checker uses, every variable, and the web tier's deadlines.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { HEALTH, HEALTH_CHECKERS, VARIABLES, WEB_SHUTDOWN } from "../../contract";

const ROOT = join(__dirname, "..", "..");
const DOCS = ["docs/CONTRACT.md", "README.md"] as const;
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const HEALTH_PATHS = Object.values(HEALTH).map((endpoint) => endpoint.path);
const pathsIn = (line: string) => HEALTH_PATHS.filter((path) => line.includes(path));

describe("contract: the docs", () => {
  for (const doc of DOCS) {
    it(`GIVEN ${doc} THEN every line that names Route53's health path names liveness (${HEALTH_CHECKERS.dnsFailover.path})`, () => {
      for (const line of read(doc).split("\n")) {
        if (!/route ?53/i.test(line)) continue;
        for (const path of pathsIn(line))
          assert.equal(path, HEALTH_CHECKERS.dnsFailover.path, line);
      }
    });

    it(`GIVEN ${doc} THEN every line that names the load balancer's health path (and not Route53's) names readiness (${HEALTH_CHECKERS.loadBalancer.path})`, () => {
      for (const line of read(doc).split("\n")) {
        if (!/\b(ALB|load balancer)/i.test(line) || /route ?53/i.test(line)) continue;
        for (const path of pathsIn(line))
          assert.equal(path, HEALTH_CHECKERS.loadBalancer.path, line);
      }
    });
  }

  it("GIVEN docs/CONTRACT.md THEN it names every variable of the contract", () => {
    const text = read("docs/CONTRACT.md");
    for (const name of Object.keys(VARIABLES)) assert.ok(text.includes(`\`${name}\``), name);
  });

  it("GIVEN docs/CONTRACT.md's deadline table THEN its web row is the contract's", () => {
    const row = read("docs/CONTRACT.md")
      .split("\n")
      .find((line) => /^\s*\| web\s+\|/.test(line));
    assert.ok(row, "no web row in the deadline table");
    const cells = row.split("|").map((cell) => cell.trim());
    assert.deepEqual(cells.slice(2, 5), [
      `${WEB_SHUTDOWN.appSeconds} s`,
      `${WEB_SHUTDOWN.drainSeconds} s`,
      `${WEB_SHUTDOWN.stopTimeoutSeconds} s`,
    ]);
  });
});
