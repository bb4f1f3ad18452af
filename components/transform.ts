/**
 * A per-child hook to change a resource's arguments before it is created, for what a component's
 * own arguments do not cover: either an object merged over the arguments, or a function that may
 * edit them in place or return new ones.
 */
export type Transform<T> = Partial<T> | ((args: T) => T | void);

export function transform<T extends object>(hook: Transform<T> | undefined, args: T): T {
  if (hook === undefined) return args;
  if (typeof hook === "function") return hook(args) ?? args;
  return { ...args, ...hook };
}
