/**
 * The synth harness as tests use it: `await synth("prod")` evaluates the real program under
 * Pulumi's mocks in a child process (one stack per process) and returns its resources and outputs.
 * Results are memoised per process, so a test file pays for each stack once.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  ConfigOverrides,
  RecordedCall,
  SynthOptions,
  SynthResource,
  SynthResult,
} from "./synth";
import { PROJECT_ROOT } from "./synth";

export type { RecordedCall, SynthResource, SynthResult } from "./synth";

const cache = new Map<string, Promise<Synth>>();

export function synth(
  stack: string,
  overrides: ConfigOverrides = {},
  options: SynthOptions = {},
): Promise<Synth> {
  const key = JSON.stringify([stack, overrides, options]);
  let result = cache.get(key);
  if (!result) {
    result = runSynth(stack, overrides, options);
    cache.set(key, result);
  }
  return result;
}

async function runSynth(
  stack: string,
  overrides: ConfigOverrides,
  options: SynthOptions,
): Promise<Synth> {
  const dir = mkdtempSync(join(tmpdir(), "synth-"));
  const out = join(dir, "synth.json");
  try {
    const stderr = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          join(PROJECT_ROOT, "harness/cli.ts"),
          "--stack",
          stack,
          "--out",
          out,
          "--config",
          JSON.stringify(overrides),
          ...(options.markCallsIn ? ["--mark-calls-in", options.markCallsIn] : []),
        ],
        { cwd: PROJECT_ROOT, stdio: ["ignore", "ignore", "pipe"] },
      );
      let text = "";
      child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0 || code === 1
          ? resolve(text)
          : reject(new Error(`synth of ${stack} crashed (exit ${code}):\n${text}`)),
      );
    });
    // Exit 1 without a result: the program never finished (the hook that reports a service never
    // started, for one), and what it printed is the reason.
    if (!existsSync(out)) throw new Error(`synth of ${stack} wrote no result:\n${stderr}`);
    const result = JSON.parse(readFileSync(out, "utf8")) as SynthResult;
    if (result.error === undefined && stderr.trim() !== "") {
      // Warnings the program logs are part of the result (tests may assert there are none).
      return new Synth({ ...result, warnings: stderr });
    }
    return new Synth(result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A synthesized stack with the lookups tests need. */
export class Synth {
  readonly project: string;
  readonly stack: string;
  readonly resources: readonly SynthResource[];
  readonly outputs: Record<string, unknown>;
  /** Every data source call (invoke) the program made, with its provider's region. */
  readonly calls: readonly RecordedCall[];
  readonly error: string | undefined;
  readonly warnings: string;

  constructor(result: SynthResult & { warnings?: string }) {
    this.project = result.project;
    this.stack = result.stack;
    this.resources = result.resources;
    this.outputs = result.outputs;
    this.calls = result.calls ?? [];
    this.error = result.error;
    this.warnings = result.warnings ?? "";
  }

  /** Resources of one type (`aws:rds/instance:Instance`), optionally in one region. */
  ofType(type: string, region?: string): SynthResource[] {
    return this.resources.filter(
      (r) => r.type === type && (region === undefined || r.region === region),
    );
  }

  /** The one resource with this logical name (and type); throws when there is not exactly one. */
  named(name: string, type?: string): SynthResource {
    const found = this.resources.filter(
      (r) => r.name === name && (type === undefined || r.type === type),
    );
    if (found.length !== 1) {
      throw new Error(
        `expected one resource named ${name}${type ? ` of type ${type}` : ""}, found ${found.length}`,
      );
    }
    return found[0]!;
  }

  /** Children (direct) of the resource with this URN. */
  childrenOf(urn: string): SynthResource[] {
    return this.resources.filter((r) => r.parent === urn);
  }

  /** Every resource below the component with this name, at any depth. */
  descendantsOf(name: string): SynthResource[] {
    const root = this.resources.find((r) => r.name === name && !r.type.startsWith("aws:"));
    if (!root) throw new Error(`no component named ${name}`);
    const below: SynthResource[] = [];
    const visit = (urn: string) => {
      for (const child of this.childrenOf(urn)) {
        below.push(child);
        visit(child.urn);
      }
    };
    visit(root.urn);
    return below;
  }
}
