/**
 * The process entry point: `main.ts [web|worker|all]` (default all). Reads and validates the
 * environment once (a bad variable stops the process with a message naming it), builds the tiers
 * and the app, serves on PORT, and shuts down cleanly on SIGTERM/SIGINT as ECS expects, within
 * SHUTDOWN_DEADLINE_SECONDS.
 */
import { hostname } from "node:os";
import { buildApp } from "./app";
import { checkRole, ConfigError, loadConfig, parseRole } from "./config";
import { createLogger } from "./logger";
import { createTiers } from "./tiers";

async function main(): Promise<void> {
  let role;
  let config;
  try {
    role = parseRole(process.argv[2]);
    config = loadConfig(process.env);
    checkRole(role, config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
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
