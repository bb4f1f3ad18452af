/**
 * The baseline for the synthesis benchmark: the synth harness's set-up (RecordingMocks, the prod
 * stack's config) with a program that registers `--resources N` trivial resources (one input
 * each, nothing computed), as many as the prod program has. `emptyProgram.ts --resources N --out FILE`.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { RecordingMocks } from "../../harness/mocks";
import { PROJECT, stackConfig } from "../../harness/synth";

/** A resource with one input and nothing computed. */
class Trivial extends pulumi.CustomResource {
  constructor(index: number) {
    super("bench:index:Trivial", `trivial-${index}`, { index });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: "string" }, resources: { type: "string" } },
    strict: true,
  });
  const mocks = new RecordingMocks();
  await pulumi.runtime.setMocks(mocks, PROJECT, "prod", false);
  mocks.attach();
  pulumi.runtime.setAllConfig(stackConfig("prod"));
  for (let index = 0; index < Number(values.resources ?? 0); index += 1) {
    new Trivial(index);
  }
  await pulumi.runtime.disconnect();
  const json = JSON.stringify({ resources: [...mocks.resources.values()] });
  if (values.out === undefined) process.stdout.write(`${json}\n`);
  else writeFileSync(values.out, json);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
