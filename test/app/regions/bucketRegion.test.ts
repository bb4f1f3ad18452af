// The bucket's region, not the task's: the secondary region's tasks use their own region's bucket
// (a replica of the primary's), and every S3 call and presigned URL must be for that bucket's region.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { loadConfig } from "../../../app/src/config";
import { createTiers } from "../../../app/src/tiers";
import { S3FileStore } from "../../../app/src/tiers/s3Files";
import { captureLogs, makeTempDir } from "../support/helpers";
import { needServices, uniqueName } from "../support/services";

const TASK_REGION = "us-east-1";
const BUCKET_REGION = "eu-west-1";

/** The region in a presigned URL's credential scope: KEY/DATE/REGION/s3/aws4_request. */
function signedRegion(url: URL): string | undefined {
  return url.searchParams.get("X-Amz-Credential")?.split("/")[2];
}

describe("the S3 client and presigner use the bucket's region", () => {
  it("GIVEN ASSETS_BUCKET_REGION WHEN the tiers are built THEN the file tier signs for it; unset THEN for AWS_REGION", async () => {
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
    const dataDir = await makeTempDir("bucket-region-");
    const base = {
      ASSETS_BUCKET: "assets",
      CDN_DOMAIN: "d1.cloudfront.net",
      AWS_REGION: TASK_REGION,
      DATA_DIR: dataDir.path,
    };
    try {
      for (const [env, expected] of [
        [{ ...base, ASSETS_BUCKET_REGION: BUCKET_REGION }, BUCKET_REGION],
        [base, TASK_REGION],
      ] as const) {
        const config = loadConfig(env);
        assert.equal(config.region, TASK_REGION, "served-by stays the task's region");
        const tiers = await createTiers(config, captureLogs().logger);
        try {
          const ticket = await tiers.files.createUpload({
            key: "uploads/1/a.png",
            contentType: "image/png",
            size: 10,
          });
          assert.equal(signedRegion(new URL(ticket.url)), expected);
        } finally {
          await tiers.close();
        }
      }
    } finally {
      await dataDir.remove();
    }
  });

  it("GIVEN ASSETS_BUCKET_REGION that is not a region THEN the error names it", () => {
    assert.throws(
      () =>
        loadConfig({
          ASSETS_BUCKET: "assets",
          CDN_DOMAIN: "d1.cloudfront.net",
          AWS_REGION: TASK_REGION,
          ASSETS_BUCKET_REGION: "Europe",
        }),
      /^EnvironmentError: ASSETS_BUCKET_REGION is "Europe"/,
    );
  });

  it("GIVEN a task in us-east-1 and a bucket in eu-west-1 WHEN an upload is presigned THEN host and signature are eu-west-1's", async () => {
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
    const previous = process.env.AWS_REGION;
    process.env.AWS_REGION = TASK_REGION; // the ambient region must not leak into the client
    const store = new S3FileStore({
      bucket: "assets-replica",
      cdnDomain: "d1.cloudfront.net",
      region: BUCKET_REGION,
      endpoint: undefined,
    });
    try {
      const ticket = await store.createUpload({
        key: "uploads/1/a.png",
        contentType: "image/png",
        size: 10,
      });
      const url = new URL(ticket.url);
      assert.equal(url.host, `assets-replica.s3.${BUCKET_REGION}.amazonaws.com`);
      assert.equal(signedRegion(url), BUCKET_REGION);
    } finally {
      await store.close();
      if (previous === undefined) delete process.env.AWS_REGION;
      else process.env.AWS_REGION = previous;
    }
  });

  const services = needServices("aws");
  describe("against moto", () => {
    let endpoint: string;
    let s3: S3Client;
    const bucket = uniqueName("assets-eu").toLowerCase();

    before(async () => {
      if (services.skip) return;
      endpoint = services.env().awsEndpoint;
      s3 = new S3Client({ region: BUCKET_REGION, endpoint, forcePathStyle: true });
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          CreateBucketConfiguration: { LocationConstraint: BUCKET_REGION },
        }),
      );
    });
    after(async () => {
      if (services.skip) return;
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "uploads/1/b.png" }));
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      s3.destroy();
    });

    it(
      "GIVEN a bucket in eu-west-1 WHEN a us-east-1 task presigns, uploads and checks THEN the PUT lands and is signed for eu-west-1",
      { skip: services.skip },
      async () => {
        const location = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
        assert.equal(location.LocationConstraint, BUCKET_REGION);
        const store = new S3FileStore({
          bucket,
          cdnDomain: "d1.cloudfront.net",
          region: BUCKET_REGION,
          endpoint,
        });
        try {
          const bytes = Buffer.from("0123456789");
          const ticket = await store.createUpload({
            key: "uploads/1/b.png",
            contentType: "image/png",
            size: bytes.length,
          });
          assert.equal(signedRegion(new URL(ticket.url)), BUCKET_REGION);
          const put = await fetch(ticket.url, {
            method: "PUT",
            headers: ticket.headers,
            body: bytes,
          });
          assert.equal(put.status, 200, await put.text());
          assert.equal((await store.head("uploads/1/b.png"))?.size, bytes.length);
        } finally {
          await store.close();
        }
      },
    );
  });
});
