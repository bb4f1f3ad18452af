/**
 * 5. Synthesis: wall time and peak memory to evaluate the `prod` program under Pulumi's mocks
 * (the synth harness's CLI, in a process of its own), against two programs under the same mocks
 * and config: one that registers as many trivial resources (the baseline), and one that
 * registers prod's own resources again from its synth record, each of its own SDK class with
 * the same inputs and parent (bench/servers/replayProgram.ts): what Pulumi costs for these very
 * resources. All pay for Node, tsx and @pulumi/pulumi; beyond the replay, the cost is the program's.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Benchmark } from "../lib/context";
import { REPO_ROOT, startProcess } from "../lib/processes";
import { runRounds, type Contender } from "../lib/rounds";
import { summarize, type Summary } from "../lib/stats";

const USAGE_HOOK = pathToFileURL(join(__dirname, "..", "servers", "usageHook.ts")).href;
const PROGRAMS = {
  prod: [join(REPO_ROOT, "harness", "cli.ts"), "--stack", "prod"],
  empty: [join(__dirname, "..", "servers", "emptyProgram.ts")],
  replay: [join(__dirname, "..", "servers", "replayProgram.ts")],
};
const RUN_TIMEOUT_MS = 120_000;
/** Target (issue 17): prod within twice the empty program's wall time. */
export const SYNTHESIS_GOAL = 2;

export interface SynthesisRun {
  wallMs: number;
  maxRssMiB: number;
  cpuMs: number;
  resources: number;
  /** Resources with a physical id (custom resources and providers); the rest are components. */
  customResources: number;
}

export interface ProgramSummary {
  wallMs: Summary;
  maxRssMiB: Summary;
  cpuMs: Summary;
  resources: number;
  customResources: number;
  runs: SynthesisRun[];
}

export interface SynthesisData {
  prod: ProgramSummary;
  empty: ProgramSummary;
  /** Prod's resources registered again, with none of the program's work (absent before 2026-11-29). */
  replay?: ProgramSummary;
}

async function evaluate(
  program: keyof typeof PROGRAMS,
  extraArgs: string[] = [],
  /** Where to keep the synth record (the replay reads prod's). */
  keepRecordAt?: string,
): Promise<SynthesisRun> {
  const dir = mkdtempSync(join(tmpdir(), "bench-synth-"));
  const out = join(dir, "synth.json");
  const usageFile = join(dir, "usage.json");
  try {
    const started = performance.now();
    const child = startProcess({
      name: `synth (${program})`,
      command: process.execPath,
      args: [
        "--import",
        "tsx",
        "--import",
        USAGE_HOOK,
        ...PROGRAMS[program],
        ...extraArgs,
        "--out",
        out,
      ],
      env: { BENCH_USAGE_FILE: usageFile },
    });
    const timer = setTimeout(() => void child.stop(), RUN_TIMEOUT_MS);
    const code = await child.exited;
    clearTimeout(timer);
    const wallMs = performance.now() - started;
    if (code !== 0) {
      throw new Error(`synth of ${program} failed (exit ${code}):\n${child.output()}`);
    }
    const usage = JSON.parse(readFileSync(usageFile, "utf8")) as {
      maxRssKiB: number;
      userCpuMs: number;
      systemCpuMs: number;
    };
    const { resources } = JSON.parse(readFileSync(out, "utf8")) as {
      resources: { id: string | null }[];
    };
    if (keepRecordAt !== undefined) copyFileSync(out, keepRecordAt);
    return {
      wallMs,
      maxRssMiB: usage.maxRssKiB / 1024,
      cpuMs: usage.userCpuMs + usage.systemCpuMs,
      resources: resources.length,
      customResources: resources.filter((resource) => resource.id !== null).length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarizeProgram(runs: SynthesisRun[]): ProgramSummary {
  return {
    wallMs: summarize(runs.map((run) => run.wallMs)),
    maxRssMiB: summarize(runs.map((run) => run.maxRssMiB)),
    cpuMs: summarize(runs.map((run) => run.cpuMs)),
    resources: runs[0]?.resources ?? 0,
    customResources: runs[0]?.customResources ?? 0,
    runs,
  };
}

export const synthesis: Benchmark<SynthesisData> = {
  id: "synthesis",
  title: "Synthesis: the prod program under mocks vs an empty program",
  usesServices: false,
  async run(context) {
    // Prod's record tells the baselines what to register: as many trivial resources, or the same.
    const recordDir = mkdtempSync(join(tmpdir(), "bench-synth-record-"));
    const record = join(recordDir, "prod.json");
    try {
      const { resources } = await evaluate("prod", [], record);
      const extraArgs = {
        prod: [],
        empty: ["--resources", String(resources)],
        replay: ["--from", record],
      };
      const replayed = await evaluate("replay", extraArgs.replay);
      if (replayed.resources !== resources) {
        throw new Error(`the replay registered ${replayed.resources} resources, prod ${resources}`);
      }
      const contender = (name: keyof typeof PROGRAMS): Contender<SynthesisRun> => ({
        name,
        run: () => evaluate(name, extraArgs[name]),
        describe: (run) => `${Math.round(run.wallMs)} ms, ${Math.round(run.maxRssMiB)} MiB`,
      });
      const rounds = await runRounds(
        [contender("prod"), contender("empty"), contender("replay")],
        context.settings.rounds,
        context.log,
      );
      return {
        prod: summarizeProgram(rounds.prod!),
        empty: summarizeProgram(rounds.empty!),
        replay: summarizeProgram(rounds.replay!),
      };
    } finally {
      rmSync(recordDir, { recursive: true, force: true });
    }
  },
};
