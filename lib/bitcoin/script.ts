/**
 * Script building blocks: data pushes, minimal script numbers (CScriptNum) and the BIP34 height
 * push, byte for byte as Bitcoin Core writes them.
 *
 * @module
 */

/** OP_0: pushes an empty array. */
export const OP_0 = 0x00;
/** OP_PUSHDATA1: the next byte is the push length. */
export const OP_PUSHDATA1 = 0x4c;
/** OP_PUSHDATA2: the next 2 bytes (LE) are the push length. */
export const OP_PUSHDATA2 = 0x4d;
/** OP_PUSHDATA4: the next 4 bytes (LE) are the push length. */
export const OP_PUSHDATA4 = 0x4e;
/** OP_1NEGATE: pushes -1. */
export const OP_1NEGATE = 0x4f;
/** OP_1: pushes 1; OP_2..OP_16 follow it. */
export const OP_1 = 0x51;
/** OP_RETURN: marks an unspendable output. */
export const OP_RETURN = 0x6a;

/** Size of the opcode (and length bytes) that push `length` bytes, as `pushData` writes them. */
export function pushPrefixSize(length: number): number {
  if (length < OP_PUSHDATA1) return 1;
  if (length <= 0xff) return 2;
  if (length <= 0xffff) return 3;
  return 5;
}

/**
 * A push of `data` as Bitcoin Core's `CScript << std::vector` writes it: the shortest
 * direct/PUSHDATA1/2/4 form (an empty array becomes OP_0; single bytes are not turned into OP_n).
 */
export function pushData(data: Uint8Array): Uint8Array {
  const len = data.length;
  const prefix = pushPrefixSize(len);
  const out = new Uint8Array(prefix + len);
  if (prefix === 1) {
    out[0] = len;
  } else if (prefix === 2) {
    out[0] = OP_PUSHDATA1;
    out[1] = len;
  } else if (prefix === 3) {
    out[0] = OP_PUSHDATA2;
    out[1] = len & 0xff;
    out[2] = len >>> 8;
  } else {
    out[0] = OP_PUSHDATA4;
    new DataView(out.buffer).setUint32(1, len, true);
  }
  out.set(data, prefix);
  return out;
}

/**
 * The minimal CScriptNum encoding of `n` (little-endian magnitude, sign in the top bit of the
 * last byte; 0 is the empty array).
 */
export function scriptNumber(n: number | bigint): Uint8Array {
  let v = BigInt(n);
  if (typeof n === "number" && !Number.isSafeInteger(n)) {
    throw new RangeError(`script number must be a safe integer, got ${n}`);
  }
  if (v === 0n) return new Uint8Array(0);
  const negative = v < 0n;
  if (negative) v = -v;
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.push(Number(v & 0xffn));
    v >>= 8n;
  }
  // If the top bit is taken by the magnitude, add a byte to carry the sign.
  if (bytes[bytes.length - 1] & 0x80) bytes.push(negative ? 0x80 : 0x00);
  else if (negative) bytes[bytes.length - 1] |= 0x80;
  return Uint8Array.from(bytes);
}

/**
 * `CScript() << n` for an integer, as Bitcoin Core writes it: OP_0 for 0, OP_1NEGATE for -1,
 * OP_1..OP_16 for 1..16, otherwise a push of `scriptNumber(n)`.
 */
export function pushNumber(n: number): Uint8Array {
  if (n === 0) return Uint8Array.of(OP_0);
  if (n === -1) return Uint8Array.of(OP_1NEGATE);
  if (n >= 1 && n <= 16) return Uint8Array.of(OP_1 + n - 1);
  return pushData(scriptNumber(n));
}

/**
 * The BIP34 coinbase height prefix exactly as Bitcoin Core's `CScript() << height` (what its
 * consensus check compares the scriptSig against): OP_0 for 0, OP_1..OP_16 for 1..16, else a
 * minimal number push.
 */
export function bip34HeightPush(height: number): Uint8Array {
  if (!Number.isSafeInteger(height) || height < 0 || height > 0x7fffffff) {
    throw new RangeError(`block height must be an integer in 0..2^31-1, got ${height}`);
  }
  return pushNumber(height);
}

/**
 * The block height a coinbase scriptSig starts with (the inverse of `bip34HeightPush`), or
 * undefined when it does not start with a minimal, non-negative number push. Only meaningful for
 * blocks where BIP34 applies (older coinbases may start with any push).
 */
export function readBip34Height(scriptSig: Uint8Array): number | undefined {
  if (scriptSig.length === 0) return undefined;
  const op = scriptSig[0];
  if (op === OP_0) return 0;
  if (op >= OP_1 && op <= OP_1 + 15) return op - OP_1 + 1;
  if (op < 1 || op > 5 || scriptSig.length < 1 + op) return undefined;
  let height = 0;
  for (let i = op; i >= 1; i--) height = height * 256 + scriptSig[i];
  if (scriptSig[op] & 0x80 || height > 0x7fffffff) return undefined; // negative or too big
  const expected = bip34HeightPush(height);
  for (let i = 0; i < expected.length; i++) if (expected[i] !== scriptSig[i]) return undefined;
  return height;
}
