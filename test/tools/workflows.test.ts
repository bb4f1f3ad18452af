// The pipelines' guard against steps down (README: The path): before every `pulumi preview` of a
// pull request and every `pulumi up`, the stack's deployed outputs are compared with the stack
// file by tools/stepDown.ts, in a step of its own that fails the job.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";

const ROOT = join(__dirname, "..", "..");

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}

interface Job {
  env?: Record<string, string>;
  steps: Step[];
}

function jobOf(workflow: string, job: string): Job {
  const parsed = parse(readFileSync(join(ROOT, ".github", "workflows", workflow), "utf8")) as {
    jobs: Record<string, Job>;
  };
  return parsed.jobs[job]!;
}

const stepsOf = (workflow: string, job: string) => jobOf(workflow, job).steps;

const CHECK =
  /pulumi stack output --json --stack "\$STACK" >"\$RUNNER_TEMP\/deployed\.json"\s*\n\s*npx tsx tools\/stepDown\.ts "\$RUNNER_TEMP\/deployed\.json" "Pulumi\.\$STACK\.yaml"/;

describe("workflows: the step-down check runs against what is deployed", () => {
  const cases: Array<[string, string, (step: Step) => boolean]> = [
    ["preview.yml", "preview", (step) => step.with?.command === "preview"],
    ["pulumi-up.yml", "up", (step) => /pulumi up /.test(step.run ?? "")],
  ];
  for (const [workflow, job, isDeployStep] of cases) {
    it(`GIVEN ${workflow} THEN tools/stepDown.ts compares the stack's outputs with its stack file before ${job}`, () => {
      const steps = stepsOf(workflow, job);
      const check = steps.findIndex((step) => CHECK.test(step.run ?? ""));
      const deploy = steps.findIndex(isDeployStep);
      assert.ok(check >= 0, `${workflow}: no step runs the step-down check on the outputs`);
      assert.ok(deploy >= 0, `${workflow}: no ${job} step`);
      assert.ok(check < deploy, `${workflow}: the check runs after ${job}`);
    });
  }
});

describe("workflows: Pulumi runs the program without a second type-check", () => {
  it("GIVEN ci.yml THEN it type-checks the program (npm run typecheck)", () => {
    const steps = Object.keys(
      (
        parse(readFileSync(join(ROOT, ".github", "workflows", "ci.yml"), "utf8")) as {
          jobs: Record<string, Job>;
        }
      ).jobs,
    ).flatMap((job) => stepsOf("ci.yml", job));
    assert.ok(steps.some((step) => /npm run typecheck/.test(step.run ?? "")));
  });
  for (const [workflow, job] of [
    ["preview.yml", "preview"],
    ["pulumi-up.yml", "up"],
  ] as const) {
    it(`GIVEN ${workflow} THEN ts-node only transpiles (PULUMI_NODEJS_TRANSPILE_ONLY), as ci has type-checked`, () => {
      assert.equal(jobOf(workflow, job).env?.PULUMI_NODEJS_TRANSPILE_ONLY, "true");
    });
  }
});
