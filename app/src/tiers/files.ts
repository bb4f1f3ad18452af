/**
 * The file tier: uploaded originals and generated thumbnails. A local folder served by the app when
 * embedded, an S3 bucket on a deployed stack (behind the CDN from its stage on, else served by the app). Uploads never pass through the web tier
 * on the full stack: the client PUTs to a presigned URL; locally the same shape points at the app.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";

export interface UploadRequest {
  key: string;
  contentType: string;
  /** Exact size in bytes: the upload must match it. */
  size: number;
}

export interface UploadTicket {
  method: "PUT";
  url: string;
  headers: Record<string, string>;
}

/** What is stored under a key. */
export interface StoredFile {
  size: number;
  /** As stored (S3 keeps it); undefined where the store keeps none (a folder). */
  contentType: string | undefined;
}

/** The store did not answer (after its bounded retry): nothing was changed, try again later. */
export class FileStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super("the file store is unavailable", { cause });
    this.name = "FileStoreUnavailableError";
  }
}

export interface FileStore {
  readonly kind: "local" | "s3";
  createUpload(request: UploadRequest): Promise<UploadTicket>;
  /** What is stored under `key`, or undefined when there is no such file. */
  head(key: string): Promise<StoredFile | undefined>;
  read(key: string): Promise<Buffer>;
  write(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** Where browsers load the file from. */
  publicUrl(key: string): string;
  /** Origins besides the app's own that the page loads images from and uploads to (for the CSP). */
  browserOrigins(): Promise<{ images: string[]; uploads: string[] }>;
  close(): Promise<void>;
}

/** Keys are built by the app; this only guards against a key that would escape the folder. */
const SAFE_KEY = /^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

export function isSafeKey(key: string): boolean {
  return SAFE_KEY.test(key) && !key.split("/").includes("..");
}

/**
 * How browsers and caches keep a public file: every thumbnail gets a new key, so forever. The same
 * whoever serves it (S3 through the CDN, the app from S3 or from its folder).
 */
export const PUBLIC_FILE_CACHE_CONTROL = "public, max-age=31536000, immutable";

/** The only folder browsers may read from; uploaded originals stay private. */
const PUBLIC_FOLDER = "thumbnails/";

/**
 * Whether the static route may serve `pathName` (relative to the files folder, with a leading
 * slash, as the client sent it). Decoded first and then held to the same rules as a key, so
 * `thumbnails/../uploads/...` is refused however its dots are spelt (`%2e%2e`, `..%2f`).
 */
export function isPublicFilePath(pathName: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathName);
  } catch {
    return false;
  }
  return isPublicFileKey(decoded.replace(/^\//, ""));
}

/** Whether browsers may read the file under `key` (a thumbnail, held to the rules of a key). */
export function isPublicFileKey(key: string): boolean {
  return key.startsWith(PUBLIC_FOLDER) && isSafeKey(key);
}

export interface UploadPermit {
  contentType: string;
  size: number;
}

export interface LocalFileStoreOptions {
  dir: string;
  /** URL path under which the app serves the folder. */
  publicPath?: string;
  uploadTtlSeconds?: number;
  /** Signs upload URLs; random per process unless given (tests). */
  secret?: Buffer;
}

/** Files in a local folder; uploads go to the app's own `PUT /uploads/:key`, signed like S3's. */
export class LocalFileStore implements FileStore {
  readonly kind = "local";
  readonly dir: string;
  private readonly publicPath: string;
  private readonly uploadTtlSeconds: number;
  private readonly secret: Buffer;

  constructor(options: LocalFileStoreOptions) {
    this.dir = resolve(options.dir);
    this.publicPath = options.publicPath ?? "/files";
    this.uploadTtlSeconds = options.uploadTtlSeconds ?? 900;
    this.secret = options.secret ?? randomBytes(32);
  }

  async createUpload(request: UploadRequest): Promise<UploadTicket> {
    const expires = Math.floor(Date.now() / 1000) + this.uploadTtlSeconds;
    const query = new URLSearchParams({
      type: request.contentType,
      size: String(request.size),
      expires: String(expires),
      signature: this.sign(request.key, request.contentType, request.size, expires),
    });
    return {
      method: "PUT",
      url: `/uploads/${request.key}?${query.toString()}`,
      headers: { "content-type": request.contentType },
    };
  }

  /** Checks an upload URL's query; returns what it permits, or a reason to refuse it. */
  verifyUpload(key: string, query: Record<string, string | undefined>): UploadPermit | string {
    const { type, size, expires, signature } = query;
    if (type === undefined || size === undefined || expires === undefined || !signature) {
      return "the upload URL is incomplete; ask POST /users/:id/photo for a new one";
    }
    if (Number(expires) < Date.now() / 1000) {
      return "the upload URL has expired; ask POST /users/:id/photo for a new one";
    }
    const expected = Buffer.from(this.sign(key, type, Number(size), Number(expires)));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return "the upload URL's signature does not match";
    }
    return { contentType: type, size: Number(size) };
  }

  async head(key: string): Promise<StoredFile | undefined> {
    try {
      return { size: (await stat(this.pathOf(key))).size, contentType: undefined };
    } catch {
      return undefined;
    }
  }

  read(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  /** A folder keeps no content type: the static route derives it from the file's extension. */
  async write(key: string, bytes: Buffer, _contentType?: string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    // Through a temporary name, so a reader never sees half a file.
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  }

  publicUrl(key: string): string {
    return `${this.publicPath}/${key}`;
  }

  /** Served by the app itself: nothing beyond 'self'. */
  async browserOrigins(): Promise<{ images: string[]; uploads: string[] }> {
    return { images: [], uploads: [] };
  }

  async close(): Promise<void> {}

  private pathOf(key: string): string {
    if (!isSafeKey(key)) throw new Error(`unsafe file key ${JSON.stringify(key)}`);
    const path = join(this.dir, ...key.split("/"));
    if (!path.startsWith(this.dir + sep)) throw new Error(`file key escapes the folder: ${key}`);
    return path;
  }

  private sign(key: string, contentType: string, size: number, expires: number): string {
    return createHmac("sha256", this.secret)
      .update(`${key}\n${contentType}\n${size}\n${expires}`)
      .digest("base64url");
  }
}
