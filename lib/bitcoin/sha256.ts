/**
 * SHA-256 (FIPS 180-4) in TypeScript, tuned for V8. The compression functions are fully unrolled,
 * with the working state and the message schedule in local 32-bit values (no array reads inside
 * the rounds), and specialised for the blocks a pool hashes over and over: the constant padding
 * block of a 64-byte message, the second hash of a double hash (a 32-byte message from the IV) and
 * the tail block of an 80-byte header. They live in `sha256_rounds.generated.ts`, written by
 * `tools/gen_sha256.ts`; this file is the hand-written part.
 *
 * Besides the one-shot `sha256`/`sha256d` it offers an incremental hasher whose state can be
 * cloned (hash a constant prefix once, reuse the midstate), allocation-free `…Into` variants, and
 * word-level double hashes (`sha256d64Words`, `sha256dHeaderWords`) for the share checker, which
 * keeps hashes as big-endian 32-bit words between steps instead of converting to bytes each time.
 *
 * @module
 */

import {
  compressHeaderTail,
  compressIvWords,
  compressPad64,
  compressWords,
  hashDigestWords,
  IV,
} from "./sha256_rounds.generated.ts";

/** Scratch message block (16 words); JS is single threaded and nothing here re-enters. */
const M = new Int32Array(16);

/** Scratch states for the one-shot helpers. */
const S1 = new Int32Array(8);
const S2 = new Int32Array(8);

/** Scratch for the final, padded block(s) of a message. */
const TAIL = new Uint8Array(128);

/** Reads `count` big-endian 32-bit words from `bytes` at `offset` into `out` at `outOffset`. */
export function readWordsBE(
  bytes: Uint8Array,
  offset: number,
  count: number,
  out: Int32Array,
  outOffset = 0,
): Int32Array {
  for (let i = 0; i < count; i++, offset += 4) {
    out[outOffset + i] = (bytes[offset] << 24) | (bytes[offset + 1] << 16) |
      (bytes[offset + 2] << 8) | bytes[offset + 3];
  }
  return out;
}

/** Writes `count` words of `words` from `offset` big-endian into `out` at `outOffset`. */
export function writeWordsBE(
  words: Int32Array,
  offset: number,
  count: number,
  out: Uint8Array,
  outOffset = 0,
): Uint8Array {
  for (let i = 0; i < count; i++, outOffset += 4) {
    const v = words[offset + i];
    out[outOffset] = v >>> 24;
    out[outOffset + 1] = v >>> 16;
    out[outOffset + 2] = v >>> 8;
    out[outOffset + 3] = v;
  }
  return out;
}

/** Compresses one 64-byte block of `data` at `off` into `state`. */
function compressBytes(state: Int32Array, data: Uint8Array, off: number): void {
  readWordsBE(data, off, 16, M, 0);
  compressWords(state, M, 0);
}

/**
 * Absorbs the whole message into `state` (which must start at IV): the full blocks straight from
 * `data`, then the padded tail through the scratch buffer.
 */
function hashMessage(state: Int32Array, data: Uint8Array): void {
  const len = data.length;
  const full = len - (len & 63);
  for (let off = 0; off < full; off += 64) compressBytes(state, data, off);
  finishTail(state, data, full, len - full, len);
}

/** Pads and compresses the last `rem` (< 64) bytes of a message of `total` bytes. */
function finishTail(
  state: Int32Array,
  src: Uint8Array,
  srcOff: number,
  rem: number,
  total: number,
): void {
  const blocks = rem < 56 ? 1 : 2;
  const end = blocks * 64;
  for (let i = 0; i < rem; i++) TAIL[i] = src[srcOff + i];
  TAIL[rem] = 0x80;
  for (let i = rem + 1; i < end - 8; i++) TAIL[i] = 0;
  // Message length in bits as a 64-bit big-endian integer; lengths here fit in 53 bits.
  const bitsHi = Math.floor(total / 0x20000000);
  const bitsLo = (total * 8) >>> 0;
  TAIL[end - 8] = bitsHi >>> 24;
  TAIL[end - 7] = bitsHi >>> 16;
  TAIL[end - 6] = bitsHi >>> 8;
  TAIL[end - 5] = bitsHi;
  TAIL[end - 4] = bitsLo >>> 24;
  TAIL[end - 3] = bitsLo >>> 16;
  TAIL[end - 2] = bitsLo >>> 8;
  TAIL[end - 1] = bitsLo;
  compressBytes(state, TAIL, 0);
  if (blocks === 2) compressBytes(state, TAIL, 64);
}

/**
 * Incremental SHA-256. `clone()`/`copyFrom()` let a caller hash a constant prefix once and restart
 * from that midstate for every message that shares it.
 */
export class Sha256 {
  /** Chaining state (8 words). */
  readonly state: Int32Array = new Int32Array(IV);
  /** Bytes not yet forming a whole block. */
  readonly #buffer = new Uint8Array(64);
  #buffered = 0;
  #length = 0;

  /** Absorbs `data`; returns `this` for chaining. */
  update(data: Uint8Array): this {
    const len = data.length;
    let off = 0;
    this.#length += len;
    if (this.#buffered > 0) {
      const take = Math.min(64 - this.#buffered, len);
      this.#buffer.set(data.subarray(0, take), this.#buffered);
      this.#buffered += take;
      off = take;
      if (this.#buffered < 64) return this;
      compressBytes(this.state, this.#buffer, 0);
      this.#buffered = 0;
    }
    for (; off + 64 <= len; off += 64) compressBytes(this.state, data, off);
    if (off < len) {
      this.#buffer.set(data.subarray(off), 0);
      this.#buffered = len - off;
    }
    return this;
  }

  /** Finishes the hash into `out` at `outOffset` without allocating; the hasher is then spent. */
  digestInto(out: Uint8Array, outOffset = 0): Uint8Array {
    finishTail(this.state, this.#buffer, 0, this.#buffered, this.#length);
    this.#buffered = 0;
    return writeWordsBE(this.state, 0, 8, out, outOffset);
  }

  /** Finishes the hash and returns the 32-byte digest; the hasher is then spent. */
  digest(): Uint8Array {
    return this.digestInto(new Uint8Array(32));
  }

  /**
   * Finishes as a double hash: sha256 of this hasher's digest, written into `out` at `outOffset`.
   * Use it with a midstate clone to get sha256d of prefix ‖ suffix cheaply.
   */
  digestDoubleInto(out: Uint8Array, outOffset = 0): Uint8Array {
    this.digestDoubleWordsInto(S2, 0);
    return writeWordsBE(S2, 0, 8, out, outOffset);
  }

  /**
   * `digestDoubleInto` as 8 big-endian words into `out` at `outOffset` (the form the word-level
   * double hashes take); the hasher is then spent.
   */
  digestDoubleWordsInto(out: Int32Array, outOffset = 0): Int32Array {
    finishTail(this.state, this.#buffer, 0, this.#buffered, this.#length);
    this.#buffered = 0;
    hashDigestWords(this.state, 0, out, outOffset);
    return out;
  }

  /** Bytes absorbed so far. */
  get length(): number {
    return this.#length;
  }

  /** A new hasher in exactly this state. */
  clone(): Sha256 {
    return new Sha256().copyFrom(this);
  }

  /** Overwrites this hasher with `other`'s state (no allocation); returns `this`. */
  copyFrom(other: Sha256): this {
    this.state.set(other.state);
    this.#buffer.set(other.#buffer);
    this.#buffered = other.#buffered;
    this.#length = other.#length;
    return this;
  }

  /** Back to the empty-message state; returns `this`. */
  reset(): this {
    this.state.set(IV);
    this.#buffered = 0;
    this.#length = 0;
    return this;
  }
}

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  S1.set(IV);
  hashMessage(S1, data);
  return writeWordsBE(S1, 0, 8, new Uint8Array(32), 0);
}

/** Double SHA-256 of `data` (`sha256(sha256(data))`), internal byte order. */
export function sha256d(data: Uint8Array): Uint8Array {
  return sha256dInto(data, new Uint8Array(32), 0);
}

/** Double SHA-256 of `data` written into `out` at `outOffset`, allocating nothing; returns `out`. */
export function sha256dInto(data: Uint8Array, out: Uint8Array, outOffset = 0): Uint8Array {
  S1.set(IV);
  hashMessage(S1, data);
  hashDigestWords(S1, 0, S2, 0);
  return writeWordsBE(S2, 0, 8, out, outOffset);
}

/**
 * Double SHA-256 of the 64 bytes `left32 ‖ right32` (a merkle node) into `out` at `outOffset`.
 * `out` may be the same array as `left32` or `right32`. The padding block's schedule is constant
 * and folded into the code, so this costs two schedule expansions instead of three.
 */
export function sha256d64Into(
  left32: Uint8Array,
  right32: Uint8Array,
  out: Uint8Array,
  outOffset = 0,
): Uint8Array {
  readWordsBE(left32, 0, 8, M, 0);
  readWordsBE(right32, 0, 8, M, 8);
  sha256d64Words(M, 0, S2, 0);
  return writeWordsBE(S2, 0, 8, out, outOffset);
}

/**
 * Double SHA-256 of the 64-byte message given as 16 big-endian words `block[blockOffset..+16]`,
 * as 8 words into `out` at `outOffset`. `out` may overlap the input (a merkle fold in place).
 */
export function sha256d64Words(
  block: Int32Array,
  blockOffset: number,
  out: Int32Array,
  outOffset: number,
): void {
  compressIvWords(block, blockOffset, S1, 0);
  compressPad64(S1);
  hashDigestWords(S1, 0, out, outOffset);
}

/**
 * Double SHA-256 of the 80-byte header given as 20 big-endian words `header[offset..+20]`, as 8
 * words into `out` at `outOffset`.
 */
export function sha256dHeaderWords(
  header: Int32Array,
  offset: number,
  out: Int32Array,
  outOffset: number,
): void {
  compressIvWords(header, offset, S1, 0);
  compressHeaderTail(S1, header, offset + 16);
  hashDigestWords(S1, 0, out, outOffset);
}

/**
 * sha256d of a message whose leading whole blocks produced `midstate` and whose remaining bytes,
 * already padded (0x80, zeros, 64-bit bit length of the whole message), are the big-endian words
 * `paddedTail` (a multiple of 16). Writes 8 words into `out` at `outOffset`. A caller that keeps
 * the padded tail as words can change a few bytes of it per message and rehash at once.
 */
export function sha256dFromMidstateWords(
  midstate: Int32Array,
  paddedTail: Int32Array,
  out: Int32Array,
  outOffset: number,
): void {
  S1.set(midstate);
  for (let o = 0; o < paddedTail.length; o += 16) compressWords(S1, paddedTail, o);
  hashDigestWords(S1, 0, out, outOffset);
}

/** The SHA-256 chaining state after the first 64 bytes of `header80` (reusable midstate). */
export function headerMidstate(header80: Uint8Array): Int32Array {
  const state = new Int32Array(8);
  readWordsBE(header80, 0, 16, M, 0);
  compressIvWords(M, 0, state, 0);
  return state;
}

/**
 * sha256d of an 80-byte header whose first 64 bytes produced `midstate` (see `headerMidstate`):
 * only bytes 64..79 (merkle root tail, ntime, bits, nonce) are read. Writes the hash into `out`
 * at `outOffset`, allocating nothing.
 */
export function sha256dHeaderFromMidstateInto(
  midstate: Int32Array,
  header80: Uint8Array,
  out: Uint8Array,
  outOffset = 0,
): Uint8Array {
  readWordsBE(header80, 64, 4, M, 0);
  S1.set(midstate);
  compressHeaderTail(S1, M, 0);
  hashDigestWords(S1, 0, S2, 0);
  return writeWordsBE(S2, 0, 8, out, outOffset);
}
