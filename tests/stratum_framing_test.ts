/**
 * Line framing and the JSON-RPC helpers: lines split anywhere are reassembled, CRLF and blank
 * lines are handled, oversize lines are caught (also across chunks) with their id recoverable.
 */

import assert from "node:assert/strict";
import { LineFramer } from "../stratum/framing.ts";
import {
  encodeError,
  parseHex32,
  parseHexUpTo32,
  parseRequest,
  sniffId,
} from "../stratum/protocol.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function feed(framer: LineFramer, chunks: string[]): { lines: string[]; result: string } {
  const lines: string[] = [];
  let result = "ok";
  for (const c of chunks) {
    result = framer.push(bytes(c), (l) => {
      lines.push(l);
    });
    if (result !== "ok") break;
  }
  return { lines, result };
}

Deno.test("lines split at every byte boundary come out whole; CRLF and blank lines handled", () => {
  const text = '{"id":1}\r\n\n  \n{"id":2,"s":"é"}\n{"id":3}';
  for (let cut = 0; cut <= text.length; cut++) {
    const { lines } = feed(new LineFramer(64), [text.slice(0, cut), text.slice(cut), "\n"]);
    assert.deepEqual(lines, ['{"id":1}', '{"id":2,"s":"é"}', '{"id":3}'], `cut at ${cut}`);
  }
});

Deno.test("a line over the cap is caught in one chunk or across many, and its id can be sniffed", () => {
  const long = '{"id":42,"method":"mining.subscribe","params":["' + "x".repeat(200) + '"]}\n';
  const one = new LineFramer(100);
  assert.equal(feed(one, [long]).result, "oversize");
  assert.equal(sniffId(one.oversizeHead), 42);

  const many = new LineFramer(100);
  const chunks = long.match(/.{1,7}/gs)!;
  assert.equal(feed(many, chunks).result, "oversize");
  assert.equal(sniffId(many.oversizeHead), 42);

  // exactly at the cap is fine
  const exact = new LineFramer(10);
  assert.deepEqual(feed(exact, ["0123456789\n"]), { lines: ["0123456789"], result: "ok" });
  assert.equal(feed(new LineFramer(10), ["0123456789A\n"]).result, "oversize");
});

Deno.test("parseRequest tells requests, replies, parse errors and invalid requests apart", () => {
  assert.deepEqual(parseRequest('{"id":1,"method":"mining.ping"}'), {
    id: 1,
    method: "mining.ping",
    params: [],
  });
  assert.deepEqual(parseRequest('{"id":"a","result":true}'), { id: "a", method: "", params: [] });
  assert.deepEqual(parseRequest('{"id":9,"method":'), { error: "parse", id: 9 });
  assert.deepEqual(parseRequest("[1]"), { error: "invalid", id: null });
  assert.deepEqual(parseRequest('{"id":3,"method":5}'), { error: "invalid", id: 3 });
  assert.equal(sniffId("garbage"), null);
  assert.equal(
    encodeError(7, 21, "job not found"),
    '{"id":7,"result":null,"error":[21,"job not found",null]}\n',
  );
});

Deno.test("hex words parse strictly, either case, without leading-zero tricks", () => {
  assert.equal(parseHex32("ffffffff"), 0xffffffff);
  assert.equal(parseHex32("DEADbeef"), 0xdeadbeef);
  assert.equal(parseHex32("1234567"), -1);
  assert.equal(parseHex32("123456789"), -1);
  assert.equal(parseHex32("1234567g"), -1);
  assert.equal(parseHex32(12345678), -1);
  assert.equal(parseHexUpTo32("2000"), 0x2000);
  assert.equal(parseHexUpTo32(""), -1);
});
