import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import bcoin from "bcoin";
import {
  buildCoinbaseParts,
  coinbaseWithWitness,
  joinCoinbase,
  percentOf,
  splitPayout,
  witnessCommitmentScript,
} from "../lib/bitcoin/coinbase.ts";
import { bytesToHex, hexToBytes, reverseBytes } from "../lib/bitcoin/hex.ts";
import { readBip34Height } from "../lib/bitcoin/script.ts";
import { parseTx, txid, wtxid } from "../lib/bitcoin/tx.ts";
import { SeededRandom } from "../lib/shares/synthetic.ts";

interface MiningVectors {
  merkleFromBranch: { coinb1: string; coinb2: string; extranonce1: string; extranonce2: string };
  poolCoinbase: {
    raw: string;
    height: number;
    auxFlags: string;
    extranonce: string;
    tag: string;
    value: number;
    script: string;
  };
}
const mining: MiningVectors = JSON.parse(
  await Deno.readTextFile(new URL("./vectors/bitcoin/mining.json", import.meta.url)),
);
const ascii = (s: string) => new TextEncoder().encode(s);
const MINER = hexToBytes("0014" + "11".repeat(20));
const POOL = hexToBytes("0014" + "22".repeat(20));
const DONATION = hexToBytes("5120" + "33".repeat(32));
const sum = (outs: { value: bigint }[]) => outs.reduce((a, o) => a + o.value, 0n);

/** Deterministic 32-bit generator (mulberry32) for repeatable random cases. */
function rng(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.nextU32();
}

Deno.test("splitPayout: pool fee, donation as a share of the fee, miner gets the rest", () => {
  const outs = splitPayout({
    coinbaseValue: 312_512_345n,
    minerScript: MINER,
    poolScript: POOL,
    poolFeePercent: 2,
    donationScript: DONATION,
    donationPercent: 10,
  });
  // fee = round(312512345 × 2%) = round(6250246.9) = 6250247; donation = round(625024.7) = 625025.
  assert.deepEqual(outs.map((o) => [o.role, o.value]), [
    ["miner", 306_262_098n],
    ["pool-fee", 5_625_222n],
    ["donation", 625_025n],
  ]);
  assert.equal(outs[0].script, MINER);
  assert.equal(outs[1].script, POOL);
  assert.equal(outs[2].script, DONATION);
  assert.equal(sum(outs), 312_512_345n);
});

Deno.test("splitPayout: single output when there is no fee to take", () => {
  const whole = (o: Parameters<typeof splitPayout>[0]) =>
    splitPayout(o).map((x) => [x.role, x.value, bytesToHex(x.script)]);
  const full = [["miner", 5_000_000_000n, bytesToHex(MINER)]];
  assert.deepEqual(
    whole({ coinbaseValue: 5_000_000_000n, minerScript: MINER, poolFeePercent: 2 }),
    full,
  );
  assert.deepEqual(
    whole({
      coinbaseValue: 5_000_000_000n,
      minerScript: MINER,
      poolScript: POOL,
      poolFeePercent: 0,
    }),
    full,
  );
  // The operator mining to the pool address: one output, no fee from oneself, no donation.
  assert.deepEqual(
    whole({
      coinbaseValue: 5_000_000_000n,
      minerScript: MINER,
      poolScript: MINER.slice(),
      poolFeePercent: 2,
      donationScript: DONATION,
      donationPercent: 50,
    }),
    full,
  );
});

Deno.test("splitPayout: zero-value outputs are left out; largest first", () => {
  const tiny = splitPayout({
    coinbaseValue: 10n,
    minerScript: MINER,
    poolScript: POOL,
    poolFeePercent: 1, // round(0.1) = 0
    donationScript: DONATION,
    donationPercent: 50,
  });
  assert.deepEqual(tiny.map((o) => [o.role, o.value]), [["miner", 10n]]);
  const noDonation = splitPayout({
    coinbaseValue: 1000n,
    minerScript: MINER,
    poolScript: POOL,
    poolFeePercent: 10,
    donationScript: DONATION,
    donationPercent: 0,
  });
  assert.deepEqual(noDonation.map((o) => o.role), ["miner", "pool-fee"]);
  const bigFee = splitPayout({
    coinbaseValue: 1000n,
    minerScript: MINER,
    poolScript: POOL,
    poolFeePercent: 60,
  });
  assert.deepEqual(bigFee.map((o) => [o.role, o.value]), [["pool-fee", 600n], ["miner", 400n]]);
  const nothing = splitPayout({
    coinbaseValue: 0n,
    minerScript: MINER,
    poolScript: POOL,
    poolFeePercent: 2,
  });
  assert.deepEqual(nothing.map((o) => [o.role, o.value]), [["miner", 0n]]);
});

Deno.test("splitPayout: outputs sum exactly over many random values (seeded)", () => {
  const next = rng(2026);
  for (let i = 0; i < 5000; i++) {
    const value = BigInt(next()) * BigInt(next() % 2048) + BigInt(next() % 1000);
    const fee = [0.5, 1, 1.5, 2, 2.5, 3.333, 10, 99.99][next() % 8];
    const donation = [0, 1, 10, 33.3, 50, 100][next() % 6];
    const outs = splitPayout({
      coinbaseValue: value,
      minerScript: MINER,
      poolScript: POOL,
      poolFeePercent: fee,
      donationScript: DONATION,
      donationPercent: donation,
    });
    assert.equal(sum(outs), value, `value ${value} fee ${fee} donation ${donation}`);
    for (const o of outs) assert.ok(o.value > 0n || (outs.length === 1 && value === 0n));
    const feeSats = outs.filter((o) => o.role !== "miner").reduce((a, o) => a + o.value, 0n);
    // Exactly round-half-up of value × fee / 100 (both sides in integers).
    const exact = percentOf(value, fee);
    assert.equal(feeSats, exact);
    assert.ok(Math.abs(Number(exact) - (Number(value) * fee) / 100) <= 0.5 + Number(value) * 1e-15);
  }
});

Deno.test("splitPayout refuses impossible percentages", () => {
  const base = { coinbaseValue: 100n, minerScript: MINER, poolScript: POOL };
  assert.throws(() => splitPayout({ ...base, poolFeePercent: 100 }), /below 100/);
  assert.throws(() => splitPayout({ ...base, poolFeePercent: -1 }), RangeError);
  assert.throws(() => splitPayout({ ...base, poolFeePercent: NaN }), RangeError);
  assert.throws(
    () =>
      splitPayout({ ...base, poolFeePercent: 1, donationScript: DONATION, donationPercent: 101 }),
    /donation/,
  );
  assert.throws(() => splitPayout({ ...base, coinbaseValue: -1n, poolFeePercent: 1 }), RangeError);
});

Deno.test("buildCoinbaseParts reproduces a real slush pool job byte for byte", () => {
  const v = mining.merkleFromBranch;
  const parts = buildCoinbaseParts({
    height: 25096,
    auxFlags: hexToBytes("062f503253482f04b8864e50"), // "/P2SH/" and a time push
    extranonce1Size: 4,
    extranonce2Size: 4,
    tag: ascii("/slush/"),
    payouts: [{
      script: hexToBytes("76a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac"),
      value: 5_000_000_000n,
      role: "miner",
    }],
    version: 1,
    sequence: 0,
    lockTime: 0,
  });
  assert.equal(bytesToHex(parts.coinb1), v.coinb1);
  assert.equal(bytesToHex(parts.coinb2), v.coinb2);
  assert.equal(parts.tagBytesUsed, 7);
});

Deno.test("buildCoinbaseParts reproduces a real CoinHuntr coinbase byte for byte", () => {
  const v = mining.poolCoinbase;
  const parts = buildCoinbaseParts({
    height: v.height,
    auxFlags: hexToBytes(v.auxFlags),
    extranonce1Size: 4,
    extranonce2Size: 4,
    tag: ascii(v.tag),
    payouts: [{ script: hexToBytes(v.script), value: BigInt(v.value), role: "miner" }],
    version: 1,
    sequence: 0,
    lockTime: 0,
  });
  const en = hexToBytes(v.extranonce);
  const raw = joinCoinbase(parts.coinb1, en.subarray(0, 4), en.subarray(4), parts.coinb2);
  assert.equal(bytesToHex(raw), v.raw);
});

Deno.test("a segwit coinbase: commitment first, BIP34 height, defaults, bcoin agrees", () => {
  const commitment = witnessCommitmentScript([]);
  const payouts = splitPayout({
    coinbaseValue: 312_500_000n,
    minerScript: MINER,
    poolScript: POOL,
    poolFeePercent: 2,
  });
  const parts = buildCoinbaseParts({
    height: 840_000,
    payouts,
    witnessCommitment: commitment,
    tag: ascii("/denopool/"),
    extranonce1Size: 4,
    extranonce2Size: 8,
  });
  const en1 = hexToBytes("01020304");
  const en2 = hexToBytes("a1a2a3a4a5a6a7a8");
  const raw = joinCoinbase(parts.coinb1, en1, en2, parts.coinb2);
  const tx = parseTx(raw);
  assert.equal(tx.size, raw.length);
  assert.equal(tx.version, 2);
  assert.equal(tx.lockTime, 839_999);
  assert.equal(tx.inputs[0].sequence, 0xfffffffe);
  assert.equal(tx.inputs[0].prevIndex, 0xffffffff);
  const scriptSig = tx.inputs[0].scriptSig;
  assert.equal(
    bytesToHex(scriptSig),
    "0340d10c" + "0c" + "01020304a1a2a3a4a5a6a7a8" + "0a" + bytesToHex(ascii("/denopool/")),
  );
  assert.equal(readBip34Height(scriptSig), 840_000);
  assert.deepEqual(tx.outputs.map((o) => o.value), [0n, 306_250_000n, 6_250_000n]);
  assert.deepEqual(tx.outputs[0].script, commitment);
  assert.equal(bytesToHex(parts.coinb1.subarray(parts.coinb1.length - 1)), "0c");

  const other = bcoin.TX.fromRaw(Buffer.from(raw));
  assert.equal(other.isCoinbase(), true);
  assert.equal(other.inputs[0].script.getCoinbaseHeight(), 840_000);
  assert.equal(other.txid(), bytesToHex(reverseBytes(txid(raw))));
  assert.equal(other.isSane(), true);
});

Deno.test("the tag is cut so the scriptSig stays within 100 bytes", () => {
  const longTag = ascii("/" + "x".repeat(200) + "/");
  for (const [en1, en2] of [[4, 4], [4, 8], [8, 16], [0, 0]]) {
    const parts = buildCoinbaseParts({
      height: 900_000,
      payouts: [{ script: MINER, value: 1n, role: "miner" }],
      tag: longTag,
      auxFlags: hexToBytes("aabbcc"),
      extranonce1Size: en1,
      extranonce2Size: en2,
    });
    const raw = joinCoinbase(parts.coinb1, new Uint8Array(en1), new Uint8Array(en2), parts.coinb2);
    const scriptSig = parseTx(raw).inputs[0].scriptSig;
    assert.ok(scriptSig.length <= 100, `${en1}+${en2}: ${scriptSig.length}`);
    assert.equal(parts.tagBytesUsed, Math.min(75, 100 - 4 - 3 - 1 - en1 - en2 - 1));
  }
  assert.throws(
    () =>
      buildCoinbaseParts({
        height: 1,
        payouts: [{ script: MINER, value: 1n, role: "miner" }],
        tag: ascii("t"),
        auxFlags: new Uint8Array(90),
        extranonce1Size: 4,
        extranonce2Size: 8,
      }),
    /over the 100-byte limit/,
  );
});

Deno.test("small heights use OP_1..OP_16 and the scriptSig is still at least 2 bytes", () => {
  for (const height of [1, 16, 17]) {
    const parts = buildCoinbaseParts({
      height,
      payouts: [{ script: MINER, value: 5_000_000_000n, role: "miner" }],
      tag: new Uint8Array(0),
      extranonce1Size: 0,
      extranonce2Size: 0,
    });
    const raw = joinCoinbase(parts.coinb1, new Uint8Array(0), new Uint8Array(0), parts.coinb2);
    const scriptSig = parseTx(raw).inputs[0].scriptSig;
    assert.ok(scriptSig.length >= 2);
    assert.equal(readBip34Height(scriptSig), height);
    assert.equal(bcoin.TX.fromRaw(Buffer.from(raw)).inputs[0].script.getCoinbaseHeight(), height);
  }
});

Deno.test("coinbaseWithWitness adds the witness reserved value; txid unchanged", () => {
  const parts = buildCoinbaseParts({
    height: 300,
    payouts: [{ script: MINER, value: 1_250_000_000n, role: "miner" }],
    witnessCommitment: witnessCommitmentScript([]),
    tag: ascii("/t/"),
    extranonce1Size: 4,
    extranonce2Size: 4,
  });
  const legacy = joinCoinbase(parts.coinb1, new Uint8Array(4), new Uint8Array(4), parts.coinb2);
  const full = coinbaseWithWitness(legacy);
  assert.equal(full.length, legacy.length + 2 + 34);
  const tx = parseTx(full);
  assert.equal(tx.hasWitness, true);
  assert.equal(tx.inputs[0].witness.length, 1);
  assert.deepEqual(tx.inputs[0].witness[0], new Uint8Array(32));
  assert.deepEqual(txid(full), txid(legacy));
  assert.notDeepEqual(wtxid(full), wtxid(legacy));
  const other = bcoin.TX.fromRaw(Buffer.from(full));
  assert.equal(other.txid(), bytesToHex(reverseBytes(txid(legacy))));
  assert.equal(other.wtxid(), bytesToHex(reverseBytes(wtxid(full))));
  assert.equal(other.inputs[0].witness.items[0].toString("hex"), "00".repeat(32));
  assert.throws(() => coinbaseWithWitness(full), /already has a witness/);
});
