import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import bcoin from "bcoin";
import { bytesToHex, hexToBytes, reverseBytes } from "../lib/bitcoin/hex.ts";
import {
  encodeVarInt,
  parseTx,
  readVarInt,
  stripWitness,
  txid,
  TxParseError,
  varIntSize,
  writeVarInt,
  wtxid,
} from "../lib/bitcoin/tx.ts";

interface MiningVectors {
  coinbases: { about: string; raw: string; txid: string }[];
}
const mining: MiningVectors = JSON.parse(
  await Deno.readTextFile(new URL("./vectors/bitcoin/mining.json", import.meta.url)),
);
const rpcHex = (hash: Uint8Array) => bytesToHex(reverseBytes(hash));

/** A segwit transaction (2 inputs, one with a 2-item witness, one without) built by hand. */
function witnessTx(): Uint8Array {
  return hexToBytes(
    "02000000" + "0001" + "02" +
      "11".repeat(32) + "01000000" + "00" + "fdffffff" +
      "22".repeat(32) + "00000000" + "03" + "abcdef" + "ffffffff" +
      "02" + "e803000000000000" + "160014" + "33".repeat(20) +
      "0000000000000000" + "026a00" +
      "02" + "47" + "44".repeat(71) + "21" + "02" + "55".repeat(32) +
      "00" +
      "65000000",
  );
}

Deno.test("varints use 1, 3, 5 or 9 bytes, little-endian", () => {
  const cases: [number, string][] = [
    [0, "00"],
    [252, "fc"],
    [253, "fdfd00"],
    [0xffff, "fdffff"],
    [0x10000, "fe00000100"],
    [0xffffffff, "feffffffff"],
    [0x100000000, "ff0000000001000000"],
    [Number.MAX_SAFE_INTEGER, "ffffffffffffff1f00"],
  ];
  for (const [n, hex] of cases) {
    assert.equal(bytesToHex(encodeVarInt(n)), hex, String(n));
    assert.equal(varIntSize(n), hex.length / 2);
    assert.deepEqual(readVarInt(hexToBytes("aa" + hex), 1), { value: n, size: hex.length / 2 });
  }
  const out = new Uint8Array(6);
  assert.equal(writeVarInt(300, out, 2), 5);
  assert.equal(bytesToHex(out), "0000fd2c0100");
  assert.throws(() => varIntSize(-1), RangeError);
});

Deno.test("readVarInt refuses non-canonical and truncated forms, as Core does", () => {
  assert.throws(() => readVarInt(hexToBytes("fdfc00")), /non-canonical/);
  assert.throws(() => readVarInt(hexToBytes("feffff0000")), /non-canonical/);
  assert.throws(() => readVarInt(hexToBytes("ffffffffff00000000")), /non-canonical/);
  assert.throws(() => readVarInt(hexToBytes("fd01")), /past the end/);
  assert.throws(() => readVarInt(new Uint8Array(0)), TxParseError);
  assert.throws(() => readVarInt(hexToBytes("ffffffffffffffffff")), /too large/);
});

Deno.test("real coinbase transactions parse and hash to their known txids", () => {
  for (const v of mining.coinbases) {
    const raw = hexToBytes(v.raw);
    const tx = parseTx(raw);
    assert.equal(tx.version, 1);
    assert.equal(tx.hasWitness, false);
    assert.equal(tx.size, raw.length);
    assert.equal(tx.inputs.length, 1);
    assert.equal(bytesToHex(tx.inputs[0].prevTxid), "00".repeat(32));
    assert.equal(tx.inputs[0].prevIndex, 0xffffffff);
    assert.equal(tx.inputs[0].sequence, 0xffffffff);
    assert.deepEqual(tx.inputs[0].witness, []);
    assert.equal(tx.outputs.length, 1);
    assert.equal(tx.outputs[0].value, 5_000_000_000n);
    assert.equal(tx.lockTime, 0);
    assert.equal(stripWitness(raw), raw);
    assert.equal(rpcHex(txid(raw)), v.txid, v.about);
    assert.equal(rpcHex(wtxid(raw)), v.txid);
  }
  const genesis = parseTx(hexToBytes(mining.coinbases[0].raw));
  assert.match(
    new TextDecoder().decode(genesis.inputs[0].scriptSig),
    /The Times 03\/Jan\/2009 Chancellor on brink of second bailout for banks/,
  );
});

Deno.test("a witness transaction: parsed fields, stripped form, txid and wtxid agree with bcoin", () => {
  const raw = witnessTx();
  const tx = parseTx(raw);
  assert.equal(tx.version, 2);
  assert.equal(tx.hasWitness, true);
  assert.equal(tx.inputs.length, 2);
  assert.equal(tx.inputs[0].prevIndex, 1);
  assert.equal(tx.inputs[0].sequence, 0xfffffffd);
  assert.equal(bytesToHex(tx.inputs[1].scriptSig), "abcdef");
  assert.equal(tx.inputs[0].witness.length, 2);
  assert.equal(tx.inputs[0].witness[0].length, 71);
  assert.deepEqual(tx.inputs[1].witness, []);
  assert.deepEqual(tx.outputs.map((o) => o.value), [1000n, 0n]);
  assert.equal(tx.lockTime, 101);

  const other = bcoin.TX.fromRaw(Buffer.from(raw));
  const stripped = stripWitness(raw);
  assert.equal(bytesToHex(stripped), other.toNormal().toString("hex"));
  assert.equal(rpcHex(txid(raw)), other.txid());
  assert.equal(rpcHex(wtxid(raw)), other.wtxid());
  assert.notEqual(rpcHex(txid(raw)), rpcHex(wtxid(raw)));
  assert.equal(parseTx(stripped).hasWitness, false);
});

Deno.test("parseTx reads consecutive transactions and refuses malformed ones", () => {
  const a = hexToBytes(mining.coinbases[0].raw);
  const b = witnessTx();
  const both = new Uint8Array(a.length + b.length);
  both.set(a);
  both.set(b, a.length);
  const first = parseTx(both);
  const second = parseTx(both, first.size);
  assert.equal(first.size, a.length);
  assert.equal(second.size, b.length);
  assert.equal(second.hasWitness, true);

  assert.throws(() => parseTx(a.subarray(0, a.length - 1)), /locktime .* past the end/);
  assert.throws(() => parseTx(a.subarray(0, 50)), /scriptSig .* past the end/);
  assert.throws(() => parseTx(hexToBytes("01000000000200")), /unknown witness flag/);
  assert.throws(() => stripWitness(both), /unexpected bytes after the transaction/);
  // BIP144 form whose witnesses are all empty is invalid.
  const emptyWitness = hexToBytes(
    "01000000" + "0001" + "01" + "11".repeat(32) + "00000000" + "00" + "ffffffff" +
      "01" + "0000000000000000" + "00" + "00" + "00000000",
  );
  assert.throws(() => parseTx(emptyWitness), /every witness is empty/);
});
