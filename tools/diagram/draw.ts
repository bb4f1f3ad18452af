/** A synth to an SVG: read the architecture, lay it out, render it. */
import type { SynthResult } from "../synth";
import { layOut } from "./layout";
import { architectureOf } from "./model";
import { renderSvg } from "./svg";

export async function drawArchitecture(synth: SynthResult): Promise<string> {
  const layout = await layOut(architectureOf(synth));
  return renderSvg(layout, `zero-to-millions · stack ${synth.stack} (npm run diagram)`);
}
