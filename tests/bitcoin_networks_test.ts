import assert from "node:assert/strict";
import { buildHeader } from "../lib/bitcoin/header.ts";
import { bytesToHex, hexToBytes, reverseBytes } from "../lib/bitcoin/hex.ts";
import {
  blockSubsidy,
  isNetworkName,
  networkByChain,
  type NetworkName,
  NETWORKS,
} from "../lib/bitcoin/networks.ts";
import { sha256d } from "../lib/bitcoin/sha256.ts";

interface HeaderVector {
  name: string;
  hash: string;
  version: number;
  prevhash: string;
  merkleRoot: string;
  time: number;
  bits: string;
  nonce: number;
}
const { headers }: { headers: HeaderVector[] } = JSON.parse(
  await Deno.readTextFile(new URL("./vectors/bitcoin/headers.json", import.meta.url)),
);

const genesisVector: Record<NetworkName, string> = {
  mainnet: "mainnet genesis",
  testnet: "testnet3 genesis",
  testnet4: "testnet4 genesis",
  signet: "signet genesis",
  regtest: "regtest genesis",
};

Deno.test("each network's genesis hash is the hash of its real genesis header", () => {
  for (const name of Object.keys(NETWORKS) as NetworkName[]) {
    const v = headers.find((h) => h.name === genesisVector[name])!;
    const header = buildHeader(
      v.version,
      reverseBytes(hexToBytes(v.prevhash)),
      reverseBytes(hexToBytes(v.merkleRoot)),
      v.time,
      parseInt(v.bits, 16),
      v.nonce,
    );
    assert.equal(bytesToHex(reverseBytes(sha256d(header))), v.hash, name);
    assert.equal(NETWORKS[name].genesisHash, v.hash, name);
    assert.equal(
      NETWORKS[name].powLimitBits,
      parseInt(v.bits, 16),
      `${name} genesis uses powLimit`,
    );
  }
});

Deno.test("network table matches Bitcoin Core's parameters", () => {
  const rows = (Object.keys(NETWORKS) as NetworkName[]).map((n) => {
    const x = NETWORKS[n];
    return [x.name, x.chain, x.rpcPort, x.p2pkhVersion, x.p2shVersion, x.bech32Hrp, x.cookieSubdir];
  });
  assert.deepEqual(rows, [
    ["mainnet", "main", 8332, 0x00, 0x05, "bc", ""],
    ["testnet", "test", 18332, 0x6f, 0xc4, "tb", "testnet3"],
    ["testnet4", "testnet4", 48332, 0x6f, 0xc4, "tb", "testnet4"],
    ["signet", "signet", 38332, 0x6f, 0xc4, "tb", "signet"],
    ["regtest", "regtest", 18443, 0x6f, 0xc4, "bcrt", "regtest"],
  ]);
  assert.deepEqual(NETWORKS.signet.gbtRules, ["segwit", "signet"]);
  assert.deepEqual(NETWORKS.mainnet.gbtRules, ["segwit"]);
  assert.equal(NETWORKS.regtest.halvingInterval, 150);
  assert.equal(NETWORKS.testnet4.halvingInterval, 210_000);
  assert.ok(Object.isFrozen(NETWORKS) && Object.isFrozen(NETWORKS.mainnet));
});

Deno.test("isNetworkName and networkByChain", () => {
  assert.equal(isNetworkName("testnet4"), true);
  assert.equal(isNetworkName("main"), false);
  assert.equal(isNetworkName("toString"), false);
  assert.equal(networkByChain("main"), NETWORKS.mainnet);
  assert.equal(networkByChain("test"), NETWORKS.testnet);
  assert.equal(networkByChain("testnet4"), NETWORKS.testnet4);
  assert.equal(networkByChain("signet"), NETWORKS.signet);
  assert.equal(networkByChain("regtest"), NETWORKS.regtest);
  assert.equal(networkByChain("mainnet"), undefined);
});

Deno.test("blockSubsidy halves on schedule", () => {
  const main = NETWORKS.mainnet;
  assert.equal(blockSubsidy(0, main), 5_000_000_000n);
  assert.equal(blockSubsidy(209_999, main), 5_000_000_000n);
  assert.equal(blockSubsidy(210_000, main), 2_500_000_000n);
  assert.equal(blockSubsidy(840_000, main), 312_500_000n); // the April 2024 halving: 3.125 BTC
  assert.equal(blockSubsidy(6_929_999, main), 1n);
  assert.equal(blockSubsidy(6_930_000, main), 0n);
  assert.equal(blockSubsidy(64 * 210_000, main), 0n);
  assert.equal(blockSubsidy(149, NETWORKS.regtest), 5_000_000_000n);
  assert.equal(blockSubsidy(150, NETWORKS.regtest), 2_500_000_000n);
  assert.equal(blockSubsidy(300, NETWORKS.regtest), 1_250_000_000n);
  assert.throws(() => blockSubsidy(-1, main), RangeError);
  assert.throws(() => blockSubsidy(1.5, main), RangeError);
});
