import { describe, expect, test } from "bun:test";
import { chunkedEnd, emptyHead, readHead } from "./answer-head.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("readHead", () => {
  test("reads the status and the four fields it needs, in any case, and where the body starts", () => {
    const text = "HTTP/1.1 201 Created\r\nCONTENT-length:  20000 \r\nx-CaChE:  hit \r\nServer: raw\r\nconnection: Close\r\n\r\nbody";
    const head = emptyHead();
    expect(readHead(bytes(text), head)).toBe(true);
    expect(head).toEqual({ status: 201, cache: "HIT", length: 20000, chunked: false, close: true, bodyStart: text.indexOf("body") });
  });

  test("a head is read only once its blank line is all here, wherever the bytes are cut", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Cache: MISS\r\nContent-Length: 2\r\n\r\n{}";
    const whole = bytes(text);
    const head = emptyHead();
    const bodyStart = text.indexOf("{}");
    for (let cut = 0; cut < bodyStart; cut++) expect({ cut, read: readHead(whole.subarray(0, cut), head) }).toEqual({ cut, read: false });
    expect(readHead(whole.subarray(0, bodyStart), head)).toBe(true);
    expect([head.status, head.cache, head.length, head.bodyStart]).toEqual([200, "MISS", 2, bodyStart]);
  });

  test("a reused head forgets the last answer's fields", () => {
    const head = emptyHead();
    readHead(bytes("HTTP/1.1 200 OK\r\nX-Cache: STALE\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"), head);
    expect([head.cache, head.chunked, head.close]).toEqual(["STALE", true, true]);
    readHead(bytes('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n'), head);
    expect(head).toMatchObject({ status: 304, cache: null, length: -1, chunked: false, close: false });
  });

  test("names only match whole names, and a verdict the service does not send is kept, upper-cased", () => {
    const head = emptyHead();
    readHead(
      bytes("HTTP/1.1 200 OK\r\nContent-Length-Extra: 9\r\nX-Cacher: HIT\r\nX-Cache: warm\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n"),
      head,
    );
    expect([head.length, head.cache, head.close]).toEqual([3, "WARM", false]);
  });
});

describe("chunkedEnd", () => {
  test("finds the end past the last chunk, with chunk extensions and trailers, and not before it is all here", () => {
    const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    const body = "b;name=value\r\nfirst part,\r\nB\r\nsecond part\r\n0\r\nX-Trailer: yes\r\n\r\n";
    const whole = bytes(head + body);
    for (let cut = head.length; cut < whole.length; cut++) expect({ cut, end: chunkedEnd(whole.subarray(0, cut), head.length) }).toEqual({ cut, end: -1 });
    expect(chunkedEnd(whole, head.length)).toBe(whole.length);
    expect(chunkedEnd(bytes(`${head}0\r\n\r\nnext`), head.length)).toBe(head.length + 5);
  });
});
