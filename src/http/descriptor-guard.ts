import { readFileSync, readdirSync, statSync } from "node:fs";

/**
 * Keeps the process clear of its file-descriptor limit. At the limit Bun's accept loop spins on EMFILE and
 * accepts nothing, probes included, until connections close on their own (oven-sh/bun#32705): so past a
 * share of the limit, kept-alive connections with no request in progress are closed (their clients
 * reconnect), which frees descriptors for the connections waiting to be accepted.
 */

/** How many descriptors the process holds and may hold. */
export interface DescriptorCount {
  /** Descriptors open now (the limit itself when counting hit EMFILE). */
  open(): number;
  /** The soft RLIMIT_NOFILE. */
  readonly limit: number;
}

/** What one episode of pressure did, for the log. */
export interface PressureEvent {
  state: "started" | "ended";
  open: number;
  limit: number;
  /** Connections closed so far in this episode. */
  closed: number;
}

/** How the guard is wired. */
export interface DescriptorGuardOptions {
  count: DescriptorCount;
  /** Closes idle connections and says how many it closed. */
  closeIdle: () => number;
  /** The share of the limit above which idle connections are closed. */
  threshold?: number;
  /** Called when an episode of pressure starts and when it ends (once each, however long it lasts). */
  onPressure?: (event: PressureEvent) => void;
}

/** The share of the descriptor limit past which idle connections are shed: above the 0.8 the alert warns at. */
export const shedThreshold = 0.9;

/** How often the running guard looks: well inside the one second a probe is given. */
export const guardIntervalMs = 250;

/** A guard with one `check()` (run it on a timer); it sheds only while the count is past the threshold. */
export function createDescriptorGuard(options: DescriptorGuardOptions) {
  const { count, closeIdle, onPressure } = options;
  const ceiling = count.limit * (options.threshold ?? shedThreshold);
  let episode: { closed: number } | undefined;
  return {
    /** Counts descriptors and, past the threshold, closes idle connections. */
    check(): void {
      const open = count.open();
      if (open < ceiling) {
        if (episode) onPressure?.({ state: "ended", open, limit: count.limit, closed: episode.closed });
        episode = undefined;
        return;
      }
      const closed = closeIdle();
      if (!episode) {
        episode = { closed };
        onPressure?.({ state: "started", open, limit: count.limit, closed });
      } else episode.closed += closed;
    },
  };
}

/** Runs a guard every `guardIntervalMs` until the returned function is called. */
export function startDescriptorGuard(options: DescriptorGuardOptions): () => void {
  const guard = createDescriptorGuard(options);
  const timer = setInterval(() => guard.check(), guardIntervalMs);
  return () => clearInterval(timer);
}

/** The process's descriptors from Linux's /proc; undefined where there is no /proc (the guard then stays off). */
export function procDescriptorCount(): DescriptorCount | undefined {
  let limits: string;
  try {
    limits = readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\d+)/m.exec(limits);
  if (!soft) return undefined;
  const limit = Number(soft[1]);
  return { limit, open: () => _openDescriptors(limit) };
}

// Linux 6.2+ gives the count as the size of /proc/self/fd, which needs no descriptor of its own (so it works at
// EMFILE); older kernels report 0 there and the directory is listed. A listing refused with EMFILE means full.
function _openDescriptors(limit: number): number {
  try {
    const size = statSync("/proc/self/fd").size;
    if (size > 0) return size;
    return readdirSync("/proc/self/fd").length - 1;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EMFILE" || (error as NodeJS.ErrnoException).code === "ENFILE") return limit;
    return 0;
  }
}
