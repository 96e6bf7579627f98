import { Redis } from "ioredis";
import type { SharedTierConfig } from "../config.ts";
import { createCircuitBreaker } from "../github/breaker.ts";
import { noTracing, type Tracing } from "../tracing/tracing.ts";

/** What the service asks of Redis, as the `operation` label of the shared-tier metrics names it. */
export const sharedOperations = ["get", "set", "lease", "release", "wait", "clear", "publish", "budget", "ping"] as const;
export type SharedOperation = (typeof sharedOperations)[number];

/** A message between replicas on the fleet's channel; `from` lets a replica skip its own. */
export type FleetEvent =
  | { type: "filled"; key: string }
  | { type: "clear"; generation: number }
  | { type: "budget"; remaining?: number; resetAt?: number; pausedUntilMs: number };

/** Hears every command's outcome and each change between usable and unusable, for metrics and the log. */
export interface RedisLinkObserver {
  command(operation: SharedOperation, seconds: number, ok: boolean): void;
  /** A command was not sent because Redis is down or its breaker is open: the caller goes on without it. */
  skipped(operation: SharedOperation): void;
  stateChanged(up: boolean, reason: string): void;
}

/** A guarded connection to Redis: every command bounded in time, skipped while Redis is failing. */
export type RedisLink = ReturnType<typeof createRedisLink>;

// Consecutive failed commands that stop the service from asking Redis, and the pause before it tries again.
const breakerThreshold = 3;
const breakerCooldownMs = 1_000;

/**
 * Connects to Redis (commands and a subscriber for the fleet's channel). Nothing here ever waits for Redis
 * longer than the command timeout, and nothing throws: a command that cannot run answers `undefined`, and the
 * caller falls back to what this process knows. ioredis reconnects by itself; the link reports each change.
 */
export function createRedisLink(config: SharedTierConfig, observer: RedisLinkObserver, tracing: Tracing = noTracing) {
  const replicaId = crypto.randomUUID();
  const channel = `${config.keyPrefix}events`;
  const common = {
    connectTimeout: Math.max(1_000, config.commandTimeoutMs * 4),
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2_000),
    // A command must never queue behind a connection that may not come back.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  };
  const commands = new Redis(config.url, { ...common, commandTimeout: config.commandTimeoutMs });
  // The subscriber resubscribes on its own after a reconnect; its queue only ever holds SUBSCRIBE.
  const subscriber = new Redis(config.url, { ...common, enableOfflineQueue: true });
  const breaker = createCircuitBreaker({ threshold: breakerThreshold, cooldownMs: breakerCooldownMs });
  const listeners: Array<(event: FleetEvent) => void> = [];
  const reconnectListeners: Array<() => void> = [];
  // Unknown until the first connect or failure, so a Redis that is down at start is reported once too.
  let up: boolean | undefined;
  let closed = false;
  const where = new URL(config.url);
  const server = { "db.system.name": "redis", "server.address": where.hostname, "server.port": Number(where.port) || 6379 };

  const report = (reason: string) => {
    const usable = commands.status === "ready" && breaker.state !== "open";
    if (usable === up || closed) return;
    up = usable;
    observer.stateChanged(usable, reason);
  };
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  commands.on("ready", () => {
    settle();
    breaker.success();
    report("connected");
    for (const listener of reconnectListeners) listener();
  });
  commands.on("error", (error: Error) => {
    settle();
    report(_describe(error));
  });
  commands.on("close", () => report("connection closed"));
  subscriber.on("error", () => {});
  subscriber.on("messageBuffer", (_channel: Buffer, message: Buffer) => {
    const event = _parseEvent(message.toString(), replicaId);
    if (event) for (const listener of listeners) listener(event);
  });
  commands.connect().catch(() => {});
  subscriber
    .connect()
    .then(() => subscriber.subscribe(channel))
    .catch(() => {});

  const link = {
    /**
     * Runs one command within the timeout. `undefined` means it did not run or failed (the caller carries on
     * without Redis); any other value (null for a missing key) is Redis's answer.
     */
    async run<T>(operation: SharedOperation, command: (redis: Redis) => Promise<T>): Promise<T | undefined> {
      if (closed || commands.status !== "ready" || !breaker.allow()) {
        observer.skipped(operation);
        return undefined;
      }
      // A client span when a sampled request is waiting on it; keys are not recorded (they hold user names).
      return tracing.client(
        `redis ${operation}`,
        () => ({ ...server, "db.operation.name": operation }),
        async (span) => {
          const started = performance.now();
          try {
            const answer = await command(commands);
            breaker.success();
            observer.command(operation, (performance.now() - started) / 1000, true);
            report("connected");
            return answer;
          } catch (error) {
            breaker.failure();
            observer.command(operation, (performance.now() - started) / 1000, false);
            const reason = _describe(error);
            span?.fail(reason);
            report(reason);
            return undefined;
          }
        },
      );
    },
    /** Tells every other replica; best effort (a replica that misses it catches up when it reconnects). */
    publish(event: FleetEvent): void {
      void this.run("publish", (redis) => redis.publish(channel, JSON.stringify({ ...event, from: replicaId })));
    },
    /** Calls `listener` for each event another replica publishes. */
    onEvent(listener: (event: FleetEvent) => void): void {
      listeners.push(listener);
    },
    /** Calls `listener` each time the command connection is (re)established. */
    onConnect(listener: () => void): void {
      reconnectListeners.push(listener);
    },
    /** Resolves once the first connection attempt has succeeded or failed. */
    settled,
    /** Whether commands are being sent: connected and not paused by the breaker. */
    get up(): boolean {
      return commands.status === "ready" && breaker.state !== "open";
    },
    /** Closes both connections. */
    async close(): Promise<void> {
      closed = true;
      clearInterval(prober);
      await Promise.allSettled([commands.quit(), subscriber.quit()]);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
  // While the breaker keeps commands away, a probe now and then closes it again once Redis answers, so an idle
  // replica reports the tier back up and its next request does not pay for finding out.
  const prober = setInterval(() => {
    if (commands.status === "ready" && breaker.state !== "closed" && breaker.retryInMs() === 0) void link.run("ping", (redis) => redis.ping());
  }, breakerCooldownMs);
  (prober as { unref?: () => void }).unref?.();
  return link;
}

// Error texts can carry the URL (and its password) in some clients' messages: keep only the kind of failure.
function _describe(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && /^[A-Z_]+$/.test(code)) return code;
  const message = error instanceof Error ? error.message : String(error);
  if (/timed? ?out/i.test(message)) return "timeout";
  if (/NOAUTH|WRONGPASS|auth/i.test(message)) return "authentication failed";
  return "command failed";
}

function _parseEvent(text: string, self: string): FleetEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const event = parsed as Record<string, unknown>;
  if (event.from === self) return undefined;
  if (event.type === "filled" && typeof event.key === "string") return { type: "filled", key: event.key };
  if (event.type === "clear" && typeof event.generation === "number") return { type: "clear", generation: event.generation };
  if (event.type === "budget" && typeof event.pausedUntilMs === "number") {
    return {
      type: "budget",
      pausedUntilMs: event.pausedUntilMs,
      remaining: typeof event.remaining === "number" ? event.remaining : undefined,
      resetAt: typeof event.resetAt === "number" ? event.resetAt : undefined,
    };
  }
  return undefined;
}
