/**
 * The services built and not started yet (FargateService: constructed, then started once every
 * grant of its task role exists), and what happens to a program that leaves one: it fails,
 * naming the service, instead of ending cleanly without it.
 */
import * as pulumi from "@pulumi/pulumi";

/** The services constructed and not started yet, with their names. */
const notStarted = new Map<object, string>();
let startCheckInstalled = false;

/** The names of the services constructed and not started yet. */
export function servicesNotStarted(): string[] {
  return [...notStarted.values()];
}

/** Records `service` (named `name`) as built; the program fails if it ends before markStarted. */
export function awaitStart(service: object, name: string): void {
  notStarted.set(service, name);
  if (startCheckInstalled) return;
  startCheckInstalled = true;
  // Node fires it when nothing is left to do: the program is over, or it waits for a service.
  // The exit code must be set on this first pass: Pulumi's language host registers its own
  // handler during it, which on a clean exit would tell the engine the program is done, and the
  // engine would then delete the live service it never saw registered. A program that already
  // logged its real error (a throw before the services started) gets no second, misleading one.
  process.on("beforeExit", () => {
    const names = servicesNotStarted();
    if (names.length === 0) return;
    notStarted.clear();
    process.exitCode = 1;
    if (pulumi.log.hasErrors()) return;
    console.error(
      `error: ${names.join(", ")}: the Fargate service was never started, so the stack would lack it; call its start(grants) once every grant of its task role exists`,
    );
  });
}

export function markStarted(service: object): void {
  notStarted.delete(service);
}
