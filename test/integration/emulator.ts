/**
 * What the integration suite needs before it may deploy, and what it learns about the emulator:
 * the Pulumi CLI and the provider plugins the stack uses (which cannot be downloaded without
 * internet), and an AWS emulator answering at AWS_ENDPOINT_URL, whose flavor (moto, LocalStack
 * with a paid plan or LocalStack's free plan) decides which tiers the stack deploys.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CloudFrontClient, ListDistributionsCommand } from "@aws-sdk/client-cloudfront";
import { DescribeReplicationGroupsCommand, ElastiCacheClient } from "@aws-sdk/client-elasticache";
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { ECSClient, ListClustersCommand } from "@aws-sdk/client-ecs";
import { GetPolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import { DescribeDBInstancesCommand, RDSClient } from "@aws-sdk/client-rds";
import type { EmulatorFlavor } from "../../stacks/config";

export const PROJECT_ROOT = join(__dirname, "..", "..");
/** LocalStack's port; scripts/emulator.sh serves moto there too, so one default fits both. */
export const DEFAULT_ENDPOINT = "http://localhost:4566";
/** Which emulator to expect (`EMULATOR=moto|localstack`); unset: whichever answers. */
const EMULATORS = ["moto", "localstack"] as const;
type Emulator = (typeof EMULATORS)[number];
/** The stack's resources come from these provider packages; each needs its plugin installed. */
const PROVIDER_PACKAGES = ["aws", "random"] as const;
/**
 * How long one probe may wait for an answer. A closed port fails at once, so this only bounds an
 * emulator that accepted the connection and hangs; a busy shared machine can take tens of seconds
 * to answer its first request (moto loads its managed IAM policies lazily), so the limit is
 * generous: readiness decides, not a tight clock.
 */
const PROBE_TIMEOUT_MS = 120_000;
/** The ECS execution role attaches this AWS-managed policy, which moto loads only when asked. */
const ECS_EXECUTION_POLICY_ARN =
  "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

/**
 * Ready, or why not: a prerequisite missing (the CLI, plugins, an emulator), or an emulator that
 * answers but cannot host the stack (`unsupported`), which no setup here can fix.
 */
export type Preflight =
  | { ready: false; reason: string; unsupported?: true }
  | { ready: true; endpoint: string; flavor: EmulatorFlavor };

/** The emulator's endpoint, credentials and path-style S3, for AWS SDK v3 clients. */
export function clientConfig(endpoint: string, region: string) {
  return {
    endpoint,
    region,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    forcePathStyle: true,
  };
}

/** Everything the suite needs, in order; the first thing missing is the reason to skip. */
export async function preflight(env: NodeJS.ProcessEnv = process.env): Promise<Preflight> {
  const cli = pulumi(["version"]);
  if (!cli.ok) {
    return notReady(
      `the Pulumi CLI is not on PATH (\`pulumi version\`: ${cli.output}); install it to deploy the localstack stack`,
    );
  }
  const missing = missingPlugins();
  if (missing.length > 0) {
    const commands = missing.map(
      ({ name, version }) => `pulumi plugin install resource ${name} ${version}`,
    );
    return notReady(
      `the stack's Pulumi provider plugins are not installed (the suite downloads nothing): ${commands.join("; ")}`,
    );
  }
  return checkEmulator(env.AWS_ENDPOINT_URL ?? DEFAULT_ENDPOINT, env.EMULATOR);
}

/**
 * Whether an emulator the stack can use answers at `endpoint`, and its flavor.
 * @param expected `moto` or `localstack` when the caller knows which one should answer
 */
export async function checkEmulator(endpoint: string, expected?: string): Promise<Preflight> {
  if (expected !== undefined && !(EMULATORS as readonly string[]).includes(expected)) {
    return notReady(`EMULATOR=${expected} is neither ${EMULATORS.join(" nor ")}`);
  }
  const answering = await identify(endpoint);
  if (answering === undefined) {
    return notReady(
      `no AWS emulator answers at ${endpoint} (AWS_ENDPOINT_URL); start one with \`scripts/emulator.sh start moto\` (or localstack)`,
    );
  }
  if (expected !== undefined && expected !== answering) {
    return notReady(`EMULATOR=${expected}, but ${answering} answers at ${endpoint}`);
  }
  if (answering === "moto") {
    const problem = await motoProblem(endpoint);
    if (problem === undefined) return { ready: true, endpoint, flavor: "moto" };
    return notReady(problem.missing);
  }
  const plan = await localStackPlan(endpoint);
  return "reason" in plan
    ? { ready: false, reason: plan.reason, unsupported: true }
    : { ready: true, endpoint, flavor: plan.flavor };
}

function notReady(reason: string): Preflight {
  return { ready: false, reason };
}

function pulumi(args: string[]): { ok: boolean; output: string } {
  const result = spawnSync("pulumi", args, { encoding: "utf8", timeout: 60_000 });
  if (result.error) return { ok: false, output: result.error.message };
  const output = `${result.stdout}${result.stderr}`.trim();
  return { ok: result.status === 0, output };
}

/** The provider plugins the stack needs (at its packages' versions) that `pulumi plugin ls` lacks. */
function missingPlugins(): Array<{ name: string; version: string }> {
  const listed = pulumi(["plugin", "ls", "--json"]);
  const installed = listed.ok
    ? (JSON.parse(listed.output || "[]") as Array<{ name: string; kind: string; version: string }>)
    : [];
  return PROVIDER_PACKAGES.map((name) => {
    const { version } = JSON.parse(
      readFileSync(join(PROJECT_ROOT, "node_modules", "@pulumi", name, "package.json"), "utf8"),
    ) as { version: string };
    return { name, version };
  }).filter(
    ({ name, version }) =>
      !installed.some(
        (plugin) =>
          plugin.kind === "resource" && plugin.name === name && plugin.version === version,
      ),
  );
}

/** Which emulator answers at the endpoint, by the admin API each has; undefined when none does. */
async function identify(endpoint: string): Promise<Emulator | undefined> {
  if (await answers(`${endpoint}/_localstack/health`)) return "localstack";
  if (await answers(`${endpoint}/moto-api/data.json`)) return "moto";
  return undefined;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * What this moto lacks at its start, or undefined when the stack can use it. (What moto cannot
 * host at all, the cache tier, the stack leaves out by itself on flavor moto: cacheSkippedReason.)
 */
async function motoProblem(endpoint: string): Promise<{ missing: string } | undefined> {
  const config = clientConfig(endpoint, "us-east-1");
  const iam = new IAMClient(config);
  try {
    const policy = await iam
      .send(new GetPolicyCommand({ PolicyArn: ECS_EXECUTION_POLICY_ARN }))
      .then(
        () => true,
        () => false,
      );
    if (!policy) {
      return {
        missing: `moto at ${endpoint} has no AWS-managed IAM policies, which the ECS execution role attaches; start it with MOTO_IAM_LOAD_MANAGED_POLICIES=true (scripts/emulator.sh start moto does)`,
      };
    }
    return undefined;
  } finally {
    iam.destroy();
  }
}

/**
 * LocalStack's plan, from whether the paid APIs the stack calls answer: all of them (a paid plan:
 * `localstack`), none (the free plan: `localstack-free`), or some, which the stack cannot use.
 */
async function localStackPlan(
  endpoint: string,
): Promise<{ flavor: EmulatorFlavor } | { reason: string }> {
  const config = clientConfig(endpoint, "us-east-1");
  const clients = {
    ECS: new ECSClient(config),
    ELBv2: new ElasticLoadBalancingV2Client(config),
    RDS: new RDSClient(config),
    ElastiCache: new ElastiCacheClient(config),
    CloudFront: new CloudFrontClient(config),
  };
  const probes: Record<keyof typeof clients, () => Promise<unknown>> = {
    ECS: () => clients.ECS.send(new ListClustersCommand({})),
    ELBv2: () => clients.ELBv2.send(new DescribeLoadBalancersCommand({})),
    RDS: () => clients.RDS.send(new DescribeDBInstancesCommand({})),
    ElastiCache: () => clients.ElastiCache.send(new DescribeReplicationGroupsCommand({})),
    CloudFront: () => clients.CloudFront.send(new ListDistributionsCommand({})),
  };
  const results = await Promise.all(
    Object.entries(probes).map(([service, probe]) =>
      probe().then(
        () => [service, true] as const,
        () => [service, false] as const,
      ),
    ),
  );
  Object.values(clients).forEach((client) => client.destroy());
  const served = results.filter(([, ok]) => ok).map(([service]) => service);
  const lacking = results.filter(([, ok]) => !ok).map(([service]) => service);
  if (lacking.length === 0) return { flavor: "localstack" };
  if (served.length === 0) return { flavor: "localstack-free" };
  return {
    reason: `LocalStack at ${endpoint} serves ${served.join(", ")} but not ${lacking.join(", ")}; the stack's tiers need all of them (a paid plan) or none (the free plan)`,
  };
}
