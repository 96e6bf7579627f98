import { describe, expect, test } from "bun:test";
import type { Redis } from "ioredis";
import type { RedisLink, SharedOperation } from "./redis-link.ts";
import { createRedisStore, type EntryCodec } from "./redis-store.ts";

/** A link that runs each command on `redis` at once and records the operation it was sent as. */
function recordingLink(redis: Partial<Redis>) {
  const operations: SharedOperation[] = [];
  const link = {
    run: async <T>(operation: SharedOperation, command: (client: Redis) => Promise<T>) => {
      operations.push(operation);
      return command(redis as Redis);
    },
    onEvent: () => {},
    publish: () => {},
  } as unknown as RedisLink;
  return { link, operations };
}

const unreadable: EntryCodec<{ negative: boolean }> = {
  version: 2,
  encode: () => new Uint8Array(),
  decode: () => undefined,
};

describe("the Redis store", () => {
  // The link takes a "set" that succeeds as the sign that a full Redis has room again: a removal, which a full
  // Redis allows, must not pass for one, or each unreadable entry read while full would say "takes writes again".
  test("an unreadable entry is removed as part of its read, never sent as a write", async () => {
    const removed: string[] = [];
    const { link, operations } = recordingLink({
      getBuffer: (async () => Buffer.from("not an entry")) as unknown as Redis["getBuffer"],
      unlink: (async (...keys: string[]) => (removed.push(...keys), keys.length)) as unknown as Redis["unlink"],
    });
    const store = createRedisStore({ link, codec: unreadable, keyPrefix: "gists-api:" });
    expect(await store.get("0123456789abcdef", "octocat:1:30")).toBeNull();
    expect(removed).toEqual(["gists-api:0123456789abcdef:v2:octocat:1:30"]);
    expect(store.dropped).toBe(1);
    expect(operations).toEqual(["get", "get"]);
  });
});
