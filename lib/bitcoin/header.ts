/**
 * The 80-byte block header: assembly, parsing, and the Stratum v1 prevhash word order.
 *
 * @module
 */

import { bytesToHex, hexToBytes } from "./hex.ts";

/** Size of a serialized block header. */
export const HEADER_SIZE = 80;

/** Fields of a block header; hashes in internal byte order. */
export interface BlockHeader {
  /** Block version (signed 32-bit in consensus, reported here as read: int32). */
  readonly version: number;
  /** Previous block hash, internal byte order. */
  readonly prevhash: Uint8Array;
  /** Merkle root, internal byte order. */
  readonly merkleRoot: Uint8Array;
  /** Unix time in seconds. */
  readonly time: number;
  /** Compact target. */
  readonly bits: number;
  /** Nonce (uint32). */
  readonly nonce: number;
}

function writeU32LE(out: Uint8Array, off: number, v: number): void {
  out[off] = v;
  out[off + 1] = v >>> 8;
  out[off + 2] = v >>> 16;
  out[off + 3] = v >>> 24;
}

function readU32LE(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

/**
 * Serializes a header into `out` (80 bytes, allocated when omitted) and returns it. `version`,
 * `ntime`, `bits` and `nonce` are taken modulo 2^32 (negative versions are fine).
 */
export function buildHeader(
  version: number,
  prevhashInternal: Uint8Array,
  merkleRoot: Uint8Array,
  ntime: number,
  bits: number,
  nonce: number,
  out: Uint8Array = new Uint8Array(HEADER_SIZE),
): Uint8Array {
  if (prevhashInternal.length !== 32 || merkleRoot.length !== 32) {
    throw new RangeError("prevhash and merkle root must be 32 bytes each");
  }
  if (out.length < HEADER_SIZE) throw new RangeError("header buffer must hold 80 bytes");
  writeU32LE(out, 0, version);
  out.set(prevhashInternal, 4);
  out.set(merkleRoot, 36);
  writeU32LE(out, 68, ntime);
  writeU32LE(out, 72, bits);
  writeU32LE(out, 76, nonce);
  return out;
}

/** Reads the fields of an 80-byte header (hashes copied, internal byte order). */
export function parseHeader(header: Uint8Array): BlockHeader {
  if (header.length < HEADER_SIZE) {
    throw new RangeError(`a block header is 80 bytes, got ${header.length}`);
  }
  return {
    version: readU32LE(header, 0) | 0,
    prevhash: header.slice(4, 36),
    merkleRoot: header.slice(36, 68),
    time: readU32LE(header, 68),
    bits: readU32LE(header, 72),
    nonce: readU32LE(header, 76),
  };
}

/**
 * The Stratum v1 `mining.notify` prevhash: the internal-order 32 bytes read as 8 words, each
 * word's 4 bytes reversed, as hex. (Equivalently: the RPC hex with its 8-char words in reverse
 * order.)
 */
export function stratumPrevhash(prevhashInternal: Uint8Array): string {
  if (prevhashInternal.length !== 32) throw new RangeError("prevhash must be 32 bytes");
  const swapped = new Uint8Array(32);
  for (let i = 0; i < 32; i += 4) {
    swapped[i] = prevhashInternal[i + 3];
    swapped[i + 1] = prevhashInternal[i + 2];
    swapped[i + 2] = prevhashInternal[i + 1];
    swapped[i + 3] = prevhashInternal[i];
  }
  return bytesToHex(swapped);
}

/** Inverse of `stratumPrevhash`: the notify prevhash hex back to internal-order bytes. */
export function prevhashFromStratum(stratumHex: string): Uint8Array {
  const swapped = hexToBytes(stratumHex);
  if (swapped.length !== 32) throw new RangeError("Stratum prevhash must be 64 hex characters");
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i += 4) {
    out[i] = swapped[i + 3];
    out[i + 1] = swapped[i + 2];
    out[i + 2] = swapped[i + 1];
    out[i + 3] = swapped[i];
  }
  return out;
}

/** Blocks whose times make up a median time past (BIP113): the block itself and its 10 parents. */
export const MEDIAN_TIME_SPAN = 11;

/**
 * Median time past (BIP113) of the block whose own time is last in `times`: the median of the last
 * {@linkcode MEDIAN_TIME_SPAN} header times (fewer near genesis), as Bitcoin Core computes it
 * (sorted, the element at half the count). A new block's time must be greater than its parent's.
 *
 * @example
 * ```ts
 * medianTimePast([100, 90, 110]); // 100
 * ```
 */
export function medianTimePast(times: readonly number[]): number {
  if (times.length === 0) throw new RangeError("median time past of no blocks");
  const last = times.slice(-MEDIAN_TIME_SPAN).sort((a, b) => a - b);
  return last[Math.floor(last.length / 2)];
}
