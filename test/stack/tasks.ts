/**
 * A synthesized ECS task as the app sees it: its container, the role its command names, and its
 * environment loaded with the app's own loader (app/src/config.ts). Shared by the contract spec
 * and the stage spec, which both read every task of a synth this way.
 */
import assert from "node:assert/strict";
import { checkRole, loadConfig, parseRole } from "../../app/src/config";
import {
  MIGRATE_COMMAND,
  PROCESS_ROLES,
  type ProcessRole,
  type TaskRole,
  type Variable,
  VARIABLES,
} from "../../contract";
import type { Synth, SynthResource } from "../../harness";

export interface Container {
  command: string[];
  environment: Array<{ name: string; value: string }>;
  secrets: Array<{ name: string; valueFrom: string }>;
  stopTimeout: number;
}

export const containerOf = (task: SynthResource) =>
  (JSON.parse(String(task.inputs.containerDefinitions)) as Container[])[0]!;

const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";

/** The one-off migrate step (MIGRATE_COMMAND), which is no web or worker task. */
export const isMigrate = (task: SynthResource) =>
  containerOf(task).command[0] === MIGRATE_COMMAND[0];

/** The web, worker and `all` tasks of a synth; the migrate step has its own spec. */
export const roleTasks = (s: Synth) => s.ofType(TASK_DEFINITION).filter((task) => !isMigrate(task));

/** The role the task's command starts: `web`, `worker`, or `all` (web and jobs in one task). */
export const processRoleOf = (task: SynthResource): ProcessRole => {
  const role = containerOf(task).command[0];
  assert.ok(
    (PROCESS_ROLES as readonly string[]).includes(role ?? ""),
    `${task.name}: role ${role}`,
  );
  return role as ProcessRole;
};

/** The contract's role whose variables the task gets: a task running `all` serves the web. */
export const taskRoleOf = (task: SynthResource): TaskRole =>
  processRoleOf(task) === "worker" ? "worker" : "web";

/**
 * The environment a task starts with: its plain variables, and for each secret (a `valueFrom`
 * ARN that only ECS resolves) the contract's example value for that variable.
 */
export function taskEnvironment(task: SynthResource): Record<string, string> {
  const container = containerOf(task);
  const env = Object.fromEntries(container.environment.map(({ name, value }) => [name, value]));
  for (const { name } of container.secrets) {
    const variable = (VARIABLES as Record<string, Variable<unknown> | undefined>)[name];
    assert.ok(variable, `${task.name}: secret ${name} is not a variable of the contract`);
    env[name] = variable.example;
  }
  return env;
}

/** `env` as a loader sees it, and the names of the variables it has read so far. */
export function watchReads(env: Record<string, string>) {
  const read = new Set<string>();
  const watched = new Proxy(env, {
    get(target, key) {
      if (typeof key === "string") read.add(key);
      return target[key as string];
    },
  });
  return { read, watched };
}

/** Loads the task's environment with the app's loader, in its role, and returns what it read. */
export function loadAsTheApp(task: SynthResource) {
  const env = taskEnvironment(task);
  const { read, watched } = watchReads(env);
  const role = parseRole(processRoleOf(task));
  const config = loadConfig(watched, "/srv");
  checkRole(role, config);
  return { env, read, config };
}
