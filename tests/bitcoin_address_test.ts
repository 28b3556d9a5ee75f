import assert from "node:assert/strict";
import { AddressError, addressToScript, scriptToAddress } from "../lib/bitcoin/address.ts";
import {
  base58CheckDecode,
  base58CheckEncode,
  base58Decode,
  base58Encode,
  Base58Error,
} from "../lib/bitcoin/base58.ts";
import {
  bech32Decode,
  bech32Encode,
  Bech32Error,
  convertBits,
  decodeSegwitAddress,
  encodeSegwitAddress,
} from "../lib/bitcoin/bech32.ts";
import { bytesToHex, hexToBytes } from "../lib/bitcoin/hex.ts";
import { type NetworkName, NETWORKS } from "../lib/bitcoin/networks.ts";

interface Bech32Vectors {
  validBech32: string[];
  invalidBech32: [string, string][];
  validBech32m: string[];
  invalidBech32m: [string, string][];
  validSegwit: [string, string][];
  invalidSegwit: [string, string, string][];
}
interface AddressVector {
  network: NetworkName;
  type: string;
  address: string;
  script: string;
}
const readJson = async <T>(name: string): Promise<T> =>
  JSON.parse(await Deno.readTextFile(new URL(`./vectors/bitcoin/${name}`, import.meta.url)));
const bech = await readJson<Bech32Vectors>("bech32.json");
const { vectors: addresses } = await readJson<{ vectors: AddressVector[] }>("addresses.json");

Deno.test("BIP173 valid strings decode as bech32 and re-encode to themselves", () => {
  for (const s of bech.validBech32) {
    const d = bech32Decode(s);
    assert.equal(d.encoding, "bech32", s);
    assert.equal(bech32Encode(d.hrp, d.words, "bech32"), s.toLowerCase());
  }
});

Deno.test("BIP350 valid strings decode as bech32m and re-encode to themselves", () => {
  for (const s of bech.validBech32m) {
    const d = bech32Decode(s);
    assert.equal(d.encoding, "bech32m", s);
    assert.equal(bech32Encode(d.hrp, d.words, "bech32m"), s.toLowerCase());
  }
});

Deno.test("BIP173 and BIP350 invalid strings are rejected with a reason", () => {
  for (const [s, why] of [...bech.invalidBech32, ...bech.invalidBech32m]) {
    assert.throws(() => bech32Decode(s), Bech32Error, `${JSON.stringify(s)}: ${why}`);
  }
  assert.throws(() => bech32Decode("A12UeL5L"), /mixes upper and lower case/);
  assert.throws(() => bech32Decode("pzry9x0s0muk"), /no '1' separator/);
  assert.throws(() => bech32Decode("1pzry9x0s0muk"), /empty human-readable part/);
  assert.throws(() => bech32Decode("x1b4n0q5v"), /"b" at position 3/);
  assert.throws(() => bech32Decode("li1dgmt3"), /shorter than the 6-character checksum/);
  assert.throws(() => bech32Decode("A1G7SGD8"), /bad checksum/);
});

Deno.test("BIP350 valid segwit addresses give their scriptPubKeys", () => {
  for (const [address, script] of bech.validSegwit) {
    const { hrp, version, program } = decodeSegwitAddress(address);
    const op = version === 0 ? "00" : (0x50 + version).toString(16);
    assert.equal(op + program.length.toString(16).padStart(2, "0") + bytesToHex(program), script);
    assert.equal(encodeSegwitAddress(hrp, version, program), address.toLowerCase());
    const network = hrp === "bc" ? NETWORKS.mainnet : NETWORKS.testnet;
    assert.equal(bytesToHex(addressToScript(address, network)), script, address);
    assert.equal(scriptToAddress(hexToBytes(script), network), address.toLowerCase());
  }
});

Deno.test("BIP173/BIP350 invalid segwit addresses are refused on every network", () => {
  for (const [address, why] of bech.invalidSegwit) {
    for (const name of ["mainnet", "testnet"] as const) {
      assert.throws(
        () => addressToScript(address, NETWORKS[name]),
        AddressError,
        `${address} (${why}) on ${name}`,
      );
    }
  }
});

Deno.test("rejections name the exact problem", () => {
  const main = NETWORKS.mainnet;
  const cases: [string, RegExp][] = [
    ["", /address is empty/],
    [" bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", /whitespace/],
    ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", /bad checksum/],
    ["bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", /v1\+ requires bech32m/],
    ["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", /v0 requires bech32/],
    ["BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", /must be 20 \(P2WPKH\) or 32 \(P2WSH\)/],
    ["bc1pw5dgrnzv", /1 bytes; it must be 2 to 40/],
    ["BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", /version 17 is above 16/],
    ["tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", /mixes upper and lower/],
    [
      "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
      /unknown address prefix "tc1"/,
    ],
    ["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", /bad checksum/],
    ["1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a", /"0" at position 33 is not valid in base58/],
    // A valid checksum over a 20-byte payload (no version byte).
    [base58CheckEncode(new Uint8Array(20).fill(1)), /decodes to 20 bytes/],
    ["bc1gmk9yu", /empty data part/],
  ];
  for (const [address, reason] of cases) {
    assert.throws(() => addressToScript(address, main), (err: unknown) => {
      assert.ok(err instanceof AddressError, `${address}: ${err}`);
      assert.match(err.message, reason, address);
      return true;
    });
  }
});

Deno.test("real addresses of every type give their known scripts on their networks", () => {
  for (const v of addresses) {
    const script = addressToScript(v.address, NETWORKS[v.network]);
    assert.equal(bytesToHex(script), v.script, `${v.network} ${v.type} ${v.address}`);
    assert.equal(scriptToAddress(script, NETWORKS[v.network]), v.address);
  }
});

Deno.test("an address of another network is refused, naming that network", () => {
  const p2wpkhMain = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
  assert.throws(
    () => addressToScript(p2wpkhMain, NETWORKS.testnet4),
    /address is for mainnet \(prefix "bc1"\), but the pool runs on testnet4 \(prefix "tb1"\)/,
  );
  assert.throws(
    () => addressToScript("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", NETWORKS.mainnet),
    /address is for testnet\/testnet4\/signet .* runs on mainnet/,
  );
  assert.throws(
    () => addressToScript("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", NETWORKS.regtest),
    /runs on regtest \(prefix "bcrt1"\)/,
  );
  assert.throws(
    () => addressToScript("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", NETWORKS.mainnet),
    /address is for regtest/,
  );
  assert.throws(
    () => addressToScript("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", NETWORKS.signet),
    /address is for mainnet, but the pool runs on signet/,
  );
  assert.throws(
    () => addressToScript("2N2GDNJ4rEm6NxfMC9ck8VuRdheQzXWaNZv", NETWORKS.mainnet),
    /address is for testnet\/testnet4\/signet\/regtest, but the pool runs on mainnet/,
  );
  // A version byte no Bitcoin network uses (0x30 is Litecoin's P2PKH).
  const foreign = base58CheckEncode(Uint8Array.of(0x30, ...new Uint8Array(20)));
  assert.throws(
    () => addressToScript(foreign, NETWORKS.mainnet),
    /unknown address version byte 0x30/,
  );
});

Deno.test("scriptToAddress leaves non-standard scripts undefined", () => {
  const main = NETWORKS.mainnet;
  assert.equal(scriptToAddress(new Uint8Array(0), main), undefined);
  assert.equal(scriptToAddress(hexToBytes("6a24aa21a9ed"), main), undefined); // OP_RETURN
  assert.equal(scriptToAddress(hexToBytes("0015" + "00".repeat(21)), main), undefined); // v0, 21 B
  assert.equal(scriptToAddress(hexToBytes("5101ff"), main), undefined); // 1-byte program
  assert.equal(
    scriptToAddress(hexToBytes("76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f18ac"), main),
    undefined,
  );
});

Deno.test("base58 keeps leading zeros and round-trips", () => {
  assert.equal(base58Encode(new Uint8Array(0)), "");
  assert.equal(base58Encode(Uint8Array.of(0, 0, 1)), "112");
  assert.deepEqual(base58Decode("112"), Uint8Array.of(0, 0, 1));
  assert.equal(base58Encode(new TextEncoder().encode("hello world")), "StV1DL6CwTryKyV");
  for (let len = 0; len < 40; len++) {
    const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 37 + len) & (i % 3 ? 0xff : 0));
    assert.deepEqual(base58Decode(base58Encode(bytes)), bytes);
  }
  const payload = hexToBytes("0062e907b15cbf27d5425399ebf6f0fb50ebb88f18");
  assert.equal(base58CheckEncode(payload), "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
  assert.deepEqual(base58CheckDecode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"), payload);
  assert.throws(() => base58CheckDecode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"), Base58Error);
  assert.throws(() => base58CheckDecode("11"), /too short/);
  assert.throws(() => base58Decode("I"), /"I" at position 1/);
});

Deno.test("convertBits refuses excess or non-zero padding", () => {
  assert.deepEqual(convertBits([0xff], 8, 5, true), Uint8Array.of(31, 28));
  assert.deepEqual(convertBits([31, 28], 5, 8, false), Uint8Array.of(0xff));
  assert.throws(() => convertBits([31, 29], 5, 8, false), /non-zero padding/);
  assert.throws(() => convertBits([31, 28, 0], 5, 8, false), /more than 4 bits of padding/);
  assert.throws(() => convertBits([32], 5, 8, true), /does not fit/);
});
