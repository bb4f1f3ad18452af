/** Runs one load-generator child (./loadgen.ts) and returns what it measured. */
import { join } from "node:path";
import type { BenchContext } from "./context";
import type { LoadResult, LoadSpec } from "./loadgen";
import { nodeScript, startProcess, type Server } from "./processes";
import { describeLoad, type Contender } from "./rounds";

export type { LoadResult, LoadSpec } from "./loadgen";

const LOADGEN = join(__dirname, "loadgen.ts");
/** Start-up and the last in-flight requests on top of the run's own duration. */
const OVERRUN_MS = 30_000;

export async function generateLoad(spec: LoadSpec, cpu: number | undefined): Promise<LoadResult> {
  const lines: string[] = [];
  const child = startProcess({
    name: "load generator",
    ...nodeScript(LOADGEN, [JSON.stringify(spec)]),
    cpu,
    onStdoutLine: (line) => {
      lines.push(line);
      return true;
    },
  });
  const timer = setTimeout(() => void child.stop(), spec.durationSeconds * 1000 + OVERRUN_MS);
  const code = await child.exited;
  clearTimeout(timer);
  const last = lines.filter((line) => line.trim() !== "").pop();
  if (code !== 0 || last === undefined) {
    throw new Error(`the load generator failed (exit ${code}):\n${child.output()}`);
  }
  return JSON.parse(last) as LoadResult;
}

/**
 * A contender that is an HTTP server already running at `origin`, loaded by a separate process.
 * The server's CPU use over the run is added to the result.
 */
export function httpContender(
  name: string,
  origin: string,
  request: Omit<LoadSpec, "origin" | "durationSeconds" | "settleSeconds">,
  context: BenchContext,
  server: Server,
): Contender<LoadResult> {
  const { settings } = context;
  return {
    name,
    run: async (phase) => {
      const settleSeconds = phase === "warm-up" ? 0 : settings.settleSeconds;
      const cpuBefore = server.cpuSeconds();
      const result = await generateLoad(
        {
          ...request,
          origin,
          settleSeconds,
          durationSeconds: phase === "warm-up" ? settings.warmupSeconds : settings.roundSeconds,
        },
        context.cpus.load,
      );
      server.assertRunning();
      return {
        ...result,
        serverCpuPercent: cpuPercent(server, cpuBefore, settleSeconds + result.durationSeconds),
      };
    },
    describe: describeLoad,
  };
}

/** CPU use of `server` since `before`, over `seconds` of load (it idles while the load starts). */
export function cpuPercent(
  server: Server,
  before: number | undefined,
  seconds: number,
): number | undefined {
  const after = server.cpuSeconds();
  return before === undefined || after === undefined
    ? undefined
    : (100 * (after - before)) / seconds;
}
