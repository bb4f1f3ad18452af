/**
 * `npm run diagram -- --stack <name> [--config JSON] [--out FILE]`
 *
 * Writes an SVG of the stack's architecture, read from its synth (the same evaluation as
 * `npm run synth`) and laid out by ELK, to FILE (default: stdout).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseConfigOverrides, synthesize } from "../synth";
import { drawArchitecture } from "./draw";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      config: { type: "string" },
      out: { type: "string" },
    },
    strict: true,
  });
  if (!values.stack) {
    console.error(
      "usage: npm run diagram -- --stack <dev|prod|localstack> [--config JSON] [--out FILE]",
    );
    return 2;
  }
  const svg = await drawArchitecture(
    await synthesize(values.stack, parseConfigOverrides(values.config)),
  );
  if (values.out) writeFileSync(values.out, svg);
  else process.stdout.write(svg);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
