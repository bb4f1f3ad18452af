/**
 * A TCP proxy that adds a round trip to every exchange, so a loopback service answers as one in
 * another availability zone would. The whole round trip is added on the way there: Node's timers
 * do not go below 1 ms, so half of 1 ms each way would be 1 ms each way. For a client that waits
 * for each answer (a query, a command) that is the same. Chunks are released in the order they
 * came, each `roundTripMs` after it arrived.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * The round trip between two availability zones of one region that benchmark 2 puts in front of
 * the database: 1 ms. AWS describes its AZs as "close enough to use synchronous replication with
 * single-digit millisecond latency" (whitepaper "AWS Fault Isolation Boundaries", Availability
 * Zones), and James Hamilton put them "<2 ms apart, usually <1 ms" (AWS re:Invent 2014, SPOT301).
 * 1 ms is the low end of that: the speed-up it yields is the least a real deployment would see.
 */
export const CROSS_AZ_ROUND_TRIP_MS = 1;

export interface DelayProxy {
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  close(): Promise<void>;
}

/** Forwards `from` to `to`, each chunk `delayMs` after it arrived (timers of one delay run in order). */
function delayed(from: Socket, to: Socket, delayMs: number): void {
  const forward =
    delayMs === 0 ? (run: () => void) => run() : (run: () => void) => setTimeout(run, delayMs);
  from.on("data", (chunk: Buffer) => {
    forward(() => {
      if (!to.destroyed) to.write(chunk);
    });
  });
  from.on("end", () => forward(() => to.end()));
}

export async function startDelayProxy(
  targetHost: string,
  targetPort: number,
  roundTripMs: number,
): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    client.setNoDelay(true);
    const upstream = connect({ host: targetHost, port: targetPort, noDelay: true });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    delayed(client, upstream, roundTripMs);
    delayed(upstream, client, 0);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("proxy is not listening");
  return {
    urlFor(url) {
      const proxied = new URL(url);
      proxied.hostname = "127.0.0.1";
      proxied.port = String(address.port);
      return proxied.toString();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
