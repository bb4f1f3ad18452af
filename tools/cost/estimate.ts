/**
 * The monthly cost of a synth, per tier and per region, at minimum and maximum capacity: each
 * resource goes through its meter (meters.ts) and every charge lands on the resource's tier and
 * the region it is billed in.
 */
import { References } from "../references";
import type { SynthResource, SynthResult } from "../synth";
import { assignTiers, GLOBAL_REGION, regionOf, TIERS, type Tier } from "../tiers";
import { add, Capacity, range, ZERO, type Range } from "./capacity";
import { FREE, isComponent, PRICED, type MeterContext } from "./meters";
import {
  GLOBAL_PRICES,
  HOURS_PER_MONTH,
  PRICE_TABLE_FILE,
  pricesFor,
  REGIONAL_PRICES,
} from "./prices";
import { NOT_COUNTED, USAGE, USAGE_NOTES, type UsageAssumptions } from "./usage";

/** Resources outside every tiered component (none today) are reported under this name. */
export const UNASSIGNED_TIER = "unassigned";
export type TierName = Tier | typeof UNASSIGNED_TIER;

export interface LineItem {
  readonly urn: string;
  readonly name: string;
  readonly type: string;
  readonly tier: TierName;
  readonly region: string;
  readonly meter: string;
  readonly quantity: Range;
  readonly unit: string;
  readonly unitUsd: number;
  readonly monthlyUsd: Range;
  /** Where the unit price came from: each entry's date and page. */
  readonly basis: readonly { readonly asOf: string; readonly source: string }[];
}

export interface Estimate {
  readonly stack: string;
  readonly currency: "USD";
  /** The stack's monthly total at minimum and maximum capacity. */
  readonly monthlyUsd: Range;
  readonly tiers: readonly { readonly tier: TierName; readonly monthlyUsd: Range }[];
  readonly regions: readonly { readonly region: string; readonly monthlyUsd: Range }[];
  readonly cells: readonly {
    readonly tier: TierName;
    readonly region: string;
    readonly monthlyUsd: Range;
  }[];
  readonly lines: readonly LineItem[];
  /** Types in the synth that are free, with the reason and how many there are. */
  readonly free: readonly {
    readonly type: string;
    readonly count: number;
    readonly reason: string;
  }[];
  /** Types in the synth that are neither priced nor known to be free: the estimate is incomplete. */
  readonly unclassified: readonly { readonly type: string; readonly names: readonly string[] }[];
  readonly assumptions: {
    readonly hoursPerMonth: number;
    readonly usage: UsageAssumptions;
    /** What each number of `usage` means, by its path. */
    readonly usageNotes: Readonly<Record<string, string>>;
    readonly notCounted: readonly string[];
    readonly priceTable: string;
    readonly pricedRegions: readonly string[];
  };
}

const cents = (usd: number) => Math.round(usd * 100) / 100;
const roundRange = (r: Range) => range(cents(r.min), cents(r.max));

function sumBy<K extends string>(
  lines: readonly LineItem[],
  key: (line: LineItem) => K,
): Map<K, Range> {
  const totals = new Map<K, Range>();
  for (const line of lines)
    totals.set(key(line), add(totals.get(key(line)) ?? ZERO, line.monthlyUsd));
  return totals;
}

/**
 * Estimates the monthly cost of a synthesized stack.
 * @throws when a priced resource is in a region, class or node type the price table lacks.
 */
export function estimate(synth: SynthResult, usage: UsageAssumptions = USAGE): Estimate {
  const resources = synth.resources;
  const tiers = assignTiers(resources);
  const tierOf = (r: SynthResource) => tiers.get(r.urn);
  const references = new References(resources);
  const ctx: MeterContext = {
    usage,
    regional: pricesFor,
    global: GLOBAL_PRICES,
    capacity: new Capacity(resources, references, tierOf),
    references,
    resources,
    tierOf,
  };

  const lines: LineItem[] = [];
  const free = new Map<string, number>();
  const unclassified = new Map<string, string[]>();
  for (const resource of resources) {
    if (isComponent(resource)) continue;
    const meter = PRICED[resource.type];
    if (meter === undefined) {
      if (FREE[resource.type] !== undefined)
        free.set(resource.type, (free.get(resource.type) ?? 0) + 1);
      else
        unclassified.set(resource.type, [
          ...(unclassified.get(resource.type) ?? []),
          resource.name,
        ]);
      continue;
    }
    for (const charge of meter(resource, ctx)) {
      lines.push({
        urn: resource.urn,
        name: resource.name,
        type: resource.type,
        tier: tierOf(resource) ?? UNASSIGNED_TIER,
        region: charge.region ?? regionOf(resource),
        meter: charge.meter,
        quantity: charge.quantity,
        unit: charge.unit,
        unitUsd: charge.unitUsd,
        monthlyUsd: range(
          charge.quantity.min * charge.unitUsd,
          charge.quantity.max * charge.unitUsd,
        ),
        basis: charge.basis.map(({ asOf, source }) => ({ asOf, source })),
      });
    }
  }

  const tierOrder = (t: string) => {
    const index = (TIERS as readonly string[]).indexOf(t);
    return index === -1 ? TIERS.length : index;
  };
  // Regions as the program creates them (the primary first), global services last.
  const firstSeen = [...new Set(resources.map(regionOf))].filter((r) => r !== GLOBAL_REGION);
  const regionOrder = (region: string) => {
    const index = firstSeen.indexOf(region);
    return index === -1 ? firstSeen.length : index;
  };
  const byTier = sumBy(lines, (l) => l.tier);
  const byRegion = sumBy(lines, (l) => l.region);
  const byCell = sumBy(lines, (l) => `${l.tier}\u0000${l.region}`);
  const total = lines.reduce((sum, l) => add(sum, l.monthlyUsd), ZERO);

  return {
    stack: synth.stack,
    currency: "USD",
    monthlyUsd: roundRange(total),
    tiers: [...byTier.entries()]
      .sort((a, b) => tierOrder(a[0]) - tierOrder(b[0]))
      .map(([tier, monthlyUsd]) => ({ tier, monthlyUsd: roundRange(monthlyUsd) })),
    regions: [...byRegion.entries()]
      .sort((a, b) => regionOrder(a[0]) - regionOrder(b[0]))
      .map(([region, monthlyUsd]) => ({ region, monthlyUsd: roundRange(monthlyUsd) })),
    cells: [...byCell.entries()].map(([key, monthlyUsd]) => {
      const [tier, region] = key.split("\u0000") as [TierName, string];
      return { tier, region, monthlyUsd: roundRange(monthlyUsd) };
    }),
    lines: lines.map((l) => ({ ...l, monthlyUsd: roundRange(l.monthlyUsd) })),
    free: [...free.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([type, count]) => ({ type, count, reason: FREE[type]! })),
    unclassified: [...unclassified.entries()].map(([type, names]) => ({ type, names })),
    assumptions: {
      hoursPerMonth: HOURS_PER_MONTH,
      usage,
      usageNotes: USAGE_NOTES,
      notCounted: NOT_COUNTED,
      priceTable: PRICE_TABLE_FILE,
      pricedRegions: Object.keys(REGIONAL_PRICES),
    },
  };
}
