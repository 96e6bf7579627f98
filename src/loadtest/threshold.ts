/** A pass/fail rule on a run's result, as given on the command line (`p99<50ms`, `errors<1%`, `rps>1000`). */
export interface Threshold {
  text: string;
  metric: "p50" | "p90" | "p99" | "p999" | "max" | "mean" | "errors" | "rps";
  op: "<" | "<=" | ">" | ">=";
  /** Milliseconds for latencies, a fraction for errors, requests/s for rps. */
  value: number;
}

const pattern = /^\s*(p50|p90|p99|p999|p99\.9|max|mean|errors|rps)\s*(<=|>=|<|>)\s*([\d.]+)\s*(us|µs|ms|s|%)?\s*$/;

/** Parses one threshold; throws a message that shows the accepted forms. */
export function parseThreshold(text: string): Threshold {
  const match = pattern.exec(text);
  if (!match) throw new Error(`cannot read threshold '${text}': use e.g. 'p99<50ms', 'mean<=20ms', 'errors<1%', 'rps>1000'`);
  const metric = (match[1] === "p99.9" ? "p999" : match[1]) as Threshold["metric"];
  const number = Number(match[3]);
  const unit = match[4];
  if (!Number.isFinite(number)) throw new Error(`cannot read the number in threshold '${text}'`);
  let value = number;
  if (metric === "errors") {
    if (unit !== undefined && unit !== "%") throw new Error(`errors take a percentage: '${text}'`);
    value = unit === "%" ? number / 100 : number;
  } else if (metric === "rps") {
    if (unit !== undefined) throw new Error(`rps takes a plain number: '${text}'`);
  } else {
    const scale = { us: 0.001, µs: 0.001, ms: 1, s: 1000 } as const;
    if (unit === undefined || unit === "%") throw new Error(`latency thresholds need a unit (us, ms, s): '${text}'`);
    value = number * scale[unit as keyof typeof scale];
  }
  return { text: text.trim(), metric, op: match[2] as Threshold["op"], value };
}

/** Whether `actual` satisfies the threshold. */
export function holds(threshold: Threshold, actual: number): boolean {
  switch (threshold.op) {
    case "<":
      return actual < threshold.value;
    case "<=":
      return actual <= threshold.value;
    case ">":
      return actual > threshold.value;
    case ">=":
      return actual >= threshold.value;
  }
}
