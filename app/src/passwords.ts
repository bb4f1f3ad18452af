/**
 * Password hashing with scrypt from node:crypto. The stored form names its parameters, so they can
 * be raised later without breaking existing hashes: `scrypt$N$r$p$salt$hash` (base64url).
 *
 * Each hash costs tens of milliseconds of CPU on libuv's thread pool, which file and DNS work
 * share. PasswordHasher runs at most `concurrency` of them at once and queues a bounded number
 * more; beyond that it refuses (503) rather than let a burst of sign-ins starve every other request.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

const KEY_LENGTH = 64;
const DEFAULT_PARAMETERS = { N: 16_384, r: 8, p: 1 };

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, options, (error, key) =>
      error === null ? resolve(key) : reject(error),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = DEFAULT_PARAMETERS;
  const key = await derive(password, salt, { N, r, p });
  return ["scrypt", N, r, p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(password, Buffer.from(salt, "base64url"), {
    N: Number(N),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A hash of nothing anyone knows: verifying against it costs what a real check costs. */
let decoyHash: Promise<string> | undefined;

/**
 * Spends a password check's time when there is no such user, so response times do not tell
 * which emails have accounts.
 */
export async function verifyAgainstDecoy(password: string): Promise<false> {
  decoyHash ??= hashPassword(randomBytes(16).toString("hex"));
  await verifyPassword(password, await decoyHash);
  return false;
}

/** Too many password checks are already running or waiting: the request gets a 503. */
export class PasswordHashingBusyError extends Error {
  constructor() {
    super("too many password checks are in progress");
    this.name = "PasswordHashingBusyError";
  }
}

export interface PasswordHashingOptions {
  /**
   * Hashes computed at once. One per vCPU the task has is plenty; more only queues in libuv.
   * @default 2
   */
  concurrency?: number;
  /**
   * Hashes allowed to wait for a slot; one more is refused with PasswordHashingBusyError.
   * @default 32
   */
  maxWaiting?: number;
}

/** scrypt behind a bounded number of slots (see the file comment). */
export class PasswordHasher {
  readonly concurrency: number;
  readonly maxWaiting: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** The most hashes that ever ran at once (for tests and metrics). */
  peakActive = 0;

  constructor(options: PasswordHashingOptions = {}) {
    this.concurrency = options.concurrency ?? 2;
    this.maxWaiting = options.maxWaiting ?? 32;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new Error(`concurrency: ${this.concurrency} must be a whole number of at least 1`);
    }
    if (!Number.isInteger(this.maxWaiting) || this.maxWaiting < 0) {
      throw new Error(`maxWaiting: ${this.maxWaiting} must be a whole number of at least 0`);
    }
  }

  hash(password: string): Promise<string> {
    return this.inSlot(() => hashPassword(password));
  }

  verify(password: string, stored: string): Promise<boolean> {
    return this.inSlot(() => verifyPassword(password, stored));
  }

  verifyAgainstDecoy(password: string): Promise<false> {
    return this.inSlot(() => verifyAgainstDecoy(password));
  }

  private async inSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw new PasswordHashingBusyError();
      // The finishing hash hands its slot over: `active` stays as it is.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    this.peakActive = Math.max(this.peakActive, this.active);
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.active -= 1;
      else next();
    }
  }
}
