import assert from "node:assert/strict";
import { InlineShareChecker } from "../lib/shares/check.ts";
import { SeededRandom, syntheticShare, syntheticWork } from "../lib/shares/synthetic.ts";
import { refVerdict, toHex } from "../lib/shares/testing.ts";
import type { CoinbaseParts } from "../lib/pool/types.ts";

// The TypeScript check keeps the coinbase tail as padded big-endian words and rewrites only the
// words the extranonces touch; these cases walk the extranonces across every alignment, across
// block edges and across the padding, where an off-by-one would show.

Deno.test("check (ts): every coinb1 length 0..140 and extranonce split matches the reference", () => {
  const random = new SeededRandom(0xa11);
  const checker = new InlineShareChecker("ts");
  for (let coinb1Len = 0; coinb1Len <= 140; coinb1Len++) {
    for (const [en1, en2, coinb2Len] of [[4, 8, 60], [0, 1, 0], [8, 4, 3], [3, 7, 120]]) {
      const shape = {
        branchSteps: coinb1Len % 3,
        coinbaseBytes: coinb1Len + coinb2Len,
        extranonce1Bytes: en1,
        extranonce2Bytes: en2,
      };
      const { job } = syntheticWork(shape, random);
      const coinbase: CoinbaseParts = {
        key: job.seq,
        coinb1: random.bytes(coinb1Len),
        coinb2: random.bytes(coinb2Len),
        coinb1Hex: "",
        coinb2Hex: "",
        outputs: [],
      };
      for (let i = 0; i < 3; i++) {
        const share = syntheticShare(shape, random, random.bigint(256));
        const verdict = checker.checkSync(job, coinbase, share);
        const expected = refVerdict(job, coinbase, share);
        const what = `coinb1 ${coinb1Len}, en ${en1}+${en2}, coinb2 ${coinb2Len}, share ${i}`;
        assert.equal(toHex(verdict.hash), toHex(expected.hash), what);
        assert.equal(verdict.meetsShareTarget, expected.meetsShareTarget, what);
      }
      checker.retireJob(job.seq);
    }
  }
});

Deno.test("check (ts): a share's extranonces do not leak into the next share's coinbase", () => {
  const random = new SeededRandom(0xb22);
  const shape = { branchSteps: 2, coinbaseBytes: 150, extranonce1Bytes: 4, extranonce2Bytes: 8 };
  const { job, coinbase } = syntheticWork(shape, random);
  const checker = new InlineShareChecker("ts");
  const first = syntheticShare(shape, random);
  const second = { ...syntheticShare(shape, random), extranonce2: new Uint8Array(8) };
  const before = checker.checkSync(job, coinbase, second);
  checker.checkSync(job, coinbase, first);
  assert.deepEqual(checker.checkSync(job, coinbase, second).hash, before.hash);
  assert.deepEqual(before.hash, refVerdict(job, coinbase, second).hash);
});
