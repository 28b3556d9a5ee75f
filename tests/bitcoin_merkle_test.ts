import assert from "node:assert/strict";
import { joinCoinbase } from "../lib/bitcoin/coinbase.ts";
import { bytesToHex, hexToBytes, reverseBytes } from "../lib/bitcoin/hex.ts";
import {
  merkleBranchForCoinbase,
  merkleRoot,
  merkleRootFromBranch,
  merkleRootFromBranchInto,
} from "../lib/bitcoin/merkle.ts";
import { sha256, sha256d } from "../lib/bitcoin/sha256.ts";
import { txid } from "../lib/bitcoin/tx.ts";

interface MiningVectors {
  merkleFromBranch: {
    coinb1: string;
    extranonce1: string;
    extranonce2: string;
    coinb2: string;
    branch: string[];
    merkleRoot: string;
  };
  block100000Txids: { txids: string[] };
}
const mining: MiningVectors = JSON.parse(
  await Deno.readTextFile(new URL("./vectors/bitcoin/mining.json", import.meta.url)),
);
const BLOCK_100000_ROOT = "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766";
const block100000 = mining.block100000Txids.txids.map((t) => reverseBytes(hexToBytes(t)));

/** The textbook merkle root (pairs, duplicate the odd last), written independently. */
function referenceRoot(leaves: Uint8Array[]): Uint8Array {
  let level = leaves;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const pair = new Uint8Array(64);
      pair.set(level[i]);
      pair.set(level[i + 1] ?? level[i], 32);
      next.push(sha256d(pair));
    }
    level = next;
  }
  return level[0];
}

Deno.test("block 100000: its 4 txids give its real merkle root", () => {
  assert.equal(bytesToHex(reverseBytes(merkleRoot(block100000))), BLOCK_100000_ROOT);
});

Deno.test("block 100000: the coinbase branch folds back to the same root", () => {
  const branch = merkleBranchForCoinbase(block100000.slice(1));
  assert.equal(branch.length, 2);
  assert.deepEqual(branch[0], block100000[1]);
  const root = merkleRootFromBranch(block100000[0], branch);
  assert.equal(bytesToHex(reverseBytes(root)), BLOCK_100000_ROOT);
});

Deno.test("a block with only the coinbase: empty branch, root = coinbase txid", () => {
  const genesisTxid = reverseBytes(
    hexToBytes("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"),
  );
  assert.deepEqual(merkleBranchForCoinbase([]), []);
  assert.deepEqual(merkleRootFromBranch(genesisTxid, []), genesisTxid);
  assert.deepEqual(merkleRoot([genesisTxid]), genesisTxid);
  assert.throws(() => merkleRoot([]), RangeError);
});

Deno.test("real Stratum work: coinbase + notify branch give the expected merkle root", () => {
  const v = mining.merkleFromBranch;
  const coinbase = joinCoinbase(
    hexToBytes(v.coinb1),
    hexToBytes(v.extranonce1),
    hexToBytes(v.extranonce2),
    hexToBytes(v.coinb2),
  );
  const root = merkleRootFromBranch(txid(coinbase), v.branch.map(hexToBytes));
  assert.equal(bytesToHex(root), v.merkleRoot);
});

Deno.test("root from branch equals the full root for every tree size 1..40", () => {
  for (let n = 1; n <= 40; n++) {
    const txids = Array.from({ length: n }, (_, i) => sha256(Uint8Array.of(n, i)));
    const expected = referenceRoot(txids);
    assert.deepEqual(merkleRoot(txids), expected, `n=${n}`);
    const branch = merkleBranchForCoinbase(txids.slice(1));
    assert.equal(branch.length, n === 1 ? 0 : Math.ceil(Math.log2(n)), `branch length n=${n}`);
    assert.deepEqual(merkleRootFromBranch(txids[0], branch), expected, `branch n=${n}`);
  }
});

Deno.test("merkleRootFromBranchInto writes in place without touching the branch", () => {
  const branch = merkleBranchForCoinbase(block100000.slice(1));
  const before = branch.map((b) => b.slice());
  const buf = new Uint8Array(40).fill(9);
  merkleRootFromBranchInto(block100000[0], branch, buf, 4);
  assert.equal(bytesToHex(reverseBytes(buf.subarray(4, 36))), BLOCK_100000_ROOT);
  assert.deepEqual([...buf.subarray(0, 4)], [9, 9, 9, 9]);
  assert.deepEqual(branch, before);
  const aliased = block100000[0].slice();
  merkleRootFromBranchInto(aliased, branch, aliased);
  assert.equal(bytesToHex(reverseBytes(aliased)), BLOCK_100000_ROOT);
});

Deno.test("hashes that are not 32 bytes are refused", () => {
  assert.throws(() => merkleBranchForCoinbase([new Uint8Array(31)]), /txid 0 must be 32 bytes/);
  assert.throws(() => merkleRoot([new Uint8Array(33)]), RangeError);
  assert.throws(() => merkleRootFromBranch(new Uint8Array(3), []), /coinbase txid/);
});
