/**
 * Full block serialization: header, transaction count, coinbase, then the template's transactions.
 * One layout, in bytes (`serializeBlock`) or as the hex `submitblock` takes (`serializeBlockHex`).
 *
 * @module
 */

import { HEADER_SIZE } from "./header.ts";
import { bytesToHex } from "./hex.ts";
import { varIntSize, writeVarInt } from "./tx.ts";

/** `header80 ‖ varint(1 + txCount) ‖ coinbase`: everything of a block before the template's txs. */
function blockHead(header80: Uint8Array, coinbase: Uint8Array, txCount: number): Uint8Array {
  if (header80.length !== HEADER_SIZE) {
    throw new RangeError(`block header must be 80 bytes, got ${header80.length}`);
  }
  const count = 1 + txCount;
  const out = new Uint8Array(HEADER_SIZE + varIntSize(count) + coinbase.length);
  out.set(header80, 0);
  out.set(coinbase, writeVarInt(count, out, HEADER_SIZE));
  return out;
}

/**
 * The serialized block: `header80 ‖ varint(1 + txs.length) ‖ coinbase ‖ txs…`. Pass the coinbase
 * in its witness form (`coinbaseWithWitness`) when the block commits to witnesses, and each tx as
 * the template's raw `data` (with its witness).
 */
export function serializeBlock(
  header80: Uint8Array,
  coinbase: Uint8Array,
  txs: readonly Uint8Array[],
): Uint8Array {
  const head = blockHead(header80, coinbase, txs.length);
  let size = head.length;
  for (const tx of txs) size += tx.length;
  const out = new Uint8Array(size);
  out.set(head, 0);
  let off = head.length;
  for (const tx of txs) {
    out.set(tx, off);
    off += tx.length;
  }
  return out;
}

/**
 * `serializeBlock` as lowercase hex, with the transactions given as the template's hex `data`
 * (appended as they are, not decoded and encoded again: a full block's megabytes stay one string
 * join instead of a byte-by-byte hex encode).
 */
export function serializeBlockHex(
  header80: Uint8Array,
  coinbase: Uint8Array,
  txsHex: readonly string[],
): string {
  return bytesToHex(blockHead(header80, coinbase, txsHex.length)) + txsHex.join("");
}
