/** LatencyStats: last/max/count for ever, min/avg/max over a rolling window on an injected clock. */

import assert from "node:assert/strict";
import { LatencyStats } from "../lib/node/latency.ts";

const MINUTE = 60_000;

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("latency: an unknown method reports zeros", () => {
  const stats = new LatencyStats();
  assert.deepEqual(stats.snapshot("getblocktemplate"), {
    lastSec: 0,
    maxSec: 0,
    count: 0,
    windowMinSec: 0,
    windowAvgSec: 0,
    windowMaxSec: 0,
    windowCount: 0,
  });
  assert.deepEqual(stats.all(), {});
});

Deno.test("latency: last, max and count follow every sample; methods are separate", () => {
  const c = clock();
  const stats = new LatencyStats({ now: c.now });
  stats.record("getblocktemplate", 0.5);
  stats.record("getblocktemplate", 2);
  stats.record("getblocktemplate", 1);
  stats.record("submitblock", 0.25);
  const gbt = stats.snapshot("getblocktemplate");
  assert.equal(gbt.lastSec, 1);
  assert.equal(gbt.maxSec, 2);
  assert.equal(gbt.count, 3);
  assert.equal(gbt.windowMinSec, 0.5);
  assert.equal(gbt.windowMaxSec, 2);
  assert.equal(gbt.windowAvgSec, 3.5 / 3);
  assert.equal(stats.snapshot("submitblock").count, 1);
  assert.deepEqual(Object.keys(stats.all()).sort(), ["getblocktemplate", "submitblock"]);
});

Deno.test("latency: the one-hour window forgets old samples, the all-time figures do not", () => {
  const c = clock();
  const stats = new LatencyStats({ now: c.now });
  stats.record("getblocktemplate", 5); // slow call at t = 0
  c.advance(30 * MINUTE);
  stats.record("getblocktemplate", 0.2);
  stats.record("getblocktemplate", 0.4);

  let s = stats.snapshot("getblocktemplate");
  assert.equal(s.windowCount, 3);
  assert.equal(s.windowMaxSec, 5);
  assert.equal(s.windowMinSec, 0.2);

  c.advance(31 * MINUTE); // t = 61 min: the t = 0 sample left the window
  s = stats.snapshot("getblocktemplate");
  assert.equal(s.windowCount, 2);
  assert.equal(s.windowMaxSec, 0.4);
  assert.equal(s.windowMinSec, 0.2);
  assert.ok(Math.abs(s.windowAvgSec - 0.3) < 1e-12);
  assert.equal(s.maxSec, 5);
  assert.equal(s.count, 3);

  c.advance(60 * MINUTE); // nothing in the last hour
  s = stats.snapshot("getblocktemplate");
  assert.equal(s.windowCount, 0);
  assert.equal(s.windowMinSec, 0);
  assert.equal(s.windowAvgSec, 0);
  assert.equal(s.windowMaxSec, 0);
  assert.equal(s.lastSec, 0.4);
});

Deno.test("latency: a reused bucket starts over after the clock wrapped the ring", () => {
  const c = clock();
  const stats = new LatencyStats({ now: c.now, windowMs: 3 * MINUTE, bucketMs: MINUTE });
  stats.record("m", 9);
  c.advance(3 * MINUTE); // same ring slot, one full window later
  stats.record("m", 1);
  const s = stats.snapshot("m");
  assert.equal(s.windowCount, 1);
  assert.equal(s.windowMaxSec, 1);
  assert.equal(s.windowMinSec, 1);
});

Deno.test("latency: nonsense samples are ignored and bad windows are refused", () => {
  const stats = new LatencyStats();
  stats.record("m", -1);
  stats.record("m", Number.NaN);
  stats.record("m", Infinity);
  assert.equal(stats.snapshot("m").count, 0);
  assert.throws(() => new LatencyStats({ bucketMs: 0 }), RangeError);
  assert.throws(() => new LatencyStats({ windowMs: 10, bucketMs: 20 }), RangeError);
});
