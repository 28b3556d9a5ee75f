/**
 * Vardiff: a simulated miner of known hashrate (Poisson shares, seeded) converges to about 15
 * shares per minute from far below and far above; hints, floors and clamps behave.
 */

import assert from "node:assert/strict";
import { quantizeDifficulty, Vardiff, type VardiffOptions } from "../lib/pool/vardiff.ts";
import { SeededRandom } from "../lib/shares/synthetic.ts";

/** Seeded uniform (0, 1] (mulberry32), so the simulation is repeatable. */
function seeded(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => (random.nextU32() + 1) / 4294967296;
}

interface SimResult {
  /** Accepted shares per minute over the last `tailMinutes`. */
  spm: number;
  finalDifficulty: number;
  idealDifficulty: number;
  changes: number;
}

/**
 * Runs a miner of `hashrate` H/s for `minutes` of simulated time. Shares arrive as a Poisson
 * process with rate hashrate / (difficulty · 2^32); vardiff ticks once a second like the server.
 */
function simulate(
  hashrate: number,
  start: number,
  options: Partial<VardiffOptions>,
  minutes: number,
  seed: number,
  tailMinutes = 20,
): SimResult {
  const random = seeded(seed);
  const vd = new Vardiff(options, start, 0);
  const end = minutes * 60_000;
  const tailStart = end - tailMinutes * 60_000;
  let now = 0;
  let tailShares = 0;
  let nextTick = 1000;
  const nextShareIn = () => (-Math.log(random()) * vd.difficulty * 2 ** 32 / hashrate) * 1000;
  let nextShare = nextShareIn();
  while (now < end) {
    if (nextShare <= nextTick) {
      now = nextShare;
      if (now >= tailStart) tailShares++;
      const changed = vd.onShare(now);
      nextShare = now + nextShareIn();
      if (changed !== undefined) nextShare = now + nextShareIn(); // new work at the new difficulty
    } else {
      now = nextTick;
      nextTick += 1000;
      if (vd.onTick(now) !== undefined) nextShare = now + nextShareIn();
    }
  }
  const target = vd.options.targetSharesPerMinute;
  return {
    spm: tailShares / tailMinutes,
    finalDifficulty: vd.difficulty,
    idealDifficulty: (hashrate * 60) / (target * 2 ** 32),
    changes: vd.changes,
  };
}

Deno.test("a 1 TH/s miner starting at difficulty 1 converges to ~15 shares/min", () => {
  for (const seed of [1, 2, 3]) {
    const r = simulate(1e12, 1, {}, 60, seed);
    assert.ok(r.spm > 11 && r.spm < 20, `seed ${seed}: ${r.spm} spm`);
    const off = r.finalDifficulty / r.idealDifficulty;
    assert.ok(
      off > 0.6 && off < 1.6,
      `seed ${seed}: difficulty ${r.finalDifficulty} vs ${r.idealDifficulty}`,
    );
  }
});

Deno.test("a miner starting 1000x too high comes down by itself (ticks, no shares needed)", () => {
  const ideal = (100e9 * 60) / (15 * 2 ** 32); // 100 GH/s ≈ 93
  const r = simulate(100e9, ideal * 1000, {}, 60, 7);
  assert.ok(r.spm > 11 && r.spm < 20, `${r.spm} spm`);
  const off = r.finalDifficulty / r.idealDifficulty;
  assert.ok(off > 0.6 && off < 1.6, `difficulty ${r.finalDifficulty} vs ${r.idealDifficulty}`);
});

Deno.test("a tiny miner reaches a fractional difficulty when the minimum allows it", () => {
  const r = simulate(500e3, 1, { minDifficulty: 1e-6 }, 90, 11);
  assert.ok(r.finalDifficulty < 1);
  assert.ok(r.spm > 11 && r.spm < 20, `${r.spm} spm`);
});

Deno.test("once converged the difficulty mostly holds still (noise band, checkpoints)", () => {
  const ideal = quantizeDifficulty((1e12 * 60) / (15 * 2 ** 32), 8);
  let changes = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const r = simulate(1e12, ideal, {}, 60, seed);
    changes += r.changes;
    const off = r.finalDifficulty / r.idealDifficulty;
    assert.ok(
      off > 0.75 && off < 1.33,
      `seed ${seed}: ${r.finalDifficulty} vs ${r.idealDifficulty}`,
    );
  }
  assert.ok(changes / 10 <= 5, `${changes / 10} changes per hour at the right difficulty`);
});

Deno.test("min and max clamp the controller; the per-connection floor wins over vardiff", () => {
  const capped = simulate(1e15, 1, { maxDifficulty: 1000 }, 20, 3, 5);
  assert.equal(capped.finalDifficulty, 1000);
  const floored = simulate(1e6, 1, { minDifficulty: 0.5 }, 20, 3, 5);
  assert.equal(floored.finalDifficulty, 0.5);

  const vd = new Vardiff({ minDifficulty: 1 }, 8, 0);
  assert.equal(vd.setFloor(64, 0), 64);
  assert.equal(vd.floor, 64);
  // a long silence would normally lower the difficulty; the floor holds it
  assert.equal(vd.onTick(10 * 60_000), undefined);
  assert.equal(vd.difficulty, 64);
});

Deno.test("suggest applies a hint clamped to the floor and pool range, and restarts the window", () => {
  const vd = new Vardiff({ minDifficulty: 0.001, maxDifficulty: 1e6 }, 1, 0);
  assert.equal(vd.suggest(0.25, 0), 0.25);
  assert.equal(vd.suggest(1e9, 0), 1e6);
  assert.equal(vd.suggest(1e-9, 0), 0.001);
  assert.equal(vd.suggest(-1, 0), 0.001, "invalid hints are ignored");
  assert.equal(vd.suggest(NaN, 0), 0.001);
  // shares just after a hint are not yet evidence (minimum retarget interval)
  for (let i = 0; i < 50; i++) assert.equal(vd.onShare(i * 10), undefined);
});

Deno.test("quantizeDifficulty rounds to the 2^(k/steps) grid", () => {
  assert.equal(quantizeDifficulty(1024, 8), 1024);
  assert.equal(quantizeDifficulty(1000, 1), 1024);
  assert.equal(quantizeDifficulty(0.5, 4), 0.5);
  assert.ok(Math.abs(quantizeDifficulty(1100, 8) / 1100 - 1) < 0.05);
});
