// Unit tests of the file tiers' upload tickets (no network: presigning is local computation).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSafeKey, LocalFileStore } from "../../app/src/tiers/files";
import { S3FileStore } from "../../app/src/tiers/s3Files";

describe("LocalFileStore upload tickets", () => {
  const store = new LocalFileStore({ dir: "/tmp/unused", secret: Buffer.alloc(32, 1) });
  const request = { key: "uploads/1/a.png", contentType: "image/png", size: 10 };

  function query(url: string): Record<string, string> {
    return Object.fromEntries(new URL(url, "http://app").searchParams);
  }

  it("GIVEN a ticket WHEN verified for its key THEN it permits that type and size", async () => {
    const ticket = await store.createUpload(request);
    assert.ok(ticket.url.startsWith("/uploads/uploads/1/a.png?"));
    assert.deepEqual(store.verifyUpload(request.key, query(ticket.url)), {
      contentType: "image/png",
      size: 10,
    });
  });

  it("GIVEN a ticket WHEN used for another key, size or type THEN it is refused", async () => {
    const ticket = await store.createUpload(request);
    const params = query(ticket.url);
    assert.match(String(store.verifyUpload("uploads/2/a.png", params)), /signature/);
    assert.match(String(store.verifyUpload(request.key, { ...params, size: "11" })), /signature/);
    assert.match(
      String(store.verifyUpload(request.key, { ...params, type: "image/webp" })),
      /signature/,
    );
    assert.match(
      String(store.verifyUpload(request.key, { ...params, signature: undefined })),
      /incomplete/,
    );
  });

  it("GIVEN an expired ticket THEN it is refused", async () => {
    const expired = new LocalFileStore({ dir: "/tmp/unused", uploadTtlSeconds: -1 });
    const ticket = await expired.createUpload(request);
    assert.match(String(expired.verifyUpload(request.key, query(ticket.url))), /expired/);
  });

  it("GIVEN keys THEN only relative paths without .. are safe", () => {
    assert.ok(isSafeKey("thumbnails/1/x.webp"));
    for (const key of ["../etc/passwd", "a/../../b", "/abs", "a//b", "", "a/.hidden/../x"]) {
      assert.ok(!isSafeKey(key), key);
    }
  });
});

describe("S3FileStore upload tickets", () => {
  it("GIVEN an upload request THEN the presigned PUT signs type and length and carries no body checksum", async () => {
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
    const store = new S3FileStore({
      bucket: "assets-bucket",
      cdnDomain: "d123.cloudfront.net",
      region: "eu-west-1",
      endpoint: undefined,
    });
    const ticket = await store.createUpload({
      key: "uploads/1/a.png",
      contentType: "image/png",
      size: 1234,
    });
    const url = new URL(ticket.url);
    assert.equal(ticket.method, "PUT");
    assert.deepEqual(ticket.headers, { "content-type": "image/png" });
    assert.equal(url.searchParams.get("X-Amz-SignedHeaders"), "content-length;content-type;host");
    assert.equal(url.searchParams.get("X-Amz-Expires"), "900");
    assert.ok(![...url.searchParams.keys()].some((name) => name.startsWith("x-amz-checksum")));
    assert.equal(
      store.publicUrl("thumbnails/1/x.webp"),
      "https://d123.cloudfront.net/thumbnails/1/x.webp",
    );
    await store.close();
  });
});
