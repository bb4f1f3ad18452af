/**
 * The file tier in S3: an S3 bucket, whose public files (thumbnails) browsers read from the CDN, or
 * from the app itself (`/files/thumbnails/...`) at the stages without one.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import {
  FileStoreUnavailableError,
  type FileStore,
  PUBLIC_FILE_CACHE_CONTROL,
  type StoredFile,
  type UploadRequest,
  type UploadTicket,
} from "./files";

/**
 * One retry at most, and no call waits long: a request that finds S3 down answers 503 within
 * seconds instead of hanging on the SDK's default retries.
 */
const MAX_ATTEMPTS = 2;
const CONNECTION_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 5_000;

/** The path the app serves public files under when there is no CDN (LocalFileStore's too). */
export const APP_FILES_PATH = "/files";

export interface S3FileStoreOptions {
  bucket: string;
  /**
   * The CDN domain that serves the bucket's public files. Unset: the app serves them at
   * `/files/<key>` (S3FileStore.readPublic), so links never hold expiring presigned URLs.
   */
  cdnDomain: string | undefined;
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
      maxAttempts: MAX_ATTEMPTS,
      requestHandler: {
        connectionTimeout: CONNECTION_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
      },
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

  async head(key: string): Promise<StoredFile | undefined> {
    return this.unlessMissing(async () => {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      return { size: head.ContentLength ?? 0, contentType: head.ContentType };
    });
  }

  /**
   * A public file's bytes and type for the app to serve, or undefined when there is none (S3's 404;
   * the app's grant lists the bucket, so a missing key is a 404, not a 403).
   */
  async readPublic(
    key: string,
  ): Promise<{ bytes: Buffer; contentType: string | undefined } | undefined> {
    return this.unlessMissing(async () => {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      if (object.Body === undefined) return undefined;
      return {
        bytes: Buffer.from(await object.Body.transformToByteArray()),
        contentType: object.ContentType,
      };
    });
  }

  /** `request`'s answer, undefined for S3's 404, and an outage for no answer or a 5xx. */
  private async unlessMissing<T>(request: () => Promise<T>): Promise<T | undefined> {
    try {
      return await request();
    } catch (error) {
      const status =
        error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      if (status === 404) return undefined;
      // 4xx other than 404 is our own mistake (permissions, bucket name): a 500 that gets fixed.
      if (status === undefined || status >= 500) throw new FileStoreUnavailableError(error);
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
        CacheControl: PUBLIC_FILE_CACHE_CONTROL,
      }),
    );
  }

  /** Whether the app serves public files itself (no CDN domain): what the files route is for. */
  get servesPublicFiles(): boolean {
    return this.options.cdnDomain === undefined;
  }

  publicUrl(key: string): string {
    const { cdnDomain } = this.options;
    return cdnDomain === undefined ? `${APP_FILES_PATH}/${key}` : `https://${cdnDomain}/${key}`;
  }

  /**
   * Thumbnails come from the CDN (or the app's own origin without one); uploads go to the bucket's
   * own endpoint (presigned PUT).
   */
  async browserOrigins(): Promise<{ images: string[]; uploads: string[] }> {
    const { endpoint, bucket } = this.options;
    const upload =
      endpoint !== undefined
        ? new URL(endpoint).origin
        : `https://${bucket}.s3.${await this.client.config.region()}.amazonaws.com`;
    const { cdnDomain } = this.options;
    return { images: cdnDomain === undefined ? [] : [`https://${cdnDomain}`], uploads: [upload] };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
