/** The part of autocannon's programmatic API the load generator uses (the package has no types). */
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  interface Request {
    method?: string;
    path?: string;
    body?: string;
    headers?: Record<string, string>;
    /** Called before each request; returns the request to send. */
    setupRequest?: (request: Request) => Request;
  }

  interface Options {
    url: string;
    connections: number;
    /** Seconds. */
    duration: number;
    /** Seconds before a request counts as timed out. */
    timeout?: number;
    method?: string;
    body?: string;
    headers?: Record<string, string>;
    /** Replaces `[<id>]` in the body with a fresh id per request. */
    idReplacement?: boolean;
    requests?: Request[];
  }

  interface Result {
    /** Seconds the run actually took. */
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
  }

  /** Emits `response` (client, statusCode, bytes, milliseconds) for every response. */
  function autocannon(
    options: Options,
    callback: (error: Error | null, result: Result) => void,
  ): EventEmitter;

  export = autocannon;
}
