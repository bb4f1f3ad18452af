/** The full-stack file tier: an S3 bucket, served to browsers by the CDN. */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { FileStore, UploadRequest, UploadTicket } from "./files";

export interface S3FileStoreOptions {
  bucket: string;
  cdnDomain: string;
  /**
   * The bucket's region (ASSETS_BUCKET_REGION), which may differ from the task's: the SDK does not
   * follow S3's 301 to another region, and a URL presigned for the wrong region is refused.
   */
  region: string;
  endpoint: string | undefined;
  uploadTtlSeconds?: number;
}

export class S3FileStore implements FileStore {
  readonly kind = "s3";
  private readonly client: S3Client;

  constructor(private readonly options: S3FileStoreOptions) {
    this.client = new S3Client({
      // Otherwise the SDK presigns a CRC32 of the (still empty) body into the upload URL, and S3
      // rejects the browser's PUT of the real bytes as a bad digest.
      requestChecksumCalculation: "WHEN_REQUIRED",
      region: options.region,
      ...(options.endpoint === undefined
        ? {}
        : // An emulator on one host cannot answer for bucket.host names.
          { endpoint: options.endpoint, forcePathStyle: true }),
    });
  }

  async createUpload(request: UploadRequest): Promise<UploadTicket> {
    // Content type and length are signed: S3 refuses a PUT whose headers differ, which is what
    // enforces the size limit on bytes that never pass through the app.
    const url = await getSignedUrl(
      this.client,
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: request.key,
        ContentType: request.contentType,
        ContentLength: request.size,
      }),
      {
        expiresIn: this.options.uploadTtlSeconds ?? 900,
        signableHeaders: new Set(["content-type", "content-length"]),
      },
    );
    return { method: "PUT", url, headers: { "content-type": request.contentType } };
  }

  async sizeOf(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      return head.ContentLength;
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) {
        return undefined;
      }
      throw error;
    }
  }

  async read(key: string): Promise<Buffer> {
    const object = await this.client.send(
      new GetObjectCommand({ Bucket: this.options.bucket, Key: key }),
    );
    if (object.Body === undefined) throw new Error(`s3://${this.options.bucket}/${key} is empty`);
    return Buffer.from(await object.Body.transformToByteArray());
  }

  async write(key: string, bytes: Buffer, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType,
        // Every thumbnail gets a new key, so the CDN and browsers may keep it forever.
        CacheControl: "public, max-age=31536000, immutable",
      }),
    );
  }

  publicUrl(key: string): string {
    return `https://${this.options.cdnDomain}/${key}`;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
