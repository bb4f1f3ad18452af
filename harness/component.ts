/**
 * Renders components on their own under Pulumi's mocks, in this process, for component-level
 * tests: `const { resources } = await render(({ provider }) => new Cache("c", {...}, { provider }))`.
 * Each call starts from fresh mocks, so tests in one file do not see each other's resources.
 */
import * as aws from "../components/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  duplicateUrnError,
  type RecordedCall,
  RecordingMocks,
  type RecordedResource,
} from "./mocks";

export interface Rendered<T> {
  /** What the build function returned, e.g. the component. */
  value: T;
  /** Every resource registered, the provider(s) included. */
  resources: RecordedResource[];
  /** Every data source call (invoke), with the region of the provider it went to. */
  calls: RecordedCall[];
  /** Resources of one type. */
  ofType(type: string): RecordedResource[];
  /** The one resource of `type` whose logical name is `name`. */
  named(name: string, type?: string): RecordedResource;
}

export interface RenderContext {
  /** An aws provider for `region` (default us-east-1), as the stacks create one per region. */
  provider: aws.Provider;
  /** Creates another region's provider (for cross-region components). */
  providerFor(region: string): aws.Provider;
}

/**
 * Builds components inside fresh mocks and waits until every registration has settled.
 * Pass the outputs you want resolved through `await resolve(output)` after it returns.
 */
export async function render<T>(
  build: (context: RenderContext) => T,
  { region = "us-east-1", stack = "test" }: { region?: string; stack?: string } = {},
): Promise<Rendered<T>> {
  // Pulumi's runtime (its mocks, its monitor) is one per process: overlapping renders would record
  // each other's resources.
  if (rendering) throw new Error("render: one render at a time (await the previous one first)");
  rendering = true;
  try {
    return await renderAlone(build, region, stack);
  } finally {
    rendering = false;
  }
}

let rendering = false;

async function renderAlone<T>(
  build: (context: RenderContext) => T,
  region: string,
  stack: string,
): Promise<Rendered<T>> {
  const mocks = new RecordingMocks();
  await pulumi.runtime.setMocks(mocks, "zero-to-millions", stack, false);
  mocks.attach();
  const providers = new Map<string, aws.Provider>();
  const providerFor = (name: string) => {
    let provider = providers.get(name);
    if (!provider) {
      provider = new aws.Provider(`aws-${name}`, { region: name as aws.Region });
      providers.set(name, provider);
    }
    return provider;
  };
  const value = build({ provider: providerFor(region), providerFor });
  await settle(value);
  const duplicate = duplicateUrnError(mocks);
  if (duplicate !== undefined) throw new Error(duplicate);
  const resources = [...mocks.resources.values()];
  return {
    value,
    resources,
    calls: mocks.calls,
    ofType: (type) => resources.filter((r) => r.type === type),
    named: (name, type) => {
      const found = resources.filter(
        (r) => r.name === name && (type === undefined || r.type === type),
      );
      if (found.length !== 1)
        throw new Error(`expected one resource named ${name}, found ${found.length}`);
      return found[0]!;
    },
  };
}

/** The value of an Output (or anything) once known. */
export function resolve<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise((done) => pulumi.output(value).apply((v) => done(v as T)));
}

async function settle(value: unknown): Promise<void> {
  // Resolving the component's URN and outputs, then draining the RPC queue, means every child
  // registered and every mock answer arrived.
  if (value instanceof pulumi.Resource) await resolve(value.urn);
  // waitForRPCs is exported at runtime but missing from the SDK's typings.
  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  if (!runtime.waitForRPCs)
    throw new Error("@pulumi/pulumi no longer exports runtime.waitForRPCs; update harness/");
  await runtime.waitForRPCs();
  await new Promise((done) => setImmediate(done));
}
