import assert from "node:assert/strict";
import { type HashBackend, InlineShareChecker } from "../lib/shares/check.ts";
import {
  MAINNET_SHAPE,
  REGTEST_SHAPE,
  SeededRandom,
  syntheticShare,
  syntheticWork,
} from "../lib/shares/synthetic.ts";
import {
  block100000,
  genesisBlock,
  leToBigInt,
  refHeader,
  refSha256d,
  refVerdict,
  rev,
  toHex,
} from "../lib/shares/testing.ts";
import type { ShareVerdict } from "../lib/pool/types.ts";

const BACKENDS: HashBackend[] = ["ts", "webcrypto"];

/** Verdicts agree: same hash bytes and flags; difficulty equal up to float rounding. */
function assertSameVerdict(actual: ShareVerdict, expected: ShareVerdict, what: string): void {
  assert.equal(toHex(actual.hash), toHex(expected.hash), `${what}: hash`);
  assert.equal(actual.meetsShareTarget, expected.meetsShareTarget, `${what}: share target`);
  assert.equal(actual.meetsNetworkTarget, expected.meetsNetworkTarget, `${what}: network target`);
  const relative = Math.abs(actual.difficulty - expected.difficulty) / expected.difficulty;
  assert.ok(relative < 1e-12, `${what}: difficulty ${actual.difficulty} vs ${expected.difficulty}`);
}

for (const backend of BACKENDS) {
  for (
    const [shapeName, shape] of [["mainnet", MAINNET_SHAPE], ["regtest", REGTEST_SHAPE]] as const
  ) {
    Deno.test(`check (${backend}): random ${shapeName}-shaped shares match the reference`, async () => {
      const random = new SeededRandom(0x5eed + shape.branchSteps);
      const checker = new InlineShareChecker(backend);
      for (let round = 0; round < 4; round++) {
        // Easy network targets on some jobs so meetsNetworkTarget is exercised both ways.
        const networkTarget = round % 2 === 0 ? random.bigint(256) : undefined;
        const { job, coinbase } = syntheticWork(shape, random, { networkTarget });
        for (let i = 0; i < 50; i++) {
          // Random share targets: about half of the shares meet them.
          const share = syntheticShare(shape, random, random.bigint(256));
          const verdict = await checker.check(job, coinbase, share);
          assertSameVerdict(verdict, refVerdict(job, coinbase, share), `round ${round} #${i}`);
        }
        checker.retireJob(job.seq);
      }
    });
  }

  Deno.test(`check (${backend}): the genesis block (empty branch) hashes to its real hash`, async () => {
    const block = genesisBlock(1);
    const verdict = await new InlineShareChecker(backend).check(
      block.job,
      block.coinbase,
      block.share,
    );
    assert.equal(toHex(rev(verdict.hash)), block.hashHex);
    assert.equal(verdict.meetsNetworkTarget, true);
    assert.equal(verdict.meetsShareTarget, true);
    assert.ok(verdict.difficulty > 2536 && verdict.difficulty < 2537, `${verdict.difficulty}`);
  });

  Deno.test(`check (${backend}): block 100000 rebuilt from coinbase parts and a 2-step branch`, async () => {
    const block = block100000(2);
    const verdict = await new InlineShareChecker(backend).check(
      block.job,
      block.coinbase,
      block.share,
    );
    assert.equal(toHex(rev(verdict.hash)), block.hashHex);
    assert.equal(verdict.meetsNetworkTarget, true);
    // One bit off in the nonce is not a block any more.
    const wrong = await new InlineShareChecker(backend).check(block.job, block.coinbase, {
      ...block.share,
      nonce: block.share.nonce ^ 1,
    });
    assert.equal(wrong.meetsNetworkTarget, false);
  });

  Deno.test(`check (${backend}): hash == target is accepted, target − 1 is not`, async () => {
    const checker = new InlineShareChecker(backend);
    const random = new SeededRandom(77);
    for (const shape of [MAINNET_SHAPE, REGTEST_SHAPE]) {
      for (let i = 0; i < 5; i++) {
        const probe = syntheticShare(shape, random);
        const base = syntheticWork(shape, new SeededRandom(i), { seq: 900 + i });
        const exact = leToBigInt(refSha256d(refHeader(base.job, base.coinbase, probe)));
        // The job's network target is the share's own hash: boundary on both compares.
        const { job, coinbase } = syntheticWork(shape, new SeededRandom(i), {
          seq: 1000 + i,
          networkTarget: exact,
        });
        const atTarget = await checker.check(job, coinbase, { ...probe, shareTarget: exact });
        assert.equal(leToBigInt(atTarget.hash), exact);
        assert.equal(atTarget.meetsShareTarget, true);
        assert.equal(atTarget.meetsNetworkTarget, true);
        const below = await checker.check(job, coinbase, { ...probe, shareTarget: exact - 1n });
        assert.equal(below.meetsShareTarget, false);
        checker.retireJob(job.seq);
        const { job: harder } = syntheticWork(shape, new SeededRandom(i), {
          seq: 2000 + i,
          networkTarget: exact - 1n,
        });
        const notBlock = await checker.check(harder, coinbase, { ...probe, shareTarget: exact });
        assert.equal(notBlock.meetsNetworkTarget, false);
        assert.equal(notBlock.meetsShareTarget, true);
        checker.retireJob(harder.seq);
      }
    }
  });
}

Deno.test("check: share targets beyond 256 bits are met by every hash; zero by none", async () => {
  const random = new SeededRandom(13);
  const checker = new InlineShareChecker("ts");
  const { job, coinbase } = syntheticWork(MAINNET_SHAPE, random);
  for (let i = 0; i < 20; i++) {
    const share = syntheticShare(MAINNET_SHAPE, random);
    const huge = await checker.check(job, coinbase, { ...share, shareTarget: 1n << 300n });
    assert.equal(huge.meetsShareTarget, true);
    const zero = await checker.check(job, coinbase, { ...share, shareTarget: 0n });
    assert.equal(zero.meetsShareTarget, false);
    assertSameVerdict(huge, refVerdict(job, coinbase, { ...share, shareTarget: 1n << 300n }), "");
  }
});

Deno.test("check: coinbase midstate on and off give the same verdicts", () => {
  const random = new SeededRandom(11);
  const withMidstate = new InlineShareChecker("ts", true);
  const without = new InlineShareChecker("ts", false);
  // Coinbase lengths around the 64-byte block edges.
  for (const coinbaseBytes of [60, 64, 116, 117, 128, 129, 200, 300]) {
    const shape = { ...MAINNET_SHAPE, coinbaseBytes };
    const { job, coinbase } = syntheticWork(shape, random);
    for (let i = 0; i < 5; i++) {
      const share = syntheticShare(shape, random);
      const a = withMidstate.checkSync(job, coinbase, share);
      assertSameVerdict(a, without.checkSync(job, coinbase, share), `${coinbaseBytes}`);
      assertSameVerdict(a, refVerdict(job, coinbase, share), `${coinbaseBytes} ref`);
    }
  }
});

Deno.test("check: extranonce sizes may change between shares on one coinbase", () => {
  const random = new SeededRandom(12);
  const checker = new InlineShareChecker("ts");
  const { job, coinbase } = syntheticWork(MAINNET_SHAPE, random);
  for (const [en1, en2] of [[4, 8], [8, 4], [4, 8], [0, 0], [16, 16]]) {
    const shape = { ...MAINNET_SHAPE, extranonce1Bytes: en1, extranonce2Bytes: en2 };
    const share = syntheticShare(shape, random);
    assertSameVerdict(
      checker.checkSync(job, coinbase, share),
      refVerdict(job, coinbase, share),
      "",
    );
  }
});
