import assert from "node:assert/strict";
import { ShareDeduper } from "../stratum/dedupe.ts";

const EN1 = 0x01020304;
const NTIME = 0x6553f100;
const NONCE = 0xdeadbeef;
const VERSION = 0x20000000;

Deno.test("dedupe: a share is new once, then a duplicate", () => {
  const d = new ShareDeduper();
  assert.equal(d.add(1, "a", EN1, "0000abcd", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "0000abcd", NTIME, NONCE, VERSION), false);
  assert.equal(d.sharesOf(1), 1);
});

Deno.test("dedupe: extranonce2 in the other hex case is the same share", () => {
  const d = new ShareDeduper();
  assert.equal(d.add(1, "a", EN1, "00ABCDEF", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "00abcdef", NTIME, NONCE, VERSION), false);
  assert.equal(d.add(1, "a", EN1, "00aBcDeF", NTIME, NONCE, VERSION), false);
});

Deno.test("dedupe: every key field tells shares apart", () => {
  const d = new ShareDeduper();
  assert.equal(d.add(1, "a", EN1, "00000001", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1 + 1, "00000001", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "00000002", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "00000001", NTIME + 1, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "00000001", NTIME, NONCE ^ 1, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "00000001", NTIME, NONCE, VERSION | 0x2000), true);
  assert.equal(d.sharesOf(1), 6);
});

Deno.test("dedupe: extranonce2 digit count is part of the key", () => {
  const d = new ShareDeduper();
  assert.equal(d.add(1, "a", EN1, "0a", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "000a", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "0a", NTIME, NONCE, VERSION), false);
});

Deno.test("dedupe: 8-byte extranonce2 compares both halves", () => {
  const d = new ShareDeduper();
  assert.equal(d.add(1, "a", EN1, "0000000100000000", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "0000000000000001", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "FFFFFFFFFFFFFFFF", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(1, "a", EN1, "ffffffffffffffff", NTIME, NONCE, VERSION), false);
  assert.equal(d.add(1, "a", EN1, "0000000100000000", NTIME, NONCE, VERSION), false);
});

Deno.test("dedupe: full 32-bit words (top bit set) are kept exactly", () => {
  const d = new ShareDeduper();
  assert.equal(d.add(1, "a", 0xffffffff, "ffffffff", 0xffffffff, 0xffffffff, 0xffffffff), true);
  assert.equal(d.add(1, "a", 0xffffffff, "ffffffff", 0xffffffff, 0xffffffff, 0xffffffff), false);
  assert.equal(d.add(1, "a", 0xffffffff, "ffffffff", 0xffffffff, 0xfffffffe, 0xffffffff), true);
});

Deno.test("dedupe: jobs have separate sets", () => {
  const d = new ShareDeduper();
  assert.equal(d.add(1, "a", EN1, "00000001", NTIME, NONCE, VERSION), true);
  assert.equal(d.add(2, "b", EN1, "00000001", NTIME, NONCE, VERSION), true);
  assert.equal(d.jobs, 2);
});

Deno.test("dedupe: 50,000 distinct shares of one job are all new, then all duplicates", () => {
  const d = new ShareDeduper();
  const count = 50_000;
  // Nonces counting up per connection, as miners send them, over 100 connections.
  for (let i = 0; i < count; i++) {
    assert.equal(d.add(7, "j", i % 100, "00000000", NTIME, Math.floor(i / 100), VERSION), true);
  }
  assert.equal(d.sharesOf(7), count);
  for (let i = 0; i < count; i++) {
    assert.equal(d.add(7, "j", i % 100, "00000000", NTIME, Math.floor(i / 100), VERSION), false);
  }
  assert.equal(d.sharesOf(7), count);
});

Deno.test("dedupe: retain drops the sets of jobs no longer live", () => {
  const d = new ShareDeduper();
  d.add(1, "old", EN1, "00000001", NTIME, NONCE, VERSION);
  d.add(2, "new", EN1, "00000001", NTIME, NONCE, VERSION);
  d.retain((id) => id === "new");
  assert.equal(d.jobs, 1);
  assert.equal(d.sharesOf(1), 0);
  assert.equal(d.add(2, "new", EN1, "00000001", NTIME, NONCE, VERSION), false);
});

Deno.test("dedupe: an extranonce2 that is not 1-16 hex digits is refused", () => {
  const d = new ShareDeduper();
  assert.throws(() => d.add(1, "a", EN1, "", NTIME, NONCE, VERSION), RangeError);
  assert.throws(() => d.add(1, "a", EN1, "0".repeat(17), NTIME, NONCE, VERSION), RangeError);
  assert.throws(() => d.add(1, "a", EN1, "0000000g", NTIME, NONCE, VERSION), RangeError);
  assert.equal(d.jobs, 0);
});

Deno.test("dedupe: a closed session's keys are kept for the replay window, then dropped", () => {
  const d = new ShareDeduper({ replayWindowMs: 1000 });
  d.add(1, "a", EN1, "00000001", NTIME, NONCE, VERSION);
  d.add(1, "a", EN1 + 1, "00000001", NTIME, NONCE, VERSION);
  d.release(EN1, 10_000);
  d.prune(10_999);
  assert.equal(d.sessions, 2, "still inside the window");
  assert.equal(d.add(1, "a", EN1, "00000001", NTIME, NONCE, VERSION), false);
  d.prune(11_000);
  assert.equal(d.sessions, 1, "the open session stays");
  assert.equal(d.sharesOf(1), 1);
  assert.equal(d.reclaim(EN1, 11_000), false, "gone: its extranonce1 must not be resumed");
});

Deno.test("dedupe: a session reclaimed inside the window keeps its keys and is not dropped", () => {
  const d = new ShareDeduper({ replayWindowMs: 1000 });
  d.add(1, "a", EN1, "00000001", NTIME, NONCE, VERSION);
  d.release(EN1, 0);
  assert.equal(d.reclaim(EN1, 500), true);
  d.prune(5000);
  assert.equal(d.add(1, "a", EN1, "00000001", NTIME, NONCE, VERSION), false);
  assert.equal(d.reclaim(EN1 + 7, 500), false, "never released: nothing to reclaim");
});

Deno.test("dedupe: 10,000 sessions that come and go leave nothing behind", () => {
  const d = new ShareDeduper({ replayWindowMs: 100 });
  for (let round = 0; round < 10; round++) {
    for (let s = 0; s < 1000; s++) {
      const en1 = round * 1000 + s;
      for (let n = 0; n < 20; n++) d.add(1, "a", en1, "00000000", NTIME, n, VERSION);
      d.release(en1, round * 1000);
    }
    d.prune(round * 1000 + 100);
    assert.equal(d.sessions, 0);
  }
  assert.equal(d.sharesOf(1), 0);
});

Deno.test("dedupe: a session keeps the keys of its newest jobsPerSession jobs only", () => {
  const d = new ShareDeduper({ jobsPerSession: 16 });
  for (let seq = 1; seq <= 20; seq++) {
    assert.equal(d.add(seq, seq.toString(16), EN1, "00000001", NTIME, NONCE, VERSION), true);
  }
  assert.equal(d.jobs, 16);
  assert.equal(d.sharesOf(4), 0, "the oldest four went");
  assert.equal(d.sharesOf(5), 1);
  assert.equal(d.add(20, "14", EN1, "00000001", NTIME, NONCE, VERSION), false, "still a duplicate");
  assert.equal(d.add(5, "5", EN1, "00000001", NTIME, NONCE, VERSION), false);
});
