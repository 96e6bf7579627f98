import SwaggerParser from "@apidevtools/swagger-parser";
import { beforeAll, describe, expect, test } from "bun:test";
import type { OpenAPIV3 } from "openapi-types";
import pkg from "../../package.json" with { type: "json" };
import { useStack } from "./stack.ts";

// Black-box check of the OpenAPI document the compiled binary serves: it validates against the OpenAPI
// specification, and it documents what clients rely on. The document is fetched once and only read.

const testTimeoutMs = 60_000;

/** Status codes GET /{username} answers, and the ones whose body is an error with `detail` and `request_id`. */
const gistsStatuses = ["200", "304", "404", "422", "429", "502", "504"];
const errorStatuses = ["404", "422", "429", "502", "504"];

/** Every route besides GET /{username}, as method and OpenAPI path. */
const otherRoutes: Array<[method: "get" | "delete", path: string]> = [
  ["get", "/"],
  ["get", "/health"],
  ["get", "/healthz"],
  ["get", "/readyz"],
  ["get", "/metrics"],
  ["get", "/cache/stats"],
  ["delete", "/cache"],
];

describe("OpenAPI document [binary]", () => {
  const s = useStack("binary");
  let doc: OpenAPIV3.Document;

  beforeAll(async () => {
    const res = await s.request("/swagger/json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type") ?? "").toContain("application/json");
    doc = (await res.json()) as OpenAPIV3.Document;
  });

  const gistsOperation = () => doc.paths["/{username}"]?.get as OpenAPIV3.OperationObject;
  const parameter = (name: string) => (gistsOperation().parameters as OpenAPIV3.ParameterObject[] | undefined)?.find((p) => p.name === name);
  const response = (status: string) => gistsOperation().responses[status] as OpenAPIV3.ResponseObject | undefined;

  // The parser dereferences in place, so each step gets its own copy.
  test(
    "validates against the OpenAPI specification",
    async () => {
      expect(await _violations(() => SwaggerParser.validate(structuredClone(doc) as never))).toEqual([]);
    },
    testTimeoutMs,
  );

  test(
    "dereferences without error",
    async () => {
      expect(await _violations(() => SwaggerParser.dereference(structuredClone(doc) as never))).toEqual([]);
    },
    testTimeoutMs,
  );

  test(
    "info carries package.json's name for the product, version and description",
    () => {
      expect(doc.info).toMatchObject({ title: "GitHub Gists API", version: pkg.version, description: pkg.description });
    },
    testTimeoutMs,
  );

  test(
    "GET /{username} documents the username path parameter with GitHub's login rules",
    () => {
      const username = parameter("username");
      expect(username).toMatchObject({ in: "path", required: true, schema: { type: "string", maxLength: 39 } });
      const pattern = (username?.schema as OpenAPIV3.SchemaObject | undefined)?.pattern ?? "";
      expect(pattern).not.toBe("");
      const login = new RegExp(pattern);
      expect(["octocat", "a", "a-b", "x".repeat(39)].filter((l) => !login.test(l))).toEqual([]);
      expect(["-a", "a-", "a--b", "a_b", "x".repeat(40)].filter((l) => login.test(l))).toEqual([]);
    },
    testTimeoutMs,
  );

  test(
    "GET /{username} documents page and per_page as optional, 1 to 100, and use_cache and all as booleans",
    () => {
      for (const name of ["page", "per_page"]) {
        expect({ name, parameter: parameter(name) }).toMatchObject({
          name,
          parameter: { in: "query", required: false, schema: { minimum: 1, maximum: 100 } },
        });
      }
      for (const name of ["use_cache", "all"]) {
        expect({ name, parameter: parameter(name) }).toMatchObject({
          name,
          parameter: { in: "query", required: false, schema: { type: "boolean" } },
        });
      }
    },
    testTimeoutMs,
  );

  test(
    "GET /{username} documents every answer, each error with a JSON body of detail and request_id",
    () => {
      expect(Object.keys(gistsOperation().responses).sort()).toEqual(expect.arrayContaining(gistsStatuses));
      for (const status of errorStatuses) {
        const schema = response(status)?.content?.["application/json"]?.schema as OpenAPIV3.SchemaObject | undefined;
        expect({ status, properties: Object.keys(schema?.properties ?? {}), required: schema?.required ?? [] }).toEqual({
          status,
          properties: expect.arrayContaining(["detail", "request_id"]),
          required: expect.arrayContaining(["detail", "request_id"]),
        });
      }
    },
    testTimeoutMs,
  );

  test(
    "GET /{username} documents the cache headers of 200, 304 and 404, Retry-After of 429, and examples of 200 and 422",
    () => {
      expect(Object.keys(response("200")?.headers ?? {})).toEqual(expect.arrayContaining(["X-Cache", "Cache-Status", "ETag", "Cache-Control", "Age"]));
      for (const status of ["304", "404"]) expect(Object.keys(response(status)?.headers ?? {})).toEqual(expect.arrayContaining(["X-Cache", "Cache-Status"]));
      expect(Object.keys(response("429")?.headers ?? {})).toContain("Retry-After");
      for (const status of ["200", "422"]) {
        const json = response(status)?.content?.["application/json"];
        const examples = [json?.example, ...Object.values(json?.examples ?? {})].filter((e) => e !== undefined);
        expect({ status, hasExamples: examples.length > 0 }).toEqual({ status, hasExamples: true });
      }
    },
    testTimeoutMs,
  );

  test(
    "every other route is documented with a summary",
    () => {
      const summaries = otherRoutes.map(([method, path]) => ({ method, path, summary: doc.paths[path]?.[method]?.summary ?? "" }));
      const missing = summaries.filter((r) => r.summary.trim() === "").map((r) => `${r.method.toUpperCase()} ${r.path}`);
      expect(missing).toEqual([]);
    },
    testTimeoutMs,
  );
});

// Lines ajv adds for every node of a oneOf of "an object or a $ref": they repeat the violation beneath them.
const _echoes = [/ must have required property '\$ref'$/, / must match exactly one schema in oneOf$/];

/** The violations an OpenAPI parser step reports, one line each without ajv's echoes (none when it succeeds). */
async function _violations(step: () => Promise<unknown>): Promise<string[]> {
  try {
    await step();
    return [];
  } catch (error) {
    const lines = (error as Error).message
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    const specific = lines.filter((line) => line.startsWith("#/") && !_echoes.some((echo) => echo.test(line)));
    return specific.length > 0 ? specific : lines;
  }
}
