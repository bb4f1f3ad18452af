/**
 * The baseline for the synthesis benchmark: the synth harness's set-up (RecordingMocks, the prod
 * stack's config) with a program that registers nothing. `emptyProgram.ts --out FILE`.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { RecordingMocks } from "../../harness/mocks";
import { PROJECT, stackConfig } from "../../harness/synth";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: "string" } }, strict: true });
  const mocks = new RecordingMocks();
  await pulumi.runtime.setMocks(mocks, PROJECT, "prod", false);
  mocks.attach();
  pulumi.runtime.setAllConfig(stackConfig("prod"));
  await pulumi.runtime.disconnect();
  const json = JSON.stringify({ resources: [...mocks.resources.values()] });
  if (values.out === undefined) process.stdout.write(`${json}\n`);
  else writeFileSync(values.out, json);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
