import { Redis, ReplyError } from "ioredis";
import type { SharedTierConfig } from "../config.ts";
import { createCircuitBreaker } from "../github/breaker.ts";
import type { BudgetSnapshot } from "../github/rate-limit-budget.ts";
import { readBudgetSnapshot } from "./rate-limit-sharing.ts";
import { noTracing, type Tracing } from "../tracing/tracing.ts";

/** What the service asks of Redis, as the `operation` label of the shared-tier metrics names it. */
export const sharedOperations = ["get", "set", "lease", "release", "wait", "clear", "publish", "budget", "share", "heartbeat", "config"] as const;
export type SharedOperation = (typeof sharedOperations)[number];

/** A message between replicas on the fleet's channel; `from` lets a replica skip its own. */
export type FleetEvent = { type: "filled"; key: string } | { type: "epoch"; epoch: string } | ({ type: "budget" } & BudgetSnapshot);

/** Hears every command's outcome and each change of the link's state, for metrics and the log. */
export interface RedisLinkObserver {
  command(operation: SharedOperation, seconds: number, ok: boolean): void;
  /** A command was not sent because Redis is down or its breaker is open: the caller goes on without it. */
  skipped(operation: SharedOperation): void;
  stateChanged(up: boolean, reason: string): void;
  /** Redis refuses writes for want of memory (maxmemory with noeviction), or takes them again. */
  fullChanged(full: boolean): void;
}

/** A guarded connection to Redis: every command bounded in time, skipped while Redis is failing. */
export type RedisLink = ReturnType<typeof createRedisLink>;

// Consecutive failed commands that stop the service from asking Redis, and the pause before it tries again.
const breakerThreshold = 3;
const breakerCooldownMs = 1_000;
// Heartbeats in a row without an answer after which Redis counts as unreachable and both connections are
// made anew: a connection whose packets are dropped neither fails nor answers, and TCP may take many seconds
// to give up on it or to resume it once the path heals.
const silentHeartbeats = 2;

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
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 1_000),
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
  const connectListeners: Array<() => void> = [];
  // Unknown until the first connect or failure, so a Redis that is down at start is reported once too.
  let up: boolean | undefined;
  let full = false;
  let silent = 0;
  let closed = false;
  const where = new URL(config.url);
  const server = { "db.system.name": "redis", "server.address": where.hostname, "server.port": Number(where.port) || 6379 };

  const usable = () => commands.status === "ready" && breaker.state !== "open" && silent < silentHeartbeats;
  const report = (reason: string) => {
    const now = usable();
    if (now === up || closed) return;
    up = now;
    observer.stateChanged(now, reason);
  };
  const setFull = (value: boolean) => {
    if (value === full) return;
    full = value;
    observer.fullChanged(value);
  };
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  commands.on("ready", () => {
    settle();
    breaker.success();
    for (const listener of connectListeners) listener();
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

  // One command within the timeout. A reply error (WRONGTYPE, OOM...) is Redis answering: it counts as an
  // error of the command but not against the connection, and never opens the breaker.
  const send = <T>(operation: SharedOperation, command: (redis: Redis) => Promise<T>) =>
    tracing.client(
      `redis ${operation}`,
      () => ({ ...server, "db.operation.name": operation }),
      async (span): Promise<T | undefined> => {
        const started = performance.now();
        try {
          const answer = await command(commands);
          breaker.success();
          observer.command(operation, (performance.now() - started) / 1000, true);
          // Only a stored copy shows that Redis takes writes again ("set" names nothing else).
          if (operation === "set") setFull(false);
          return answer;
        } catch (error) {
          observer.command(operation, (performance.now() - started) / 1000, false);
          const reason = _describe(error);
          span?.fail(reason);
          if (error instanceof ReplyError) {
            breaker.success();
            if (/^OOM/.test(String((error as Error).message))) setFull(true);
            return undefined;
          }
          breaker.failure();
          report(reason);
          return undefined;
        }
      },
    );

  return {
    /**
     * Runs one command within the timeout. `undefined` means it did not run or failed (the caller carries on
     * without Redis); any other value (null for a missing key) is Redis's answer.
     */
    async run<T>(operation: SharedOperation, command: (redis: Redis) => Promise<T>): Promise<T | undefined> {
      if (closed || !usable() || !breaker.allow()) {
        observer.skipped(operation);
        return undefined;
      }
      const answer = await send(operation, command);
      report("connected");
      return answer;
    },
    /**
     * The liveness probe, run about once a second whatever the breaker says: the only command that finds a
     * Redis that stopped answering while nothing else asked it (hits never do). Two silent beats in a row make
     * the link unusable and both connections start over; the first answer after that makes it usable again.
     */
    async heartbeat<T>(command: (redis: Redis) => Promise<T>): Promise<T | undefined> {
      if (closed || commands.status !== "ready") return undefined;
      const answer = await send("heartbeat", command);
      if (answer === undefined) {
        if (++silent === silentHeartbeats) {
          report("no answer to the heartbeat");
          commands.disconnect(true);
          subscriber.disconnect(true);
        }
        return undefined;
      }
      silent = 0;
      report("connected");
      return answer;
    },
    /** Tells every other replica; best effort (a replica that misses it catches up by its heartbeat). */
    publish(event: FleetEvent): void {
      void this.run("publish", (redis) => redis.publish(channel, JSON.stringify({ ...event, from: replicaId })));
    },
    /** Calls `listener` for each event another replica publishes. */
    onEvent(listener: (event: FleetEvent) => void): void {
      listeners.push(listener);
    },
    /** Calls `listener` each time the command connection is (re)established. */
    onConnect(listener: () => void): void {
      connectListeners.push(listener);
    },
    /** Resolves once the first connection attempt has succeeded or failed. */
    settled,
    /** Whether commands are being sent: connected, answering and not paused by the breaker. */
    get up(): boolean {
      return usable();
    },
    /** Whether Redis last refused a write for want of memory. */
    get full(): boolean {
      return full;
    },
    /** Closes both connections. */
    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([commands.quit(), subscriber.quit()]);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

// Error texts can carry the URL (and its password) in some clients' messages: keep only the kind of failure.
function _describe(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && /^[A-Z_]+$/.test(code)) return code;
  const message = error instanceof Error ? error.message : String(error);
  if (/timed? ?out/i.test(message)) return "timeout";
  if (/NOAUTH|WRONGPASS|auth/i.test(message)) return "authentication failed";
  const reply = /^([A-Z]{3,12}) /.exec(message);
  return reply ? reply[1]! : "command failed";
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
  if (event.type === "epoch" && typeof event.epoch === "string" && epochPattern.test(event.epoch)) return { type: "epoch", epoch: event.epoch };
  const budget = event.type === "budget" ? readBudgetSnapshot(event) : undefined;
  return budget && { type: "budget", ...budget };
}

/** What an epoch looks like: 16 hexadecimal digits, chosen at random. */
export const epochPattern = /^[0-9a-f]{16}$/;
