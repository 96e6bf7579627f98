import { swagger } from "@elysiajs/swagger";
import { Elysia, type ValidationError } from "elysia";
import { UpstreamError } from "./github/client.ts";
import type { AdminHosts } from "./http/admin-hosts.ts";
import { ApiError, errorResponse, toApiError } from "./http/errors.ts";
import { contextOf } from "./http/request-context.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics/registry.ts";
import { metricsModule } from "./metrics/plugin.ts";
import { cacheAdminModule } from "./modules/cache-admin/index.ts";
import type { GistsAnswers } from "./modules/gists/answer.ts";
import { gistsModule } from "./modules/gists/index.ts";
import { parameterKey, parameterRules } from "./modules/gists/model.ts";
import type { GistsService } from "./modules/gists/service.ts";
import { docsModule } from "./modules/docs/index.ts";
import { healthModule, type Readiness } from "./modules/health/index.ts";
import pkg from "../package.json" with { type: "json" };
import { version } from "./version.ts";

/** Everything the HTTP app needs, built once by `createServer`. */
export interface AppDeps {
  gists: GistsService;
  metrics: Metrics;
  readiness: Readiness;
  logger: Logger;
  adminToken: string | undefined;
  /** The names admin requests may carry in Host (ADMIN_HOSTS); IP addresses are always accepted. */
  adminHosts: AdminHosts;
  answers: GistsAnswers;
  now?: () => number;
}

/** The Elysia app: plugins and modules. It never listens, so tests can call `app.handle()`. */
export function createApp(deps: AppDeps) {
  return new Elysia({ name: "gists-api" })
    .use(
      swagger({
        path: "/swagger",
        provider: "swagger-ui",
        documentation: {
          info: { title: "GitHub Gists API", version, description: pkg.description },
          tags: [
            { name: "gists", description: "Public gists of GitHub users" },
            { name: "cache", description: "Cache statistics and administration" },
            { name: "health", description: "Liveness, readiness and health" },
            { name: "operations", description: "Metrics for Prometheus" },
          ],
          components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
        },
      }),
    )
    .onTransform({ as: "global" }, ({ request, route }) => {
      const context = contextOf(request);
      if (context) context.route = route;
    })
    .onError({ as: "global" }, ({ code, error, request }) => {
      const requestId = contextOf(request)?.id;
      if (code === "VALIDATION") return errorResponse(422, validationDetail(error), requestId);
      if (code === "NOT_FOUND") return errorResponse(404, "Not Found", requestId);
      if (code === "PARSE") return errorResponse(400, "The request body could not be parsed", requestId);
      const apiError = toApiError(error);
      // GitHub failures are logged where they happen, once per fetch, not once per request that shared or met one.
      if (apiError.status >= 500 && !(error instanceof ApiError) && !(error instanceof UpstreamError)) {
        deps.logger.error("unhandled error", { request_id: requestId, error: String(error) });
      }
      return errorResponse(apiError.status, apiError.detail, requestId, apiError.headers);
    })
    .use(docsModule("GitHub Gists API"))
    .use(healthModule(deps.readiness))
    .use(metricsModule(deps.metrics))
    .use(cacheAdminModule(deps))
    .use(gistsModule(deps));
}

/** The Elysia app type, for tests and the server. */
export type App = ReturnType<typeof createApp>;

/** FastAPI-style validation problems: `[{loc, msg, type}]`, one per failing parameter. */
export function validationDetail(error: Readonly<ValidationError>): ValidationProblem[] {
  const where = error.type === "params" ? "path" : error.type;
  const problems = new Map<string, ValidationProblem>();
  for (const problem of error.all) {
    const schema = ("schema" in problem ? problem.schema : undefined) as Record<string, unknown> | undefined;
    const fromPath = ("path" in problem ? String(problem.path) : "").replace(/^\//, "").split("/")[0];
    const name = (schema?.[parameterKey] as string | undefined) ?? fromPath ?? "";
    if (problems.has(name)) continue;
    const rule = parameterRules[name as keyof typeof parameterRules];
    const message = "message" in problem ? String(problem.message) : error.message;
    problems.set(
      name,
      rule
        ? { loc: [...rule.loc], msg: `${rule.loc[1]} ${rule.msg}`, type: "value_error" }
        : { loc: name ? [where, name] : [where], msg: message, type: "value_error" },
    );
  }
  if (problems.size === 0) problems.set("", { loc: [where], msg: error.message, type: "value_error" });
  return [...problems.values()];
}

/** One invalid parameter, as FastAPI reported it. */
export interface ValidationProblem {
  loc: string[];
  msg: string;
  type: string;
}
