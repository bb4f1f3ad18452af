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

/** The step-down check on the deployed outputs, falling back on a stack file of an older commit. */
const check = (mode: "preview" | "up") =>
  new RegExp(
    `pulumi stack output --json --stack "\\$STACK" >"\\$RUNNER_TEMP/deployed\\.json"[\\s\\S]*git show "HEAD[~^]1:Pulumi\\.\\$STACK\\.yaml"[\\s\\S]*npx tsx tools/stepDown\\.ts --for ${mode} --otherwise "\\$RUNNER_TEMP/base\\.yaml" \\\\\\s*"\\$RUNNER_TEMP/deployed\\.json" "Pulumi\\.\\$STACK\\.yaml"`,
  );
const indexOf = (steps: Step[], test: (step: Step) => boolean, what: string) => {
  const index = steps.findIndex(test);
  assert.ok(index >= 0, `no step ${what}`);
  return index;
};

describe("workflows: the step-down check runs against what is deployed", () => {
  it("GIVEN preview.yml THEN the check runs after the preview (its diff is posted either way), refusing unused acknowledgements", () => {
    const steps = stepsOf("preview.yml", "preview");
    const preview = indexOf(steps, (step) => step.with?.command === "preview", "previews");
    const checked = indexOf(steps, (step) => check("preview").test(step.run ?? ""), "checks");
    assert.ok(checked > preview);
  });
  it("GIVEN pulumi-up.yml THEN the check (as up: unused acknowledgements only warn) and the type-check run before up", () => {
    const steps = stepsOf("pulumi-up.yml", "up");
    const up = indexOf(steps, (step) => /pulumi up /.test(step.run ?? ""), "runs up");
    const checked = indexOf(steps, (step) => check("up").test(step.run ?? ""), "checks");
    const typed = indexOf(steps, (step) => /npm run typecheck/.test(step.run ?? ""), "type-checks");
    assert.ok(checked < up && typed < up);
  });
  for (const [workflow, job] of [
    ["preview.yml", "preview"],
    ["pulumi-up.yml", "up"],
  ] as const) {
    it(`GIVEN ${workflow} THEN its checkout has the commit before (the fallback stack file)`, () => {
      const checkout = stepsOf(workflow, job).find((step) => step.uses === "actions/checkout@v4");
      assert.equal(checkout?.with?.["fetch-depth"], 2);
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
