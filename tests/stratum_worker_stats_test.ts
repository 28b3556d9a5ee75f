/**
 * Worker stats: the hashrate estimate of a steady simulated miner approaches its true rate, the
 * accuracy marker goes ~ → ≈ → stable, rejects are counted by reason, latency percentiles, and
 * the registry lists live workers and miner types.
 */

import assert from "node:assert/strict";
import { WorkerRegistry, WorkerStats } from "../lib/pool/worker_stats.ts";

Deno.test("a steady miner's hashrate converges and the marker goes from ~ to ≈ to stable", () => {
  const hashrate = 1e12;
  const difficulty = 1000;
  const interval = (difficulty * 2 ** 32 / hashrate) * 1000; // ms between shares (≈ 4.3 s)
  const s = new WorkerStats("c1", "10.0.0.1", false, 0);
  let now = 0;
  const markers: string[] = [];
  for (let i = 0; i < 400; i++) {
    now += interval;
    s.noteAccepted(difficulty, difficulty * 1.5, now);
    const m = s.accuracy(now);
    if (markers[markers.length - 1] !== m) markers.push(m);
  }
  assert.deepEqual(markers, ["~", "≈", ""]);
  assert.ok(Math.abs(s.hashrate(now) / hashrate - 1) < 0.02, `${s.hashrate(now)}`);
  assert.ok(Math.abs(s.sharesPerMinute(now) - 60_000 / interval) < 0.5);
  // silence decays the estimate
  assert.ok(s.hashrate(now + 15 * 60_000) < hashrate * 0.1);
  assert.equal(s.accuracy(now + 30 * 60_000), "~");
});

Deno.test("rejects by reason, best share, and notify→first-share latency", () => {
  const s = new WorkerStats("c2", "10.0.0.2", true, 1000);
  s.noteNotify(2000);
  s.noteRejected("stale", 2500, 12);
  s.noteRejected("duplicate", 2600);
  s.noteNotify(3000);
  s.noteAccepted(1, 7, 3100);
  const snap = s.snapshot(4000);
  assert.equal(snap.rejected, 2);
  assert.equal(snap.rejectedByReason.stale, 1);
  assert.equal(snap.rejectedByReason.duplicate, 1);
  assert.equal(snap.bestDifficulty, 12);
  assert.equal(snap.notifyToFirstShareMs, 100);
  assert.equal(snap.notifyToFirstShareSamples, 2);
  assert.equal(snap.notifyToFirstShareP50Ms, 500);
  assert.equal(snap.tls, true);
});

Deno.test("latency percentiles follow every new sample, also between snapshots", () => {
  const s = new WorkerStats("c3", "10.0.0.3", false, 0);
  assert.equal(s.snapshot(0).notifyToFirstShareP50Ms, undefined);
  s.noteNotify(1000);
  s.noteAccepted(1, 1, 1040);
  const first = s.snapshot(2000);
  assert.equal(first.notifyToFirstShareP50Ms, 40);
  assert.equal(first.notifyToFirstShareP95Ms, 40);
  // A second snapshot with no new sample gives the same figures.
  assert.equal(s.snapshot(2500).notifyToFirstShareP95Ms, 40);
  for (const [notify, share] of [[3000, 3010], [4000, 4300], [5000, 5020]]) {
    s.noteNotify(notify);
    s.noteAccepted(1, 1, share);
  }
  // Samples 40, 10, 300, 20: median index 2 of the sorted four, p95 the largest.
  const later = s.snapshot(6000);
  assert.equal(later.notifyToFirstShareSamples, 4);
  assert.equal(later.notifyToFirstShareP50Ms, 40);
  assert.equal(later.notifyToFirstShareP95Ms, 300);
});

Deno.test("the registry lists authorized workers by hashrate and counts miner types", () => {
  const reg = new WorkerRegistry();
  const a = new WorkerStats("a", "1.1.1.1", false, 0);
  a.name = "addr.a";
  a.userAgent = "cgminer/4.11";
  a.noteAccepted(1000, 1000, 10_000);
  const b = new WorkerStats("b", "1.1.1.2", false, 0);
  b.name = "addr.b";
  b.userAgent = "NerdMiner";
  b.noteAccepted(1, 1, 10_000);
  const c = new WorkerStats("c", "1.1.1.3", false, 0); // not authorized
  for (const w of [a, b, c]) reg.add(w);
  assert.deepEqual(reg.list(20_000).map((w) => w.name), ["addr.a", "addr.b"]);
  assert.deepEqual(reg.minerTypes(), [
    { name: "cgminer", workers: 1 },
    { name: "NerdMiner", workers: 1 },
  ]);
  reg.remove("a");
  assert.equal(reg.size, 2);
});
