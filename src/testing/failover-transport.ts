import type { Answer, Connection, Transport } from "../loadtest/transport.ts";

/** What a failover transport did: requests sent to each origin, and retries after a refused connection. */
export interface FailoverCounts {
  sent: Record<string, number>;
  refusedRetries: number;
}

/**
 * A load-generator transport over several instances, as a plain client-side balancer would be: each request goes
 * to the next origin in turn, and is sent again to the following one only when its connection was refused (the
 * instance is gone). Any other error (a reset, a connection closed mid-answer) is the request's failure.
 * The origin runLoad passes is ignored; `origins` are the instances.
 */
export function failoverTransport(base: Transport, origins: URL[]): { transport: Transport; counts: FailoverCounts } {
  const counts: FailoverCounts = { sent: Object.fromEntries(origins.map((o) => [o.host, 0])), refusedRetries: 0 };
  let turn = 0;
  const transport: Transport = () => {
    const connections = origins.map((origin) => ({ origin, connection: base(origin) }));
    const via = (index: number, path: string): Promise<Answer> => {
      const { origin, connection } = connections[index % connections.length]!;
      counts.sent[origin.host]!++;
      return connection.get(path);
    };
    const self: Connection = {
      async get(path) {
        const first = turn++;
        for (let attempt = 0; ; attempt++) {
          try {
            return await via(first + attempt, path);
          } catch (error) {
            if (!refused(error) || attempt + 1 >= connections.length) throw error;
            counts.refusedRetries++;
          }
        }
      },
      close() {
        for (const { connection } of connections) connection.close();
      },
    };
    return self;
  };
  return { transport, counts };
}

/** True for a connection the peer refused (nothing listens), whichever client raised it. */
export function refused(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code === "ECONNREFUSED" || code === "ConnectionRefused" || /ECONNREFUSED|Connection ?Refused/i.test(message ?? "");
}
