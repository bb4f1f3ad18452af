/**
 * `npm run diagram`: the picture holds every tier the synth holds, in the regions that hold it,
 * with the edges of the request path between the parts that exist, and the SVG is well-formed;
 * for dev, prod and dev at each other stage of the path (stacks/stages.ts).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { readFileSync } from "node:fs";
import { XMLValidator } from "fast-xml-parser";
import { drawArchitecture } from "../../tools/diagram/draw";
import { layOut, type Layout } from "../../tools/diagram/layout";
import { architectureOf, type Architecture } from "../../tools/diagram/model";
import { renderSvg } from "../../tools/diagram/svg";
import { DIAGRAM, DIAGRAM_STACK } from "../../tools/readme";
import { assignTiers } from "../../tools/tiers";
import { synth, type Synth } from "../../harness";
import { ENVIRONMENT_DEFAULTS } from "../../stacks/config";
import { STAGES } from "../../stacks/stages";

const VARIANTS = [
  { label: "dev", stack: "dev", overrides: {} },
  { label: "prod", stack: "prod", overrides: {} },
  // Every stage but the one dev stands at (drawn above), sharding's included.
  ...STAGES.filter(({ stage }) => stage !== ENVIRONMENT_DEFAULTS.dev.stage).map(({ stage }) => ({
    label: `dev at stage ${stage}`,
    stack: "dev",
    overrides: { stage },
  })),
] as const;
const loaded: Record<
  string,
  { synth: Synth; architecture: Architecture; layout: Layout; svg: string }
> = {};

before(async () => {
  const synths = await Promise.all(VARIANTS.map(({ stack, overrides }) => synth(stack, overrides)));
  for (const [index, { label, stack }] of VARIANTS.entries()) {
    const s = synths[index]!;
    assert.equal(s.error, undefined, `synth of ${label} failed`);
    const architecture = architectureOf({
      project: s.project,
      stack,
      resources: [...s.resources],
      outputs: s.outputs,
    });
    const layout = await layOut(architecture);
    loaded[label] = { synth: s, architecture, layout, svg: renderSvg(layout, `stack ${stack}`) };
  }
});

/** The tiers of the synth's AWS resources (what a tier tag or a tiered component gives them). */
function tiersIn(s: Synth): Set<string> {
  const tiers = assignTiers(s.resources);
  return new Set(
    s.resources
      .filter((r) => r.type.startsWith("aws:"))
      .map((r) => tiers.get(r.urn))
      .filter((t): t is NonNullable<typeof t> => t !== undefined),
  );
}

for (const { label: stack } of VARIANTS) {
  describe(`GIVEN the ${stack} synth`, () => {
    it("THEN every tier in the synth is drawn, in every region that holds it", () => {
      const { synth: s, svg } = loaded[stack]!;
      const tiers = assignTiers(s.resources);
      const drawn = new Set([...svg.matchAll(/data-tier="([a-z]+)"/g)].map((m) => m[1]));
      for (const tier of tiersIn(s)) {
        assert.ok(drawn.has(tier), `tier ${tier} is in the ${stack} synth but not in the diagram`);
      }
      const regional = new Set(["network", "web", "database", "cache", "queue", "observability"]);
      for (const resource of s.resources) {
        const tier = tiers.get(resource.urn);
        if (!resource.type.startsWith("aws:") || !regional.has(tier ?? "")) continue;
        assert.match(
          svg,
          new RegExp(`data-node="${resource.region}/[a-z]+" data-tier="${tier}"`),
          `${resource.name}: no ${tier} box in ${resource.region}`,
        );
      }
    });

    it("THEN the request path is drawn between the parts that exist: DNS or users → ALB → web → cache, database, queue → workers; CDN → buckets", () => {
      const { architecture } = loaded[stack]!;
      const exists = (part: string) => architecture.nodes.some((n) => n.id.endsWith(`/${part}`));
      const has = (from: string, to: string) =>
        architecture.edges.some((e) => e.from.endsWith(`/${from}`) && e.to.endsWith(`/${to}`));
      for (const [from, to] of [
        ["alb", "web"],
        ["web", "cache"],
        ["web", "database"],
        ["web", "queue"],
        ["queue", "workers"],
        ["cdn", "buckets"],
      ]) {
        if (!exists(from!) || !exists(to!)) continue;
        assert.ok(has(from!, to!), `no edge ${from} → ${to} in ${stack}`);
      }
      if (!stack.startsWith("dev at stage")) {
        for (const part of [
          "alb",
          "web",
          "cache",
          "database",
          "queue",
          "workers",
          "cdn",
          "buckets",
        ]) {
          assert.ok(exists(part), `no ${part} in ${stack}`);
        }
      }
      if (stack === "prod") assert.ok(has("dns", "alb"), "no edge dns → alb in prod");
      const replication = architecture.edges.filter((e) => e.label === "replication");
      assert.equal(
        replication.some((e) => e.from.endsWith("/database") && e.to.endsWith("/database")),
        architecture.nodes.filter((n) => n.id.endsWith("/database")).length > 1,
        "a cross-region database replication edge exactly when two regions hold a database",
      );
    });

    it("THEN the users' files bucket is drawn at every stage, with or without the CDN, and the web tier writes to it", () => {
      const { architecture } = loaded[stack]!;
      const buckets = architecture.nodes.filter((n) => n.kind === "buckets");
      assert.ok(buckets.length > 0, `no S3 box in ${stack}`);
      // Every region's web tier writes to the bucket of the region holding the writer.
      for (const web of architecture.nodes.filter((n) => n.kind === "web")) {
        assert.ok(
          architecture.edges.some(
            (e) => e.from === web.id && buckets.some((box) => box.id === e.to),
          ),
          `no edge ${web.id} → S3 in ${stack}`,
        );
      }
    });

    it("THEN the SVG is well-formed XML with a box per part and a path per routed edge", () => {
      const { svg, layout } = loaded[stack]!;
      assert.equal(XMLValidator.validate(svg), true);
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.equal([...svg.matchAll(/class="node"/g)].length, layout.nodes.length);
      assert.equal(
        [...svg.matchAll(/class="edge"/g)].length,
        layout.edges.filter((e) => e.points.length >= 2).length,
      );
      assert.ok(
        layout.edges.every((e) => e.points.length >= 2),
        "ELK left an edge unrouted",
      );
    });

    if (stack === DIAGRAM_STACK) {
      it("THEN the README's picture is this synth's (npm run docs:cost)", async () => {
        const { synth: s } = loaded[stack]!;
        const fresh = await drawArchitecture({
          project: s.project,
          stack,
          resources: [...s.resources],
          outputs: s.outputs,
        });
        assert.equal(
          readFileSync(DIAGRAM, "utf8"),
          fresh,
          "docs/architecture-prod.svg is stale: run `npm run docs:cost`",
        );
      });
    }

    it("THEN no two boxes overlap", () => {
      const { layout } = loaded[stack]!;
      for (const a of layout.nodes) {
        for (const b of layout.nodes) {
          if (a === b) continue;
          const apart =
            a.x + a.width <= b.x ||
            b.x + b.width <= a.x ||
            a.y + a.height <= b.y ||
            b.y + b.height <= a.y;
          assert.ok(apart, `${a.id} overlaps ${b.id}`);
        }
      }
    });
  });
}

describe("GIVEN dev at stage 9 (sharding) and at stage 8", () => {
  const databaseBoxes = (label: string) =>
    loaded[label]!.architecture.nodes.filter((node) => node.kind === "database");

  it("THEN each region's database box counts the physical shards: two at stage 9, none said at stage 8", () => {
    const sharded = databaseBoxes("dev at stage 9");
    assert.equal(sharded.length, 2, "a database box per region");
    for (const box of sharded) assert.match(box.details[0]!, /^2 shards × \(/, box.id);
    assert.match(
      sharded.find((box) => box.details[0]!.includes("writer"))!.details[0]!,
      /^2 shards × \(writer \+ 1 replica\)$/,
    );
    for (const box of databaseBoxes("dev")) assert.doesNotMatch(box.details[0]!, /shards/, box.id);
  });
});
