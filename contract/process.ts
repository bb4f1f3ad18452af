/**
 * The app as a process: its roles and the command of each, its health paths and what each means,
 * how many jobs a worker runs at once, and the shutdown deadlines that must nest inside ECS's.
 */

/** What a task runs. `all` (web + worker loop in one process): local development, and stacks without a queue (`workers.mode` inProcess). */
export const TASK_ROLES = ["web", "worker"] as const;
export type TaskRole = (typeof TASK_ROLES)[number];
export const PROCESS_ROLES = [...TASK_ROLES, "all"] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];
/** The role of `main.ts` run with no argument (npm start, local development). */
export const DEFAULT_PROCESS_ROLE: ProcessRole = "all";

/**
 * The container command per role: the image's entrypoint is `node dist/app/src/main.js`, and its
 * argument is the role.
 */
export const COMMANDS: { readonly [R in ProcessRole]: readonly [R] } = {
  web: ["web"],
  worker: ["worker"],
  // A web task that runs the jobs too, with the in-process queue (stacks without a queue).
  all: ["all"],
};

/**
 * The deploy step, run once before the tasks of a new version start (a one-off task), with the
 * master credential: applies the migrations, then creates DATABASE_APP_USER and grants it row
 * access only. Idempotent. The web and worker tasks run as that role and only verify the schema.
 */
export const MIGRATE_COMMAND = ["migrate"] as const;

/**
 * What a health endpoint may check: this region's own tiers, never the writer (which may be in
 * the other region, or failing over), so no checker's verdict depends on the other region.
 */
export type HealthDependency = "regionReader" | "regionCache";

export interface HealthEndpoint {
  readonly path: string;
  readonly meaning: string;
  readonly dependsOn: readonly HealthDependency[];
}

/** The app's health endpoints. */
export const HEALTH = {
  liveness: {
    path: "/healthz",
    meaning: "the process answers; no dependency is checked",
    dependsOn: [],
  },
  readiness: {
    path: "/readyz",
    dependsOn: ["regionReader", "regionCache"],
    meaning:
      "what this region serves answers: its database reader (its replica, or the writer when it has none) and, when configured, its cache; never the writer in another region",
  },
} as const satisfies Record<string, HealthEndpoint>;

/**
 * The routes that check or create a password: each costs a deliberately slow hash, so besides the
 * app's own limits the load balancers' web ACLs rate-limit them per client IP (components/webAcl.ts).
 */
export const CREDENTIAL_ROUTES = {
  signIn: { method: "POST", path: "/sessions" },
  signUp: { method: "POST", path: "/users" },
} as const;

/**
 * Which health endpoint each checker uses, and why (the stack config's defaults follow it):
 * - the load balancer takes a task out of rotation while it cannot serve (readiness);
 * - Route53 fails a whole region over only when its tasks are down (liveness). Readiness is
 *   regional too (it never checks the writer, which lives in one region), so a writer outage
 *   fails neither region's checks whichever path DNS uses.
 */
export const HEALTH_CHECKERS = {
  loadBalancer: HEALTH.readiness,
  dnsFailover: HEALTH.liveness,
} as const;

/**
 * Jobs one worker process runs at once: one receive of up to SQS's largest batch, run side by side
 * (a job mostly waits on S3 and the database). Backlog-per-task scaling divides by it.
 */
export const WORKER_CONCURRENCY = 10;

/** Fargate's upper limit for a container's stop timeout (SIGTERM to SIGKILL). */
export const MAX_STOP_TIMEOUT_SECONDS = 120;
/** What the app keeps between its own forced exit and ECS's SIGKILL (flushing logs, closing pools). */
export const EXIT_MARGIN_SECONDS = 5;
/** What a stopping worker gets beyond the job timeout to finish the job in hand. */
export const JOB_SHUTDOWN_MARGIN_SECONDS = 10;

/** When a stopping task must be gone, in seconds after it is told to stop. */
export interface ShutdownDeadlines {
  /** The app force-exits this long after SIGTERM (SHUTDOWN_DEADLINE_SECONDS). */
  appSeconds: number;
  /** ECS sends SIGKILL this long after SIGTERM (the container's stopTimeout). */
  stopTimeoutSeconds: number;
}

/**
 * The web tier: in-flight requests get the load balancer's deregistration delay to finish, and the
 * app exits before that delay ends and before ECS's stop timeout.
 */
export const WEB_SHUTDOWN = {
  /** The target group's deregistration delay: how long a leaving task's requests may run. */
  drainSeconds: 30,
  stopTimeoutSeconds: 30,
  appSeconds: 30 - EXIT_MARGIN_SECONDS,
} as const satisfies ShutdownDeadlines & { drainSeconds: number };

/**
 * A worker may finish the jobs in hand (each at most `jobTimeoutSeconds`), within Fargate's limit;
 * the app exits `EXIT_MARGIN_SECONDS` before ECS kills it.
 */
export function workerShutdown(jobTimeoutSeconds: number): ShutdownDeadlines {
  const stopTimeoutSeconds = Math.min(
    MAX_STOP_TIMEOUT_SECONDS,
    jobTimeoutSeconds + JOB_SHUTDOWN_MARGIN_SECONDS,
  );
  return { stopTimeoutSeconds, appSeconds: stopTimeoutSeconds - EXIT_MARGIN_SECONDS };
}
