import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Cdn, type CdnArgs, type CdnDistributionArgs, validateCdnArgs } from "../../components/cdn";
import {
  ENTRY_PATHS,
  IMMUTABLE_CACHE_CONTROL,
  buildStaticSite,
  contentTypeOf,
  entryContentHash,
  staticFilesIn,
  staticFilesProblems,
} from "../../components/staticSite";
import { STATIC_SITE_BUILD } from "../../stacks/global";
import { type RenderContext, render, resolve } from "../../harness/component";
import type { RecordedResource } from "../../harness/mocks";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";

const INVALIDATION_TYPE = "pulumi-nodejs:dynamic/cloudfront:Invalidation";
const scratch = mkdtempSync(join(tmpdir(), "cdn-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A static build like `npm run build:public` makes: a manifest, hashed files and index.html. */
function staticBuild(name: string, files: Record<string, string> = {}): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const contents: Record<string, string> = {
    "manifest.json": JSON.stringify({
      "app.ts": "app.1a2b3c4d.js",
      "styles.css": "styles.5e6f7a8b.css",
    }),
    "index.html": '<!doctype html><script src="app.1a2b3c4d.js"></script>',
    "app.1a2b3c4d.js": "console.log('hi')",
    "styles.5e6f7a8b.css": "body{}",
    ...files,
  };
  for (const [file, content] of Object.entries(contents)) writeFileSync(join(dir, file), content);
  return dir;
}

const BUILD = staticBuild("default");

/** The component's arguments and its distribution's, flat; `distribution: false` leaves it out. */
type Overrides = Partial<Omit<CdnArgs, "providers" | "distribution">> &
  Partial<CdnDistributionArgs> & { distribution?: false };

const DISTRIBUTION_KEYS = [
  "staticFilesDir",
  "priceClass",
  "defaultTtlSeconds",
  "maxTtlSeconds",
  "entryTtlSeconds",
  "customDomain",
  "useLegacyCacheSettings",
  "webAclArn",
] as const satisfies readonly (keyof CdnDistributionArgs)[];

/** Splits flat overrides into the component's arguments and its distribution's. */
function nested(
  overrides: Overrides,
  defaults: CdnDistributionArgs,
): Omit<CdnArgs, "providers" | "corsAllowedOrigins"> & {
  corsAllowedOrigins?: CdnArgs["corsAllowedOrigins"];
} {
  const files: Record<string, unknown> = {};
  const distribution: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    if (key === "distribution") continue;
    ((DISTRIBUTION_KEYS as readonly string[]).includes(key) ? distribution : files)[key] = value;
  }
  return {
    ...files,
    ...(overrides.distribution === false
      ? {}
      : { distribution: distribution as unknown as CdnDistributionArgs }),
  };
}

function cdnArgs({ providerFor }: RenderContext, overrides: Overrides = {}): CdnArgs {
  return {
    providers: {
      primary: providerFor("us-east-1"),
      secondary: providerFor("us-west-2"),
      usEast1: providerFor("us-east-1"),
    },
    corsAllowedOrigins: ["https://app.example.com"],
    ...nested(overrides, {
      staticFilesDir: BUILD,
      priceClass: "PriceClass_100",
      defaultTtlSeconds: 86_400,
      maxTtlSeconds: 31_536_000,
      entryTtlSeconds: 60,
    }),
  };
}

const build = (overrides: Overrides = {}) =>
  render((context) => new Cdn("cdn", cdnArgs(context, overrides)));
const policyOf = (resource: RecordedResource) =>
  JSON.parse(String(resource.inputs.policy)) as { Statement: Array<Record<string, unknown>> };

describe("Cdn: static files", () => {
  it("GIVEN a build WHEN planned THEN hashed files are immutable for a year and entry files get the entry TTL", () => {
    const files = staticFilesIn(BUILD, 60);
    assert.deepEqual(
      files.map((file) => [file.key, file.cacheControl, file.entry]),
      [
        ["app.1a2b3c4d.js", IMMUTABLE_CACHE_CONTROL, false],
        ["styles.5e6f7a8b.css", IMMUTABLE_CACHE_CONTROL, false],
        ["index.html", "public, max-age=60", true],
        ["manifest.json", "public, max-age=60", true],
      ],
    );
    assert.equal(IMMUTABLE_CACHE_CONTROL, "public, max-age=31536000, immutable");
  });

  const types: Array<[string, string]> = [
    ["index.html", "text/html; charset=utf-8"],
    ["app.1a2b.js", "text/javascript; charset=utf-8"],
    ["styles.1a2b.css", "text/css; charset=utf-8"],
    ["manifest.json", "application/json; charset=utf-8"],
    ["icon.1a2b.png", "image/png"],
    ["favicon.1a2b.svg", "image/svg+xml"],
    ["font.1a2b.WOFF2", "font/woff2"],
    ["data.1a2b.bin", "application/octet-stream"],
    ["LICENSE", "application/octet-stream"],
  ];
  for (const [key, expected] of types) {
    it(`GIVEN ${key} THEN it is served as ${expected}`, () => {
      assert.equal(contentTypeOf(key), expected);
    });
  }

  it("GIVEN the page's sources and no build yet WHEN the program builds the site THEN the folder is a valid static build", () => {
    const outDir = join(scratch, "fresh-build");
    const dir = buildStaticSite({ ...STATIC_SITE_BUILD, outDir });
    assert.equal(dir, outDir);
    assert.deepEqual(staticFilesProblems(dir, "staticFilesDir"), []);
    // The same sources build to the same names: a preview after a preview changes nothing.
    const files = (build: string) => staticFilesIn(build, 60).map((file) => file.key);
    assert.deepEqual(
      files(buildStaticSite({ ...STATIC_SITE_BUILD, outDir: join(scratch, "fresh-build-2") })),
      files(dir),
    );
  });

  it("GIVEN sources without index.html WHEN the program builds the site THEN the error names the build and the cause", () => {
    const sourceDir = join(scratch, "no-page");
    mkdirSync(sourceDir, { recursive: true });
    assert.throws(
      () => buildStaticSite({ ...STATIC_SITE_BUILD, sourceDir, outDir: join(sourceDir, "dist") }),
      /the static site's build \(.*build-public\.mjs\) failed for .*no-page: .*index\.html/,
    );
  });

  it("GIVEN two builds WHEN only a hashed file differs THEN the entry hash is the same, and it changes with index.html", () => {
    const base = entryContentHash(staticFilesIn(BUILD, 60));
    const newAsset = staticBuild("new-asset", { "app.1a2b3c4d.js": "console.log('changed')" });
    const newEntry = staticBuild("new-entry", { "index.html": "<!doctype html><p>changed</p>" });
    assert.equal(entryContentHash(staticFilesIn(newAsset, 60)), base);
    assert.notEqual(entryContentHash(staticFilesIn(newEntry, 60)), base);
  });
});

describe("Cdn: argument validation", () => {
  const validDistribution: CdnDistributionArgs = {
    staticFilesDir: BUILD,
    priceClass: "PriceClass_100",
    defaultTtlSeconds: 60,
    maxTtlSeconds: 3600,
    entryTtlSeconds: 0,
  };
  const validate = (overrides: Overrides) =>
    validateCdnArgs({
      corsAllowedOrigins: [],
      ...nested(overrides, validDistribution),
    } as CdnArgs);
  const noManifest = join(scratch, "no-manifest");
  mkdirSync(noManifest, { recursive: true });
  writeFileSync(join(noManifest, "index.html"), "");
  const cases: Array<[string, Overrides, RegExp | null]> = [
    ["a valid build", {}, null],
    [
      "uploads to a replica that is not made",
      { uploadsTo: "replica", enableReplication: false },
      /uploadsTo: "replica" needs the replica bucket; set enableReplication to true/,
    ],
    [
      "a folder that does not exist",
      { staticFilesDir: join(scratch, "missing") },
      /staticFilesDir: ".*missing" is not a folder; run `npm run build:public`/,
    ],
    [
      "no manifest",
      { staticFilesDir: noManifest },
      /staticFilesDir: ".*no-manifest": has no manifest.json/,
    ],
    [
      "a manifest naming a missing file",
      { staticFilesDir: staticBuild("dangling", { "manifest.json": '{"a.ts":"a.00000000.js"}' }) },
      /manifest entry "a.ts" → "a.00000000.js" names a file that does not exist/,
    ],
    [
      "a manifest escaping the folder",
      { staticFilesDir: staticBuild("escape", { "manifest.json": '{"a.ts":"../secret.js"}' }) },
      /"..\/secret.js" must be a relative path inside the folder/,
    ],
    [
      "a manifest that is a list",
      { staticFilesDir: staticBuild("list", { "manifest.json": "[]" }) },
      /manifest.json must map each source name to a hashed file name/,
    ],
    [
      "a default TTL above the max",
      { defaultTtlSeconds: 7200 },
      /defaultTtlSeconds: 7200 is above maxTtlSeconds \(3600\)/,
    ],
    ["a negative TTL", { entryTtlSeconds: -1 }, /entryTtlSeconds: -1 must be a whole number/],
    [
      "a custom domain with capitals",
      { customDomain: { name: "Static.example.com", zoneId: "Z1" } },
      /customDomain.name: "Static.example.com"/,
    ],
  ];
  itValidatesEachCase(validate, cases);

  it("GIVEN a build without index.html THEN it is named as the missing root object", () => {
    const dir = join(scratch, "no-index");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "manifest.json"), "{}");
    assert.match(validate({ staticFilesDir: dir }).join("\n"), /has no index.html/);
  });

  itThrowsBeforeAnyChild(
    (context) => new Cdn("bad", cdnArgs(context, { staticFilesDir: join(scratch, "missing") })),
    /Cdn "bad": invalid arguments/,
  );
});

describe("Cdn: buckets", () => {
  it("GIVEN defaults THEN the assets bucket is in the primary region and its replica in the secondary", async () => {
    const { value: cdn, named } = await build();
    assert.equal(named("cdn-bucket", "aws:s3/bucket:Bucket").region, "us-east-1");
    assert.equal(named("cdn-replica", "aws:s3/bucket:Bucket").region, "us-west-2");
    assert.equal(await resolve(cdn.bucketName), "cdn-bucket-id");
    assert.equal(await resolve(cdn.replicaBucketName!), "cdn-replica-id");
    assert.equal(named("cdn-bucket", "aws:s3/bucket:Bucket").inputs.forceDestroy, false);
  });

  /** A bucket and what keeps it private, versioned, expiring and encrypted. */
  const BUCKET_AND_GUARDS: Array<[string, string]> = [
    ["", "aws:s3/bucket:Bucket"],
    ["-public-access", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
    ["-ownership", "aws:s3/bucketOwnershipControls:BucketOwnershipControls"],
    ["-versioning", "aws:s3/bucketVersioning:BucketVersioning"],
    ["-lifecycle", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"],
    [
      "-encryption",
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    ],
    ["-key", "aws:kms/key:Key"],
  ];

  it("GIVEN forceDestroy false THEN a delete (destroy, step down) leaves the buckets, their guards and their keys in AWS: S3 refuses to delete a bucket holding objects, and a deleted key would take them", async () => {
    const { named } = await build();
    for (const bucket of ["cdn-bucket", "cdn-replica"]) {
      for (const [suffix, type] of BUCKET_AND_GUARDS) {
        assert.equal(named(`${bucket}${suffix}`, type).retainOnDelete, true, `${bucket}${suffix}`);
      }
      assert.equal(named(bucket, "aws:s3/bucket:Bucket").inputs.forceDestroy, false, bucket);
    }
  });

  it("GIVEN forceDestroy true THEN a destroy deletes the buckets with their objects and schedules their keys' deletion", async () => {
    const { named } = await build({ forceDestroy: true });
    for (const bucket of ["cdn-bucket", "cdn-replica"]) {
      for (const [suffix, type] of BUCKET_AND_GUARDS) {
        assert.equal(named(`${bucket}${suffix}`, type).retainOnDelete, false, `${bucket}${suffix}`);
      }
      assert.equal(named(bucket, "aws:s3/bucket:Bucket").inputs.forceDestroy, true, bucket);
    }
  });

  for (const bucket of ["cdn-bucket", "cdn-replica"]) {
    it(`GIVEN ${bucket} THEN it is private (four blocks), owner-enforced, versioned, encrypted under its own region's key with a bucket key, and old versions expire`, async () => {
      const { resources, named } = await build();
      const region = named(bucket, "aws:s3/bucket:Bucket").region;
      const child = (type: string) => {
        const found = resources.filter(
          (r) => r.type === type && r.inputs.bucket === `${bucket}-id`,
        );
        assert.equal(found.length, 1, `${bucket}: one ${type}`);
        assert.equal(found[0]!.region, region, `${type} in the bucket's region`);
        return found[0]!.inputs;
      };
      const block = child("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
      assert.deepEqual(
        [
          block.blockPublicAcls,
          block.blockPublicPolicy,
          block.ignorePublicAcls,
          block.restrictPublicBuckets,
        ],
        [true, true, true, true],
      );
      assert.deepEqual(child("aws:s3/bucketOwnershipControls:BucketOwnershipControls").rule, {
        objectOwnership: "BucketOwnerEnforced",
      });
      assert.deepEqual(child("aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration, {
        status: "Enabled",
      });
      assert.deepEqual(
        child(
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        ).rules,
        [
          {
            applyServerSideEncryptionByDefault: {
              sseAlgorithm: "aws:kms",
              kmsMasterKeyId: named(`${bucket}-key`, "aws:kms/key:Key").state.arn,
            },
            bucketKeyEnabled: true,
          },
        ],
      );
      assert.equal(named(`${bucket}-key`, "aws:kms/key:Key").region, region);
      const [rule] = child("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        .rules as Array<Record<string, unknown>>;
      assert.deepEqual(rule!.noncurrentVersionExpiration, { noncurrentDays: 30 });
      assert.equal(rule!.status, "Enabled");
    });
  }

  it("GIVEN replication THEN every object replicates, deletes and SSE-KMS objects included, to the replica under its own key, with a role only S3 may assume", async () => {
    const { ofType, named } = await build();
    const [replication] = ofType("aws:s3/bucketReplicationConfig:BucketReplicationConfig");
    assert.equal(replication!.inputs.bucket, "cdn-bucket-id");
    assert.equal(replication!.region, "us-east-1");
    const [rule] = replication!.inputs.rules as Array<Record<string, unknown>>;
    assert.equal(rule!.status, "Enabled");
    assert.deepEqual(rule!.deleteMarkerReplication, { status: "Enabled" });
    assert.deepEqual(rule!.sourceSelectionCriteria, {
      sseKmsEncryptedObjects: { status: "Enabled" },
    });
    assert.deepEqual(rule!.destination, {
      bucket: named("cdn-replica", "aws:s3/bucket:Bucket").state.arn,
      storageClass: "STANDARD",
      encryptionConfiguration: {
        replicaKmsKeyId: named("cdn-replica-key", "aws:kms/key:Key").state.arn,
      },
    });
    const role = named("cdn-replication", "aws:iam/role:Role");
    assert.equal(replication!.inputs.role, role.state.arn);
    assert.deepEqual(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement[0].Principal, {
      Service: "s3.amazonaws.com",
    });
    const statements = policyOf(
      named("cdn-replication", "aws:iam/rolePolicy:RolePolicy"),
    ).Statement;
    assert.deepEqual(
      statements.map((s) => s.Resource),
      [
        "arn:aws:s3:::cdn-bucket-id",
        "arn:aws:s3:::cdn-bucket-id/*",
        "arn:aws:s3:::cdn-replica-id/*",
        named("cdn-bucket-key", "aws:kms/key:Key").state.arn,
        named("cdn-replica-key", "aws:kms/key:Key").state.arn,
      ],
    );
  });

  it("GIVEN the app's origins THEN both buckets (uploads go to the replica after a failover) allow GET and PUT from them; none gives no CORS", async () => {
    const { ofType } = await build();
    const cors = ofType("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration");
    assert.deepEqual(
      cors.map((config) => config.inputs.bucket),
      ["cdn-bucket-id", "cdn-replica-id"],
    );
    for (const config of cors) {
      const [rule] = config.inputs.corsRules as Array<Record<string, unknown>>;
      assert.deepEqual(rule!.allowedOrigins, ["https://app.example.com"]);
      assert.deepEqual([...(rule!.allowedMethods as string[])].sort(), ["GET", "PUT"]);
    }
    const without = await build({ corsAllowedOrigins: [] });
    assert.equal(
      without.ofType("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration").length,
      0,
    );
  });

  it("GIVEN replication disabled THEN there is one bucket and the distribution reads it directly", async () => {
    const { value: cdn, ofType } = await build({ enableReplication: false });
    assert.equal(ofType("aws:s3/bucket:Bucket").length, 1);
    assert.equal(ofType("aws:s3/bucketReplicationConfig:BucketReplicationConfig").length, 0);
    assert.equal(cdn.replicaBucketName, undefined);
    const distribution = ofType("aws:cloudfront/distribution:Distribution")[0]!;
    assert.deepEqual(distribution.inputs.originGroups, []);
    assert.deepEqual(distribution.inputs.orderedCacheBehaviors, []);
    assert.equal(
      (distribution.inputs.defaultCacheBehavior as Record<string, unknown>).targetOriginId,
      "assets-primary",
    );
    assert.equal(await resolve(cdn.bucketName), "cdn-bucket-id");
  });
});

describe("Cdn: the files buckets without a distribution (stages 1-3)", () => {
  /** Everything but the distribution's own resources, by logical name and type. */
  const filesResources = (resources: RecordedResource[]) =>
    resources
      .filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))
      .filter((r) => !/^aws:(cloudfront|acm|route53)\//.test(r.type))
      .filter((r) => r.type !== "aws:s3/bucketObjectv2:BucketObjectv2")
      .filter((r) => r.type !== INVALIDATION_TYPE)
      .map((r) => `${r.name} ${r.type} ${r.parent}`)
      .sort();

  it("GIVEN no distribution WHEN built THEN the buckets, their guards, keys, encryption, CORS and replication are the ones a CDN has, under the same names and parent", async () => {
    const without = await build({ distribution: false });
    const withCdn = await build({});
    assert.deepEqual(filesResources(without.resources), filesResources(withCdn.resources));
    const bucket = without.named("cdn-bucket", "aws:s3/bucket:Bucket");
    assert.match(String(bucket.parent), /zero-to-millions:components:Cdn::cdn$/);
  });

  it("GIVEN no distribution THEN there is no CloudFront, certificate, alias or static file, and the edge is undefined", async () => {
    const { value: cdn, resources } = await build({
      distribution: false,
      customDomain: { name: "static.example.com", zoneId: "Z1" },
    });
    assert.equal(cdn.edge, undefined);
    assert.deepEqual(
      resources
        .filter(
          (r) => /^aws:(cloudfront|acm|route53)\//.test(r.type) || r.type === INVALIDATION_TYPE,
        )
        .map((r) => r.name),
      [],
    );
    assert.deepEqual(
      resources.filter((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2"),
      [],
    );
  });

  it("GIVEN no distribution THEN each bucket's policy denies requests without TLS and grants no service, and no key names CloudFront", async () => {
    const { ofType } = await build({ distribution: false });
    for (const [type, sids] of [
      ["aws:s3/bucketPolicy:BucketPolicy", ["DenyInsecureTransport"]],
      ["aws:kms/key:Key", ["AccountAdministersKey"]],
    ] as const) {
      const policies = ofType(type);
      assert.equal(policies.length, 2, type);
      for (const policy of policies) {
        assert.deepEqual(
          policyOf(policy).Statement.map((statement) => statement.Sid),
          sids,
          policy.name,
        );
      }
    }
  });

  it("GIVEN a distribution THEN each key lets CloudFront decrypt for that distribution alone", async () => {
    const { ofType, named } = await build();
    const distributionArn = named("cdn-distribution", "aws:cloudfront/distribution:Distribution")
      .state.arn;
    for (const key of ofType("aws:kms/key:Key")) {
      const cloudFront = policyOf(key).Statement.find((s) => s.Sid === "CloudFrontReadsThroughOac");
      assert.deepEqual(cloudFront?.Condition, {
        StringEquals: { "aws:SourceArn": distributionArn },
      });
    }
  });

  it("GIVEN no distribution THEN the app's roles are granted the same prefixes of both buckets", async () => {
    const { ofType } = await render((context) => {
      const cdn = new Cdn("cdn", cdnArgs(context, { distribution: false }));
      cdn.grantReadWrite("web", "web-role");
      return cdn;
    });
    const [grant, ...rest] = ofType("aws:iam/rolePolicy:RolePolicy").filter(
      (r) => r.name === "cdn-web",
    );
    assert.deepEqual(rest, []);
    assert.deepEqual(policyOf(grant!).Statement.find((s) => s.Sid === "AppFiles")?.Resource, [
      "arn:aws:s3:::cdn-bucket-id/uploads/*",
      "arn:aws:s3:::cdn-bucket-id/thumbnails/*",
      "arn:aws:s3:::cdn-replica-id/uploads/*",
      "arn:aws:s3:::cdn-replica-id/thumbnails/*",
    ]);
  });
});

describe("Cdn: distribution", () => {
  it("GIVEN defaults THEN CloudFront reaches both buckets only through one origin access control", async () => {
    const { ofType, named } = await build();
    const oac = ofType("aws:cloudfront/originAccessControl:OriginAccessControl");
    assert.equal(oac.length, 1);
    assert.deepEqual(
      [
        oac[0]!.inputs.originAccessControlOriginType,
        oac[0]!.inputs.signingBehavior,
        oac[0]!.inputs.signingProtocol,
      ],
      ["s3", "always", "sigv4"],
    );
    const distribution = named("cdn-distribution", "aws:cloudfront/distribution:Distribution");
    assert.equal(distribution.region, "us-east-1");
    const origins = distribution.inputs.origins as Array<Record<string, unknown>>;
    assert.deepEqual(
      origins.map((o) => o.domainName),
      ["cdn-bucket-id.s3.us-east-1.amazonaws.com", "cdn-replica-id.s3.us-west-2.amazonaws.com"],
    );
    for (const origin of origins) {
      assert.equal(origin.originAccessControlId, "cdn-oac-id");
      assert.equal(origin.s3OriginConfig, undefined);
    }
  });

  it("GIVEN both buckets THEN each policy lets only this distribution read objects, never the uploaded originals, and denies requests without TLS", async () => {
    const { ofType, named } = await build();
    const distributionArn = named("cdn-distribution", "aws:cloudfront/distribution:Distribution")
      .state.arn;
    const policies = ofType("aws:s3/bucketPolicy:BucketPolicy");
    assert.deepEqual(policies.map((p) => [p.inputs.bucket, p.region]).sort(), [
      ["cdn-bucket-id", "us-east-1"],
      ["cdn-replica-id", "us-west-2"],
    ]);
    for (const policy of policies) {
      const bucketArn = `arn:aws:s3:::${String(policy.inputs.bucket)}`;
      const [allow, originals, deny, ...rest] = policyOf(policy).Statement;
      assert.deepEqual(rest, []);
      assert.deepEqual(originals, {
        Sid: "CloudFrontNeverReadsPrivateFiles",
        Effect: "Deny",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: [`${bucketArn}/uploads/*`],
      });
      assert.deepEqual(allow, {
        Sid: "CloudFrontReadsThroughOac",
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: `${bucketArn}/*`,
        Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
      });
      assert.equal(deny!.Effect, "Deny");
      assert.deepEqual(deny!.Condition, { Bool: { "aws:SecureTransport": "false" } });
    }
  });

  for (const uploadsTo of ["primary", "replica"] as const) {
    it(`GIVEN uploads go to the ${uploadsTo} bucket THEN the static files are read from the primary first (the deploy uploads them there) and each app prefix from the ${uploadsTo} first, both failing over on server errors; reads only, with the default behaviour's cache and headers`, async () => {
      const { named } = await build({ uploadsTo });
      const distribution = named("cdn-distribution", "aws:cloudfront/distribution:Distribution");
      const readOrder = (targetOriginId: unknown) => {
        const groups = distribution.inputs.originGroups as Array<{
          originId: string;
          members: Array<{ originId: string }>;
          failoverCriteria: { statusCodes: number[] };
        }>;
        const group = groups.find((candidate) => candidate.originId === targetOriginId)!;
        assert.deepEqual(group.failoverCriteria.statusCodes, [500, 502, 503, 504]);
        return group.members.map((member) => member.originId);
      };
      const fallback = distribution.inputs.defaultCacheBehavior as Record<string, unknown>;
      assert.deepEqual(readOrder(fallback.targetOriginId), ["assets-primary", "assets-replica"]);
      const ordered = distribution.inputs.orderedCacheBehaviors as Array<Record<string, unknown>>;
      assert.deepEqual(
        ordered.map((behaviour) => behaviour.pathPattern),
        ["thumbnails/*"],
        "only thumbnails are public: uploaded originals never go through the CDN",
      );
      const first = uploadsTo === "replica" ? "assets-replica" : "assets-primary";
      for (const { pathPattern, targetOriginId, ...rest } of ordered) {
        assert.deepEqual(readOrder(targetOriginId)[0], first, String(pathPattern));
        assert.deepEqual(
          { ...rest, targetOriginId: fallback.targetOriginId },
          fallback,
          String(pathPattern),
        );
      }
    });
  }

  it("GIVEN uploads go to the replica (a failover) THEN the browser may upload to either bucket", async () => {
    const { named, ofType } = await build({ uploadsTo: "replica" });
    const buckets = ["cdn-bucket", "cdn-replica"].map((name) =>
      named(name, "aws:s3/bucket:Bucket"),
    );
    const cors = ofType("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration");
    assert.deepEqual(
      cors.map((rule) => rule.inputs.bucket).sort(),
      buckets.map((bucket) => bucket.id).sort(),
    );
    const csp = (
      named("cdn-headers", "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs
        .securityHeadersConfig as { contentSecurityPolicy: { contentSecurityPolicy: string } }
    ).contentSecurityPolicy.contentSecurityPolicy;
    for (const bucket of buckets) {
      assert.ok(csp.includes(`https://${String(bucket.state.bucketRegionalDomainName)}`), csp);
    }
  });

  it("GIVEN replication THEN the default behaviour reads an origin group that fails over to the replica on server errors", async () => {
    const { named } = await build();
    const distribution = named("cdn-distribution", "aws:cloudfront/distribution:Distribution");
    const [group] = distribution.inputs.originGroups as Array<Record<string, unknown>>;
    assert.deepEqual(group!.members, [
      { originId: "assets-primary" },
      { originId: "assets-replica" },
    ]);
    assert.deepEqual(
      (group!.failoverCriteria as { statusCodes: number[] }).statusCodes,
      [500, 502, 503, 504],
    );
    assert.equal(
      (distribution.inputs.defaultCacheBehavior as Record<string, unknown>).targetOriginId,
      group!.originId,
    );
  });

  it("GIVEN defaults THEN viewers are redirected to HTTPS, responses compressed, reads only, and the root is index.html", async () => {
    const { value: cdn, named } = await build({ priceClass: "PriceClass_200" });
    const distribution = named("cdn-distribution", "aws:cloudfront/distribution:Distribution");
    const behaviour = distribution.inputs.defaultCacheBehavior as Record<string, unknown>;
    assert.equal(behaviour.viewerProtocolPolicy, "redirect-to-https");
    assert.equal(behaviour.compress, true);
    assert.deepEqual(behaviour.allowedMethods, ["GET", "HEAD", "OPTIONS"]);
    assert.deepEqual(behaviour.cachedMethods, ["GET", "HEAD"]);
    assert.equal(distribution.inputs.defaultRootObject, "index.html");
    assert.equal(distribution.inputs.priceClass, "PriceClass_200");
    assert.equal(distribution.inputs.httpVersion, "http2and3");
    assert.equal(distribution.inputs.isIpv6Enabled, true);
    assert.deepEqual(distribution.inputs.viewerCertificate, { cloudfrontDefaultCertificate: true });
    assert.deepEqual(distribution.inputs.aliases, []);
    assert.equal(await resolve(cdn.edge!.domainName), distribution.state.domainName);
    assert.equal(await resolve(cdn.edge!.cloudfrontDomainName), distribution.state.domainName);
    assert.equal(await resolve(cdn.edge!.distributionId), "cdn-distribution-id");
    assert.equal(await resolve(cdn.edge!.distributionArn), distribution.state.arn);
  });

  it("GIVEN TTLs THEN the cache policy carries them, keyed on the path alone with gzip and brotli", async () => {
    const { named } = await build({ defaultTtlSeconds: 600, maxTtlSeconds: 7200 });
    const policy = named("cdn-cache", "aws:cloudfront/cachePolicy:CachePolicy");
    assert.equal(policy.region, "us-east-1");
    assert.deepEqual(
      [policy.inputs.minTtl, policy.inputs.defaultTtl, policy.inputs.maxTtl],
      [0, 600, 7200],
    );
    const parameters = policy.inputs.parametersInCacheKeyAndForwardedToOrigin as Record<
      string,
      unknown
    >;
    assert.deepEqual(parameters.queryStringsConfig, { queryStringBehavior: "none" });
    assert.equal(parameters.enableAcceptEncodingBrotli, true);
    const behaviour = named("cdn-distribution").inputs.defaultCacheBehavior as Record<
      string,
      unknown
    >;
    assert.equal(behaviour.cachePolicyId, "cdn-cache-id");
    assert.equal(behaviour.forwardedValues, undefined);
  });

  it("GIVEN legacy cache settings (for emulators) THEN there is no cache policy and the behaviour carries the TTLs", async () => {
    const { ofType, named } = await build({
      useLegacyCacheSettings: true,
      defaultTtlSeconds: 600,
      maxTtlSeconds: 7200,
    });
    assert.equal(ofType("aws:cloudfront/cachePolicy:CachePolicy").length, 0);
    const behaviour = named("cdn-distribution").inputs.defaultCacheBehavior as Record<
      string,
      unknown
    >;
    assert.equal(behaviour.cachePolicyId, undefined);
    assert.deepEqual([behaviour.minTtl, behaviour.defaultTtl, behaviour.maxTtl], [0, 600, 7200]);
    assert.deepEqual(behaviour.forwardedValues, {
      queryString: false,
      cookies: { forward: "none" },
    });
  });

  it("GIVEN a custom domain THEN a us-east-1 certificate, TLS 1.2 (2021) with SNI, and A/AAAA aliases serve it", async () => {
    const {
      value: cdn,
      ofType,
      named,
    } = await build({ customDomain: { name: "static.example.com", zoneId: "Z0123456789ABC" } });
    const certificate = named("cdn-certificate-certificate", "aws:acm/certificate:Certificate");
    assert.equal(certificate.region, "us-east-1");
    assert.equal(certificate.inputs.domainName, "static.example.com");
    const distribution = named("cdn-distribution", "aws:cloudfront/distribution:Distribution");
    assert.deepEqual(distribution.inputs.aliases, ["static.example.com"]);
    assert.deepEqual(distribution.inputs.viewerCertificate, {
      acmCertificateArn: certificate.state.arn,
      sslSupportMethod: "sni-only",
      minimumProtocolVersion: "TLSv1.2_2021",
    });
    const aliases = ofType("aws:route53/record:Record").filter((r) =>
      r.name.startsWith("cdn-alias-"),
    );
    assert.deepEqual(aliases.map((r) => r.inputs.type).sort(), ["A", "AAAA"]);
    for (const record of aliases) {
      assert.equal(record.inputs.name, "static.example.com");
      assert.equal(record.inputs.zoneId, "Z0123456789ABC");
      assert.deepEqual(record.inputs.aliases, [
        {
          name: distribution.state.domainName,
          zoneId: "Z2FDTNDATAQYW2",
          evaluateTargetHealth: false,
        },
      ]);
    }
    assert.equal(await resolve(cdn.edge!.domainName), "static.example.com");
  });
});

describe("Cdn: uploads and invalidation", () => {
  it("GIVEN a build THEN each file is uploaded to the primary bucket with its type and TTL", async () => {
    const { ofType } = await build({ entryTtlSeconds: 30 });
    const objects = ofType("aws:s3/bucketObjectv2:BucketObjectv2");
    const byKey = Object.fromEntries(objects.map((o) => [o.inputs.key as string, o]));
    assert.deepEqual(Object.keys(byKey).sort(), [
      "app.1a2b3c4d.js",
      "index.html",
      "manifest.json",
      "styles.5e6f7a8b.css",
    ]);
    for (const object of objects) {
      assert.equal(object.inputs.bucket, "cdn-bucket-id");
      assert.equal(object.region, "us-east-1");
    }
    assert.equal(
      byKey["app.1a2b3c4d.js"]!.inputs.cacheControl,
      "public, max-age=31536000, immutable",
    );
    assert.equal(byKey["app.1a2b3c4d.js"]!.inputs.contentType, "text/javascript; charset=utf-8");
    assert.equal(
      byKey["styles.5e6f7a8b.css"]!.inputs.cacheControl,
      "public, max-age=31536000, immutable",
    );
    assert.equal(byKey["index.html"]!.inputs.cacheControl, "public, max-age=30");
    assert.equal(byKey["index.html"]!.inputs.contentType, "text/html; charset=utf-8");
    assert.equal(byKey["manifest.json"]!.inputs.cacheControl, "public, max-age=30");
  });

  it("GIVEN a build THEN the entry paths of this distribution are invalidated, keyed on the entry files' content", async () => {
    const { ofType } = await build();
    const [invalidation] = ofType(INVALIDATION_TYPE);
    assert.equal(invalidation!.inputs.distributionId, "cdn-distribution-id");
    assert.deepEqual(invalidation!.inputs.paths, ENTRY_PATHS);
    assert.deepEqual(ENTRY_PATHS, ["/", "/index.html", "/manifest.json"]);
    assert.equal(invalidation!.inputs.contentHash, entryContentHash(staticFilesIn(BUILD, 60)));
  });

  it("GIVEN a changed index.html THEN the invalidation's key changes; a changed hashed file leaves it alone", async () => {
    const keyOf = async (dir: string) =>
      (await build({ staticFilesDir: dir })).ofType(INVALIDATION_TYPE)[0]!.inputs.contentHash;
    const base = await keyOf(BUILD);
    assert.equal(await keyOf(staticBuild("asset-only", { "styles.5e6f7a8b.css": "p{}" })), base);
    assert.notEqual(
      await keyOf(staticBuild("entry-changed", { "index.html": "<p>new</p>" })),
      base,
    );
  });
});

describe("Cdn: grants", () => {
  it("GIVEN a role WHEN granted read-write THEN it may only get and put objects under uploads/ and thumbnails/, in the bucket and its replica (where uploads go after a failover), list both (so a missing key is a 404, not a 403), and use both keys through S3", async () => {
    const { ofType, named } = await render((context) => {
      const cdn = new Cdn("cdn", cdnArgs(context));
      cdn.grantReadWrite("web", "web-task-role");
      return cdn;
    });
    const grant = ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "cdn-web")!;
    assert.equal(grant.inputs.role, "web-task-role");
    const [files, list, key] = policyOf(grant).Statement;
    assert.deepEqual(files, {
      Sid: "AppFiles",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: [
        "arn:aws:s3:::cdn-bucket-id/uploads/*",
        "arn:aws:s3:::cdn-bucket-id/thumbnails/*",
        "arn:aws:s3:::cdn-replica-id/uploads/*",
        "arn:aws:s3:::cdn-replica-id/thumbnails/*",
      ],
    });
    assert.deepEqual(list, {
      Sid: "AppFilesExist",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: ["arn:aws:s3:::cdn-bucket-id", "arn:aws:s3:::cdn-replica-id"],
    });
    assert.deepEqual(key, {
      Sid: "AppFilesKey",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: [
        named("cdn-bucket-key", "aws:kms/key:Key").state.arn,
        named("cdn-replica-key", "aws:kms/key:Key").state.arn,
      ],
      Condition: {
        StringLike: { "kms:ViaService": "s3.*.amazonaws.com" },
        ArnLike: {
          "kms:EncryptionContext:aws:s3:arn": [
            "arn:aws:s3:::cdn-bucket-id",
            "arn:aws:s3:::cdn-bucket-id/*",
            "arn:aws:s3:::cdn-replica-id",
            "arn:aws:s3:::cdn-replica-id/*",
          ],
        },
      },
    });
  });
});
