import { describe, expect, test } from "bun:test";
import { createRequestRecorder } from "./plugin.ts";
import { createMetrics } from "./registry.ts";

const traceId = "0af7651916cd43dd8448eb211c80319c";

describe("exemplars on request durations", () => {
  test("OpenMetrics shows a traced request's id on the bucket it fell in; the Prometheus format never does", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const recorder = createRequestRecorder(metrics);
    recorder.record("GET", "/:username", 200, 0.002, traceId);
    recorder.record("GET", "/:username", 200, 0.3);
    const open = await metrics.openMetrics();
    const traced = open.split("\n").filter((line) => line.includes("# {"));
    expect(traced).toHaveLength(1);
    expect(traced[0]).toMatch(
      new RegExp(
        `^http_request_duration_seconds_bucket\\{method="GET",route="/:username",le="0.0025"\\} 1 # \\{trace_id="${traceId}"\\} 0.002 \\d+(\\.\\d+)?$`,
      ),
    );
    expect(open.endsWith("# EOF\n")).toBe(true);
    expect(await metrics.registry.metrics()).not.toContain("trace_id");
  });

  test("counters keep their `_total` samples in both formats, and the Prometheus format is unchanged after an OpenMetrics scrape", async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.githubRetries.inc();
    const before = await metrics.registry.metrics();
    const open = await metrics.openMetrics();
    expect(open).toContain("# TYPE github_api_retries counter\n");
    expect(open).toContain("\ngithub_api_retries_total 1\n");
    expect(open).not.toContain("_total_total");
    expect(await metrics.registry.metrics()).toBe(before);
    expect(before).toContain("# TYPE github_api_retries_total counter\ngithub_api_retries_total 1");
  });
});
