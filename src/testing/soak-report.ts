/** One interval of a soak run: load, latency, the process's memory and descriptors, the cache's occupancy. */
export interface SoakInterval {
  /** Seconds since the load started, at the end of the interval. */
  at: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** The slowest answer of the interval, from send to answer. */
  max: number;
  /** Answers that were 5xx, or requests that got no answer. */
  errors: number;
  rssMb: number;
  fds: number;
  cacheMb: number;
  entries: number;
  evictions: number;
  /** Share of this interval's cache answers that were hits or stale (0..1). */
  hitRate: number;
  /** Requests GitHub (the fake) received in the interval. */
  upstream: number;
  /** The cache has reached one of its bounds (bytes or entries) by the end of the interval. */
  full: boolean;
  /** Bytes and entries were within CACHE_MAX_BYTES and CACHE_MAX_ENTRIES. */
  bounded: boolean;
}

/** How much drift the verdict tolerates. */
export interface SoakBounds {
  /** RSS: last quarter's max may exceed the first full quarter's max by this many percent. */
  rssGrowthPct: number;
  /** Open descriptors: last quarter's max may exceed the first quarter's max by this many. */
  fdGrowth: number;
  /** p99 of any later interval may be this many times the first interval's... */
  p99Factor: number;
  /** ...or the first interval's plus this many milliseconds, whichever is larger (timer noise on a tiny p99). */
  p99SlackMs: number;
}

/** One check of the verdict. */
export interface SoakCheck {
  name: string;
  detail: string;
  passed: boolean;
}

const columns: Array<[string, (i: SoakInterval) => string, number]> = [
  ["t(s)", (i) => i.at.toFixed(0), 6],
  ["requests", (i) => String(i.requests), 9],
  ["rps", (i) => i.rps.toFixed(0), 7],
  ["p50 ms", (i) => i.p50.toFixed(2), 8],
  ["p99 ms", (i) => i.p99.toFixed(2), 8],
  ["max ms", (i) => i.max.toFixed(1), 8],
  ["errors", (i) => String(i.errors), 7],
  ["RSS MB", (i) => i.rssMb.toFixed(0), 7],
  ["fds", (i) => String(i.fds), 5],
  ["cache MB", (i) => i.cacheMb.toFixed(1), 9],
  ["entries", (i) => String(i.entries), 8],
  ["evicted", (i) => String(i.evictions), 8],
  ["hit %", (i) => (i.hitRate * 100).toFixed(1), 6],
  ["upstream", (i) => String(i.upstream), 9],
];

/** The header line of the interval table. */
export function tableHeader(): string {
  return columns.map(([name, , width]) => name.padStart(width)).join(" ");
}

/** One interval as a table row. */
export function tableRow(interval: SoakInterval): string {
  return columns.map(([, value, width]) => value(interval).padStart(width)).join(" ") + (interval.full ? "  full" : "");
}

/** Judges a run: RSS flat once the cache is full, descriptors not growing, p99 stable, the cache within its bounds, no errors. */
export function judgeSoak(intervals: SoakInterval[], bounds: SoakBounds): SoakCheck[] {
  const quarter = Math.max(1, Math.floor(intervals.length / 4));
  const fullFrom = Math.max(
    0,
    intervals.findIndex((i) => i.full),
  );
  const filled = intervals.findIndex((i) => i.full) !== -1;
  const firstFull = intervals.slice(fullFrom, fullFrom + quarter);
  const last = intervals.slice(-quarter);
  const max = (list: SoakInterval[], pick: (i: SoakInterval) => number) => Math.max(...list.map(pick));

  const rssFirst = max(firstFull, (i) => i.rssMb);
  const rssLast = max(last, (i) => i.rssMb);
  const rssGrowth = ((rssLast - rssFirst) / rssFirst) * 100;
  const fdFirst = max(intervals.slice(0, quarter), (i) => i.fds);
  const fdLast = max(last, (i) => i.fds);
  const p99First = intervals[0]!.p99;
  const p99Allowed = Math.max(p99First * bounds.p99Factor, p99First + bounds.p99SlackMs);
  const p99Worst = max(intervals.slice(1).length ? intervals.slice(1) : intervals, (i) => i.p99);
  const errors = intervals.reduce((sum, i) => sum + i.errors, 0);
  const requests = intervals.reduce((sum, i) => sum + i.requests, 0);
  const fullAt = filled ? `the cache full from ${intervals[fullFrom]!.at.toFixed(0)} s` : "the cache never full";
  return [
    {
      name: "RSS flat",
      detail: `${rssFirst} MB max over the first quarter (${fullAt}), ${rssLast} MB max over the last: ${_signed(rssGrowth)} % (bound +${bounds.rssGrowthPct} %)`,
      passed: rssGrowth <= bounds.rssGrowthPct,
    },
    {
      name: "descriptors",
      detail: `${fdFirst} max over the first quarter, ${fdLast} max over the last (bound +${bounds.fdGrowth})`,
      passed: fdLast - fdFirst <= bounds.fdGrowth,
    },
    {
      name: "p99 stable",
      detail: `${p99First.toFixed(2)} ms in the first interval, ${p99Worst.toFixed(2)} ms at worst later (bound ${p99Allowed.toFixed(2)} ms: ${bounds.p99Factor}x or +${bounds.p99SlackMs} ms)`,
      passed: p99Worst <= p99Allowed,
    },
    {
      name: "cache bounded",
      detail: `bytes and entries within CACHE_MAX_BYTES and CACHE_MAX_ENTRIES in ${intervals.filter((i) => i.bounded).length} of ${intervals.length} intervals`,
      passed: intervals.every((i) => i.bounded),
    },
    { name: "no errors", detail: `${errors} of ${requests} requests failed or answered 5xx`, passed: errors === 0 && requests > 0 },
  ];
}

function _signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(1)}`;
}
