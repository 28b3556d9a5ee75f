import assert from "node:assert/strict";
import { hexToBytes } from "../lib/bitcoin/hex.ts";
import {
  bitsToTarget,
  DIFF1_TARGET,
  difficultyToTarget,
  hashMeetsTarget,
  hashToBigInt,
  hashToDifficulty,
  MAX_TARGET,
  targetToBits,
  targetToBytesLE,
  targetToDifficulty,
} from "../lib/bitcoin/target.ts";
import { SeededRandom } from "../lib/shares/synthetic.ts";

/** Deterministic 32-bit generator (mulberry32) for repeatable random cases. */
function rng(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.nextU32();
}

Deno.test("DIFF1_TARGET is 0x00000000ffff0000…", () => {
  assert.equal(DIFF1_TARGET.toString(16).padStart(64, "0"), "00000000ffff" + "0".repeat(52));
});

Deno.test("bitsToTarget decodes real compact targets", () => {
  // Cross-checked against bitcoinjs-lib test/fixtures/block.json "targets" and block headers.
  const cases: [number, string][] = [
    [0x1d00ffff, "00000000ffff0000000000000000000000000000000000000000000000000000"],
    [0x1b0404cb, "00000000000404cb000000000000000000000000000000000000000000000000"],
    [0x1814dd04, "000000000000000014dd04000000000000000000000000000000000000000000"],
    [0x207fffff, "7fffff0000000000000000000000000000000000000000000000000000000000"],
    [0x1705ae3a, "00000000000000000005ae3a0000000000000000000000000000000000000000"],
  ];
  for (const [bits, hex] of cases) {
    assert.equal(bitsToTarget(bits).toString(16).padStart(64, "0"), hex, bits.toString(16));
  }
});

Deno.test("bitsToTarget follows Core's SetCompact edge cases", () => {
  // From Bitcoin Core's arith_uint256 tests.
  assert.equal(bitsToTarget(0x00000000), 0n);
  assert.equal(bitsToTarget(0x00123456), 0n);
  assert.equal(bitsToTarget(0x01003456), 0n);
  assert.equal(bitsToTarget(0x02000056), 0n);
  assert.equal(bitsToTarget(0x01123456), 0x12n);
  assert.equal(bitsToTarget(0x02123456), 0x1234n);
  assert.equal(bitsToTarget(0x03123456), 0x123456n);
  assert.equal(bitsToTarget(0x04123456), 0x12345600n);
  assert.equal(bitsToTarget(0x05009234), 0x92340000n);
  assert.equal(bitsToTarget(0x20123456), 0x123456n << 232n);
  // Core flags these as negative (the mantissa's sign bit is set); consensus rejects them, so do we
  // (bitcoinjs-lib's fixture decodes 0x0cffca00 ignoring the sign).
  assert.throws(() => bitsToTarget(0x04923456), /negative/);
  assert.throws(() => bitsToTarget(0x01fedcba), /negative/);
  assert.throws(() => bitsToTarget(0x0cffca00), /negative/);
  assert.throws(() => bitsToTarget(0xff123456), /overflow/);
  assert.throws(() => bitsToTarget(0x23000001), /overflow/);
  assert.throws(() => bitsToTarget(-1), RangeError);
});

Deno.test("targetToBits is Core's GetCompact", () => {
  assert.equal(targetToBits(0n), 0);
  assert.equal(targetToBits(0x80n), 0x02008000);
  assert.equal(targetToBits(0x12n), 0x01120000);
  assert.equal(targetToBits(0x1234n), 0x02123400);
  assert.equal(targetToBits(0x123456n), 0x03123456);
  assert.equal(targetToBits(0x12345600n), 0x04123456);
  assert.equal(targetToBits(0x92340000n), 0x05009234);
  for (const bits of [0x1d00ffff, 0x1b04864c, 0x1705ae3a, 0x207fffff, 0x1e0377ae, 0x1814dd04]) {
    assert.equal(targetToBits(bitsToTarget(bits)), bits, bits.toString(16));
  }
  assert.equal(targetToBits(MAX_TARGET), 0x2100ffff);
  assert.throws(() => targetToBits(-1n), RangeError);
});

Deno.test("difficulty of real targets", () => {
  assert.equal(targetToDifficulty(DIFF1_TARGET), 1);
  // Block 100000's difficulty as reported by Bitcoin Core: 14484.1623612254.
  assert.ok(Math.abs(targetToDifficulty(bitsToTarget(0x1b04864c)) - 14484.1623612254) < 1e-9);
  assert.equal(targetToDifficulty(0n), Infinity);
});

Deno.test("difficultyToTarget is exact for integers and fractions, and clamped", () => {
  assert.equal(difficultyToTarget(1), DIFF1_TARGET);
  assert.equal(difficultyToTarget(2), DIFF1_TARGET / 2n);
  assert.equal(difficultyToTarget(1024), DIFF1_TARGET / 1024n);
  assert.equal(difficultyToTarget(0.5), DIFF1_TARGET * 2n);
  assert.equal(difficultyToTarget(3), DIFF1_TARGET / 3n);
  // 0.001 is not exact in binary: the target is DIFF1 divided by the float's exact value.
  const t = difficultyToTarget(0.001);
  assert.ok(t > DIFF1_TARGET * 999n && t < DIFF1_TARGET * 1001n);
  assert.ok(Math.abs(targetToDifficulty(t) - 0.001) < 1e-15);
  assert.equal(difficultyToTarget(1e-30), MAX_TARGET);
  assert.equal(difficultyToTarget(Number.MIN_VALUE), MAX_TARGET);
  assert.equal(difficultyToTarget(1e80), 1n);
  for (const bad of [0, -1, NaN, Infinity]) {
    assert.throws(() => difficultyToTarget(bad), RangeError);
  }
  const next = rng(5);
  for (let i = 0; i < 500; i++) {
    const d = (next() / 2 ** 32) * 10 ** ((next() % 16) - 4);
    if (d === 0) continue;
    const back = targetToDifficulty(difficultyToTarget(d));
    assert.ok(Math.abs(back - d) / d < 1e-12, `${d} → ${back}`);
  }
});

/**
 * floor(diff1 / d) from the definition, independently of `target.ts`'s bit extraction: a finite
 * double times 2 stays exact, so doubling until it is an integer gives d = n / 2^k with n and k
 * exact, and the target is floor(diff1 · 2^k / n), clamped to 1..2^256 − 1.
 */
function referenceTarget(d: number): bigint {
  const diff1 = 0xffffn << 208n;
  let n = d;
  let k = 0n;
  while (!Number.isInteger(n)) {
    n *= 2;
    k++;
  }
  const t = (diff1 << k) / BigInt(n);
  return t > (1n << 256n) - 1n ? (1n << 256n) - 1n : t < 1n ? 1n : t;
}

/** The next double above a positive finite `d`. */
function nextDouble(d: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, d);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}

/** Difficulty, target as 64 hex digits (derived by `referenceTarget`, cross-checked below). */
const TARGET_VECTORS: readonly [number, string][] = [
  [1e-10, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"],
  [1e-7, "009895e769800001f18acc53422006565b55c07bddecaa1651dd63e5e3739c47"],
  [0.000001, "000f4230bdc0000031c1146eb9d000a23c55600c62fe11023b62f063c9f1f607"],
  [0.00002, "0000c34f3caffffffb80bdef4690001a82206c95112f63bef6dff551b3a90b5a"],
  [0.5, "00000001fffe0000000000000000000000000000000000000000000000000000"],
  [1, "00000000ffff0000000000000000000000000000000000000000000000000000"],
  [3, "0000000055550000000000000000000000000000000000000000000000000000"],
  [1024, "00000000003fffc0000000000000000000000000000000000000000000000000"],
  [65536, "000000000000ffff000000000000000000000000000000000000000000000000"],
  [1e6, "00000000000010c6e6d9be4cd74927913e81450efdc9c4da9003eea209aaa3ad"],
  [2 ** 32, "0000000000000000ffff00000000000000000000000000000000000000000000"],
  [1e12, "00000000000000000119787e99468e32f6e0e71cef78ee034b5f8a0944d68076"],
  [1e15, "00000000000000000000480e766cdedcb914316213b20a7a5f0d26cb45f4f354"],
];

Deno.test("difficultyToTarget pins floor(diff1 / d) for tiny fractions up to 1e15", () => {
  for (const [d, hex] of TARGET_VECTORS) {
    const expected = BigInt("0x" + hex);
    assert.equal(referenceTarget(d), expected, `reference for ${d}`);
    assert.equal(difficultyToTarget(d), expected, `difficulty ${d}`);
  }
  // Decimal cross-check: the integers and 0.5 are exact doubles, so floor(diff1 · q / p) for the
  // decimal p/q is the same number; 1e-7, 1e-6 and 2e-5 are not, and their targets differ from
  // the decimal quotient by less than the double's own rounding (2^-52 relative).
  const diff1 = 0xffffn << 208n;
  const decimal: [number, bigint, bigint][] = [
    [1e-7, 1n, 10n ** 7n],
    [0.000001, 1n, 10n ** 6n],
    [0.00002, 2n, 10n ** 5n],
    [0.5, 1n, 2n],
    [3, 3n, 1n],
    [1e6, 10n ** 6n, 1n],
    [1e12, 10n ** 12n, 1n],
    [1e15, 10n ** 15n, 1n],
  ];
  for (const [d, p, q] of decimal) {
    const fromDecimal = (diff1 * q) / p;
    const got = difficultyToTarget(d);
    const gap = got > fromDecimal ? got - fromDecimal : fromDecimal - got;
    if (Number.isInteger(d) || d === 0.5) assert.equal(got, fromDecimal, `${d} exactly`);
    else assert.ok(gap > 0n && gap << 52n < fromDecimal, `${d} within one rounding`);
  }
  // 1e-10 asks for a target above 2^256 − 1: every hash is a share.
  assert.ok((diff1 * 10n ** 10n) > MAX_TARGET);
  // Neighbouring doubles give distinct targets: no fixed-point step hides between them.
  for (const d of [1e-7, 0.000001, 0.00002, 0.001, 0.3, 7.3]) {
    const up = nextDouble(d);
    assert.ok(up > d);
    assert.ok(difficultyToTarget(up) < difficultyToTarget(d), `${d} and the double above it`);
    assert.equal(difficultyToTarget(up), referenceTarget(up));
  }
});

Deno.test("difficulty ⇄ target: diff 1 is 0xffff·2^208, fractions scale the target up", () => {
  // Moved from tests/stratum_framing_test.ts with the Stratum copy of these functions; below
  // 2^-32 that copy counted every difficulty as 2^-32 (target diff1 · 2^32), but floor(diff1 / d)
  // is then above 2^256 − 1, so the target is the largest one.
  const diff1 = 0xffffn << 208n;
  assert.equal(difficultyToTarget(1), diff1);
  assert.equal(difficultyToTarget(1024), diff1 / 1024n);
  assert.equal(difficultyToTarget(0.25), diff1 * 4n);
  assert.equal(difficultyToTarget(1e-30), MAX_TARGET, "floor(diff1 / 1e-30) clamped to 2^256 − 1");
  assert.ok(difficultyToTarget(1e-30) < 1n << 256n);
  assert.equal(targetToDifficulty(diff1), 1);
  assert.ok(Math.abs(targetToDifficulty(diff1 / 1000n) - 1000) < 1e-9);
  assert.throws(() => difficultyToTarget(0), RangeError);
});

Deno.test("hashMeetsTarget is an exact ≤ over 256 bits, matching bigint comparison", () => {
  const next = rng(42);
  const randomHash = () => {
    const h = new Uint8Array(32);
    for (let i = 0; i < 32; i++) h[i] = next() & 0xff;
    const zeros = next() % 32; // many leading (high, i.e. last) zero bytes, like real hashes
    for (let i = 31; i >= 32 - zeros; i--) h[i] = 0;
    return h;
  };
  for (let i = 0; i < 2000; i++) {
    const hash = randomHash();
    const target = hashToBigInt(randomHash());
    assert.equal(hashMeetsTarget(hash, targetToBytesLE(target)), hashToBigInt(hash) <= target);
    // The boundary: a hash equal to the target meets it; one more does not.
    const exact = hashToBigInt(hash);
    assert.equal(hashMeetsTarget(hash, targetToBytesLE(exact)), true);
    if (exact > 0n) assert.equal(hashMeetsTarget(hash, targetToBytesLE(exact - 1n)), false);
  }
});

Deno.test("hashToBigInt and hashToDifficulty read internal byte order", () => {
  const hash = new Uint8Array(32);
  hash[0] = 1;
  assert.equal(hashToBigInt(hash), 1n);
  hash.fill(0);
  hash[31] = 0x80;
  assert.equal(hashToBigInt(hash), 1n << 255n);
  assert.equal(hashToDifficulty(new Uint8Array(32)), Infinity);
  assert.equal(hashToDifficulty(targetToBytesLE(DIFF1_TARGET)), 1);
  // Mainnet genesis block hash (internal order) has difficulty ≈ 2536.2 (0x1d00ffff / hash).
  const genesis = hexToBytes("6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000");
  const expected = targetToDifficulty(hashToBigInt(genesis));
  assert.ok(Math.abs(hashToDifficulty(genesis) - expected) / expected < 1e-12);
  assert.ok(expected > 2536 && expected < 2537);
});
