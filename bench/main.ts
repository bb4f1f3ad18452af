/**
 * `npm run bench [-- --only cached-read,workers] [--rounds N] [--seconds S]`
 *
 * Runs the benchmarks one after another (issue 7; BENCHMARKS.md says what each measures), writes
 * bench/results/<id>.json and BENCHMARKS.md. Starts the local services it needs when they are not
 * running (and stops those again), compiles the app as its image does, and removes its scratch
 * schema, queues and bucket at the end. Exits 2 when a prerequisite is missing, 1 when a benchmark
 * fails; never because something was slow.
 */
import { parseArgs } from "node:util";
import { cacheEffect } from "./benchmarks/cacheEffect";
import { cachedRead } from "./benchmarks/cachedRead";
import { capacity } from "./benchmarks/capacity";
import { sharding } from "./benchmarks/sharding";
import { synthesis } from "./benchmarks/synthesis";
import { workers } from "./benchmarks/workers";
import { writePath } from "./benchmarks/writePath";
import { compileApp } from "./lib/app";
import type { AppStack, BenchContext, Benchmark } from "./lib/context";
import { PrerequisiteError } from "./lib/errors";
import { planCpus, stopAll } from "./lib/processes";
import {
  DEFAULT_SETTINGS,
  describeMachine,
  loadAverage,
  writeRecord,
  writeRunRecord,
  type BenchSettings,
} from "./lib/record";
import { Scratch, serviceVersions, Services } from "./lib/services";
import { writeReport } from "./report";

const BENCHMARKS: Benchmark<unknown>[] = [
  cachedRead,
  cacheEffect,
  writePath,
  workers,
  synthesis,
  capacity,
  sharding,
];

function log(message: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const USAGE = "usage: npm run bench [-- --only ID,ID] [--rounds N] [--seconds S]";

function parseOptions() {
  try {
    return parseArgs({
      options: {
        only: { type: "string" },
        rounds: { type: "string" },
        seconds: { type: "string" },
      },
      strict: true,
    }).values;
  } catch (error) {
    throw new PrerequisiteError(
      `${error instanceof Error ? error.message : String(error)}\n${USAGE}`,
    );
  }
}

function options(): { selected: Benchmark<unknown>[]; settings: BenchSettings } {
  const values = parseOptions();
  const ids = values.only?.split(",").map((id) => id.trim()) ?? BENCHMARKS.map((b) => b.id);
  const unknown = ids.filter((id) => !BENCHMARKS.some((b) => b.id === id));
  if (unknown.length > 0) {
    throw new PrerequisiteError(
      `unknown benchmark ${unknown.join(", ")}; choose from ${BENCHMARKS.map((b) => b.id).join(", ")}`,
    );
  }
  const positive = (name: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!Number.isInteger(number) || number < 1) {
      throw new PrerequisiteError(`--${name} must be a whole number of at least 1`);
    }
    return number;
  };
  return {
    selected: BENCHMARKS.filter((b) => ids.includes(b.id)),
    settings: {
      ...DEFAULT_SETTINGS,
      rounds: positive("rounds", values.rounds, DEFAULT_SETTINGS.rounds),
      roundSeconds: positive("seconds", values.seconds, DEFAULT_SETTINGS.roundSeconds),
    },
  };
}

async function main(): Promise<void> {
  const runStarted = Date.now();
  const runId = new Date(runStarted).toISOString();
  const { selected, settings } = options();
  const cpus = planCpus();
  log(`run ${runId}: ${selected.map((b) => b.id).join(", ")}; ${cpus.description}`);

  let services: Services | undefined;
  let scratch: Scratch | undefined;
  let stack: AppStack | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await stopAll();
      await scratch?.remove();
      services?.stop(log);
    })());
  // Ctrl-C: no process, schema, queue or bucket of this run is left behind.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  try {
    let versions: Record<string, string> = {};
    if (selected.some((b) => b.usesServices)) {
      services = Services.start(log);
      versions = await serviceVersions(services.urls);
      log("compiling the app (tsconfig.build.json)");
      compileApp();
    }
    const machine = describeMachine(cpus.description, versions);
    const context: BenchContext = { settings, cpus, log };
    const appStack = async (): Promise<AppStack> => {
      if (services === undefined) throw new Error("services were not started");
      if (stack === undefined) {
        const created = await Scratch.create(services);
        scratch = created;
        log(`scratch space: schema ${created.schema}, its own Redis database, queues and bucket`);
        stack = {
          scratch: created,
          queueUrl: await created.createQueue("web"),
          bucket: await created.createBucket(),
        };
      }
      return stack;
    };

    for (const benchmark of selected) {
      log(`${benchmark.id}: ${benchmark.title}`);
      const started = Date.now();
      const before = loadAverage();
      let data: unknown;
      try {
        data = benchmark.usesServices
          ? await benchmark.run(context, await appStack())
          : await benchmark.run(context);
      } finally {
        await stopAll();
      }
      const file = writeRecord({
        id: benchmark.id,
        title: benchmark.title,
        runId,
        startedAt: new Date(started).toISOString(),
        seconds: Math.round((Date.now() - started) / 100) / 10,
        machine,
        settings,
        loadAverage: { before, after: loadAverage() },
        data,
      });
      log(`${benchmark.id}: done in ${Math.round((Date.now() - started) / 1000)} s, ${file}`);
    }
    writeRunRecord({
      runId,
      benchmarks: selected.map((b) => b.id),
      seconds: Math.round((Date.now() - runStarted) / 1000),
      command: [
        "npm run bench",
        ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : []),
      ].join(" "),
    });
    const report = await writeReport();
    log(`wrote ${report} (run took ${Math.round((Date.now() - runStarted) / 1000)} s)`);
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  if (error instanceof PrerequisiteError) {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
