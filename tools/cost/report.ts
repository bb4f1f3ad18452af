/**
 * How an estimate reads: a text table for the terminal, markdown for the README and pull requests,
 * and the base-versus-head difference the preview workflow posts.
 */
import type { Range } from "./capacity";
import type { Estimate } from "./estimate";

const TOP_CHARGES = 12;

export const usd = (value: number) =>
  `$${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** `$12.00` when both ends agree, else `$12.00 – $40.00`. */
export function formatRange(r: Range): string {
  return r.min === r.max ? usd(r.min) : `${usd(r.min)} – ${usd(r.max)}`;
}

function signed(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  if (rounded === 0) return "$0.00";
  return `${rounded > 0 ? "+" : "−"}${usd(Math.abs(rounded))}`;
}

/** Rows: tiers, then the total; columns: regions, then the total. */
function grid(estimate: Estimate): string[][] {
  const regions = estimate.regions.map((r) => r.region);
  const cell = (tier: string, region: string) =>
    estimate.cells.find((c) => c.tier === tier && c.region === region)?.monthlyUsd;
  const header = ["tier", ...regions, "total"];
  const rows = estimate.tiers.map((t) => [
    t.tier,
    ...regions.map((region) => {
      const value = cell(t.tier, region);
      return value ? formatRange(value) : "–";
    }),
    formatRange(t.monthlyUsd),
  ]);
  const total = [
    "total",
    ...estimate.regions.map((r) => formatRange(r.monthlyUsd)),
    formatRange(estimate.monthlyUsd),
  ];
  return [header, ...rows, total];
}

function pad(rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) =>
    row
      .map((value, i) => (i === 0 ? value.padEnd(widths[i]!) : value.padStart(widths[i]!)))
      .join("  "),
  );
}

/** The terminal report: the tier × region table, the largest charges, what was assumed. */
export function formatText(estimate: Estimate): string {
  const top = [...estimate.lines]
    .sort((a, b) => b.monthlyUsd.max - a.monthlyUsd.max)
    .slice(0, TOP_CHARGES)
    .map((l) => [formatRange(l.monthlyUsd), l.tier, l.region, l.name, l.meter]);
  const freeCount = estimate.free.reduce((sum, f) => sum + f.count, 0);
  const asOf = [...new Set(estimate.lines.flatMap((l) => l.basis.map((b) => b.asOf)))].sort();
  return [
    `Monthly cost of stack ${estimate.stack} (USD, on-demand list prices).`,
    "min: the autoscalers at their minimum, storage at its initial size, a quiet month;",
    "max: the autoscalers at their maximum, storage at its autoscaling ceiling, a busy month.",
    "",
    ...pad(grid(estimate)),
    "",
    `Largest charges (at max):`,
    ...pad(top).map((line) => `  ${line}`),
    "",
    `${freeCount} resources of ${estimate.free.length} types carry no charge of their own (--json: free).`,
    `Prices: ${estimate.assumptions.priceTable} (read ${asOf.join(", ")}); use: tools/cost/usage.ts.`,
    ...unclassifiedWarning(estimate),
  ].join("\n");
}

export function unclassifiedWarning(estimate: Estimate): string[] {
  if (estimate.unclassified.length === 0) return [];
  return [
    "",
    "INCOMPLETE: these resource types are neither priced nor known to be free:",
    ...estimate.unclassified.map((u) => `  ${u.type} (${u.names.join(", ")})`),
    "Fix: classify each in tools/cost/meters.ts (PRICED with a meter, or FREE with the reason).",
  ];
}

/** The tier × region table as markdown. */
export function formatMarkdown(estimate: Estimate): string {
  const [header, ...rows] = grid(estimate);
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [
    line(header!),
    line(header!.map((_, i) => (i === 0 ? "---" : "---:"))),
    ...rows.map((row, i) => line(i === rows.length - 1 ? row.map((c) => `**${c}**`) : row)),
  ].join("\n");
}

/**
 * The change from `base` to `head` per tier, as markdown: what a pull request does to the bill.
 * `base` is undefined when the base branch cannot estimate (before this tool existed).
 */
export function formatDiff(base: Estimate | undefined, head: Estimate): string {
  const tiers = [
    ...new Set([...(base?.tiers ?? []).map((t) => t.tier), ...head.tiers.map((t) => t.tier)]),
  ];
  const find = (estimate: Estimate | undefined, tier: string) =>
    estimate?.tiers.find((t) => t.tier === tier)?.monthlyUsd;
  const row = (name: string, before: Range | undefined, after: Range | undefined) => {
    const b = before ?? { min: 0, max: 0 };
    const a = after ?? { min: 0, max: 0 };
    return `| ${name} | ${before ? formatRange(before) : "–"} | ${after ? formatRange(after) : "–"} | ${signed(a.min - b.min)} | ${signed(a.max - b.max)} |`;
  };
  return [
    `**${head.stack}**: ${base ? formatRange(base.monthlyUsd) : "no estimate on the base branch"} → ${formatRange(head.monthlyUsd)} a month`,
    "",
    "| tier | base | head | change at min | change at max |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...tiers.map((tier) => row(tier, find(base, tier), find(head, tier))),
    row("**total**", base?.monthlyUsd, head.monthlyUsd),
    ...(head.unclassified.length > 0
      ? [
          "",
          `⚠️ Unclassified resource types (not priced): ${head.unclassified.map((u) => `\`${u.type}\``).join(", ")}`,
        ]
      : []),
  ].join("\n");
}
