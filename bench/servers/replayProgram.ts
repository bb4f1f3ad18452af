/**
 * A second baseline for the synthesis benchmark: the prod program's resources, registered again
 * from a synth record (`replayProgram.ts --from SYNTH.json --out FILE`) with none of the program's
 * work. Each resource is an instance of its own SDK class (`aws:ec2/subnet:Subnet` is
 * @pulumi/aws's `ec2.Subnet`) with the inputs the program gave it, under the parent it had, so
 * Pulumi does the same work per resource as for prod: an Output and a captured stack per declared
 * property, serialisation of the same inputs, the same URNs. Components register as plain
 * component resources; a type with no SDK class to load (dynamic resources, awsx's image) as a
 * custom resource of that type. What prod costs beyond this is the program's own: its modules,
 * its config validation, its Outputs and applies, its dependsOn, its options.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Provider } from "@pulumi/aws/provider";
import * as pulumi from "@pulumi/pulumi";
import { RecordingMocks } from "../../harness/mocks";
import { PROJECT, stackConfig, type SynthResult } from "../../harness/synth";

type ResourceClass = new (
  name: string,
  args: Record<string, unknown>,
  opts: pulumi.CustomResourceOptions,
) => pulumi.Resource;

/** The SDK class of a type token, when its package has one: `pkg:module/file:Class`. */
function sdkClass(type: string): ResourceClass | undefined {
  if (type === "pulumi:providers:aws") return Provider as unknown as ResourceClass;
  const match = /^(aws|random):([a-zA-Z0-9]+)\/([a-zA-Z0-9]+):([A-Za-z0-9]+)$/.exec(type);
  if (match === null) return undefined;
  const [, pkg, module, file, name] = match;
  const path = module === "index" ? `@pulumi/${pkg}/${file}` : `@pulumi/${pkg}/${module}/${file}`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(path) as Record<string, ResourceClass | undefined>)[name!];
  } catch {
    return undefined;
  }
}

/** A component of the program's, registered with its type and name, holding nothing of its own. */
class ReplayedComponent extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
    this.registerOutputs({});
  }
}

/** A resource of any type, with no SDK class: Pulumi registers it as given. */
class Replayed extends pulumi.CustomResource {
  constructor(
    type: string,
    name: string,
    inputs: pulumi.Inputs,
    opts: pulumi.CustomResourceOptions,
  ) {
    super(type, name, inputs, opts);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { from: { type: "string" }, out: { type: "string" } },
    strict: true,
  });
  if (values.from === undefined)
    throw new Error("usage: replayProgram.ts --from SYNTH.json [--out FILE]");
  const record = JSON.parse(readFileSync(values.from, "utf8")) as SynthResult;
  const mocks = new RecordingMocks();
  await pulumi.runtime.setMocks(mocks, PROJECT, "prod", false);
  mocks.attach();
  pulumi.runtime.setAllConfig(stackConfig("prod"));
  const byUrn = new Map<string, pulumi.Resource>();
  let withoutClass = 0;
  for (const resource of record.resources) {
    const parent = resource.parent === null ? undefined : byUrn.get(resource.parent);
    const opts = parent === undefined ? {} : { parent };
    let replayed: pulumi.Resource;
    if (resource.id === null) {
      replayed = new ReplayedComponent(resource.type, resource.name, opts);
    } else {
      const Class = sdkClass(resource.type);
      if (Class === undefined) withoutClass += 1;
      replayed =
        Class === undefined
          ? new Replayed(resource.type, resource.name, resource.inputs, opts)
          : new Class(resource.name, resource.inputs, opts);
    }
    byUrn.set(resource.urn, replayed);
  }
  await pulumi.runtime.disconnect();
  const json = JSON.stringify({ resources: [...mocks.resources.values()], withoutClass });
  if (values.out === undefined) process.stdout.write(`${json}\n`);
  else writeFileSync(values.out, json);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
