/**
 * A guard that refuses a change of a recorded value unless the change is acknowledged: config
 * validation that can see the deployed state. The program alone cannot tell "16 was deployed and
 * 17 is wanted" from "17 on a new stack"; the engine can, and hands the dynamic provider's
 * `check` both the recorded inputs (`olds`) and the new ones. A refused change fails the preview
 * (and `up`) before any resource changes, with the message and the procedure written here.
 *
 * Free: it creates nothing in AWS (create, update and delete only record the values).
 */
import * as pulumi from "@pulumi/pulumi";

/** One guarded value. */
export interface GuardedValue {
  /** What the stack has now, as text (e.g. the PostgreSQL major version). */
  value: string;
  /** The config key an operator changes, for the message (e.g. `database.engineVersion`). */
  configKey: string;
  /** The config key that acknowledges a change (e.g. `database.allowMajorVersionUpgrade`). */
  acknowledgeKey: string;
  /** Whether this deploy acknowledges a change. */
  acknowledged: boolean;
  /** Why a change needs care, and the procedure (one or two sentences, or a README section). */
  procedure: string;
}

interface GuardInputs {
  values: Record<string, GuardedValue>;
}

/**
 * The refused changes between the recorded and the new values: a value that differs from the one
 * deployed, without its acknowledgement. Nothing is refused on a first deploy (nothing recorded).
 */
export function refusedChanges(
  olds: Partial<GuardInputs> | undefined,
  news: GuardInputs,
): Array<{ property: string; reason: string }> {
  const recorded = olds?.values ?? {};
  return Object.entries(news.values).flatMap(([name, guarded]) => {
    const before = recorded[name]?.value;
    if (before === undefined || before === guarded.value || guarded.acknowledged) return [];
    return [
      {
        property: `values.${name}`,
        reason: `${guarded.configKey}: ${name} would change from ${before} to ${guarded.value}. ${guarded.procedure} To go ahead, set ${guarded.acknowledgeKey}: true for this deploy.`,
      },
    ];
  });
}

const guardProvider: pulumi.dynamic.ResourceProvider<GuardInputs, GuardInputs> = {
  async check(olds, news) {
    return { inputs: news, failures: refusedChanges(olds, news) };
  },
  async create(inputs) {
    return { id: "guard", outs: inputs };
  },
  async diff(_id, olds, news) {
    return { changes: JSON.stringify(olds.values) !== JSON.stringify(news.values) };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete() {},
};

export interface ChangeGuardArgs {
  /** The guarded values, by a short name used in messages (e.g. `the PostgreSQL major version`). */
  values: Record<string, GuardedValue>;
}

/**
 * Records values and refuses an unacknowledged change of any of them at the next preview.
 *
 * @example
 * ```ts
 * new ChangeGuard("primary-database-guard", { values: { "the PostgreSQL major version": {
 *   value: "16", configKey: "database.engineVersion",
 *   acknowledgeKey: "database.allowMajorVersionUpgrade", acknowledged: false,
 *   procedure: "A major upgrade takes the database down for minutes (README: Deploying).",
 * } } }, { parent: this });
 * ```
 */
export class ChangeGuard extends pulumi.dynamic.Resource {
  constructor(name: string, args: ChangeGuardArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(guardProvider, name, { values: args.values }, opts, "guard", "ChangeGuard");
  }
}
