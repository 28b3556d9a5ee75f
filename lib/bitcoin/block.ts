/**
 * Full block serialization: header, transaction count, coinbase, then the template's transactions.
 *
 * @module
 */

import { HEADER_SIZE } from "./header.ts";
import { varIntSize, writeVarInt } from "./tx.ts";

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
  if (header80.length !== HEADER_SIZE) {
    throw new RangeError(`block header must be 80 bytes, got ${header80.length}`);
  }
  const count = 1 + txs.length;
  let size = HEADER_SIZE + varIntSize(count) + coinbase.length;
  for (const tx of txs) size += tx.length;
  const out = new Uint8Array(size);
  out.set(header80, 0);
  let off = writeVarInt(count, out, HEADER_SIZE);
  out.set(coinbase, off);
  off += coinbase.length;
  for (const tx of txs) {
    out.set(tx, off);
    off += tx.length;
  }
  return out;
}
