/**
 * The load generator, run as a child process (`loadgen.ts '<LoadSpec JSON>'`): one autocannon run
 * of fixed duration and connection count against 127.0.0.1, printed as one LoadResult JSON line.
 * Latencies are kept per response at full precision (autocannon's own histogram has 1 ms steps,
 * too coarse for a 5 ms p99 goal).
 */
import autocannon from "autocannon";
import { quantile } from "./stats";

export interface LoadSpec {
  /** `http://127.0.0.1:PORT`; nothing else is ever loaded. */
  origin: string;
  /** Request paths, used in turn (one path: the same request every time). */
  paths: string[];
  method?: "GET" | "POST";
  /** May contain `[<id>]`, replaced by a fresh id per request (unique sign-up emails). */
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  /** The measured part of the run. */
  durationSeconds: number;
  /**
   * An unmeasured lead-in: every connection starts at once, so the first responses queue behind
   * each other; counting starts once that has settled.
   */
  settleSeconds: number;
}

export interface LoadResult {
  /** Successful (2xx) responses per second. */
  requestsPerSecond: number;
  ok: number;
  /** Over the whole run, lead-in included. */
  non2xx: number;
  errors: number;
  timeouts: number;
  /** The measured part: the run's actual length minus the lead-in. */
  durationSeconds: number;
  /** Over the successful responses. */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** The load generator's own CPU use over the run: near 100 % it may be what limits the rate. */
  loadGeneratorCpuPercent: number;
  /** The server's CPU use over the run (set by the caller, which knows the server's process). */
  serverCpuPercent?: number | undefined;
}

/** A request that takes longer than this counts as a timeout (autocannon's default is 10 s). */
const REQUEST_TIMEOUT_SECONDS = 10;

class Samples {
  private values = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }
}

export function parseLoadSpec(text: string | undefined): LoadSpec {
  const spec = JSON.parse(text ?? "null") as LoadSpec | null;
  if (spec === null || !/^http:\/\/127\.0\.0\.1:\d+$/.test(spec.origin)) {
    throw new Error("usage: loadgen.ts '<LoadSpec JSON>' with origin http://127.0.0.1:PORT");
  }
  if (spec.paths.length === 0) throw new Error("LoadSpec.paths is empty");
  return spec;
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies = new Samples();
  let next = 0;
  let countFrom = Number.POSITIVE_INFINITY;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const paths = spec.paths;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${spec.origin}${paths[0]}`,
        connections: spec.connections,
        duration: spec.settleSeconds + spec.durationSeconds,
        timeout: REQUEST_TIMEOUT_SECONDS,
        method: spec.method ?? "GET",
        ...(spec.body === undefined ? {} : { body: spec.body, idReplacement: true }),
        ...(spec.headers === undefined ? {} : { headers: spec.headers }),
        ...(paths.length > 1
          ? {
              requests: [
                { setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] }) },
              ],
            }
          : {}),
      },
      (error, result) => {
        if (error !== null) {
          reject(error);
          return;
        }
        const sorted = latencies.sorted();
        const sum = sorted.reduce((total, value) => total + value, 0);
        const measuredSeconds = result.duration - spec.settleSeconds;
        const cpu = process.cpuUsage(cpuBefore);
        const cpuPercent = (cpu.user + cpu.system) / 10 / (performance.now() - started);
        resolve({
          requestsPerSecond: latencies.length / measuredSeconds,
          ok: latencies.length,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          durationSeconds: measuredSeconds,
          latencyMs: {
            p50: quantile(sorted, 0.5),
            p90: quantile(sorted, 0.9),
            p99: quantile(sorted, 0.99),
            max: sorted[sorted.length - 1] ?? Number.NaN,
            mean: sum / sorted.length,
          },
          loadGeneratorCpuPercent: cpuPercent,
        });
      },
    );
    countFrom = performance.now() + spec.settleSeconds * 1000;
    instance.on("response", (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
      if (statusCode >= 200 && statusCode < 300 && performance.now() >= countFrom) {
        latencies.push(ms);
      }
    });
  });
}

if (require.main === module) {
  runLoad(parseLoadSpec(process.argv[2])).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`load generator failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}
