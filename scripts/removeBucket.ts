import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";

/**
 * Empties a scratch bucket (a page of objects at a time, until none is left) and deletes it: the
 * cleanup of the service-backed tests and benchmarks. A bucket that is already gone is no error.
 */
export async function removeBucket(s3: S3Client, Bucket: string): Promise<void> {
  for (;;) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket })).catch(() => undefined);
    const objects = (listed?.Contents ?? []).map((object) => ({ Key: object.Key }));
    if (objects.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: objects } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket })).catch(() => undefined);
}
