import { describe, expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { runCli, targetsFromEnv } from "../testing/service.ts";

describe.if(targetsFromEnv().includes("binary"))("gists-api CLI [binary]", () => {
  test("version prints the package version", async () => {
    const result = await runCli(["version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(pkg.version);
  });

  test("--help shows usage, the commands and examples, and exits 0", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/usage/i);
    expect(result.stdout).toMatch(/example/i);
    expect(result.stdout).toContain("serve");
    expect(result.stdout).toContain("version");
  });

  test("serve --help shows its usage and examples without starting", async () => {
    const result = await runCli(["serve", "--help"], { PORT: "0", HOST: "127.0.0.1" }, { timeoutMs: 5_000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/usage/i);
    expect(result.stdout).toMatch(/example/i);
    expect(result.stdout).not.toContain('"msg":"listening"');
  });

  test("an unknown command exits 2 and says what to run instead", async () => {
    const result = await runCli(["frobnicate"]);
    expect(result.code).toBe(2);
    const output = result.stdout + result.stderr;
    expect(output).toContain("frobnicate");
    expect(output).toContain("--help");
  });

  test("an unknown flag exits 2 and says what to run instead", async () => {
    const result = await runCli(["serve", "--nope"], { PORT: "0", HOST: "127.0.0.1" }, { timeoutMs: 5_000 });
    expect(result.code).toBe(2);
    const output = result.stdout + result.stderr;
    expect(output).toContain("--nope");
    expect(output).toContain("--help");
  });
});
