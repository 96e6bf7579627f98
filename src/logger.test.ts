import { describe, expect, test } from "bun:test";
import { accessLine, type AccessRecord } from "./http/access-log.ts";
import { createLogger } from "./logger.ts";

const record = (id: string, path = "/octocat"): AccessRecord => ({
  id,
  route: "/:username",
  cache: "HIT",
  method: "GET",
  path,
  status: 200,
  seconds: 0.000_183,
  finishedAt: Date.UTC(2026, 10, 22, 4, 0, 0, 123),
});

describe("logger", () => {
  test("writes lines and formatted records in the order they came, one batch per interval", async () => {
    const written: string[] = [];
    const logger = createLogger("info", (text) => written.push(text));
    const access = logger.formatted(accessLine);
    logger.info("first", { n: 1 });
    access(record("a"));
    logger.warn("second");
    access(record("b"));
    expect(written).toEqual([]);
    await Bun.sleep(80);
    expect(written).toHaveLength(1);
    const lines = written[0]!
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.msg ?? line.request_id)).toEqual(["first", "request", "second", "request"]);
    expect(lines[1]).toEqual({
      time: "2026-11-22T04:00:00.123Z",
      level: "info",
      msg: "request",
      request_id: "a",
      method: "GET",
      path: "/octocat",
      route: "/:username",
      status: 200,
      duration_ms: 0.18,
      cache: "HIT",
    });
  });

  test("a full batch is written at once, without waiting for the interval", () => {
    const written: string[] = [];
    const logger = createLogger("info", (text) => written.push(text));
    const access = logger.formatted(accessLine);
    for (let index = 0; index < 512; index++) access(record(`r${index}`));
    expect(written).toHaveLength(1);
    expect(written[0]!.split("\n")).toHaveLength(513);
    logger.flush();
    expect(written).toHaveLength(1);
  });

  test("records below the level are dropped; flush writes what is queued", () => {
    const written: string[] = [];
    const logger = createLogger("warn", (text) => written.push(text));
    logger.info("dropped");
    logger.error("kept", { kind: "x" });
    expect(logger.enabled("info")).toBe(false);
    logger.flush();
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0]!)).toMatchObject({ level: "error", msg: "kept", kind: "x" });
  });

  test("a client's path and method are escaped, so every access line stays one JSON object", () => {
    const hostile = { ...record("c", '/a"b\\c\n\u2028'), method: 'G"T' };
    const line = accessLine(hostile);
    expect(line.endsWith("}\n")).toBe(true);
    expect(line.split("\n")).toHaveLength(2);
    expect(JSON.parse(line)).toMatchObject({ path: '/a"b\\c\n\u2028', method: 'G"T' });
  });

  test("a sampled request's line carries its trace and span ids; an unsampled one's carries none", () => {
    const traced = JSON.parse(accessLine({ ...record("t"), span: { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" } }));
    expect(traced).toMatchObject({ request_id: "t", trace_id: "0af7651916cd43dd8448eb211c80319c", span_id: "b7ad6b7169203331" });
    expect(Object.keys(JSON.parse(accessLine(record("u"))))).not.toContain("trace_id");
  });
});
