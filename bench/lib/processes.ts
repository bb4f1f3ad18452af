/**
 * Child processes for the benchmarks: every server under test and every load generator runs in
 * a process of its own (never inside the process that measures it), optionally pinned to one CPU
 * with taskset. Every child is tracked, so an interrupted run leaves none behind.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Every child runs from the repository's root, as the app's relative paths expect. */
export const REPO_ROOT = join(__dirname, "..", "..");
/** How much of a child's output is kept for the error message when it fails. */
const OUTPUT_TAIL_CHARS = 20_000;
/** A child that ignores SIGTERM this long gets SIGKILL. */
const STOP_GRACE_MS = 10_000;

export interface ProcessSpec {
  /** For messages: "app (web)", "bare node:http". */
  name: string;
  command: string;
  args: string[];
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Pins the process to this CPU (taskset -c); undefined: the scheduler decides. */
  cpu?: number | undefined;
  /**
   * Called with each complete stdout line (the app's EMF metrics arrive this way); returning true
   * consumes the line, which then is not kept for error messages.
   */
  onStdoutLine?: (line: string) => boolean;
  /** Keeps stdin open for `send` (a request/answer protocol over stdin and stdout). */
  interactive?: boolean;
}

const running = new Set<ChildProcess>();

/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ, fixed by its ABI). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) `pid` has used so far; undefined where /proc is not there. */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** What the benchmarks need of a server under test. */
export interface Server {
  /** Throws with the process's output if it has exited. */
  assertRunning(): void;
  /** CPU seconds used so far (see cpuSecondsOf). */
  cpuSeconds(): number | undefined;
}

export class Child implements Server {
  private tail = "";
  private pendingLine = "";
  private readonly lineWaiters: ((line: string) => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly spec: ProcessSpec,
    readonly process: ChildProcess,
  ) {
    running.add(process);
    this.exited = new Promise<number | null>((resolve) => {
      process.once("exit", resolve);
      // A process that could not be started (no such command) reports an error and no exit.
      process.once("error", (error) => {
        this.append(`${spec.name}: ${error.message}\n`);
        if (process.pid === undefined) resolve(null);
      });
    }).finally(() => running.delete(process));
    process.stdout?.setEncoding("utf8").on("data", (text: string) => this.onStdout(text));
    process.stderr?.setEncoding("utf8").on("data", (text: string) => this.append(text));
  }

  get isRunning(): boolean {
    const { pid, exitCode, signalCode } = this.process;
    return pid !== undefined && exitCode === null && signalCode === null;
  }

  /** The last part of what the process printed, for error messages. */
  output(): string {
    return this.tail;
  }

  cpuSeconds(): number | undefined {
    return cpuSecondsOf(this.process.pid);
  }

  assertRunning(): void {
    if (!this.isRunning) {
      throw new Error(
        `${this.spec.name} exited (code ${this.process.exitCode}, signal ${this.process.signalCode}):\n${this.tail}`,
      );
    }
  }

  /** Sends one line to the process's stdin (interactive processes only). */
  send(line: string): void {
    this.process.stdin?.write(`${line}\n`);
  }

  /** Resolves with the next stdout line (interactive request/answer protocols). */
  nextLine(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.lineWaiters.indexOf(onLine);
        if (index >= 0) this.lineWaiters.splice(index, 1);
        reject(new Error(`${this.spec.name} did not answer within ${timeoutMs} ms:\n${this.tail}`));
      }, timeoutMs);
      const onLine = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.lineWaiters.push(onLine);
      void this.exited.then(() => {
        if (!this.lineWaiters.includes(onLine)) return;
        clearTimeout(timer);
        reject(new Error(`${this.spec.name} exited before answering:\n${this.tail}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (!this.isRunning) return this.exited;
    this.process.kill("SIGTERM");
    const timer = setTimeout(() => this.process.kill("SIGKILL"), STOP_GRACE_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private onStdout(text: string): void {
    const lines = (this.pendingLine + text).split("\n");
    this.pendingLine = lines.pop() ?? "";
    for (const line of lines) {
      if (this.spec.onStdoutLine?.(line) === true) continue;
      const waiter = this.lineWaiters.shift();
      if (waiter !== undefined) waiter(line);
      else this.append(`${line}\n`);
    }
  }

  private append(text: string): void {
    this.tail = (this.tail + text).slice(-OUTPUT_TAIL_CHARS);
  }
}

export function startProcess(spec: ProcessSpec): Child {
  const [command, args] =
    spec.cpu === undefined
      ? [spec.command, spec.args]
      : ["taskset", ["-c", String(spec.cpu), spec.command, ...spec.args]];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...spec.env },
    stdio: [spec.interactive ? "pipe" : "ignore", "pipe", "pipe"],
  });
  return new Child(spec, child);
}

/** A Node child running a TypeScript file of this repository through tsx. */
export function nodeScript(
  file: string,
  args: string[] = [],
): Pick<ProcessSpec, "command" | "args"> {
  return { command: process.execPath, args: ["--import", "tsx", file, ...args] };
}

/** Polls `url` until it answers 200; fails early if the process exits. */
export async function waitForHttp(child: Child, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    child.assertRunning();
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${child.spec.name} did not answer ${url} within ${timeoutMs} ms:\n${child.output()}`,
      );
    }
    await sleep(100);
  }
}

/** Stops every child still running (used on the way out, whatever the outcome). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      child.kill("SIGTERM");
      await Promise.race([once(child, "exit"), sleep(STOP_GRACE_MS)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }),
  );
}

/** Last resort when the parent itself exits: no child may outlive the run. */
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export interface CpuPlan {
  /** Where each server under test runs. */
  server: number | undefined;
  /** Where the load generator runs. */
  load: number | undefined;
  description: string;
}

/**
 * With two CPUs or more and taskset available, the server under test gets the last CPU and the
 * load generator the first, so that one server process is measured on one core (what a 1-vCPU
 * task has) and the two do not trade places under the scheduler. The services float.
 */
export function planCpus(): CpuPlan {
  const cpus = availableParallelism();
  const hasTaskset = spawnSync("taskset", ["--version"], { stdio: "ignore" }).status === 0;
  if (cpus < 2 || !hasTaskset) {
    return {
      server: undefined,
      load: undefined,
      description: `not pinned (${cpus < 2 ? "one CPU" : "taskset not found"}): server and load generator share the CPUs`,
    };
  }
  const server = cpus - 1;
  return {
    server,
    load: 0,
    description: `server under test pinned to CPU ${server}, load generator to CPU 0 (taskset); Postgres, Redis and moto float`,
  };
}
