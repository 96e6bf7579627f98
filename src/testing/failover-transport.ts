import { closedBeforeAnswer } from "../loadtest/socket.bun.ts";
import { request, type Answer, type Connection, type Transport } from "../loadtest/transport.ts";

/** What a failover transport did: requests sent to each origin, and retries after each kind of failed connection. */
export interface FailoverCounts {
  sent: Record<string, number>;
  refusedRetries: number;
  /** Retries of a request whose new connection closed before a byte of the answer (the listener closed under it). */
  closedRetries: number;
}

/**
 * A load-generator transport over several instances, as the mesh's balancer is (Envoy, retrying GET on
 * `connect-failure` and `reset`): each request goes to the next origin in turn, and is sent again to the following
 * one only when its connection was refused (the instance is gone), or when the connection it opened for this very
 * request closed before a byte of the answer (it was accepted as the instance closed its listener: the kernel resets
 * what waits in the accept queue, and Bun closes connections that have not sent a request yet). A kept-alive
 * connection closed under a request, a reset mid-answer or any other error is the request's failure.
 * The origin runLoad passes is ignored; `origins` are the instances.
 */
export function failoverTransport(base: Transport, origins: URL[]): { transport: Transport; counts: FailoverCounts } {
  const counts: FailoverCounts = { sent: Object.fromEntries(origins.map((o) => [o.host, 0])), refusedRetries: 0, closedRetries: 0 };
  let turn = 0;
  const transport: Transport = () => {
    const connections = origins.map((origin) => ({ origin, connection: base(origin) }));
    const via = (index: number, path: string): Promise<Answer> => {
      const { origin, connection } = connections[index % connections.length]!;
      counts.sent[origin.host]!++;
      return request(connection, path);
    };
    const get = async (path: string): Promise<Answer> => {
      const first = turn++;
      for (let attempt = 0; ; attempt++) {
        try {
          return await via(first + attempt, path);
        } catch (error) {
          const retry = refused(error) ? "refusedRetries" : closedOnArrival(error) ? "closedRetries" : undefined;
          if (!retry || attempt + 1 >= connections.length) throw error;
          counts[retry]++;
        }
      }
    };
    const self: Connection = {
      send(path, exchange) {
        get(path).then(
          (answer) => exchange.answered(answer.status, answer.cache),
          (error: Error) => exchange.failed(error),
        );
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

// A connection opened for this request that closed with nothing read: the request never reached a handler.
function closedOnArrival(error: unknown): boolean {
  const { code, fresh } = (error ?? {}) as { code?: string; fresh?: boolean };
  return code === closedBeforeAnswer && fresh === true;
}
