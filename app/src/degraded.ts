import type { Logger } from "pino";

/**
 * Logs `degraded: <tier>` when an optional tier starts failing, again at most every `repeatMs`
 * while it keeps failing, and `recovered` once it answers again: an outage is visible in the logs
 * without one line per request.
 */
export class DegradedReporter {
  private degradedSince: number | undefined;
  private lastLoggedAt = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly tier: string,
    private readonly repeatMs = 30_000,
  ) {}

  get isDegraded(): boolean {
    return this.degradedSince !== undefined;
  }

  failed(error: unknown, message: string): void {
    const now = Date.now();
    if (this.degradedSince !== undefined && now - this.lastLoggedAt < this.repeatMs) {
      this.suppressed += 1;
      return;
    }
    this.degradedSince ??= now;
    this.lastLoggedAt = now;
    this.logger.warn(
      { degraded: this.tier, err: error, suppressedSinceLastLog: this.suppressed },
      message,
    );
    this.suppressed = 0;
  }

  succeeded(): void {
    if (this.degradedSince === undefined) return;
    this.logger.info(
      { recovered: this.tier, degradedForMs: Date.now() - this.degradedSince },
      `${this.tier} recovered`,
    );
    this.degradedSince = undefined;
    this.suppressed = 0;
  }
}
