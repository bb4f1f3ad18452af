/**
 * The real services the app benchmarks run against (scripts/services.sh: Postgres primary and
 * streaming replica, Redis, moto, all on loopback), and a scratch space of this run's own in them:
 * a schema, a Redis database, queues and a bucket, removed at the end. Services that were already
 * running (other people's tests may use them) are left running; those this run started, it stops.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Redis } from "ioredis";
import pg from "pg";
import { parsePostgresUrl } from "../../app/src/config";
import { createLogger } from "../../app/src/logger";
import { migrate } from "../../app/src/migrations";
import { migrationsDir } from "../../app/src/paths";
import { openPostgres } from "../../app/src/tiers/postgres";
import { removeBucket } from "../../scripts/removeBucket";
import { PrerequisiteError } from "./errors";
import { REPO_ROOT } from "./processes";

const SERVICES_SH = join(REPO_ROOT, "scripts", "services.sh");
const ENV_FILE = join(REPO_ROOT, ".services", "env");
const SERVICES = ["postgres", "replica", "shard1", "shard2", "redis", "moto"] as const;
/** The region the app and the AWS clients are told they are in (moto accepts any). */
export const BENCH_REGION = "us-east-1";
/** A Redis database of the benchmarks' own, so their keys never meet a test's `cache:user:1`. */
const REDIS_DB = 9;

const HOW_TO_SET_UP =
  "set up the services first (README, Local services): bash scripts/install-services.sh (as root), then bash scripts/services.sh start";

export interface ServiceUrls {
  databaseUrl: string;
  replicaUrl: string;
  /** Redis, in the benchmarks' own database. */
  redisUrl: string;
  awsEndpoint: string;
}

function services(command: string, ...names: string[]): string {
  const result = spawnSync("bash", [SERVICES_SH, command, ...names], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  if (result.status !== 0) {
    throw new PrerequisiteError(
      `${["scripts/services.sh", command, ...names].join(" ")} failed:\n${result.stderr}${result.stdout}\n${HOW_TO_SET_UP}`,
    );
  }
  return result.stdout;
}

function readEnvFile(): Record<string, string> {
  if (!existsSync(ENV_FILE)) {
    throw new PrerequisiteError(`${ENV_FILE} is missing; ${HOW_TO_SET_UP}`);
  }
  const values: Record<string, string> = {};
  for (const line of readFileSync(ENV_FILE, "utf8").split("\n")) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match !== null) values[match[1]!] = match[2]!;
  }
  return values;
}

export class Services {
  private constructor(
    readonly urls: ServiceUrls,
    /** The services this run started and so stops again. */
    readonly startedHere: readonly string[],
  ) {}

  /** Starts whichever services are not running (and writes .services/env), then reads their URLs. */
  static start(log: (message: string) => void): Services {
    const status = services("status");
    const stopped = SERVICES.filter((name) => new RegExp(`^${name}\\s+stopped`, "m").test(status));
    if (stopped.length > 0) log(`starting services: ${stopped.join(", ")}`);
    try {
      services("start");
    } catch (error) {
      // Whatever did start before the failure is stopped again; the error says what failed.
      for (const name of [...stopped].reverse()) {
        spawnSync("bash", [SERVICES_SH, "stop", name], { cwd: REPO_ROOT, stdio: "ignore" });
      }
      throw error;
    }
    const env = readEnvFile();
    const read = (name: string) => {
      const value = env[name];
      if (value === undefined) {
        throw new PrerequisiteError(`${ENV_FILE} has no ${name}; ${HOW_TO_SET_UP}`);
      }
      return value;
    };
    const redis = new URL(read("TEST_REDIS_URL"));
    redis.pathname = `/${REDIS_DB}`;
    return new Services(
      {
        databaseUrl: read("TEST_DATABASE_URL"),
        replicaUrl: read("TEST_DATABASE_READ_URLS").split(",")[0]!,
        redisUrl: redis.toString(),
        awsEndpoint: read("TEST_AWS_ENDPOINT_URL"),
      },
      stopped,
    );
  }

  /** Stops what this run started, in reverse order; leaves everything else as it found it. */
  stop(log: (message: string) => void): void {
    if (this.startedHere.length === 0) return;
    log(`stopping the services this run started: ${this.startedHere.join(", ")}`);
    for (const name of [...this.startedHere].reverse()) services("stop", name);
  }

  /** moto accepts any credentials; real ones are never needed, or used. */
  awsClientConfig() {
    return {
      region: BENCH_REGION,
      endpoint: this.urls.awsEndpoint,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    };
  }
}

/** Versions of the services, for the machine description. */
export async function serviceVersions(urls: ServiceUrls): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: urls.databaseUrl });
  await client.connect();
  const postgres = (await client.query<{ server_version: string }>("SHOW server_version")).rows[0]!;
  await client.end();
  const redis = new Redis(urls.redisUrl, { lazyConnect: true });
  await redis.connect();
  const info = await redis.info("server");
  redis.disconnect();
  const moto = spawnSync(
    "python3",
    ["-c", "import importlib.metadata as m; print(m.version('moto'))"],
    {
      encoding: "utf8",
    },
  );
  return {
    postgres: postgres.server_version,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown",
    moto: moto.status === 0 ? moto.stdout.trim() : "unknown",
  };
}

/**
 * This run's own space in the services: a schema (with the app's migrations applied), a Redis
 * database emptied before and after, and the queues and bucket it creates. `remove` undoes it all.
 */
export class Scratch {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  private readonly queueUrls: string[] = [];
  private readonly buckets: string[] = [];

  private constructor(
    private readonly services: Services,
    readonly schema: string,
  ) {
    this.sqs = new SQSClient(services.awsClientConfig());
    this.s3 = new S3Client({ ...services.awsClientConfig(), forcePathStyle: true });
  }

  static async create(services: Services): Promise<Scratch> {
    const schema = `bench_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: services.urls.databaseUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const scratch = new Scratch(services, schema);
    try {
      await scratch.flushRedis();
      const db = scratch.openDatabase();
      await migrate(db, migrationsDir(), createLogger("silent")).finally(() => db.close());
    } catch (error) {
      await scratch.remove();
      throw error;
    }
    return scratch;
  }

  get urls(): ServiceUrls {
    return this.services.urls;
  }

  /** The URL with every session's search_path set to this run's schema. */
  scoped(url: string): string {
    const scoped = new URL(url);
    scoped.searchParams.set("options", `-c search_path=${this.schema}`);
    return scoped.toString();
  }

  /** The app's own Postgres tier on this run's schema (writer and replica). */
  openDatabase() {
    return openPostgres({
      writer: parsePostgresUrl("writer", this.scoped(this.urls.databaseUrl), undefined),
      readers: [parsePostgresUrl("reader", this.scoped(this.urls.replicaUrl), undefined)],
      logger: createLogger("silent"),
    });
  }

  async createQueue(role: string): Promise<string> {
    const created = await this.sqs.send(
      new CreateQueueCommand({
        QueueName: `${this.schema}-${role}`.replaceAll("_", "-"),
        // Longer than any job here takes, as in prod (the job timeout plus a margin).
        Attributes: { VisibilityTimeout: "90" },
      }),
    );
    this.queueUrls.push(created.QueueUrl!);
    return created.QueueUrl!;
  }

  async createBucket(): Promise<string> {
    const bucket = `${this.schema}-assets`.replaceAll("_", "-");
    await this.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    this.buckets.push(bucket);
    return bucket;
  }

  async remove(): Promise<void> {
    for (const QueueUrl of this.queueUrls) {
      await this.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
    }
    for (const Bucket of this.buckets) await removeBucket(this.s3, Bucket);
    await this.flushRedis();
    const admin = new pg.Client({ connectionString: this.urls.databaseUrl });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    await admin.end();
    this.sqs.destroy();
    this.s3.destroy();
  }

  private async flushRedis(): Promise<void> {
    const redis = new Redis(this.urls.redisUrl, { lazyConnect: true });
    await redis.connect();
    await redis.flushdb();
    redis.disconnect();
  }
}
