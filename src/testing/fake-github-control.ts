import type { IncomingMessage, ServerResponse } from "node:http";
import { parseFault, parseSecondaryLimit, type SecondaryLimit } from "./fake-faults.ts";
import type { FakeGithub, RateLimitState } from "./fake-github.ts";

/** Serve the fake's controls under `/_fake/` so a fake in another process can be driven over HTTP. */
export async function handleControl(req: IncomingMessage, res: ServerResponse, fake: FakeGithub): Promise<void> {
  const route = `${req.method} ${(req.url ?? "").split("?")[0]}`;
  try {
    const body = req.method === "POST" ? await _readJson(req) : {};
    switch (route) {
      case "POST /_fake/users": {
        if (typeof body.login !== "string") throw new Error("login must be a string");
        if (body.count === null) fake.removeUser(body.login);
        else fake.setUser(body.login, body.count as number);
        return _json(res, 200, { users: fake.users() });
      }
      case "POST /_fake/fault":
        fake.setFault(typeof body.login === "string" ? body.login : "*", parseFault(body.fault ?? null));
        return _json(res, 200, { faults: fake.faults() });
      case "POST /_fake/secondary-limit":
        fake.setSecondaryLimit(body.limit === null ? null : parseSecondaryLimit(body as SecondaryLimit & { times?: number }));
        return _json(res, 200, { secondaryLimit: fake.secondaryLimit ?? null });
      case "POST /_fake/rate-limit":
        fake.setRateLimit(_rateLimitUpdate(body));
        return _json(res, 200, { rateLimit: fake.rateLimit });
      case "POST /_fake/reset":
        fake.reset();
        return _json(res, 200, _state(fake));
      case "GET /_fake/state":
        return _json(res, 200, _state(fake));
      case "GET /_fake/requests":
        return _json(res, 200, {
          count: fake.requestCount(),
          inFlight: fake.inFlight,
          maxInFlight: fake.maxInFlight,
          requests: fake.requests.map((r) => ({ ...r, query: Object.fromEntries(r.query) })),
        });
      case "DELETE /_fake/requests":
        fake.clearRequests();
        return _json(res, 200, { count: 0 });
      default:
        return _json(res, 404, { message: `No control route ${route}` });
    }
  } catch (error) {
    return _json(res, 400, { message: error instanceof Error ? error.message : String(error) });
  }
}

function _state(fake: FakeGithub) {
  return { users: fake.users(), faults: fake.faults(), secondaryLimit: fake.secondaryLimit ?? null, rateLimit: fake.rateLimit, requests: fake.requestCount() };
}

function _rateLimitUpdate(body: Record<string, unknown>): Partial<RateLimitState> {
  const update: Partial<RateLimitState> = {};
  for (const key of ["limit", "remaining", "resetAt", "windowSeconds"] as const) {
    if (body[key] === undefined) continue;
    if (typeof body[key] !== "number") throw new Error(`${key} must be a number`);
    update[key] = body[key];
  }
  if (body.exceededStatus !== undefined) {
    if (body.exceededStatus !== 403 && body.exceededStatus !== 429) throw new Error("exceededStatus must be 403 or 429");
    update.exceededStatus = body.exceededStatus;
  }
  return update;
}

async function _readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("body must be a JSON object");
  return value as Record<string, unknown>;
}

function _json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
