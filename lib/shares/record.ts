/**
 * The binary records the share checker works on: a share record (what the miner chose, plus the
 * job and coinbase it refers to by number) and a verdict record (what hashing found). Batches of
 * them travel between the pool and its workers in one transferable `ArrayBuffer` each way, and the
 * single-thread checker uses the same layout, so both paths run the same code.
 *
 * Share record, little-endian, `SHARE_HEADER_BYTES + en1Len + en2Len` bytes:
 *
 * | offset | size | field                                        |
 * | -----: | ---: | -------------------------------------------- |
 * |      0 |    4 | job `seq`                                    |
 * |      4 |    4 | coinbase `key`                               |
 * |      8 |    4 | header version (after rolling)               |
 * |     12 |    4 | ntime                                        |
 * |     16 |    4 | nonce                                        |
 * |     20 |    1 | extranonce1 length                           |
 * |     21 |    1 | extranonce2 length                           |
 * |     22 |    2 | reserved (0)                                 |
 * |     24 |   32 | share target, internal (little-endian) order |
 * |     56 |    … | extranonce1 then extranonce2                 |
 *
 * Verdict record, `VERDICT_BYTES` bytes: hash (32, internal order), difficulty (float64 at 32),
 * flags (byte 40: bit 0 meets the share target, bit 1 meets the network target).
 *
 * @module
 */

import type { ShareInput, ShareVerdict } from "../pool/mod.ts";

/** Bytes of a share record before the extranonces. */
export const SHARE_HEADER_BYTES = 56;
/** Offset of the share target inside a share record. */
export const SHARE_TARGET_OFFSET = 24;
/** Longest extranonce (each of 1 and 2) a record can carry. */
export const MAX_EXTRANONCE_BYTES = 255;
/** Bytes of one verdict record. */
export const VERDICT_BYTES = 48;
/** Offset of the difficulty (float64) inside a verdict record. */
export const VERDICT_DIFFICULTY_OFFSET = 32;
/** Offset of the flags byte inside a verdict record. */
export const VERDICT_FLAGS_OFFSET = 40;
/** Verdict flag: the hash is at or below the share target. */
export const FLAG_SHARE = 1;
/** Verdict flag: the hash is at or below the network target. */
export const FLAG_NETWORK = 2;

/** Bytes the share record of `share` takes. */
export function shareRecordBytes(share: ShareInput): number {
  return SHARE_HEADER_BYTES + share.extranonce1.length + share.extranonce2.length;
}

/**
 * Writes the share record of `share` on job `jobSeq` with coinbase `coinbaseKey` into `out` at
 * `offset`, taking the share target already encoded in `targetLE`. Returns the offset after it.
 */
export function writeShareRecord(
  out: Uint8Array,
  view: DataView,
  offset: number,
  jobSeq: number,
  coinbaseKey: number,
  share: ShareInput,
  targetLE: Uint8Array,
): number {
  const en1 = share.extranonce1;
  const en2 = share.extranonce2;
  if (en1.length > MAX_EXTRANONCE_BYTES || en2.length > MAX_EXTRANONCE_BYTES) {
    throw new RangeError("extranonce longer than 255 bytes");
  }
  view.setUint32(offset, jobSeq >>> 0, true);
  view.setUint32(offset + 4, coinbaseKey >>> 0, true);
  view.setUint32(offset + 8, share.version >>> 0, true);
  view.setUint32(offset + 12, share.ntime >>> 0, true);
  view.setUint32(offset + 16, share.nonce >>> 0, true);
  out[offset + 20] = en1.length;
  out[offset + 21] = en2.length;
  out[offset + 22] = 0;
  out[offset + 23] = 0;
  out.set(targetLE, offset + SHARE_TARGET_OFFSET);
  out.set(en1, offset + SHARE_HEADER_BYTES);
  out.set(en2, offset + SHARE_HEADER_BYTES + en1.length);
  return offset + SHARE_HEADER_BYTES + en1.length + en2.length;
}

/** Bytes of the share record that starts at `offset` in `data`. */
export function shareRecordLength(data: Uint8Array, offset: number): number {
  return SHARE_HEADER_BYTES + data[offset + 20] + data[offset + 21];
}

/** Reads the verdict record at `offset` into a fresh `ShareVerdict` (the hash is copied). */
export function readVerdict(data: Uint8Array, view: DataView, offset: number): ShareVerdict {
  const flags = data[offset + VERDICT_FLAGS_OFFSET];
  return {
    hash: data.slice(offset, offset + 32),
    difficulty: view.getFloat64(offset + VERDICT_DIFFICULTY_OFFSET, true),
    meetsShareTarget: (flags & FLAG_SHARE) !== 0,
    meetsNetworkTarget: (flags & FLAG_NETWORK) !== 0,
  };
}
