import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { repoRoot } from "../testing/service.ts";
import { useStack } from "./stack.ts";

// Swagger UI in a real Chromium against the compiled binary, with no way out to the internet: DNS resolves
// nothing but 127.0.0.1, and any request to another host is aborted and recorded, so the page must render,
// list every operation and run "Try it out" from the files embedded in the binary alone.

const testTimeoutMs = 60_000;
const login = "octocat";
const chromiumPath = "/usr/bin/chromium";
const screenshotPath = `${repoRoot}.test-artifacts/swagger.png`;

describe("Swagger UI [binary]", () => {
  const s = useStack("binary", {}, { users: { [login]: 5 } });
  let browser: Browser | undefined;
  let page: Page;
  /** Every URL the page requested, in order. */
  const requested: string[] = [];
  /** Requests that failed or got an error status, and script errors, each with why. */
  const failed: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
    await page.route("**/*", (route) => {
      const url = route.request().url();
      requested.push(url);
      return _isLocal(url) ? route.continue() : route.abort("blockedbyclient");
    });
    page.on("requestfailed", (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on("response", (response) => {
      if (response.status() >= 400) failed.push(`${response.url()}: HTTP ${response.status()}`);
    });
    page.on("pageerror", (error) => failed.push(`script error: ${error.message}`));
    await page.goto(`${s.service.url}/swagger`);
  }, testTimeoutMs);

  afterAll(async () => {
    await browser?.close();
  }, testTimeoutMs);

  test(
    "the page renders from the binary's own files, with no request leaving 127.0.0.1",
    async () => {
      const title = page.locator(".swagger-ui .info .title");
      await title.filter({ hasText: "GitHub Gists API" }).waitFor({ state: "visible" });
      await page.waitForLoadState("networkidle");
      expect(requested.filter((url) => !_isLocal(url))).toEqual([]);
      expect(failed).toEqual([]);
      const paths = requested.map((url) => new URL(url).pathname);
      expect(paths).toEqual(
        expect.arrayContaining([
          "/swagger",
          "/swagger/assets/swagger-ui.css",
          "/swagger/assets/swagger-ui-bundle.js",
          "/swagger/assets/init.js",
          "/swagger/json",
        ]),
      );
    },
    testTimeoutMs,
  );

  test(
    "every operation of the OpenAPI document is listed on the page",
    async () => {
      const doc = (await (await s.request("/swagger/json")).json()) as { paths: Record<string, Record<string, unknown>> };
      const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
      await page.locator(".opblock").first().waitFor({ state: "visible" });
      const listed = await page.$$eval(".opblock", (blocks) =>
        blocks.map((block) => {
          const method = block.querySelector(".opblock-summary-method")?.textContent?.trim() ?? "";
          const path = block.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "";
          return `${method.toUpperCase()} ${path}`;
        }),
      );
      expect(documented.length).toBeGreaterThan(0);
      expect([...new Set(listed)].sort()).toEqual(documented.sort());
    },
    testTimeoutMs,
  );

  test(
    `"Try it out" on GET /{username} answers 200 with the fake user's gists`,
    async () => {
      const operation = page.locator(".opblock-get").filter({ has: page.locator('.opblock-summary-path[data-path="/{username}"]') });
      await operation.locator(".opblock-summary").click();
      await operation.locator("button.try-out__btn").click();
      await operation.locator('tr[data-param-name="username"] input').fill(login);
      await operation.locator("button.execute").click();
      const live = operation.locator(".live-responses-table .response").first();
      await live.locator(".response-col_status").filter({ hasText: "200" }).waitFor({ state: "visible" });
      const body = (await live.locator(".response-col_description pre").first().textContent()) ?? "";
      const ids = s.fake.gists(login).map((gist) => gist.id);
      expect(ids.length).toBe(5);
      expect(ids.filter((id) => !body.includes(id))).toEqual([]);
      expect(requested.filter((url) => !_isLocal(url))).toEqual([]);
      expect(failed).toEqual([]);
    },
    testTimeoutMs,
  );

  // Its own test, so the picture is taken (after "Try it out" when that got far) even when a check above failed.
  test(
    "a full-page screenshot is saved to .test-artifacts/",
    async () => {
      mkdirSync(`${repoRoot}.test-artifacts`, { recursive: true });
      await page.screenshot({ path: screenshotPath, fullPage: true });
      console.log(`Swagger UI screenshot: ${screenshotPath}`);
      expect(Bun.file(screenshotPath).size).toBeGreaterThan(0);
    },
    testTimeoutMs,
  );
});

/** Whether a URL stays on this machine: http(s) to 127.0.0.1, or inline data the page made itself. */
function _isLocal(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === "data:" || protocol === "blob:") return true;
  return (protocol === "http:" || protocol === "https:") && hostname === "127.0.0.1";
}
