/**
 * A region keeps serving when the other is lost, as a specification over the synth of prod, with
 * the writer in either region: every input of every resource of one region that names the other
 * region (its name in an ARN, endpoint or URL, or the ARN, URL, bucket or address of one of its
 * resources) is listed, and each must be on the short allow-list below, which says why that
 * reference does not stop this region from starting, scaling and serving while the other is down.
 * The list is printed (test diagnostics) for the runbook and the closing note.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { synth, type Synth, type SynthResource } from "../../harness";
import { THREE_EVEN_SHARDS, WRITER_IN_SECONDARY } from "./support/variants";

/** A resource's attributes that identify it to others (an input naming one of them depends on it). */
const IDENTITIES = ["arn", "url", "bucket", "address", "repositoryUrl", "dnsName"] as const;
const IAM_ROLE = "aws:iam/role:Role";
const IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";

export interface CrossRegionReference {
  /** The region the resource serves (an IAM role policy: its role's region). */
  region: string;
  type: string;
  resource: string;
  /** Where in the inputs, JSON documents (policies, container definitions) opened. */
  path: string;
  value: string;
}

interface Allowed {
  /** `${type} ${resource} ${path}` must match. */
  reference: RegExp;
  /** Allowed only while the writer is in this region role; `either` for both. */
  writerRegion: "primary" | "secondary" | "either";
  /** Why this region still starts, scales and serves while the other one is lost. */
  why: string;
}

/** Every cross-region reference the program is allowed to have, and why it is harmless. */
export const ALLOWED: readonly Allowed[] = [
  {
    reference: /^aws:ec2\/vpcPeeringConnection:\S+ peering-connection \.peerRegion$/,
    writerRegion: "either",
    why: "the peering connection joins the regions by definition; with the other region lost it carries nothing",
  },
  {
    reference:
      /^aws:vpc\/securityGroupIngressRule:\S+ \S+-database(-shard\d+)?-from-\S+-app-\d+ \.description$/,
    writerRegion: "either",
    why: "a rule's description (each shard's writer admits the other region's app subnets by CIDR)",
  },
  {
    reference:
      /^aws:rds\/instance:Instance secondary-database(-shard\d+)?-replica-0 \.replicateSourceDb$/,
    writerRegion: "primary",
    why: "each physical shard's cross-region replica's source; a lost primary is what `database.writerRegion: secondary` promotes it for",
  },
  {
    reference: /^aws:dynamodb\/tableReplica:TableReplica sessions-replica-\S+ \.globalTableArn$/,
    writerRegion: "either",
    why: "the sessions replica names its global table; reads and writes go to the local replica, only managing the replica (pulumi up) calls the home region",
  },
  {
    reference:
      /^aws:(s3\/bucketReplicationConfig:BucketReplicationConfig assets-replication \.rules\[0\]\.destination\.(bucket|encryptionConfiguration\.replicaKmsKeyId)|iam\/rolePolicy:RolePolicy assets-replication \.policy\.Statement\[\d+\]\.(Resource|Condition\.ArnLike\.kms:EncryptionContext:aws:s3:arn\[\d+\]))$/,
    writerRegion: "either",
    why: "S3 replication from the primary bucket to the replica (re-encrypted under the replica's key), and its role's grant on the replica and its key; with either region lost, replication pauses",
  },
  {
    reference:
      /^aws:(s3\/bucketPolicy:BucketPolicy assets-replica-policy \.policy\.Statement\[0\]\.Condition\.StringEquals\.AWS:SourceArn|kms\/key:Key assets-replica-key \.policy\.Statement\[\d+\]\.Condition\.StringEquals\.aws:SourceArn)$/,
    writerRegion: "either",
    why: "the replica bucket and its key admit the (global) CloudFront distribution, whose origin group reads it when the primary's S3 fails",
  },
  {
    reference:
      /^aws:cloudfront\/distribution:Distribution assets-distribution \.origins\[1\]\.domainName$/,
    writerRegion: "either",
    why: "CloudFront is global; its origin group reads the bucket uploads land in first and the other when that one's S3 fails",
  },
  {
    reference:
      /^aws:cloudfront\/responseHeadersPolicy:ResponseHeadersPolicy assets-headers \.securityHeadersConfig\.contentSecurityPolicy\.contentSecurityPolicy$/,
    writerRegion: "either",
    why: "the static page's CSP lets the browser upload to either bucket's regional name (the replica's after a failover)",
  },
  {
    reference:
      /^aws:route53\/(healthCheck:HealthCheck|record:Record) app-dns-\S+ \.(fqdn|tags\.Name|aliases\[0\]\.name)$/,
    writerRegion: "either",
    why: "Route53 is global; it names each region's load balancer to route to it and check it",
  },
  {
    reference:
      /^aws:iam\/rolePolicy:RolePolicy (primary|secondary)-(web|workers)-database-connect \.policy\.Statement\[\d+\]\.Resource$/,
    writerRegion: "either",
    why: "rds-db:connect as the app in each region (one statement per region, dbuser:*), granted ahead of a failover and built from config, so it waits for no instance: a token is signed locally, nothing is fetched, and a failover changes no IAM policy",
  },
  {
    reference:
      /^aws:iam\/rolePolicy:RolePolicy (primary|secondary)-(web|workers)-invalidates-(primary|secondary) \.policy\.Statement\[0\]\.Resource$/,
    writerRegion: "either",
    why: "sending cache invalidations to the other region's queue: in the background, failures counted and alarmed, never in a request's path",
  },
  {
    reference:
      /^aws:iam\/rolePolicy:RolePolicy assets-(primary|secondary)-(web|workers)-assets \.policy\.Statement\[\d+\]\.(Resource\[\d+\]|Condition\.ArnLike\.kms:EncryptionContext:aws:s3:arn\[\d+\])$/,
    writerRegion: "either",
    why: "the app's file grant (objects, listing so a missing key is a 404, and each bucket's key through S3) covers both buckets ahead of a failover, so a failover changes no IAM policy",
  },
  ...(["primary", "secondary"] as const).map((writerRegion): Allowed => ({
    reference: new RegExp(
      `^aws:ecs/taskDefinition:TaskDefinition ${writerRegion === "primary" ? "secondary" : "primary"}-(web|workers)-taskdef \\.containerDefinitions\\[0\\]\\.environment\\[(DATABASE_URL|DATABASE_SHARDS|ASSETS_BUCKET|ASSETS_BUCKET_REGION)\\]\\.value(\\[\\d+\\]\\.url)?$`,
    ),
    writerRegion,
    why: "the region without the writer writes to it (every physical shard's writer) and uploads to its region's bucket; neither is read at start, readiness checks only this region's replica and cache, and while the writer's region is down its writes answer 503",
  })),
  {
    reference:
      /^aws:ecs\/taskDefinition:TaskDefinition (primary|secondary)-(web|workers)-taskdef \.containerDefinitions\[0\]\.environment\[CACHE_INVALIDATION_PUBLISH_URLS\]\.value$/,
    writerRegion: "either",
    why: "every write sends its invalidation to every region's queue, in the background; a lost region's queue only fails (counted, alarmed) sends",
  },
];

/** The region of each resource, an IAM role policy taking its role's. */
function regionsOf(s: Synth): Map<SynthResource, string> {
  const roleRegion = new Map<string, string>();
  for (const role of s.ofType(IAM_ROLE)) {
    if (role.region) roleRegion.set(String(role.state.name ?? role.name), role.region);
  }
  const regions = new Map<SynthResource, string>();
  for (const resource of s.resources) {
    if (!resource.type.startsWith("aws:") || !resource.region) continue;
    const region =
      resource.type === IAM_ROLE_POLICY
        ? (roleRegion.get(String(resource.inputs.role)) ?? resource.region)
        : resource.region;
    regions.set(resource, region);
  }
  return regions;
}

/** Every string in `value`, with its path; JSON documents inside strings are opened. */
function strings(value: unknown, path = ""): Array<[string, string]> {
  if (typeof value === "string") {
    if (/^\s*[[{]/.test(value)) {
      try {
        return strings(JSON.parse(value) as unknown, path);
      } catch {
        // not JSON after all: a plain string
      }
    }
    return [[path, value]];
  }
  if (Array.isArray(value)) {
    // A container's environment and secrets ({name, value|valueFrom}) are keyed by variable name.
    return value.flatMap((item, index) => {
      const entry = item as { name?: unknown; value?: unknown; valueFrom?: unknown } | null;
      const variable =
        typeof entry?.name === "string" && ("value" in entry || "valueFrom" in entry)
          ? entry.name
          : index;
      return strings(item, `${path}[${variable}]`);
    });
  }
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => strings(item, `${path}.${key}`));
  }
  return [];
}

/** Every input of a resource in one region that names the other region or one of its resources. */
export function crossRegionReferences(s: Synth): CrossRegionReference[] {
  const regions = regionsOf(s);
  const stackRegions = [...new Set(regions.values())];
  const identities = new Map<string, string[]>();
  for (const [resource, region] of regions) {
    if (resource.type.startsWith("aws:iam/")) continue;
    const own = IDENTITIES.map((key) => resource.state[key]).filter(
      (value): value is string => typeof value === "string" && value.length > 0,
    );
    identities.set(region, [...(identities.get(region) ?? []), ...own]);
  }
  const references: CrossRegionReference[] = [];
  for (const [resource, region] of regions) {
    const others = stackRegions.filter((other) => other !== region);
    const named = others.flatMap((other) => [other, ...(identities.get(other) ?? [])]);
    for (const [path, value] of strings(resource.inputs)) {
      if (named.some((name) => value.includes(name))) {
        references.push({ region, type: resource.type, resource: resource.name, path, value });
      }
    }
  }
  return references;
}

const keyOf = (reference: CrossRegionReference) =>
  `${reference.type} ${reference.resource} ${reference.path}`;

function allowedBy(
  reference: CrossRegionReference,
  writerRegion: "primary" | "secondary",
): Allowed | undefined {
  return ALLOWED.find(
    (row) =>
      row.reference.test(keyOf(reference)) &&
      (row.writerRegion === "either" || row.writerRegion === writerRegion),
  );
}

// With three physical shards, each shard's replica and writer cross regions as shard 0's do.
const CASES = [
  { label: "the writer in the primary", writerRegion: "primary", overrides: {} },
  {
    label: "the writer in the secondary",
    writerRegion: "secondary",
    overrides: WRITER_IN_SECONDARY,
  },
  {
    label: "3 physical shards, the writers in the primary",
    writerRegion: "primary",
    overrides: { database: THREE_EVEN_SHARDS },
  },
  {
    label: "3 physical shards, the writers in the secondary",
    writerRegion: "secondary",
    overrides: { database: { ...THREE_EVEN_SHARDS, writerRegion: "secondary" } },
  },
] as const;

const synths = new Map<string, Synth>();
before(async () => {
  for (const { label, overrides } of CASES) {
    const result = await synth("prod", overrides);
    assert.equal(result.error, undefined, result.error);
    synths.set(label, result);
  }
});

for (const { label, writerRegion } of CASES) {
  describe(`region isolation: GIVEN prod with ${label}`, () => {
    it("THEN every input of a region's resources that names the other region is on the allow-list", (t) => {
      const references = crossRegionReferences(synths.get(label)!);
      for (const reference of references) {
        t.diagnostic(`${reference.region} ${keyOf(reference)} = ${reference.value}`);
      }
      const unexplained = references
        .filter((reference) => allowedBy(reference, writerRegion) === undefined)
        .map((reference) => `${reference.region} ${keyOf(reference)} = ${reference.value}`);
      assert.deepEqual(unexplained, []);
    });

    it("THEN no task reads a secret of the other region, or any secret of the database, when it starts", () => {
      const s = synths.get(label)!;
      for (const task of s.ofType("aws:ecs/taskDefinition:TaskDefinition")) {
        const [container] = JSON.parse(String(task.inputs.containerDefinitions)) as Array<{
          command: string[];
          secrets: Array<{ name: string; valueFrom: string }>;
        }>;
        for (const secret of container!.secrets) {
          assert.match(secret.valueFrom, new RegExp(`:secretsmanager:${task.region}:`), task.name);
          if (container!.command[0] !== "migrate") {
            assert.notEqual(
              secret.name,
              "DATABASE_PASSWORD",
              `${task.name}: no password, IAM tokens`,
            );
          }
        }
      }
    });
  });
}

describe("region isolation: the allow-list", () => {
  it("GIVEN each row THEN some reference of some writer region needs it (no stale row)", () => {
    const used = new Set<Allowed>();
    for (const { label, writerRegion } of CASES) {
      for (const reference of crossRegionReferences(synths.get(label)!)) {
        const row = allowedBy(reference, writerRegion);
        if (row) used.add(row);
      }
    }
    const stale = ALLOWED.filter((row) => !used.has(row)).map((row) => String(row.reference));
    assert.deepEqual(stale, []);
  });
});
