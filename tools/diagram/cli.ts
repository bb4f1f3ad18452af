/**
 * `npm run diagram -- --stack <name> [--config JSON] [--out FILE]`
 *
 * Writes an SVG of the stack's architecture, read from its synth (the same evaluation as
 * `npm run synth`) and laid out by ELK, to FILE (default: stdout).
 */
import { runStackTool } from "../cli";
import { drawArchitecture } from "./draw";

runStackTool(
  "usage: npm run diagram -- --stack <dev|prod|localstack> [--config JSON] [--out FILE]",
  [],
  async (synth) => ({ text: await drawArchitecture(synth) }),
);
