import { Elysia, t } from "elysia";
import { serviceName } from "../../version.ts";

/** Whether the process should receive traffic; serve flips it when shutting down. */
export interface Readiness {
  ready: boolean;
}

const healthBody = t.Object({ status: t.String(), service: t.String() }, { description: "The service is up" });
const probeBody = (description: string) => t.Object({ status: t.String() }, { description });

/** The paths probes ask, which no per-client rate limit may refuse. */
export const probePaths = ["/health", "/healthz", "/readyz"] as const;

/** `/`, `/health`, `/healthz` (liveness) and `/readyz` (readiness: 503 while shutting down). */
export function healthModule(readiness: Readiness) {
  const healthy = () => ({ status: "healthy", service: serviceName });
  const detail = { tags: ["health"] };
  return new Elysia({ name: "health" })
    .get("/", healthy, { response: healthBody, detail: { ...detail, summary: "Service health" } })
    .get("/health", healthy, { response: healthBody, detail: { ...detail, summary: "Service health" } })
    .get("/healthz", () => ({ status: "alive" }), {
      response: probeBody("The process is alive"),
      detail: { ...detail, summary: "Liveness probe: 200 while the process runs" },
    })
    .get(
      "/readyz",
      ({ set }) => {
        if (readiness.ready) return { status: "ready" };
        set.status = 503;
        return { status: "shutting down" };
      },
      {
        response: { 200: probeBody("Ready for traffic"), 503: probeBody("Shutting down: finishing requests in flight") },
        detail: { ...detail, summary: "Readiness probe: 503 while shutting down" },
      },
    );
}
