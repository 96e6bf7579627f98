import type { BudgetSnapshot, RateLimitBudget } from "../github/budget.ts";
import type { RedisLink } from "./redis.ts";

/**
 * Makes one token's GitHub budget the fleet's: what a replica learns from GitHub's headers (or a secondary
 * limit's pause) is published to the others and kept in Redis for replicas that start or reconnect later.
 * Returns the function to give the budget as its `onChange`.
 */
export function shareBudget(link: RedisLink, keyPrefix: string, budget: () => RateLimitBudget, now: () => number = Date.now) {
  const key = `${keyPrefix}budget`;
  const learn = (text: string | null | undefined) => {
    if (!text) return;
    const snapshot = _parse(text);
    if (snapshot) budget().merge(snapshot);
  };
  link.onEvent((event) => {
    if (event.type === "budget") budget().merge(event);
  });
  link.onConnect(() => {
    void link.run("budget", (redis) => redis.get(key)).then(learn);
  });

  return (snapshot: BudgetSnapshot): void => {
    // Kept until the window resets or the pause ends, whichever is later; an hour at most (GitHub's window).
    const untilMs = Math.max(snapshot.pausedUntilMs, (snapshot.resetAt ?? 0) * 1000);
    const ttlMs = Math.min(3_600_000, Math.floor(untilMs - now()));
    link.publish({ type: "budget", ...snapshot });
    if (ttlMs > 0) void link.run("budget", (redis) => redis.set(key, JSON.stringify(snapshot), "PX", ttlMs));
  };
}

function _parse(text: string): BudgetSnapshot | undefined {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    if (typeof value.pausedUntilMs !== "number") return undefined;
    return {
      pausedUntilMs: value.pausedUntilMs,
      remaining: typeof value.remaining === "number" ? value.remaining : undefined,
      resetAt: typeof value.resetAt === "number" ? value.resetAt : undefined,
    };
  } catch {
    return undefined;
  }
}
