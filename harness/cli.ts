/**
 * `npm run synth -- --stack <dev|prod|localstack> [--out FILE] [--config JSON]`
 *
 * Prints (or writes to FILE) the program's resources and outputs under Pulumi's mocks as JSON.
 * `--config` deep-merges raw project config over the stack file (tests use it for bad config).
 * `--mark-calls-in REGION` marks what that region's data sources answer (harness/mocks.ts).
 * Exits 1, with the problem on stderr, when the program fails (for example invalid config).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { synthInProcess } from "./synth";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      out: { type: "string" },
      config: { type: "string" },
      "mark-calls-in": { type: "string" },
    },
    strict: true,
  });
  if (!values.stack) {
    console.error(
      "usage: npm run synth -- --stack <dev|prod|localstack> [--out FILE] [--config JSON]",
    );
    return 2;
  }
  const overrides = values.config ? (JSON.parse(values.config) as Record<string, unknown>) : {};
  const markCallsIn = values["mark-calls-in"];
  const result = await synthInProcess(
    values.stack,
    overrides,
    markCallsIn === undefined ? {} : { markCallsIn },
  );
  const json = JSON.stringify(result, null, 2);
  if (values.out) writeFileSync(values.out, json);
  else process.stdout.write(`${json}\n`);
  if (result.error !== undefined) {
    console.error(result.error);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
