import type { ValidateFunction } from "ajv";
import { beforeAll, expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { gistsPageValidator, violationsOf } from "./published-schema.ts";
import { describeTargets, freshLogin, pastShortTtl as pastTtl, rawGet, shortTtl, timedTestMs, type RawReply, type Stack, useStack } from "./stack.ts";

// Every 200 body the service sends, decoded from each content coding, must match the gistsPage schema its own
// OpenAPI document publishes: clients generate code from that document, so the two must never drift apart.

/** The Accept-Encoding values a client sends, and the codings each may be answered with. */
const acceptEncodings = { identity: ["identity"], gzip: ["gzip"], br: ["br", "gzip"] } as const;
type Accepted = keyof typeof acceptEncodings;

const _decoders: Record<string, ((body: Buffer) => Buffer) | undefined> = { identity: (body) => body, gzip: gunzipSync, br: brotliDecompressSync };

/** One checked answer: how the cache answered, how it was coded, and what the schema said of its body. */
interface Checked {
  path: string;
  accepted: Accepted;
  status: number;
  xCache: string;
  coding: string;
  violations: string;
  /** Whether the coding is one the client's Accept-Encoding allows. */
  accepts: boolean;
}

/** GET `path` with one Accept-Encoding, decode the body as its Content-Encoding says and validate it. */
async function check(s: Stack, validate: ValidateFunction, path: string, accepted: Accepted): Promise<Checked> {
  const reply: RawReply = await rawGet(`${s.service.url}${path}`, { "accept-encoding": accepted });
  const coding = String(reply.headers["content-encoding"] ?? "identity");
  const decode = _decoders[coding];
  let violations = decode ? "" : `unexpected content-encoding ${coding}`;
  if (decode) {
    const body: unknown = JSON.parse(decode(reply.body).toString("utf8"));
    violations = violationsOf(validate, body);
  }
  const accepts = (acceptEncodings[accepted] as readonly string[]).includes(coding);
  return { path, accepted, status: reply.status, xCache: String(reply.headers["x-cache"]), coding, violations, accepts };
}

/** What every checked answer must be: 200, the expected verdict, a coding the client accepts, no violations. */
function expectValid(checked: Checked[], verdict: string): void {
  for (const answer of checked) {
    expect(answer).toEqual({
      ...answer,
      status: 200,
      xCache: verdict,
      violations: "",
      accepts: true,
    });
  }
}

/** A user per Accept-Encoding, 30 gists each (well over the 1 KB compression threshold). */
function usersPerEncoding(s: Stack, prefix: string): Array<[Accepted, string]> {
  return (Object.keys(acceptEncodings) as Accepted[]).map((accepted) => {
    const login = freshLogin(`${prefix}-${accepted}`);
    s.fake.setUser(login, 30);
    return [accepted, login];
  });
}

describeTargets("answer bodies match the published gistsPage schema", (target) => {
  const s = useStack(target);
  let validate: ValidateFunction;
  beforeAll(async () => {
    validate = await gistsPageValidator(s);
  });

  test("MISS, HIT and BYPASS of a page and of a complete list, identity, gzip and brotli", async () => {
    const seen: Checked[] = [];
    for (const [accepted, login] of usersPerEncoding(s, "shape")) {
      for (const path of [`/${login}`, `/${login}?all=true`, `/${login}?page=2&per_page=7`]) {
        const miss = await check(s, validate, path, accepted);
        const hit = await check(s, validate, path, accepted);
        const bypass = await check(s, validate, `${path}${path.includes("?") ? "&" : "?"}use_cache=false`, accepted);
        expectValid([miss], "MISS");
        expectValid([hit], "HIT");
        expectValid([bypass], "BYPASS");
        seen.push(miss, hit, bypass);
      }
    }
    // Each coding the service can send was checked at least once.
    expect(new Set(seen.map((answer) => answer.coding))).toEqual(new Set(["identity", "gzip", "br"]));
  });

  test("the published schema is not vacuous: it refuses file names as a list, a file's content and a string size", async () => {
    const login = freshLogin("strict");
    s.fake.setUser(login, 3);
    const body = (await (await s.request(`/${login}`)).json()) as any;
    expect(validate(body)).toBe(true);
    const [name] = Object.keys(body.data[0].files);
    const variants = {
      names: { ...body, data: [{ ...body.data[0], files: Object.keys(body.data[0].files) }] },
      content: { ...body, data: [{ ...body.data[0], files: { [name!]: { ...body.data[0].files[name!], content: "puts 1" } } }] },
      size: { ...body, data: [{ ...body.data[0], files: { [name!]: { ...body.data[0].files[name!], size: "167" } } }] },
    };
    expect(Object.entries(variants).map(([variant, value]) => [variant, validate(value)])).toEqual([
      ["names", false],
      ["content", false],
      ["size", false],
    ]);
  });

  test("a page whose files include one GitHub gives no language still matches", async () => {
    const login = freshLogin("nolang");
    s.fake.setUser(login, 12);
    const nullLanguage = s.fake.gists(login).some((gist) => Object.values(gist.files).some((file) => file.language === null));
    expect(nullLanguage).toBe(true);
    expectValid([await check(s, validate, `/${login}`, "identity")], "MISS");
  });
});

// No stale window: an expired page is asked for in the foreground and GitHub's 304 renews it.
describeTargets("revalidated bodies match the published gistsPage schema", (target) => {
  const s = useStack(target, { CACHE_TTL: shortTtl, CACHE_STALE_TTL: "0" });

  test(
    "REVALIDATED, identity, gzip and brotli",
    async () => {
      const validate = await gistsPageValidator(s);
      const users = usersPerEncoding(s, "reval");
      for (const [accepted, login] of users) expectValid([await check(s, validate, `/${login}`, accepted)], "MISS");
      await pastTtl();
      const revalidated = [];
      for (const [accepted, login] of users) revalidated.push(await check(s, validate, `/${login}`, accepted));
      expectValid(revalidated, "REVALIDATED");
    },
    timedTestMs,
  );
});

// A long stale window: the first request after expiry is answered from the stale copy while it refreshes.
describeTargets("stale bodies match the published gistsPage schema", (target) => {
  const s = useStack(target, { CACHE_TTL: shortTtl, CACHE_STALE_TTL: "3600" });

  test(
    "STALE, identity, gzip and brotli",
    async () => {
      const validate = await gistsPageValidator(s);
      const users = usersPerEncoding(s, "stale");
      for (const [accepted, login] of users) expectValid([await check(s, validate, `/${login}`, accepted)], "MISS");
      await pastTtl();
      const stale = [];
      for (const [accepted, login] of users) stale.push(await check(s, validate, `/${login}`, accepted));
      expectValid(stale, "STALE");
    },
    timedTestMs,
  );
});
