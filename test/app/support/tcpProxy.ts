import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * A TCP proxy in front of a service that a test can cut: cut() resets every open connection and
 * every new one until restore(), like a network partition that the client sees at once.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private isCut = false;
  private isHung = false;
  /** Connections reset because the proxy was cut: how many times a client tried meanwhile. */
  refusedConnections = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((client) => this.accept(client));
  }

  /** A proxy to the host and port of `target`, a service's URL. */
  static async start(target: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(target);
    const proxy = new TcpProxy(hostname, Number(port));
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (typeof address !== "object" || address === null) throw new Error("proxy is not listening");
    return address.port;
  }

  /** Replaces the URL's host and port with the proxy's. */
  urlFor(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(this.port);
    return proxied.toString();
  }

  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  /**
   * A service that hangs: connections stay open and nothing moves either way, like a black-holed
   * host or a stuck server. New connections are accepted and hang too.
   */
  hang(): void {
    this.isCut = false;
    this.isHung = true;
    for (const socket of this.sockets) socket.pause();
  }

  restore(): void {
    this.isCut = false;
    this.isHung = false;
    for (const socket of this.sockets) socket.resume();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.isCut) {
      this.refusedConnections += 1;
      client.resetAndDestroy();
      return;
    }
    if (this.isHung) {
      client.pause();
      this.sockets.add(client);
      client.on("close", () => this.sockets.delete(client));
      client.on("error", () => client.destroy());
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    }
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.pipe(upstream).pipe(client);
  }
}
