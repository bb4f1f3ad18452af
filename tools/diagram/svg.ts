/**
 * Draws a laid-out architecture as a standalone SVG: region boxes, one box per part coloured by
 * tier, arrows in the direction requests flow, dashed arrows for replication between regions.
 */
import type { Tier } from "../tiers";
import { TEXT, type Layout, type Point } from "./layout";

/** Fill and stroke per tier (colour-blind-safe hues, light fills so the text stays readable). */
const TIER_COLOURS: Readonly<Record<Tier, { fill: string; stroke: string }>> = {
  dns: { fill: "#ede7f6", stroke: "#5e35b1" },
  cdn: { fill: "#e0f2f1", stroke: "#00796b" },
  web: { fill: "#e3f2fd", stroke: "#1565c0" },
  queue: { fill: "#fff3e0", stroke: "#e65100" },
  cache: { fill: "#fce4ec", stroke: "#ad1457" },
  database: { fill: "#e8f5e9", stroke: "#2e7d32" },
  network: { fill: "#f5f5f5", stroke: "#616161" },
  observability: { fill: "#fffde7", stroke: "#9e7c00" },
};

const HEADER = 36;
const FONT = "-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

const fixed = (n: number) => Number(n.toFixed(1));
const path = (points: readonly Point[]) =>
  points.map((p, i) => `${i === 0 ? "M" : "L"}${fixed(p.x)},${fixed(p.y + HEADER)}`).join(" ");

export function renderSvg(layout: Layout, title: string): string {
  const width = Math.max(layout.width, title.length * 9);
  const height = layout.height + HEADER;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<title>${escapeXml(title)}</title>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#37474f"/></marker></defs>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="15" font-weight="600" fill="#263238">${escapeXml(title)}</text>`,
  ];
  for (const group of layout.groups) {
    out.push(
      `<g class="group" data-group="${escapeXml(group.id)}">`,
      `<rect x="${fixed(group.x)}" y="${fixed(group.y + HEADER)}" width="${fixed(group.width)}" height="${fixed(group.height)}" rx="10" fill="#fafbfc" stroke="#90a4ae" stroke-dasharray="6 4"/>`,
      `<text x="${fixed(group.x + 14)}" y="${fixed(group.y + HEADER + TEXT.groupSize + 10)}" font-size="${TEXT.groupSize}" font-weight="600" fill="#455a64">${escapeXml(group.label)}</text>`,
      `</g>`,
    );
  }
  for (const edge of layout.edges) {
    if (edge.points.length < 2) continue;
    const dashed =
      edge.label !== undefined && edge.label !== "image" ? ` stroke-dasharray="5 4"` : "";
    out.push(
      `<path class="edge" data-from="${escapeXml(edge.from)}" data-to="${escapeXml(edge.to)}" d="${path(edge.points)}" fill="none" stroke="#37474f" stroke-width="1.4"${dashed} marker-end="url(#arrow)"/>`,
    );
    if (edge.label && edge.labelBox) {
      const b = edge.labelBox;
      out.push(
        `<rect x="${fixed(b.x)}" y="${fixed(b.y + HEADER)}" width="${fixed(b.width)}" height="${fixed(b.height)}" fill="#ffffff" opacity="0.9"/>`,
        `<text x="${fixed(b.x + b.width / 2)}" y="${fixed(b.y + HEADER + b.height - 4)}" font-size="${TEXT.labelSize}" text-anchor="middle" fill="#37474f" font-style="italic">${escapeXml(edge.label)}</text>`,
      );
    }
  }
  for (const node of layout.nodes) {
    const colour = TIER_COLOURS[node.tier];
    const x = fixed(node.x);
    const y = fixed(node.y + HEADER);
    out.push(
      `<g class="node" data-node="${escapeXml(node.id)}" data-tier="${node.tier}" data-kind="${node.kind}">`,
      `<rect x="${x}" y="${y}" width="${fixed(node.width)}" height="${fixed(node.height)}" rx="6" fill="${colour.fill}" stroke="${colour.stroke}" stroke-width="1.5"/>`,
      `<text x="${fixed(node.x + node.width / 2)}" y="${fixed(y + TEXT.padding + TEXT.titleSize - 2)}" font-size="${TEXT.titleSize}" font-weight="600" text-anchor="middle" fill="#212121">${escapeXml(node.title)}</text>`,
      ...node.details.map(
        (detail, i) =>
          `<text x="${fixed(node.x + node.width / 2)}" y="${fixed(y + TEXT.padding + TEXT.titleSize + (i + 1) * (TEXT.detailSize + TEXT.lineGap))}" font-size="${TEXT.detailSize}" text-anchor="middle" fill="#424242">${escapeXml(detail)}</text>`,
      ),
      `</g>`,
    );
  }
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}
