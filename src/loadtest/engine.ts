import { setImmediate } from "node:timers";
import { failureReason } from "./failure.ts";
import { createRecorder, type LoadResult, type Progress, type Recorder } from "./recorder.ts";
import type { Connection, Exchange, Transport } from "./transport.ts";
import { zipfSampler } from "./zipf.ts";

/** What to run: a target, a model (closed: back to back; open: a constant arrival rate) and how long. */
export interface LoadPlan {
  /** The target; with `users`, its path holds `{user}`, replaced by user-1..user-N. */
  url: URL;
  connections: number;
  durationMs?: number;
  requests?: number;
  /** Requests per second for the open model; absent for the closed model. */
  rate?: number;
  users?: number;
  zipf: number;
  warmupMs: number;
  /** How long the run waits for answers still in flight once it is over. */
  drainMs: number;
}

export type { CacheCounts, LoadResult, Progress } from "./recorder.ts";

/** Runs the plan over `transport` and returns the measurements of the part after the warm-up. */
export async function runLoad(plan: LoadPlan, transport: Transport, onProgress?: (progress: Progress) => void): Promise<LoadResult> {
  const target = plan.url;
  const origin = new URL(target.origin);
  const pathOf = _paths(target, plan);
  const connections = Array.from({ length: plan.connections }, () => transport(origin));
  const reach: Reach = { answered: false };
  try {
    if (plan.warmupMs > 0) await _phase(plan, connections, pathOf, { durationMs: plan.warmupMs }, undefined, reach);
    const recorder = createRecorder();
    const ticker = onProgress ? setInterval(() => onProgress(recorder.progress()), 1000) : undefined;
    try {
      await _phase(plan, connections, pathOf, { durationMs: plan.durationMs, requests: plan.requests }, recorder, reach);
    } finally {
      if (ticker) clearInterval(ticker);
    }
    return recorder.result();
  } finally {
    for (const connection of connections) connection.close();
  }
}

// Whether the target has answered at all in this run: until it has, a connection whose request fails stops.
interface Reach {
  answered: boolean;
}

// A connection whose request failed waits this long before it tries again, doubling up to the cap.
const reconnectBackoffMs = { first: 50, max: 1000 };

// One phase: every connection runs its own loop until the time or the request budget is spent. In the open model
// request i is due at start + i/rate, and its latency counts from then, so a stalled server is not hidden
// by the generator waiting for it (coordinated omission). A failed request is one attempt: its connection
// stops when the target never answered, and otherwise backs off, so a dead target is not hammered in a spin.
async function _phase(
  plan: LoadPlan,
  connections: Connection[],
  pathOf: () => string,
  limits: { durationMs?: number; requests?: number },
  recorder: Recorder | undefined,
  reach: Reach,
): Promise<void> {
  recorder?.start();
  const start = performance.now();
  const schedule: Schedule = {
    start,
    end: limits.durationMs !== undefined ? start + limits.durationMs : Number.POSITIVE_INFINITY,
    budget: limits.requests ?? Number.POSITIVE_INFINITY,
    interval: plan.rate ? 1000 / plan.rate : 0,
    issued: 0,
    ready: [],
    flushing: false,
  };
  const loops = Promise.all(connections.map((connection) => new Promise<void>((stopped) => _loop(connection, schedule, pathOf, recorder, reach, stopped))));
  if (Number.isFinite(schedule.end)) {
    // Answers still missing this long after the end are counted as failed when their connection closes.
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    const drainOver = new Promise<false>(
      (resolve) => (drainTimer = setTimeout(() => resolve(false), Math.max(0, schedule.end - performance.now() + plan.drainMs))),
    );
    const drained = await Promise.race([loops.then(() => true), drainOver]);
    // A pending drain timer would keep the process alive for drainMs after the run.
    clearTimeout(drainTimer);
    if (!drained) for (const connection of connections) connection.close();
    await loops;
  } else await loops;
  recorder?.finish();
}

// What the connections of one phase share: its clock, its limits and how many requests they have issued.
interface Schedule {
  start: number;
  end: number;
  budget: number;
  /** Milliseconds between intended sends in the open model; 0 in the closed model. */
  interval: number;
  issued: number;
  /** Closed-model loops whose answer came in this turn of the event loop, to send their next requests together. */
  ready: Array<(now: number) => void>;
  flushing: boolean;
}

// Sends what answers in this turn of the event loop asked for, together, after the turn's reads: the target then
// reads a burst of requests per wake-up, as wrk's event loop sends them, and the clock is read once for the batch.
function _sendSoon(schedule: Schedule, next: (now: number) => void): void {
  schedule.ready.push(next);
  if (schedule.flushing) return;
  schedule.flushing = true;
  setImmediate(() => {
    const now = performance.now();
    const ready = schedule.ready;
    for (let index = 0; index < ready.length; index++) ready[index]!(now);
    ready.length = 0;
    schedule.flushing = false;
  });
}

// One connection's loop as callbacks: an answer is recorded as it comes and, in the closed model, the next
// request joins this turn's batch, so a request costs no promise, no timer, and one clock reading besides its batch's.
function _loop(connection: Connection, schedule: Schedule, pathOf: () => string, recorder: Recorder | undefined, reach: Reach, stopped: () => void): void {
  let sentAt = 0;
  let backoffMs = 0;
  const send = () => connection.send(pathOf(), exchange);
  // Timers may fire early by a fraction of a millisecond: wait until the request is really due.
  const sendWhenDue = () => {
    const early = sentAt - performance.now();
    if (early > 0) setTimeout(sendWhenDue, Math.ceil(early));
    else send();
  };
  const next = (now: number): void => {
    if (schedule.issued >= schedule.budget) return stopped();
    if (schedule.interval > 0) {
      const due = schedule.start + schedule.issued * schedule.interval;
      if (due >= schedule.end) return stopped();
      schedule.issued++;
      sentAt = due;
      return now < due ? void setTimeout(sendWhenDue, Math.ceil(due - now)) : send();
    }
    if (now >= schedule.end) return stopped();
    schedule.issued++;
    sentAt = now;
    send();
  };
  const exchange: Exchange = {
    answered(status, cache) {
      const now = performance.now();
      reach.answered = true;
      backoffMs = 0;
      recorder?.answered(status, cache, now - sentAt);
      if (schedule.interval > 0) next(now);
      else _sendSoon(schedule, next);
    },
    failed(error) {
      recorder?.failed(failureReason(error));
      if (!reach.answered) return stopped();
      backoffMs = Math.min(reconnectBackoffMs.max, backoffMs === 0 ? reconnectBackoffMs.first : backoffMs * 2);
      setTimeout(() => next(performance.now()), Math.max(0, Math.min(backoffMs, schedule.end - performance.now())));
    },
  };
  next(performance.now());
}

function _paths(target: URL, plan: LoadPlan): () => string {
  const path = `${target.pathname}${target.search}`;
  if (!plan.users) return () => path;
  const template = decodeURI(path);
  const next = zipfSampler(plan.users, plan.zipf);
  // Each user's path is made once: a repeat is the same string, which the transport knows it has encoded.
  const paths: string[] = [];
  return () => {
    const rank = next();
    return (paths[rank] ??= template.replace("{user}", `user-${rank + 1}`));
  };
}
