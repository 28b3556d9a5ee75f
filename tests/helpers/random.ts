/**
 * Reproducible test inputs: the same seed gives the same bytes on every run, so a failing case can
 * be replayed from its seed.
 *
 * @module
 */

/** `length` pseudo-random bytes from a 32-bit `seed` (xorshift32; seed 0 counts as 1). */
export function seededBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}
