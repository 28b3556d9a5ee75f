import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import bcoin from "bcoin";
import { addressToScript } from "../lib/bitcoin/address.ts";
import { serializeBlock, serializeBlockHex } from "../lib/bitcoin/block.ts";
import {
  buildCoinbaseParts,
  coinbaseWithWitness,
  joinCoinbase,
  splitPayout,
  witnessCommitmentScript,
} from "../lib/bitcoin/coinbase.ts";
import { buildHeader } from "../lib/bitcoin/header.ts";
import { bytesToHex, hexToBytes, reverseBytes } from "../lib/bitcoin/hex.ts";
import { merkleBranchForCoinbase, merkleRootFromBranch } from "../lib/bitcoin/merkle.ts";
import { blockSubsidy, NETWORKS } from "../lib/bitcoin/networks.ts";
import { sha256d } from "../lib/bitcoin/sha256.ts";
import { bitsToTarget, hashMeetsTarget, targetToBytesLE } from "../lib/bitcoin/target.ts";
import { txid, wtxid } from "../lib/bitcoin/tx.ts";

const GENESIS_HEADER =
  "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
const GENESIS_COINBASE =
  "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";

Deno.test("the genesis block serializes to its well-known 285 bytes", () => {
  const block = serializeBlock(hexToBytes(GENESIS_HEADER), hexToBytes(GENESIS_COINBASE), []);
  assert.equal(block.length, 285);
  assert.equal(block[80], 1); // one transaction
  const parsed = bcoin.Block.fromRaw(Buffer.from(block));
  assert.equal(parsed.rhash(), NETWORKS.mainnet.genesisHash);
  assert.equal(parsed.verifyBody(), true);
  assert.throws(() => serializeBlock(new Uint8Array(79), new Uint8Array(0), []), RangeError);
});

/** Two non-coinbase transactions as a template would list them: one segwit, one legacy. */
const TEMPLATE_TXS = [
  hexToBytes(
    "02000000" + "0001" + "01" + "11".repeat(32) + "00000000" + "00" + "fdffffff" +
      "01" + "e803000000000000" + "160014" + "33".repeat(20) +
      "02" + "47" + "44".repeat(71) + "21" + "02" + "55".repeat(32) + "00000000",
  ),
  hexToBytes(
    "01000000" + "01" + "66".repeat(32) + "01000000" + "02" + "5151" + "ffffffff" +
      "01" + "1027000000000000" + "1976a914" + "77".repeat(20) + "88ac" + "00000000",
  ),
];

Deno.test("a regtest segwit block built from parts is valid to bcoin, PoW included", () => {
  const network = NETWORKS.regtest;
  const height = 301;
  const fees = 5_000n;
  const minerScript = addressToScript("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", network);
  const poolScript = addressToScript("mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt", network);
  const payouts = splitPayout({
    coinbaseValue: blockSubsidy(height, network) + fees,
    minerScript,
    poolScript,
    poolFeePercent: 2,
  });
  const commitment = witnessCommitmentScript(TEMPLATE_TXS.map(wtxid));
  const parts = buildCoinbaseParts({
    height,
    payouts,
    witnessCommitment: commitment,
    tag: new TextEncoder().encode("/denopool/"),
    extranonce1Size: 4,
    extranonce2Size: 8,
  });
  const legacyCoinbase = joinCoinbase(
    parts.coinb1,
    hexToBytes("00000001"),
    hexToBytes("0000000000000007"),
    parts.coinb2,
  );
  const branch = merkleBranchForCoinbase(TEMPLATE_TXS.map(txid));
  const root = merkleRootFromBranch(txid(legacyCoinbase), branch);
  const bits = network.powLimitBits;
  const target = targetToBytesLE(bitsToTarget(bits));
  const prev = reverseBytes(hexToBytes(network.genesisHash));
  const header = new Uint8Array(80);
  let nonce = 0;
  for (;; nonce++) {
    buildHeader(0x20000000, prev, root, 1_700_000_000, bits, nonce, header);
    if (hashMeetsTarget(sha256d(header), target)) break;
  }
  const block = serializeBlock(header, coinbaseWithWitness(legacyCoinbase), TEMPLATE_TXS);

  const parsed = bcoin.Block.fromRaw(Buffer.from(block));
  assert.equal(parsed.rhash(), bytesToHex(reverseBytes(sha256d(header))));
  assert.deepEqual(parsed.checkBody(), [true, "valid", 0]);
  assert.equal(parsed.createMerkleRoot("hex"), bytesToHex(root));
  assert.equal(parsed.getCommitmentHash("hex"), parsed.createCommitmentHash("hex"));
  assert.equal(parsed.getCoinbaseHeight(), height);
  assert.equal(parsed.txs.length, 3);
  assert.equal(parsed.txs[0].getOutputValue(), 1_250_000_000 + 5_000); // 2 regtest halvings
  assert.equal(parsed.getSize(), block.length);
  assert.equal(parsed.hasWitness(), true);
  assert.equal(parsed.verifyPOW(), true); // bcoin's own target check
});

Deno.test("serializeBlockHex is serializeBlock as hex, transactions appended from their hex", () => {
  const header = hexToBytes(GENESIS_HEADER);
  const coinbase = hexToBytes(GENESIS_COINBASE);
  assert.equal(
    serializeBlockHex(header, coinbase, []),
    bytesToHex(serializeBlock(header, coinbase, [])),
  );
  // 253 transactions: the count takes the 3-byte varint form (0xfd 0xfe 0x00).
  const many = Array.from({ length: 253 }, (_, i) => TEMPLATE_TXS[i % TEMPLATE_TXS.length]);
  for (const txs of [TEMPLATE_TXS, many]) {
    const hex = serializeBlockHex(header, coinbase, txs.map(bytesToHex));
    assert.equal(hex, bytesToHex(serializeBlock(header, coinbase, txs)));
  }
  assert.equal(serializeBlockHex(header, coinbase, many.map(bytesToHex)).slice(160, 166), "fdfe00");
  assert.throws(() => serializeBlockHex(new Uint8Array(81), coinbase, []), RangeError);
});
