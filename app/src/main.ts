/**
 * The process entry point: `main.ts [web|worker|all]` (default all), or `main.ts migrate` (the
 * deploy step that applies migrations and the app role's grants). Reads and validates the
 * environment once (a bad variable stops the process with a message naming it), builds the tiers
 * and the app, serves on PORT, and shuts down cleanly on SIGTERM/SIGINT as ECS expects, within
 * SHUTDOWN_DEADLINE_SECONDS.
 */
import { hostname } from "node:os";
import { MIGRATE_COMMAND } from "../../contract";
import { buildApp } from "./app";
import { checkRole, ConfigError, loadConfig, loadMigrateConfig, parseRole } from "./config";
import { createLogger } from "./logger";
import { runMigrateCommand } from "./migrateCommand";
import { createTiers } from "./tiers";

/** A bad environment stops the process with exit code 2 and a message naming the variable. */
function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(2);
  }
  throw error;
}

/** `main.ts migrate`: apply migrations and the app role's grants with the master credential. */
async function migrateCommand(): Promise<void> {
  let config;
  let migrateConfig;
  try {
    config = loadConfig(process.env);
    migrateConfig = loadMigrateConfig(process.env);
  } catch (error) {
    exitOnConfigError(error);
  }
  const logger = createLogger(config.logLevel, undefined, {
    role: "migrate",
    region: config.region,
  });
  await runMigrateCommand(config, migrateConfig, logger).catch(exitOnConfigError);
}

async function main(): Promise<void> {
  if (process.argv[2] === MIGRATE_COMMAND[0]) return migrateCommand();
  let role;
  let config;
  try {
    role = parseRole(process.argv[2]);
    config = loadConfig(process.env);
    checkRole(role, config);
  } catch (error) {
    exitOnConfigError(error);
  }

  const identity = { region: config.region, instance: hostname() };
  const logger = createLogger(config.logLevel, undefined, { role, ...identity });
  logger.info(
    {
      database: config.database.kind,
      cache: config.redis === undefined ? "memory" : "redis",
      queue: config.queueUrl === undefined ? "memory" : "sqs",
      files: config.files.kind,
    },
    "starting",
  );

  const tiers = await createTiers(config, logger);
  const app = await buildApp({
    tiers,
    logger,
    role,
    identity,
    settings: {
      metricsNamespace: config.metricsNamespace,
      trustedProxies: config.trustedProxies,
      rateLimits: config.rateLimits,
      ...(config.cookieSecrets === undefined ? {} : { cookieSecrets: config.cookieSecrets }),
      // The embedded database is the app's own; on the full stack the migrate step owns the schema.
      migrations: config.database.kind === "pglite" ? "on-start" : config.database.migrations,
    },
  });

  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "shutting down: finishing in-flight work");
    // If a clean shutdown hangs (a stuck connection, a job past its time), exit anyway before
    // ECS's SIGKILL: the stack sets the deadline per role (SHUTDOWN_DEADLINE_SECONDS).
    setTimeout(() => {
      logger.error(
        { deadlineSeconds: config.shutdownDeadlineSeconds },
        "shutdown took too long; exiting",
      );
      process.exit(1);
    }, config.shutdownDeadlineSeconds * 1_000).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);

  if (role === "worker") {
    await app.ready();
  } else {
    await app.listen({ port: config.port, host: "0.0.0.0" });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
