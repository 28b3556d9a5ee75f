import assert from "node:assert/strict";
import { bytesToHex, hexToBytes } from "../lib/bitcoin/hex.ts";
import {
  bip34HeightPush,
  pushData,
  pushNumber,
  readBip34Height,
  scriptNumber,
} from "../lib/bitcoin/script.ts";

Deno.test("scriptNumber is the minimal CScriptNum encoding", () => {
  // Values and encodings as in Bitcoin Core's scriptnum tests / CScriptNum::serialize.
  const cases: [number, string][] = [
    [0, ""],
    [1, "01"],
    [-1, "81"],
    [127, "7f"],
    [-127, "ff"],
    [128, "8000"],
    [-128, "8080"],
    [255, "ff00"],
    [256, "0001"],
    [-256, "0081"],
    [32767, "ff7f"],
    [32768, "008000"],
    [-32768, "008080"],
    [8388608, "00008000"],
    [2147483647, "ffffff7f"],
    [-2147483648, "00000080" + "80"],
  ];
  for (const [n, hex] of cases) assert.equal(bytesToHex(scriptNumber(n)), hex, String(n));
  assert.equal(bytesToHex(scriptNumber(2n ** 40n)), "000000000001");
  assert.throws(() => scriptNumber(1.5), RangeError);
});

Deno.test("bip34HeightPush matches Bitcoin Core's CScript() << height", () => {
  const cases: [number, string][] = [
    [0, "00"], // OP_0
    [1, "51"], // OP_1
    [16, "60"], // OP_16
    [17, "0111"],
    [127, "017f"],
    [128, "028000"],
    [255, "02ff00"],
    [256, "020001"],
    [25096, "020862"], // slush pool coinbase in tests/vectors/bitcoin/mining.json
    [100000, "03a08601"],
    [490871, "03777d07"], // CoinHuntr coinbase in mining.json
    [791433, "0389130c"], // a 2023 mainnet slush pool coinbase
    [840000, "0340d10c"],
    [8388608, "0400008000"],
  ];
  for (const [h, hex] of cases) {
    assert.equal(bytesToHex(bip34HeightPush(h)), hex, String(h));
    assert.equal(readBip34Height(hexToBytes(hex + "ffee")), h, `read back ${h}`);
  }
  assert.throws(() => bip34HeightPush(-1), RangeError);
  assert.throws(() => bip34HeightPush(2 ** 31), RangeError);
});

Deno.test("readBip34Height refuses what is not a minimal height push", () => {
  assert.equal(readBip34Height(new Uint8Array(0)), undefined);
  // Before BIP34 (mainnet height 227931) a coinbase could start with anything: block 100000's
  // starts with a push of its nBits, which reads as a number like any other.
  assert.equal(readBip34Height(hexToBytes("044c86041b020602")), 0x1b04864c);
  assert.equal(readBip34Height(hexToBytes("0301")), undefined); // truncated
  assert.equal(readBip34Height(hexToBytes("020100")), undefined); // 1 is OP_1, not a push
  assert.equal(readBip34Height(hexToBytes("0181")), undefined); // negative
  assert.equal(readBip34Height(hexToBytes("4f")), undefined); // OP_1NEGATE
});

Deno.test("pushData picks the shortest push opcode", () => {
  assert.equal(bytesToHex(pushData(new Uint8Array(0))), "00");
  assert.equal(bytesToHex(pushData(Uint8Array.of(7))), "0107"); // not OP_7: as CScript << vector
  const sizes: [number, string][] = [[75, "4b"], [76, "4c4c"], [255, "4cff"], [256, "4d0001"]];
  for (const [n, prefix] of sizes) {
    const out = pushData(new Uint8Array(n).fill(0xab));
    assert.equal(bytesToHex(out.subarray(0, prefix.length / 2)), prefix, String(n));
    assert.equal(out.length, prefix.length / 2 + n);
  }
  const big = pushData(new Uint8Array(0x10000));
  assert.equal(bytesToHex(big.subarray(0, 5)), "4e00000100");
});

Deno.test("pushNumber uses small-integer opcodes like CScript << int", () => {
  assert.equal(bytesToHex(pushNumber(-1)), "4f");
  assert.equal(bytesToHex(pushNumber(5)), "55");
  assert.equal(bytesToHex(pushNumber(-2)), "0182");
  assert.equal(bytesToHex(pushNumber(1685057961)), "04a9f16f64");
});
