import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import bcoin from "bcoin";
import {
  buildCoinbaseParts,
  splitPayout,
  witnessCommitmentScript,
} from "../lib/bitcoin/coinbase.ts";
import { decodeCoinbase } from "../lib/bitcoin/coinbase_decode.ts";
import { addressToScript } from "../lib/bitcoin/address.ts";
import { hexToBytes } from "../lib/bitcoin/hex.ts";
import { NETWORKS } from "../lib/bitcoin/networks.ts";
import { TxParseError } from "../lib/bitcoin/tx.ts";

const ascii = (s: string) => new TextEncoder().encode(s);
const mainnet = NETWORKS.mainnet;

interface MiningVectors {
  merkleFromBranch: { coinb1: string; coinb2: string };
}
const mining: MiningVectors = JSON.parse(
  await Deno.readTextFile(new URL("./vectors/bitcoin/mining.json", import.meta.url)),
);

Deno.test("decodeCoinbase reads a real slush pool job: height, tag, the one P2PKH payout", () => {
  const v = mining.merkleFromBranch;
  const miner = hexToBytes("76a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac");
  const decoded = decodeCoinbase(hexToBytes(v.coinb1), 8, hexToBytes(v.coinb2), mainnet, miner);
  assert.equal(decoded.tag, "/P2SH/ /slush/");
  // bcoin, an independent implementation, names the same address for the script.
  const address = bcoin.Script.fromRaw(Buffer.from(miner)).getAddress().toBase58("main");
  assert.deepEqual(decoded.outputs, [{ valueSats: 5_000_000_000n, address, role: "miner" }]);
  assert.equal(decoded.totalSats, 5_000_000_000n);
  assert.equal(decoded.minerSats, 5_000_000_000n);
});

Deno.test("decodeCoinbase: commitment, miner, pool fee and donation, in the bytes' order", () => {
  const minerAddress = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq";
  const poolAddress = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy";
  const donationAddress = "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297";
  const minerScript = addressToScript(minerAddress, mainnet);
  const payouts = splitPayout({
    coinbaseValue: 312_654_321n,
    minerScript,
    poolScript: addressToScript(poolAddress, mainnet),
    poolFeePercent: 2,
    donationScript: addressToScript(donationAddress, mainnet),
    donationPercent: 10,
  });
  const parts = buildCoinbaseParts({
    height: 870_123,
    payouts,
    witnessCommitment: witnessCommitmentScript([]),
    tag: ascii("/denopool/"),
    extranonce1Size: 4,
    extranonce2Size: 8,
  });
  const decoded = decodeCoinbase(parts.coinb1, 12, parts.coinb2, mainnet, minerScript);
  assert.equal(decoded.height, 870_123);
  assert.equal(decoded.tag, "/denopool/");
  assert.equal(decoded.outputs[0].role, "witness-commitment");
  assert.equal(decoded.outputs[0].valueSats, 0n);
  assert.equal(decoded.outputs[0].address, undefined);
  const rest = decoded.outputs.slice(1);
  assert.deepEqual(
    rest.map((o) => [o.address, o.role, o.valueSats]),
    payouts.map((p) => [
      p.role === "miner" ? minerAddress : p.role === "pool-fee" ? poolAddress : donationAddress,
      p.role === "miner" ? "miner" : "other",
      p.value,
    ]),
  );
  assert.equal(decoded.totalSats, 312_654_321n);
  assert.equal(decoded.minerSats, payouts.find((p) => p.role === "miner")!.value);
});

Deno.test("decodeCoinbase refuses halves that are not one transaction", () => {
  const v = mining.merkleFromBranch;
  assert.throws(
    () => decodeCoinbase(hexToBytes(v.coinb1), 8, hexToBytes(v.coinb2).subarray(0, 20), mainnet),
    TxParseError,
  );
});

Deno.test("decodeCoinbase: the tag is read after the height push (OP_8 is a printable 'X')", () => {
  const miner = hexToBytes("0014" + "11".repeat(20));
  const parts = buildCoinbaseParts({
    height: 8,
    auxFlags: ascii("mined by bcoin"),
    payouts: [{ script: miner, value: 5_000_000_000n, role: "miner" }],
    tag: ascii("/denopool/"),
    extranonce1Size: 4,
    extranonce2Size: 4,
  });
  assert.equal(parts.coinb1[42], 0x58, "OP_8 opens the scriptSig");
  const decoded = decodeCoinbase(parts.coinb1, 8, parts.coinb2, NETWORKS.regtest, miner);
  assert.equal(decoded.height, 8);
  assert.equal(decoded.tag, "mined by bcoin /denopool/");
});
