import { afterAll, beforeAll, expect, test } from "bun:test";
import { startFakeGithub, type FakeGithub } from "../testing/fake-github.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceiverMode } from "../testing/otlp-receiver.ts";
import { startService, type RunningService, type Target } from "../testing/service.ts";
import { describeTargets, timedTestMs, until } from "./stack.ts";

// A collector that answers 200 and then never stops sending: the exporter reads at most a small answer, within
// one deadline per export, and closes the connection; the service's answers and later exports are unaffected.

/** A fake GitHub, an OTLP receiver in `mode` and the service exporting every request's span to it. */
function useHostileCollector(target: Target, mode: ReceiverMode, env: Record<string, string> = {}) {
  const parts: { fake?: FakeGithub; receiver?: OtlpReceiver; service?: RunningService } = {};
  beforeAll(async () => {
    parts.fake = await startFakeGithub({ autoUsers: { prefix: "user", gists: 3 } });
    parts.receiver = await startOtlpReceiver({ mode });
    parts.service = await startService({
      target,
      env: { GITHUB_API_URL: parts.fake.url, OTEL_EXPORTER_OTLP_ENDPOINT: parts.receiver.url, OTEL_BSP_SCHEDULE_DELAY: "50", ...env },
    });
  });
  afterAll(async () => {
    await parts.service?.stop();
    await parts.receiver?.close();
    await parts.fake?.close();
  });
  return parts as Required<typeof parts>;
}

/** Sends `rounds` of 10 requests, each a sampled span; answers their statuses. */
async function traffic(service: RunningService, rounds: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, index) => fetch(`${service.url}/user-${index}`)));
    statuses.push(...answers.map((res) => res.status));
  }
  return statuses;
}

/**
 * Twice: traffic, then a wait until one more export met the endless answer and the service closed every one so
 * far. Spans made after an export ended go out in the next one, so each round is one more export.
 */
async function exportsCutOff(service: RunningService, receiver: OtlpReceiver): Promise<number[]> {
  const statuses: number[] = [];
  const streams = () => receiver.requests().filter((request) => request.streamed !== undefined);
  for (let round = 1; round <= 2; round++) {
    const before = streams().length;
    statuses.push(...(await traffic(service, 3)));
    await until(() => streams().length > before && streams().every((request) => request.streamed!.closed), 15_000, `export ${round}, closed`);
  }
  return statuses;
}

describeTargets("a collector that streams an endless answer as fast as it can", (target) => {
  const stack = useHostileCollector(target, { kind: "stream" });

  test(
    "each export reads a small answer and closes the connection; requests are answered; exports resume once it heals",
    async () => {
      expect(new Set(await exportsCutOff(stack.service, stack.receiver))).toEqual(new Set([200]));
      const line = await stack.service.waitForLog((entry) => entry.msg === "trace export failing", 10_000);
      expect(String(line.error)).toContain("longer than 65536 bytes; cut off");
      stack.receiver.setMode({ kind: "accept" });
      await traffic(stack.service, 1);
      await stack.receiver.waitForSpans((span) => span.kind === "SERVER", 10_000);
    },
    timedTestMs,
  );
});

describeTargets("a collector that trickles an endless answer", (target) => {
  const stack = useHostileCollector(target, { kind: "stream", chunkBytes: 64, intervalMs: 50 }, { OTEL_EXPORTER_OTLP_TIMEOUT: "1000" });

  test(
    "each export is cut off at OTEL_EXPORTER_OTLP_TIMEOUT, connection closed, though the answer never paused for long",
    async () => {
      expect(new Set(await exportsCutOff(stack.service, stack.receiver))).toEqual(new Set([200]));
      const line = await stack.service.waitForLog((entry) => entry.msg === "trace export failing", 10_000);
      expect(String(line.error)).toContain("did not answer within");
      expect((await fetch(`${stack.service.url}/readyz`)).status).toBe(200);
    },
    timedTestMs,
  );
});
