/**
 * Places the architecture graph with ELK's layered algorithm (elkjs): regions as boxes, parts
 * inside them, edges routed across boxes. Sizes come from the text each box holds; every
 * coordinate comes from ELK.
 */
import ELK from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import type { Architecture, ArchitectureEdge, ArchitectureGroup, ArchitectureNode } from "./model";

/** Text metrics the renderer uses too (a sans-serif font's average advance at these sizes). */
export const TEXT = {
  titleSize: 14,
  detailSize: 11,
  groupSize: 13,
  labelSize: 11,
  /** Average glyph width as a share of the font size. */
  advance: 0.6,
  lineGap: 5,
  padding: 10,
} as const;

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  readonly groups: readonly (ArchitectureGroup & Box)[];
  readonly nodes: readonly (ArchitectureNode & Box)[];
  readonly edges: readonly (ArchitectureEdge & {
    readonly points: readonly Point[];
    readonly labelBox?: Box;
  })[];
}

/** Bold titles run wider than the average advance. */
const BOLD_WIDENING = 1.12;

export const textWidth = (text: string, size: number) => text.length * size * TEXT.advance;

function nodeSize(node: ArchitectureNode): { width: number; height: number } {
  const width = Math.max(
    textWidth(node.title, TEXT.titleSize) * BOLD_WIDENING,
    ...node.details.map((d) => textWidth(d, TEXT.detailSize)),
  );
  const height =
    TEXT.titleSize + node.details.length * (TEXT.detailSize + TEXT.lineGap) + TEXT.lineGap;
  return {
    width: Math.ceil(width + 2 * TEXT.padding),
    height: Math.ceil(height + 2 * TEXT.padding),
  };
}

const GROUP_PADDING = `[top=${TEXT.groupSize + 24},left=16,bottom=16,right=16]`;

export async function layOut(architecture: Architecture): Promise<Layout> {
  const edges: ElkExtendedEdge[] = architecture.edges.map((edge, index) => ({
    id: `e${index}`,
    sources: [edge.from],
    targets: [edge.to],
    labels: edge.label
      ? [
          {
            text: edge.label,
            width: Math.ceil(textWidth(edge.label, TEXT.labelSize)) + 6,
            height: TEXT.labelSize + 4,
          },
        ]
      : [],
  }));
  const graph: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.spacing.nodeNode": "28",
      "elk.layered.spacing.nodeNodeBetweenLayers": "44",
      "elk.spacing.edgeNode": "14",
      "elk.spacing.edgeEdge": "10",
      "elk.edgeLabels.placement": "CENTER",
      "elk.padding": "[top=16,left=16,bottom=16,right=16]",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.json.shapeCoords": "ROOT",
      "elk.json.edgeCoords": "ROOT",
    },
    children: architecture.groups.map((group) => ({
      id: group.id,
      layoutOptions: { "elk.padding": GROUP_PADDING },
      children: architecture.nodes
        .filter((node) => node.group === group.id)
        .map((node) => ({ id: node.id, ...nodeSize(node) })),
    })),
    edges,
  };

  const placed = await new ELK().layout(graph);
  const boxOf = (id: string): Box => {
    for (const group of placed.children ?? []) {
      if (group.id === id) return box(group);
      const child = group.children?.find((c) => c.id === id);
      if (child) return box(child);
    }
    throw new Error(`ELK returned no position for ${id}`);
  };
  const placedEdges = (placed.edges ?? []) as ElkExtendedEdge[];
  return {
    width: Math.ceil(placed.width ?? 0),
    height: Math.ceil(placed.height ?? 0),
    groups: architecture.groups.map((group) => ({ ...group, ...boxOf(group.id) })),
    nodes: architecture.nodes.map((node) => ({ ...node, ...boxOf(node.id) })),
    edges: architecture.edges.map((edge, index) => {
      const routed = placedEdges.find((e) => e.id === `e${index}`);
      const points = (routed?.sections ?? []).flatMap((section) => [
        section.startPoint,
        ...(section.bendPoints ?? []),
        section.endPoint,
      ]);
      const label = routed?.labels?.[0];
      return {
        ...edge,
        points,
        ...(label && label.x !== undefined ? { labelBox: box(label) } : {}),
      };
    }),
  };
}

function box(shape: { x?: number; y?: number; width?: number; height?: number }): Box {
  return { x: shape.x ?? 0, y: shape.y ?? 0, width: shape.width ?? 0, height: shape.height ?? 0 };
}
