/**
 * Empty-first work rules: the coinbase-only template for the block after a new tip is exact, or
 * it is skipped with the reason — never a guess.
 */

import assert from "node:assert/strict";
import { emptyTemplate, RecentHeaders, type TipHeader } from "../lib/node/empty_work.ts";
import type { BlockTemplate } from "../lib/node/template.ts";
import { bitsToTarget, blockSubsidy, medianTimePast, NETWORKS } from "../lib/bitcoin/mod.ts";

const PARENT = "11".repeat(32);
const TIP = "22".repeat(32);

function base(overrides: Partial<BlockTemplate> = {}): BlockTemplate {
  const bits = "17034219";
  return {
    version: 0x20000000,
    previousblockhash: PARENT,
    transactions: [],
    coinbasevalue: 312_500_000 + 1_234,
    target: bitsToTarget(parseInt(bits, 16)).toString(16).padStart(64, "0"),
    mintime: 1_700_000_000,
    curtime: 1_700_000_500,
    bits,
    height: 900_001,
    rules: ["csv", "!segwit", "taproot"],
    default_witness_commitment: "6a24aa21a9ed" + "00".repeat(32),
    coinbaseaux: { flags: "" },
    ...overrides,
  };
}

function tip(overrides: Partial<TipHeader> = {}): TipHeader {
  return {
    hash: TIP,
    prevhash: PARENT,
    height: 900_001,
    time: 1_700_000_600,
    bits: 0x17034219,
    ...overrides,
  };
}

Deno.test("empty work: mainnet, next height, subsidy only, no witness commitment, time above MTP", () => {
  const work = emptyTemplate({
    network: NETWORKS.mainnet,
    base: base(),
    tip: tip(),
    medianTimePast: 1_700_000_300,
    now: 1_700_000_250.7, // a clock behind the chain: time still goes above MTP
  });
  assert.ok("template" in work, JSON.stringify(work));
  const t = work.template;
  assert.equal(t.height, 900_002);
  assert.equal(t.previousblockhash, TIP);
  assert.equal(t.transactions.length, 0);
  assert.equal(BigInt(t.coinbasevalue), blockSubsidy(900_002, NETWORKS.mainnet));
  assert.equal(t.default_witness_commitment, undefined);
  assert.equal(t.bits, "17034219");
  assert.equal(t.mintime, 1_700_000_301);
  assert.equal(t.curtime, 1_700_000_301);
  assert.equal(t.version, 0x20000000);
  assert.deepEqual(t.rules, ["csv", "!segwit", "taproot"]);
  const later = emptyTemplate({
    network: NETWORKS.mainnet,
    base: base(),
    tip: tip(),
    medianTimePast: 1_700_000_300,
    now: 1_700_000_900.2,
  });
  assert.ok("template" in later);
  assert.equal(later.template.curtime, 1_700_000_900);
});

Deno.test("empty work: the subsidy halves exactly at the boundary (regtest every 150 blocks)", () => {
  const regtest = NETWORKS.regtest;
  const at = (height: number) =>
    emptyTemplate({
      network: regtest,
      base: base({
        height,
        bits: "207fffff",
        target: bitsToTarget(0x207fffff).toString(16).padStart(64, "0"),
      }),
      tip: tip({ height, bits: 0x207fffff }),
      medianTimePast: 1,
      now: 2,
    });
  const before = at(148); // builds 149
  const after = at(149); // builds 150: the first halved block
  assert.ok("template" in before && "template" in after);
  assert.equal(before.template.coinbasevalue, 5_000_000_000);
  assert.equal(after.template.coinbasevalue, 2_500_000_000);
});

Deno.test("empty work: skipped at a retarget boundary, when bits differ, off-chain and without BIP34", () => {
  const run = (b: BlockTemplate, t: TipHeader) =>
    emptyTemplate({ network: NETWORKS.mainnet, base: b, tip: t, medianTimePast: 1, now: 2 });
  // 2015 → 2016 is a retarget: height+1 a multiple of 2016.
  const boundary = run(base({ height: 2015 * 10 + 9 }), tip({ height: 2015 * 10 + 9 }));
  assert.ok("skip" in boundary && /retarget/.test(boundary.skip), JSON.stringify(boundary));
  assert.ok("template" in run(base({ height: 20_150 }), tip({ height: 20_150 })));
  const bits = run(base(), tip({ bits: 0x1703421a }));
  assert.ok("skip" in bits && /bits/.test(bits.skip));
  const reorg = run(base(), tip({ prevhash: "33".repeat(32) }));
  assert.ok("skip" in reorg && /extend/.test(reorg.skip));
  const gap = run(base(), tip({ height: 900_002 }));
  assert.ok("skip" in gap && /extend/.test(gap.skip));
  const noHeight = run(base(), tip({ height: undefined }));
  assert.ok("skip" in noHeight && /BIP34/.test(noHeight.skip));
});

Deno.test("empty work: testnet, testnet4 and signet skip (bits by time; signet solution)", () => {
  for (const name of ["testnet", "testnet4", "signet"] as const) {
    const work = emptyTemplate({
      network: NETWORKS[name],
      base: base(),
      tip: tip(),
      medianTimePast: 1,
      now: 2,
    });
    assert.ok("skip" in work, name);
  }
});

Deno.test("median time past: Core's rule (sorted, the middle of the last 11; fewer near genesis)", () => {
  assert.equal(medianTimePast([5]), 5);
  assert.equal(medianTimePast([1, 9]), 9); // two blocks: index 1 of the sorted pair
  const times = [10, 50, 20, 40, 30, 60, 70, 90, 80, 100, 110, 5];
  // The last 11 (50 … 5) sorted: 5 20 30 40 50 60 70 80 90 100 110 → the 6th.
  assert.equal(medianTimePast(times), 60);
});

Deno.test("recent headers: MTP of a child without RPC; a reorg or a gap empties the cache", () => {
  const headers = new RecentHeaders();
  const hash = (h: number) => h.toString(16).padStart(64, "0");
  const run: { hash: string; prevhash: string; height: number; time: number }[] = [];
  for (let h = 90; h <= 100; h++) {
    run.push({ hash: hash(h), prevhash: hash(h - 1), height: h, time: 1000 + h * 7 });
  }
  headers.reset(run);
  const child = { hash: hash(101), prevhash: hash(100), height: 101, time: 2000, bits: 0 };
  const expected = medianTimePast([...run.slice(-10).map((h) => h.time), 2000]);
  assert.equal(headers.medianTimePastOf(child), expected);
  assert.equal(headers.medianTimePastOf({ ...child, prevhash: hash(99) }), undefined);
  assert.equal(headers.extend({ ...child }), true);
  assert.equal(headers.size, 11);
  assert.equal(headers.tipHash, hash(101));
  // A block that does not join the run (a reorg) empties it: the next MTP needs the node.
  assert.equal(
    headers.extend({ hash: hash(999), prevhash: hash(555), height: 102, time: 1 }),
    false,
  );
  assert.equal(headers.size, 0);
  assert.throws(() => headers.reset([run[0], run[2]]), /not the child/);
  // Near genesis fewer parents suffice: block 3 needs blocks 0..2.
  headers.reset(
    [0, 1, 2].map((h) => ({ hash: hash(h), prevhash: hash(h - 1), height: h, time: 10 * h })),
  );
  assert.equal(
    headers.medianTimePastOf({ hash: hash(3), prevhash: hash(2), height: 3, time: 25, bits: 0 }),
    medianTimePast([0, 10, 20, 25]),
  );
});
