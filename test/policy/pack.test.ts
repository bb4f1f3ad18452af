/**
 * The pack as a whole: its rules are well formed, its config files cover every rule that reads
 * the environment, and policy/ boots the way `pulumi preview --policy-pack policy` boots it (the nodejs language host
 * runs @pulumi/pulumi's run-policy-pack in the pack's directory, which serves the analyzer over
 * gRPC), answering the engine's own requests.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import type { PolicyPackConfig } from "@pulumi/policy";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import {
  AnalyzeRequest,
  type AnalyzeResponse,
  type AnalyzerInfo,
  AnalyzerResourceOptions,
  ConfigureAnalyzerRequest,
  EnforcementLevel,
  PolicyConfig,
} from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { PACK_NAME, environmentPolicyNames, policies } from "../../policy/policies";
import { UNKNOWN_IN_PREVIEW, urnOf } from "./runner";

const PROJECT_ROOT = join(__dirname, "..", "..");
const POLICY_DIR = join(PROJECT_ROOT, "policy");
/** ts-node type-checks the pack before it serves; allow for a slow machine. */
const BOOT_TIMEOUT_MS = 120_000;

describe("policy pack: rules", () => {
  it("GIVEN the pack's rules THEN each has a unique valid name, a description and an enforcement level", () => {
    const names = policies.map((policy) => policy.name);
    assert.equal(new Set(names).size, names.length);
    for (const policy of policies) {
      assert.match(policy.name, /^[a-z0-9][a-z0-9-]*$/);
      assert.ok(policy.description.length > 20, `${policy.name} needs a description`);
      assert.ok(
        ["advisory", "mandatory"].includes(policy.enforcementLevel ?? ""),
        `${policy.name} has no level`,
      );
    }
  });

  for (const environment of ["dev", "prod", "localstack"] as const) {
    it(`GIVEN policy/config.${environment}.json THEN it sets environment "${environment}" for exactly the rules that read it`, () => {
      const config = JSON.parse(
        readFileSync(join(POLICY_DIR, `config.${environment}.json`), "utf8"),
      ) as PolicyPackConfig;
      assert.deepEqual(Object.keys(config).sort(), [...environmentPolicyNames].sort());
      for (const entry of Object.values(config)) assert.deepEqual(entry, { environment });
    });
  }

  it("GIVEN policy/ THEN only index.ts constructs a PolicyPack (a second one would exit the process)", () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? files(join(dir, entry.name))
          : entry.name.endsWith(".ts")
            ? [join(dir, entry.name)]
            : [],
      );
    const constructing = files(POLICY_DIR)
      .filter((file) => /new PolicyPack\(/.test(readFileSync(file, "utf8")))
      .map((file) => relative(POLICY_DIR, file));
    assert.deepEqual(constructing, ["index.ts"]);
  });
});

describe("policy pack: booted as the Pulumi CLI boots it", () => {
  let pack: ChildProcess;
  let client: AnalyzerClient;

  before(async () => {
    pack = spawn(
      process.execPath,
      [require.resolve("@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."],
      {
        cwd: POLICY_DIR,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const port = await firstLine(pack, BOOT_TIMEOUT_MS);
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    pack?.kill();
  });

  it("GIVEN the engine asks for the analyzer's info THEN the pack names itself and serves every rule at its level", async () => {
    const info = await call<AnalyzerInfo>((done) => client.getAnalyzerInfo(new Empty(), done));
    assert.equal(info.getName(), PACK_NAME);
    const served = info
      .getPoliciesList()
      .map((policy) => [policy.getName(), policy.getEnforcementlevel()]);
    const expected = policies.map((policy) => [
      policy.name,
      policy.enforcementLevel === "advisory"
        ? EnforcementLevel.ADVISORY
        : EnforcementLevel.MANDATORY,
    ]);
    assert.deepEqual(served, expected);
  });

  it("GIVEN a public database THEN the pack reports mandatory violations naming it", async () => {
    const response = await analyze("aws:rds/instance:Instance", "db-writer", {
      storageEncrypted: true,
      publiclyAccessible: true,
    });
    const found = response
      .getDiagnosticsList()
      .filter((d) => d.getPolicyname() === "rds-not-publicly-accessible");
    assert.equal(found.length, 1);
    assert.equal(found[0]!.getEnforcementlevel(), EnforcementLevel.MANDATORY);
    assert.match(found[0]!.getMessage(), /"db-writer": it is publicly accessible\. Fix: /);
  });

  it("GIVEN a preview where the database's settings are unknown THEN the pack's rules report nothing for it", async () => {
    const response = await analyze("aws:rds/instance:Instance", "db-writer", {
      storageEncrypted: UNKNOWN_IN_PREVIEW,
      publiclyAccessible: UNKNOWN_IN_PREVIEW,
      backupRetentionPeriod: UNKNOWN_IN_PREVIEW,
      multiAz: UNKNOWN_IN_PREVIEW,
      deletionProtection: UNKNOWN_IN_PREVIEW,
      skipFinalSnapshot: UNKNOWN_IN_PREVIEW,
      monitoringInterval: UNKNOWN_IN_PREVIEW,
      monitoringRoleArn: UNKNOWN_IN_PREVIEW,
    });
    assert.deepEqual(
      response.getDiagnosticsList().map((d) => d.getMessage()),
      [],
    );
  });

  it("GIVEN dev config from policy/config.dev.json THEN a single-AZ writer passes the prod-only rules", async () => {
    const single = {
      storageEncrypted: true,
      publiclyAccessible: false,
      backupRetentionPeriod: 1,
      multiAz: false,
    };
    const prodOnly = (response: AnalyzeResponse) =>
      response.getDiagnosticsList().filter((d) => d.getPolicyname() === "rds-prod-multi-az");
    assert.equal(
      prodOnly(await analyze("aws:rds/instance:Instance", "db-writer", single)).length,
      1,
    );

    const config = JSON.parse(readFileSync(join(POLICY_DIR, "config.dev.json"), "utf8")) as Record<
      string,
      Record<string, unknown>
    >;
    const request = new ConfigureAnalyzerRequest();
    for (const [name, properties] of Object.entries(config)) {
      const level = new PolicyConfig().setEnforcementlevel(EnforcementLevel.MANDATORY);
      request
        .getPolicyconfigMap()
        .set(name, level.setProperties(Struct.fromJavaScript(properties as never)));
    }
    await call((done) => client.configure(request, done));
    assert.equal(
      prodOnly(await analyze("aws:rds/instance:Instance", "db-writer", single)).length,
      0,
    );
  });

  function analyze(
    type: string,
    name: string,
    properties: Record<string, unknown>,
  ): Promise<AnalyzeResponse> {
    const request = new AnalyzeRequest()
      .setType(type)
      .setName(name)
      .setUrn(urnOf(type, name))
      .setProperties(Struct.fromJavaScript(properties as never))
      .setOptions(new AnalyzerResourceOptions());
    return call<AnalyzeResponse>((done) => client.analyze(request, done));
  }
});

function call<T>(
  start: (done: (error: grpc.ServiceError | null, response: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) =>
    start((error, response) => (error ? reject(error) : resolve(response))),
  );
}

/** The first line the process prints (the policy server's port), or its stderr if it exits first. */
function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(
      () => reject(new Error(`the pack did not serve within ${timeoutMs} ms:\n${stderr}`)),
      timeoutMs,
    );
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n")[0]!;
      if (stdout.includes("\n") && /^\d+$/.test(line.trim())) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the pack exited (${code}) before serving:\n${stderr}`));
    });
  });
}
