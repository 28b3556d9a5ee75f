/**
 * Proof-of-work targets: compact bits ⇄ 256-bit targets, difficulty (pool difficulty 1 =
 * 0x00000000ffff0000…), and an exact, allocation-free hash ≤ target compare for the hot path.
 *
 * @module
 */

/** The difficulty-1 target: 0x00000000ffff followed by 26 zero bytes. */
export const DIFF1_TARGET: bigint = 0xffffn << 208n;

/** The largest 256-bit value. */
export const MAX_TARGET: bigint = (1n << 256n) - 1n;

const DIFF1_FLOAT = Number(DIFF1_TARGET);

/**
 * The target a compact `bits` value encodes (Bitcoin Core's `SetCompact`). Throws `RangeError`
 * for a negative or overflowing encoding, which consensus treats as invalid.
 */
export function bitsToTarget(bits: number): bigint {
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) {
    throw new RangeError(`bits must be a uint32, got ${bits}`);
  }
  const size = bits >>> 24;
  const mantissa = bits & 0x007fffff;
  if (mantissa !== 0 && (bits & 0x00800000) !== 0) {
    throw new RangeError(`bits 0x${bits.toString(16)} encode a negative target`);
  }
  if (
    mantissa !== 0 &&
    (size > 34 || (mantissa > 0xff && size > 33) || (mantissa > 0xffff && size > 32))
  ) {
    throw new RangeError(`bits 0x${bits.toString(16)} overflow 256 bits`);
  }
  return size <= 3
    ? BigInt(mantissa >>> (8 * (3 - size)))
    : BigInt(mantissa) << BigInt(8 * (size - 3));
}

/** The compact form of `target` (Bitcoin Core's `GetCompact`; precision beyond 3 bytes is lost). */
export function targetToBits(target: bigint): number {
  if (target < 0n || target > MAX_TARGET) throw new RangeError("target must be in 0..2^256-1");
  let size = 0;
  for (let t = target; t > 0n; t >>= 8n) size++;
  let compact = size <= 3
    ? Number(target) * 2 ** (8 * (3 - size))
    : Number(target >> BigInt(8 * (size - 3)));
  // The mantissa's top bit is a sign bit: move one byte into the exponent instead.
  if (compact & 0x00800000) {
    compact >>>= 8;
    size++;
  }
  return ((size << 24) | compact) >>> 0;
}

/** Difficulty of `target` (DIFF1_TARGET / target) as a float; Infinity for a zero target. */
export function targetToDifficulty(target: bigint): number {
  if (target <= 0n) return Infinity;
  return DIFF1_FLOAT / Number(target);
}

const F64 = new Float64Array(1);
const F64_BITS = new BigUint64Array(F64.buffer);

/**
 * The target of a (possibly fractional) difficulty: floor(DIFF1_TARGET / d), computed exactly from
 * the float's bits and clamped to 1..2^256-1 (so 0.001 and smaller give easy but valid targets).
 */
export function difficultyToTarget(difficulty: number): bigint {
  if (!(difficulty > 0) || !Number.isFinite(difficulty)) {
    throw new RangeError(`difficulty must be a finite number above 0, got ${difficulty}`);
  }
  F64[0] = difficulty;
  const bits = F64_BITS[0];
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  // difficulty = mantissa × 2^power exactly.
  const mantissa = exp === 0 ? frac : frac | (1n << 52n);
  const power = (exp === 0 ? 1 : exp) - 1075;
  const target = power < 0
    ? (DIFF1_TARGET << BigInt(-power)) / mantissa
    : DIFF1_TARGET / (mantissa << BigInt(power));
  if (target > MAX_TARGET) return MAX_TARGET;
  if (target < 1n) return 1n;
  return target;
}

/**
 * Difficulty of a hash (internal byte order, i.e. little-endian number) as a float, without
 * bigint: DIFF1 / hash. Infinity for an all-zero hash.
 */
export function hashToDifficulty(hashInternal: Uint8Array): number {
  let value = 0;
  for (let i = 31; i >= 0; i--) value = value * 256 + hashInternal[i];
  return value === 0 ? Infinity : DIFF1_FLOAT / value;
}

/** `target` as 32 little-endian bytes (the byte order of an internal hash), for `hashMeetsTarget`. */
export function targetToBytesLE(target: bigint): Uint8Array {
  if (target < 0n || target > MAX_TARGET) throw new RangeError("target must be in 0..2^256-1");
  const out = new Uint8Array(32);
  let t = target;
  for (let i = 0; i < 32 && t > 0n; i++) {
    out[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return out;
}

/**
 * Exact 256-bit compare: true when the hash (internal byte order) is ≤ the target given as
 * `targetToBytesLE` bytes. No allocation, no bigint.
 */
export function hashMeetsTarget(hashInternal: Uint8Array, targetLE: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const h = hashInternal[i];
    const t = targetLE[i];
    if (h !== t) return h < t;
  }
  return true;
}

/** The hash (internal byte order) as the 256-bit number proof of work compares. */
export function hashToBigInt(hashInternal: Uint8Array): bigint {
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(hashInternal[i]);
  return v;
}
