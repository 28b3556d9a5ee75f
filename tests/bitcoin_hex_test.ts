import assert from "node:assert/strict";
import { bytesToHex, concatBytes, hexToBytes, isHex, reverseBytes } from "../lib/bitcoin/hex.ts";

Deno.test("hexToBytes decodes either case and bytesToHex writes lowercase", () => {
  const bytes = hexToBytes("00ff10Ab7fC9");
  assert.deepEqual([...bytes], [0x00, 0xff, 0x10, 0xab, 0x7f, 0xc9]);
  assert.equal(bytesToHex(bytes), "00ff10ab7fc9");
  assert.deepEqual(hexToBytes(""), new Uint8Array(0));
  assert.equal(bytesToHex(new Uint8Array(0)), "");
});

Deno.test("hex round-trips every byte value", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const hex = bytesToHex(all);
  assert.equal(hex.length, 512);
  assert.deepEqual(hexToBytes(hex), all);
  assert.deepEqual(hexToBytes(hex.toUpperCase()), all);
});

Deno.test("hexToBytes rejects odd length and non-hex characters, saying where", () => {
  assert.throws(() => hexToBytes("abc"), /odd length 3/);
  assert.throws(() => hexToBytes("zz"), /invalid hex character "z" at index 0/);
  assert.throws(() => hexToBytes("0g"), /index 1/);
  assert.throws(() => hexToBytes("0 "), TypeError);
  assert.throws(() => hexToBytes("0\u0660"), TypeError); // non-ASCII digit
  assert.throws(() => hexToBytes("+1"), TypeError);
});

Deno.test("reverseBytes returns a new reversed array and leaves the input alone", () => {
  const input = Uint8Array.of(1, 2, 3, 4, 5);
  const out = reverseBytes(input);
  assert.deepEqual([...out], [5, 4, 3, 2, 1]);
  assert.deepEqual([...input], [1, 2, 3, 4, 5]);
  assert.notEqual(out.buffer, input.buffer);
  assert.deepEqual(reverseBytes(new Uint8Array(0)), new Uint8Array(0));
});

Deno.test("isHex checks characters, parity and an optional byte length", () => {
  assert.equal(isHex(""), true);
  assert.equal(isHex("deadBEEF"), true);
  assert.equal(isHex("deadBEEF", 4), true);
  assert.equal(isHex("deadBEEF", 3), false);
  assert.equal(isHex("abc"), false);
  assert.equal(isHex("0x00"), false);
  assert.equal(isHex("gg"), false);
  assert.equal(isHex("00", 0), false);
  assert.equal(isHex("", 0), true);
});

Deno.test("concatBytes joins parts in order into a fresh array, subarrays and empties included", () => {
  const backing = Uint8Array.of(9, 8, 7, 6, 5);
  const a = Uint8Array.of(1, 2);
  const joined = concatBytes(a, new Uint8Array(0), backing.subarray(1, 3), Uint8Array.of(3));
  assert.deepEqual([...joined], [1, 2, 8, 7, 3]);
  assert.equal(joined.byteOffset, 0);
  assert.equal(joined.buffer.byteLength, 5, "sized exactly, not a view into a part's buffer");
  a[0] = 0xff;
  assert.equal(joined[0], 1, "the parts are copied");
  assert.deepEqual(concatBytes(), new Uint8Array(0));
  const single = concatBytes(a);
  assert.deepEqual(single, a);
  assert.notEqual(single.buffer, a.buffer);
});
