/**
 * Loaded with `--import` into a measured process: on exit it writes the process's peak resident
 * memory and CPU time to the file named by BENCH_USAGE_FILE (no /usr/bin/time needed).
 */
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_USAGE_FILE;
if (file !== undefined) {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    writeFileSync(
      file,
      JSON.stringify({
        maxRssKiB: usage.maxRSS,
        userCpuMs: usage.userCPUTime / 1000,
        systemCpuMs: usage.systemCPUTime / 1000,
      }),
    );
  });
}
