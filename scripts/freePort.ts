import { createServer } from "node:net";

/** A loopback port nothing listens on: the OS picks one, and it is released for the caller. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("the OS gave no loopback port")),
      );
    });
  });
}
