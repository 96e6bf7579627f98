import Ajv, { type ValidateFunction } from "ajv";
import { expect } from "bun:test";
import type { OpenAPIV3 } from "openapi-types";

/** What `request` needs: a GET of a path of the running service. */
interface Requester {
  request(path: string): Promise<Response>;
}

/**
 * The validator of the 200 body of `GET /{username}`, compiled from the OpenAPI document the service serves
 * (`/swagger/json`): clients generate code from that document, so every body must pass it.
 */
export async function gistsPageValidator(s: Requester): Promise<ValidateFunction> {
  const res = await s.request("/swagger/json");
  expect(res.status).toBe(200);
  const doc = (await res.json()) as OpenAPIV3.Document;
  const ok = (doc.paths["/{username}"]?.get?.responses["200"] as OpenAPIV3.ResponseObject | undefined)?.content?.["application/json"];
  expect(ok?.schema).toBeDefined();
  // Not strict: the document carries OpenAPI's own keywords (example, nullable's companions, x- extensions).
  return new Ajv({ allErrors: true, strict: false }).compile(ok!.schema as object);
}

/** The validator's complaints about `body`, as one line ("" when it passes). */
export function violationsOf(validate: ValidateFunction, body: unknown): string {
  return validate(body) ? "" : new Ajv().errorsText(validate.errors);
}
