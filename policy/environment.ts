/**
 * The pack's one setting that changes what a rule demands: the environment of the stack under
 * check. Policy config is per rule, so each rule that reads it declares `environmentConfig` and
 * policy/config.<environment>.json sets it for each of them.
 *
 * Without config a rule assumes prod, the strictest: forgetting the config fails closed.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";

export const ENVIRONMENTS = ["dev", "localstack", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export const DEFAULT_ENVIRONMENT: Environment = "prod";

export const environmentConfig: PolicyConfigSchema = {
  properties: {
    environment: {
      type: "string",
      enum: [...ENVIRONMENTS],
      default: DEFAULT_ENVIRONMENT,
      description:
        "The stack's environment (the stack's `environment` config): prod asks for more.",
    },
  },
};

/** The environment a rule runs for, from its config. */
export function environmentOf(args: { getConfig<T extends object>(): T }): Environment {
  const { environment } = args.getConfig<{ environment?: unknown }>();
  if (environment === undefined) return DEFAULT_ENVIRONMENT;
  if (!(ENVIRONMENTS as readonly unknown[]).includes(environment)) {
    throw new Error(
      `policy config: environment ${JSON.stringify(environment)} must be one of ${ENVIRONMENTS.join(", ")}`,
    );
  }
  return environment as Environment;
}
