/**
 * Fuzzing the Stratum input path with fixed seeds: the line framer against a reference splitter,
 * the request parser, and sessions fed random and mutated lines for every method. CI runs a
 * bounded count; `DENOPOOL_FUZZ_ITERATIONS=200000` (or `deno run -A tools/fuzz.ts --iterations N
 * --seed S`) runs more.
 */

import assert from "node:assert/strict";
import { difficultyToTarget } from "../lib/bitcoin/target.ts";
import { fuzzFramer, fuzzParser, fuzzSession, Rng } from "../tools/fuzz.ts";

const ITERATIONS = Number(Deno.env.get("DENOPOOL_FUZZ_ITERATIONS") ?? "4000");
const SEEDS = [1, 0x5eed, 20240601];

Deno.test("the seeded generator replays the same sequence for the same seed", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const seqA = Array.from({ length: 8 }, () => a.int(1000));
  assert.deepEqual(seqA, Array.from({ length: 8 }, () => b.int(1000)));
  assert.notDeepEqual(seqA, Array.from({ length: 8 }, () => c.int(1000)));
});

Deno.test("framer: random streams in random chunks frame exactly like the reference splitter", () => {
  for (const seed of SEEDS) {
    const report = fuzzFramer(seed, ITERATIONS);
    assert.equal(report.inputs, ITERATIONS);
    assert.ok(report.outputs > ITERATIONS / 2, "the streams carried lines, not only garbage");
  }
});

Deno.test("parser: random and mutated JSON-RPC lines never throw and always parse to a valid shape", () => {
  for (const seed of SEEDS) assert.equal(fuzzParser(seed, ITERATIONS).inputs, ITERATIONS);
});

Deno.test({
  name: "session: random params for every method never throw; each request gets one reply",
  async fn() {
    for (const seed of SEEDS) {
      const report = await fuzzSession(seed, ITERATIONS);
      assert.equal(report.inputs, ITERATIONS);
      assert.ok(report.outputs > ITERATIONS / 4, "sessions stayed open long enough to answer");
    }
  },
});

Deno.test("regression (fuzz): any finite difficulty has a target, even past 2^992", () => {
  // suggest_difficulty 1e308 once made difficultyToTarget call BigInt(Infinity) from a timer.
  for (const d of [1e308, Number.MAX_VALUE, 2 ** 1000, 1e70]) {
    assert.equal(difficultyToTarget(d), 1n);
  }
  const diff1 = 0xffffn << 208n;
  assert.equal(difficultyToTarget(2 ** 100), diff1 >> 100n);
});
