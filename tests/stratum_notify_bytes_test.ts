import assert from "node:assert/strict";
import { encodeNotify, encodeNotifyBytes } from "../stratum/protocol.ts";
import { makeJob, prevhashOf } from "../stratum/testing.ts";

const script = new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(7)]);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("encodeNotifyBytes is the UTF-8 of encodeNotify, for both clean_jobs values", () => {
  const job = makeJob({ seq: 0x51, prevhash: prevhashOf(9) });
  const coinbase = job.coinbaseFor(script);
  for (const clean of [true, false]) {
    const text = encodeNotify(job.id, job, coinbase, clean);
    assert.equal(decode(encodeNotifyBytes(job.id, job, coinbase, clean)), text);
    const params = JSON.parse(text).params;
    assert.equal(params[0], job.id);
    assert.equal(params[1], job.prevhashStratum);
    assert.equal(params[2], coinbase.coinb1Hex);
    assert.equal(params[8], clean);
    assert.ok(text.endsWith("\n"));
  }
});

Deno.test("a new block's notify is encoded once per coinbase and shared by its miners", () => {
  const job = makeJob({ seq: 0x52, prevhash: prevhashOf(10) });
  const coinbase = job.coinbaseFor(script);
  const first = encodeNotifyBytes(job.id, job, coinbase, true);
  assert.equal(encodeNotifyBytes(job.id, job, coinbase, true), first, "same bytes object");
  assert.notEqual(encodeNotifyBytes(job.id, job, coinbase, false), first);
  // Another payout script is another coinbase: its own line.
  const other = job.coinbaseFor(new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(8)]));
  const otherBytes = encodeNotifyBytes(job.id, job, other, true);
  assert.notEqual(otherBytes, first);
  assert.equal(JSON.parse(decode(otherBytes)).params[2], other.coinb1Hex);
});

Deno.test("a notify under another id (same job, new difficulty) is encoded fresh with that id", () => {
  const job = makeJob({ seq: 0x53, prevhash: prevhashOf(11) });
  const coinbase = job.coinbaseFor(script);
  const shared = encodeNotifyBytes(job.id, job, coinbase, false);
  const variant = encodeNotifyBytes(`${job.id}.1`, job, coinbase, false);
  assert.equal(JSON.parse(decode(variant)).params[0], `${job.id}.1`);
  assert.equal(JSON.parse(decode(shared)).params[0], job.id, "the shared line is untouched");
  assert.equal(decode(variant), encodeNotify(`${job.id}.1`, job, coinbase, false));
});
