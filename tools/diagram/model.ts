/**
 * The architecture as a graph, read from a synth: one node per tier part per region (the global
 * services once), grouped by region, with an edge wherever one part's resources name another's in
 * their inputs (tools/references.ts). Nothing here is fixed: a tier the synth lacks has no node,
 * and a new reference between tiers becomes an edge.
 */
import { Capacity, type Range } from "../cost/capacity";
import { References } from "../references";
import type { SynthResource, SynthResult } from "../synth";
import { assignTiers, GLOBAL_REGION, type Tier } from "../tiers";

/** The parts a tier is drawn as (the web tier: load balancer and tasks; the queue tier: queue and workers). */
export const PART_KINDS = [
  "dns",
  "cdn",
  "alb",
  "web",
  "queue",
  "workers",
  "cache",
  "database",
  "buckets",
  "network",
  "observability",
] as const;
export type PartKind = (typeof PART_KINDS)[number];

/** The tier each part belongs to. */
export const PART_TIER: Readonly<Record<PartKind, Tier>> = {
  dns: "dns",
  cdn: "cdn",
  alb: "web",
  web: "web",
  queue: "queue",
  workers: "queue",
  cache: "cache",
  database: "database",
  buckets: "cdn",
  network: "network",
  observability: "observability",
};

const REGION_COMPOSITION = "zero-to-millions:stacks:Region";

/** Parts served from everywhere: drawn once, outside the regions. */
const GLOBAL_PARTS: ReadonlySet<PartKind> = new Set(["dns", "cdn"]);

/** Where requests flow, first to last (edges from a task definition only point downstream). */
const FLOW_RANK: Readonly<Record<PartKind, number>> = {
  dns: 0,
  cdn: 1,
  alb: 1,
  web: 2,
  queue: 3,
  workers: 4,
  cache: 5,
  database: 5,
  buckets: 5,
  network: 6,
  observability: 6,
};

type Direction = "forward" | "reverse";

/**
 * The references that are paths of traffic or data, by the type of the resource that holds them,
 * and which way the traffic goes. Other references (IAM grants, security-group rules, alarms,
 * scaling targets) are permissions and watching, not flow, and are not drawn.
 */
const FLOW_REFERENCES: Readonly<
  Record<string, (from: PartKind, to: PartKind) => Direction | undefined>
> = {
  // Records and health checks name the load balancers and distributions they send users to.
  "aws:route53/record:Record": () => "forward",
  "aws:route53/healthCheck:HealthCheck": () => "forward",
  // A distribution names its origins.
  "aws:cloudfront/distribution:Distribution": (_from, to) =>
    to === "buckets" ? "forward" : undefined,
  // A service names its load balancer's target group: requests come from there.
  "aws:ecs/service:Service": (_from, to) => (to === "alb" ? "reverse" : undefined),
  // A task definition names what the app connects to downstream.
  // Workers' task definitions name the queue they take jobs from.
  "aws:ecs/taskDefinition:TaskDefinition": (from, to) =>
    from === "workers" && to === "queue"
      ? "reverse"
      : FLOW_RANK[to] > FLOW_RANK[from]
        ? "forward"
        : undefined,
  // A replica names its source; a replication rule names its destination.
  "aws:rds/instance:Instance": () => "reverse",
  "aws:s3/bucketReplicationConfig:BucketReplicationConfig": () => "forward",
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": () => "forward",
};

/** What an edge between the same part in two regions is. */
const SAME_PART_EDGE: Partial<Record<PartKind, string>> = {
  database: "replication",
  buckets: "replication",
  network: "VPC peering",
};

export interface ArchitectureGroup {
  readonly id: string;
  readonly label: string;
}

export interface ArchitectureNode {
  readonly id: string;
  readonly group: string;
  readonly kind: PartKind;
  readonly tier: Tier;
  readonly title: string;
  readonly details: readonly string[];
  readonly resources: readonly SynthResource[];
}

export interface ArchitectureEdge {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
}

export interface Architecture {
  readonly stack: string;
  readonly groups: readonly ArchitectureGroup[];
  readonly nodes: readonly ArchitectureNode[];
  readonly edges: readonly ArchitectureEdge[];
}

function partOf(resource: SynthResource, tier: Tier): PartKind {
  const service = resource.type.split(":")[1]?.split("/")[0];
  // Records are DNS whichever tier they name (the CDN's alias is drawn DNS → CDN).
  if (service === "route53") return "dns";
  switch (tier) {
    case "web":
      return service === "lb" ? "alb" : "web";
    case "queue":
      return service === "sqs" ? "queue" : "workers";
    case "cdn":
      return service === "cloudfront" || service === "acm" ? "cdn" : "buckets";
    default:
      return tier;
  }
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const tasks = (r: Range) => (r.min === r.max ? `${r.min}` : `${r.min}–${r.max}`);
const ofType = (resources: readonly SynthResource[], type: string) =>
  resources.filter((r) => r.type === type);
/** How many resources of each type, in words: `9 subnets · 3 NAT gateways`. */
const tally = (
  resources: readonly SynthResource[],
  kinds: ReadonlyArray<[type: string, one: string]>,
) => kinds.map(([type, one]) => count(ofType(resources, type).length, one)).join(" · ");

/** The title and a line or two of what a part holds, from its resources. */
function describe(
  kind: PartKind,
  resources: readonly SynthResource[],
  capacity: Capacity,
): { title: string; details: string[] } {
  const first = (type: string) => ofType(resources, type)[0]?.inputs ?? {};
  switch (kind) {
    case "dns": {
      const checks = ofType(resources, "aws:route53/healthCheck:HealthCheck").length;
      const zones = ofType(resources, "aws:route53/zone:Zone").length;
      const certificates = ofType(resources, "aws:acm/certificate:Certificate").length;
      return {
        title: "Route53",
        details: [
          [zones > 0 ? count(zones, "zone") : "", checks > 0 ? count(checks, "health check") : ""]
            .filter(Boolean)
            .join(" · ") || "records",
          ...(certificates > 0 ? [`${count(certificates, "ACM certificate")}`] : []),
        ],
      };
    }
    case "cdn":
      return {
        title: "CloudFront",
        details: [
          String(first("aws:cloudfront/distribution:Distribution").priceClass ?? ""),
        ].filter(Boolean),
      };
    case "buckets":
      return {
        title: "S3",
        details: [count(ofType(resources, "aws:s3/bucket:Bucket").length, "bucket")],
      };
    case "alb": {
      const listeners = ofType(resources, "aws:lb/listener:Listener").map((l) =>
        String(l.inputs.protocol ?? "HTTP"),
      );
      return { title: "ALB", details: [[...new Set(listeners)].join(" + ") || "load balancer"] };
    }
    case "web":
    case "workers": {
      const services = ofType(resources, "aws:ecs/service:Service").map((s) => capacity.of(s));
      const details = services.map((s) => {
        const spot = s.spotTasks.max > 0 ? " · Spot" : "";
        return `${tasks(s.tasks)} tasks · ${s.vcpu} vCPU${spot}`;
      });
      const registry = ofType(resources, "aws:ecr/repository:Repository").length > 0;
      return {
        title: kind === "web" ? "ECS web" : "ECS workers",
        details: registry ? [...details, "ECR: the app image"] : details,
      };
    }
    case "queue":
      return {
        title: "SQS",
        details: [tally(resources, [["aws:sqs/queue:Queue", "queue"]])],
      };
    case "cache": {
      const group = first("aws:elasticache/replicationGroup:ReplicationGroup");
      const nodes = Number(group.numCacheClusters ?? 1);
      return {
        title: `ElastiCache ${String(group.engine ?? "")}`.trim(),
        details: [`${count(nodes, "node")} · ${String(group.nodeType ?? "")}`],
      };
    }
    case "database": {
      const instances = ofType(resources, "aws:rds/instance:Instance");
      const writers = instances.filter((i) => !i.inputs.replicateSourceDb);
      // Each physical shard (`database.shards`) heads a tree in the region: its writer, or its
      // cross-region replica (whose source is an instance of another region).
      const local = new Set(instances.map((i) => String(i.inputs.identifier)));
      const shards = instances.filter(
        (i) => !i.inputs.replicateSourceDb || !local.has(String(i.inputs.replicateSourceDb)),
      ).length;
      const perShard = (n: number) => n / Math.max(shards, 1);
      const multiAz = writers.some((w) => w.inputs.multiAz === true) ? " (Multi-AZ)" : "";
      const parts = [
        writers.length > 0 ? `writer${multiAz}` : "",
        instances.length > writers.length
          ? count(perShard(instances.length - writers.length), "replica")
          : "",
      ]
        .filter(Boolean)
        .join(" + ");
      return {
        title: "RDS PostgreSQL",
        details: [
          shards > 1 ? `${shards} shards × (${parts})` : parts,
          String(instances[0]?.inputs.instanceClass ?? ""),
        ],
      };
    }
    case "network":
      return {
        title: "VPC",
        details: [
          tally(resources, [
            ["aws:ec2/subnet:Subnet", "subnet"],
            ["aws:ec2/natGateway:NatGateway", "NAT gateway"],
          ]),
        ],
      };
    case "observability":
      return {
        title: "CloudWatch → SNS",
        details: [
          tally(resources, [
            ["aws:cloudwatch/metricAlarm:MetricAlarm", "alarm"],
            ["aws:cloudwatch/dashboard:Dashboard", "dashboard"],
          ]),
        ],
      };
  }
}

/** Reads the architecture of a synthesized stack. */
export function architectureOf(synth: SynthResult): Architecture {
  const resources = synth.resources.filter((r) => r.id !== null && !r.type.startsWith("pulumi:"));
  const tiers = assignTiers(synth.resources);
  const references = new References(synth.resources);
  const capacity = new Capacity(synth.resources, references, (r) => tiers.get(r.urn));

  // Regions in the order the program creates them: the primary first.
  const regions = [
    ...new Set(resources.map((r) => r.region).filter((r): r is string => r !== null)),
  ];
  // Each region's composition (stacks/region.ts) is named for its role: primary, secondary.
  const byUrn = new Map(synth.resources.map((r) => [r.urn, r]));
  const roleOf = new Map<string, string>();
  for (const composition of synth.resources.filter((r) => r.type === REGION_COMPOSITION)) {
    const region = synth.resources.find(
      (r) => r.region !== null && isBelow(byUrn, r, composition),
    )?.region;
    if (region) roleOf.set(region, composition.name);
  }

  const members = new Map<string, SynthResource[]>();
  const nodeKey = new Map<string, { group: string; kind: PartKind }>();
  const nodeOf = new Map<string, string>();
  for (const resource of resources) {
    const tier = tiers.get(resource.urn);
    // Pulumi-only resources (random values) have no region and nothing to draw.
    if (tier === undefined || resource.region === null) continue;
    const kind = partOf(resource, tier);
    const group = GLOBAL_PARTS.has(kind) ? GLOBAL_REGION : (resource.region ?? GLOBAL_REGION);
    const id = `${group}/${kind}`;
    members.set(id, [...(members.get(id) ?? []), resource]);
    nodeKey.set(id, { group, kind });
    nodeOf.set(resource.urn, id);
  }

  const nodes: ArchitectureNode[] = [...members.entries()]
    .map(([id, parts]) => {
      const { group, kind } = nodeKey.get(id)!;
      return {
        id,
        group,
        kind,
        tier: PART_TIER[kind],
        ...describe(kind, parts, capacity),
        resources: parts,
      };
    })
    .sort((a, b) => PART_KINDS.indexOf(a.kind) - PART_KINDS.indexOf(b.kind));

  const edges = new Map<string, ArchitectureEdge>();
  for (const [from, to] of references.edges()) {
    const a = nodeOf.get(from.urn);
    const b = nodeOf.get(to.urn);
    if (a === undefined || b === undefined || a === b) continue;
    const ka = nodeKey.get(a)!.kind;
    const kb = nodeKey.get(b)!.kind;
    const direction = FLOW_REFERENCES[from.type]?.(ka, kb);
    if (direction === undefined) continue;
    const label = ka === kb ? SAME_PART_EDGE[ka] : undefined;
    if (ka === kb && label === undefined) continue;
    const edge = direction === "forward" ? { from: a, to: b } : { from: b, to: a };
    const key = `${edge.from}→${edge.to}`;
    if (!edges.has(key)) edges.set(key, label === undefined ? edge : { ...edge, label });
  }

  const groups: ArchitectureGroup[] = [
    ...(nodes.some((n) => n.group === GLOBAL_REGION)
      ? [{ id: GLOBAL_REGION, label: "global" }]
      : []),
    ...regions
      .filter((region) => nodes.some((n) => n.group === region))
      .map((region) => ({
        id: region,
        label: roleOf.has(region) ? `${roleOf.get(region)}: ${region}` : region,
      })),
  ];
  return { stack: synth.stack, groups, nodes, edges: [...edges.values()] };
}

function isBelow(
  byUrn: ReadonlyMap<string, SynthResource>,
  resource: SynthResource,
  ancestor: SynthResource,
): boolean {
  for (let parent = resource.parent; parent !== null; parent = byUrn.get(parent)?.parent ?? null) {
    if (parent === ancestor.urn) return true;
  }
  return false;
}
