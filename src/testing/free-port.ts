import { createServer } from "node:net";

/**
 * A loopback port nothing listens on: the OS hands out a free one and it is released at once, so a
 * connection to it is refused (an unreachable collector, a dead upstream).
 */
export function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
