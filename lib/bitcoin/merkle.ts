/**
 * Block merkle trees (txids in internal byte order; an odd node pairs with itself): the branch a
 * miner folds the coinbase txid with, the root from that branch, and the full root.
 *
 * @module
 */

import { sha256d64Into } from "./sha256.ts";

function check32(hash: Uint8Array, what: string): void {
  if (hash.length !== 32) throw new RangeError(`${what} must be 32 bytes, got ${hash.length}`);
}

/**
 * The merkle branch for the coinbase (index 0), given the txids of the NON-coinbase transactions
 * in template order: the sibling hashes from the leaves up. Empty when the block has only the
 * coinbase.
 */
export function merkleBranchForCoinbase(txids: readonly Uint8Array[]): Uint8Array[] {
  txids.forEach((t, i) => check32(t, `txid ${i}`));
  const branch: Uint8Array[] = [];
  // `level` is one tree level without its first node (the one on the coinbase's path).
  let level: Uint8Array[] = txids.slice();
  while (level.length > 0) {
    branch.push(level[0].slice());
    const next: Uint8Array[] = [];
    for (let i = 1; i < level.length; i += 2) {
      next.push(sha256d64Into(level[i], level[i + 1] ?? level[i], new Uint8Array(32)));
    }
    level = next;
  }
  return branch;
}

/**
 * Folds `coinbaseTxid` with `branch` into the merkle root, writing it into `out` at `outOffset`
 * without allocating (the per-share path). `out` may alias `coinbaseTxid`.
 */
export function merkleRootFromBranchInto(
  coinbaseTxid: Uint8Array,
  branch: readonly Uint8Array[],
  out: Uint8Array,
  outOffset = 0,
): Uint8Array {
  const root = outOffset === 0 && out.length === 32 ? out : out.subarray(outOffset, outOffset + 32);
  if (root !== coinbaseTxid) root.set(coinbaseTxid);
  for (let i = 0; i < branch.length; i++) sha256d64Into(root, branch[i], root);
  return out;
}

/** The merkle root from the coinbase txid and its branch (see `merkleBranchForCoinbase`). */
export function merkleRootFromBranch(
  coinbaseTxid: Uint8Array,
  branch: readonly Uint8Array[],
): Uint8Array {
  check32(coinbaseTxid, "coinbase txid");
  return merkleRootFromBranchInto(coinbaseTxid, branch, new Uint8Array(32));
}

/** The merkle root of all txids of a block (coinbase first). Throws on an empty list. */
export function merkleRoot(txids: readonly Uint8Array[]): Uint8Array {
  if (txids.length === 0) throw new RangeError("a merkle tree needs at least one txid");
  txids.forEach((t, i) => check32(t, `txid ${i}`));
  let level: Uint8Array[] = txids.map((t) => t.slice());
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(sha256d64Into(level[i], level[i + 1] ?? level[i], new Uint8Array(32)));
    }
    level = next;
  }
  return level[0];
}
