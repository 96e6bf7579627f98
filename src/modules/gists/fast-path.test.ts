import { describe, expect, test } from "bun:test";
import type { AnswerSettings } from "./answer.ts";
import { createGistsFastPath } from "./fast-path.ts";
import type { GistsService } from "./service.ts";

const settings: AnswerSettings = { ttlSeconds: 300, cloneTemplates: true, grow: () => {} };

describe("gists fast path", () => {
  test("remembers at most maxUrls request URLs: one remembered maxUrls + 1 URLs ago is gone, the latest is there", () => {
    const fastPath = createGistsFastPath({} as GistsService, 100, settings);
    const urls = Array.from({ length: 1_050 }, (_, index) => `http://127.0.0.1/u${index}`);
    for (const [index, url] of urls.entries()) fastPath.remember(url, url.slice("http://127.0.0.1".length), `u${index}:1:30`);
    expect(fastPath.find(urls.at(-101)!)).toBeUndefined();
    expect(fastPath.find(urls.at(-1)!)).toEqual({ key: "u1049:1:30", target: "/u1049" });
  });

  test("never remembers an over-long URL", () => {
    const fastPath = createGistsFastPath({} as GistsService, 10, settings);
    const url = `http://127.0.0.1/u?x=${"a".repeat(600)}`;
    fastPath.remember(url, url.slice(16), "u:1:30");
    expect(fastPath.find(url)).toBeUndefined();
  });
});
