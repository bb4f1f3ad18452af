// A service left unstarted must never let Pulumi end the program cleanly: on a clean end the
// language host tells the engine the program is done (SignalAndWaitForShutdown), and the engine
// then deletes whatever the program did not register, the live ECS service among it. Here a
// program runs under @pulumi/pulumi's own language host (cmd/run) against a resource monitor that
// records what it is told, with components/serviceStarts.ts as the program uses it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import * as resourceGrpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resourceProto from "@pulumi/pulumi/proto/resource_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

const LANGUAGE_HOST = require.resolve("@pulumi/pulumi/cmd/run/index.js");
const SERVICE_STARTS = resolvePath("components/serviceStarts.ts");
const PULUMI = require.resolve("@pulumi/pulumi");

/** What the monitor was told, in order. */
let calls: string[] = [];

/** A resource monitor that accepts every registration and records each call by name. */
function fakeMonitor(): grpc.Server {
  const server = new grpc.Server();
  const record = (name: string) => calls.push(name);
  server.addService(resourceGrpc.ResourceMonitorService, {
    supportsFeature: (
      _call: grpc.ServerUnaryCall<resourceProto.SupportsFeatureRequest, unknown>,
      done: grpc.sendUnaryData<resourceProto.SupportsFeatureResponse>,
    ) => {
      const answer = new resourceProto.SupportsFeatureResponse();
      answer.setHassupport(false);
      done(null, answer);
    },
    registerResource: (
      call: grpc.ServerUnaryCall<resourceProto.RegisterResourceRequest, unknown>,
      done: grpc.sendUnaryData<resourceProto.RegisterResourceResponse>,
    ) => {
      const request = call.request;
      record(`registerResource ${request.getName()}`);
      const answer = new resourceProto.RegisterResourceResponse();
      answer.setUrn(`urn:pulumi:s::p::${request.getType()}::${request.getName()}`);
      if (request.getCustom()) answer.setId(`${request.getName()}-id`);
      answer.setObject(request.getObject() ?? Struct.fromJavaScript({}));
      done(null, answer);
    },
    registerResourceOutputs: (_call: unknown, done: grpc.sendUnaryData<Empty>) => {
      record("registerResourceOutputs");
      done(null, new Empty());
    },
    signalAndWaitForShutdown: (_call: unknown, done: grpc.sendUnaryData<Empty>) => {
      record("signalAndWaitForShutdown");
      done(null, new Empty());
    },
  });
  return server;
}

/**
 * A program with one service component that starts it, or not (`start: false`): the service's
 * name is a deferred output an alarm reads, as FargateService's is.
 */
function program(start: boolean): string {
  return `
const pulumi = require(${JSON.stringify(PULUMI)});
const { awaitStart, markStarted } = require(${JSON.stringify(SERVICE_STARTS)});
class Service extends pulumi.ComponentResource {
  constructor(name) {
    super("test:index:Service", name, {}, {});
    [this.serviceName, this.resolveServiceName] = pulumi.deferredOutput();
    awaitStart(this, name);
    this.registerOutputs({ serviceName: this.serviceName });
  }
  start() {
    const service = new pulumi.CustomResource("test:index:EcsService", "web-service", {}, { parent: this });
    markStarted(this);
    this.resolveServiceName(service.id);
  }
}
const web = new Service("web");
new pulumi.CustomResource("test:index:Alarm", "web-alarm", { dimension: web.serviceName });
${start ? "web.start();" : ""}
`;
}

/** Runs `source` under the language host against the monitor; its exit code and output. */
function runUnderLanguageHost(
  port: number,
  source: string,
): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), "service-starts-"));
  writeFileSync(join(dir, "index.js"), source);
  writeFileSync(join(dir, "package.json"), '{ "name": "p", "main": "index.js" }');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        LANGUAGE_HOST,
        `--monitor=127.0.0.1:${port}`,
        "--project=p",
        "--stack=s",
        `--root-directory=${dir}`,
        dir,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output });
    });
  });
}

describe("a service built and never started, under Pulumi's language host", () => {
  let server: grpc.Server;
  let port: number;
  before(async () => {
    server = fakeMonitor();
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
  });
  after(() => server.forceShutdown());

  it("GIVEN the service started THEN the program ends cleanly and tells the engine it is done", async () => {
    calls = [];
    const run = await runUnderLanguageHost(port, program(true));
    assert.equal(run.code, 0, run.output);
    assert.ok(calls.includes("registerResource web-service"), calls.join("\n"));
    assert.equal(calls.at(-1), "signalAndWaitForShutdown", calls.join("\n"));
  });

  it("GIVEN the service never started THEN the program fails naming it, and the engine is never told the program is done (so it deletes nothing)", async () => {
    calls = [];
    const run = await runUnderLanguageHost(port, program(false));
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /web: the Fargate service was never started/);
    assert.ok(!calls.includes("signalAndWaitForShutdown"), calls.join("\n"));
    assert.ok(!calls.includes("registerResource web-service"), calls.join("\n"));
  });
});
