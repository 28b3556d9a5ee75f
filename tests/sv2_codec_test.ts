import assert from "node:assert/strict";
import { bytesToHex, hexToBytes } from "../lib/bitcoin/mod.ts";
import {
  CHANNEL_MSG_BIT,
  decodeFrameHeader,
  encodeFrameHeader,
  SV2_FRAME_HEADER_SIZE,
  Sv2DecodeError,
  Sv2EncodeError,
  Sv2Reader,
  Sv2Writer,
} from "../lib/sv2/mod.ts";

Deno.test("integers are little-endian at their exact widths", () => {
  const w = new Sv2Writer(16)
    .u8(0xab)
    .u16(0x1234)
    .u24(0x56789a)
    .u32(0xdeadbeef)
    .u64(0x0102030405060708n)
    .bool(true)
    .bool(false);
  assert.equal(
    bytesToHex(w.bytes()),
    "ab" + "3412" + "9a7856" + "efbeadde" + "0807060504030201" + "0100",
  );
  const r = new Sv2Reader(w.toBytes());
  assert.equal(r.u8(), 0xab);
  assert.equal(r.u16(), 0x1234);
  assert.equal(r.u24(), 0x56789a);
  assert.equal(r.u32(), 0xdeadbeef);
  assert.equal(r.u64(), 0x0102030405060708n);
  assert.equal(r.bool(), true);
  assert.equal(r.bool(), false);
  assert.equal(r.remaining, 0);
  r.finish("ints");
});

Deno.test("integer extremes round-trip and out-of-range values are refused", () => {
  const w = new Sv2Writer().u8(255).u16(65535).u24(0xffffff).u32(0xffffffff).u64(
    0xffffffffffffffffn,
  );
  assert.equal(bytesToHex(w.bytes()), "ff".repeat(1 + 2 + 3 + 4 + 8));
  assert.throws(() => new Sv2Writer().u8(256), Sv2EncodeError);
  assert.throws(() => new Sv2Writer().u16(-1), Sv2EncodeError);
  assert.throws(() => new Sv2Writer().u24(0x1000000), /U24 out of range/);
  assert.throws(() => new Sv2Writer().u32(1.5), Sv2EncodeError);
  assert.throws(() => new Sv2Writer().u32(2 ** 32), Sv2EncodeError);
  assert.throws(() => new Sv2Writer().u64(-1n), Sv2EncodeError);
  assert.throws(() => new Sv2Writer().u64(1n << 64n), Sv2EncodeError);
});

Deno.test("BOOL reads only the least significant bit, as the spec says", () => {
  const r = new Sv2Reader(Uint8Array.of(0x03, 0xfe, 0x01, 0x00));
  assert.deepEqual([r.bool(), r.bool(), r.bool(), r.bool()], [true, false, true, false]);
});

Deno.test("F32 is IEEE single precision, little-endian", () => {
  const w = new Sv2Writer().f32(1.0).f32(0.345);
  assert.equal(bytesToHex(w.bytes()).slice(0, 8), "0000803f");
  const r = new Sv2Reader(w.toBytes());
  assert.equal(r.f32(), 1.0);
  assert.equal(r.f32(), Math.fround(0.345));
});

Deno.test("STR0_255 is a byte-length prefix and UTF-8; over 255 bytes and bad UTF-8 are refused", () => {
  // "Bitmain" as in sv2-tp src/test/sv2_messages_tests.cpp (Sv2SetupConnection_test, vendor)
  assert.equal(bytesToHex(new Sv2Writer().str0255("Bitmain").bytes()), "07426974" + "6d61696e");
  assert.equal(bytesToHex(new Sv2Writer().str0255("").bytes()), "00");
  const euro = new Sv2Writer().str0255("€").toBytes(); // 3 UTF-8 bytes
  assert.equal(bytesToHex(euro), "03e282ac");
  assert.equal(new Sv2Reader(euro).str0255(), "€");
  const max = "x".repeat(255);
  assert.equal(new Sv2Reader(new Sv2Writer().str0255(max).toBytes()).str0255(), max);
  assert.throws(() => new Sv2Writer().str0255("x".repeat(256)), /at most 255 bytes, got 256/);
  assert.throws(() => new Sv2Writer().str0255("€".repeat(86)), /got 258/);
  assert.throws(
    () => new Sv2Reader(Uint8Array.of(2, 0xc3, 0x28)).str0255("vendor"),
    /vendor: not valid UTF-8/,
  );
  assert.throws(() => new Sv2Reader(Uint8Array.of(5, 0x41)).str0255("vendor"), Sv2DecodeError);
});

Deno.test("byte arrays carry their own length prefixes and bounds", () => {
  const data = Uint8Array.of(1, 2, 9);
  assert.equal(bytesToHex(new Sv2Writer().b032(data).bytes()), "03010209");
  assert.equal(bytesToHex(new Sv2Writer().b0255(data).bytes()), "03010209");
  assert.equal(bytesToHex(new Sv2Writer().b064k(data).bytes()), "0300010209");
  assert.equal(bytesToHex(new Sv2Writer().b016m(data).bytes()), "030000010209");
  assert.throws(() => new Sv2Writer().b032(new Uint8Array(33)), /B0_32 holds at most 32 bytes/);
  assert.throws(() => new Sv2Writer().b0255(new Uint8Array(256)), Sv2EncodeError);
  assert.throws(() => new Sv2Writer().b064k(new Uint8Array(65536)), Sv2EncodeError);
  // A B0_32 whose length byte says 33 is refused even when 33 bytes follow.
  const bad = new Uint8Array(34);
  bad[0] = 33;
  assert.throws(() => new Sv2Reader(bad).b032("extranonce_prefix"), /B0_32 length 33 is over 32/);
  // Long arrays: the writer grows past its first buffer.
  const big = new Uint8Array(70000).map((_, i) => i & 0xff);
  const w = new Sv2Writer(16).b016m(big);
  assert.equal(w.length, 3 + 70000);
  assert.deepEqual(new Sv2Reader(w.toBytes()).b016m(), big);
  const k64 = new Uint8Array(65535).fill(7);
  assert.deepEqual(new Sv2Reader(new Sv2Writer().b064k(k64).toBytes()).b064k(), k64);
});

Deno.test("decoded byte fields are copies: reusing the source buffer leaves them intact", () => {
  const src = hexToBytes("03aabbcc" + "11".repeat(32));
  const r = new Sv2Reader(src);
  const a = r.b032();
  const u = r.u256();
  src.fill(0);
  assert.equal(bytesToHex(a), "aabbcc");
  assert.equal(bytesToHex(u), "11".repeat(32));
});

Deno.test("U256 is exactly 32 bytes", () => {
  const v = new Uint8Array(32).map((_, i) => i);
  assert.deepEqual(new Sv2Reader(new Sv2Writer().u256(v).toBytes()).u256(), v);
  assert.throws(() => new Sv2Writer().u256(new Uint8Array(31)), /U256 needs 32 bytes, got 31/);
  assert.throws(
    () => new Sv2Reader(new Uint8Array(31)).u256("prev_hash"),
    /prev_hash: needs 32 bytes at offset 0, 31 left/,
  );
});

Deno.test("SEQ0_255, SEQ0_64K and OPTION", () => {
  const hashes = [new Uint8Array(32).fill(6), new Uint8Array(32).fill(5), new Uint8Array(32)];
  const w = new Sv2Writer().seq0255(hashes, (w, h) => w.u256(h)).seq064k(
    [1, 2, 0xffffffff],
    (w, n) => w.u32(n),
  )
    .option<number>(null, (w, n) => w.u32(n)).option(7, (w, n) => w.u32(n));
  const bytes = w.toBytes();
  assert.equal(bytes.length, 1 + 96 + 2 + 12 + 1 + 5);
  assert.equal(bytesToHex(bytes.subarray(97, 111)), "0300" + "01000000" + "02000000" + "ffffffff");
  assert.equal(bytesToHex(bytes.subarray(111)), "00" + "0107000000");
  const r = new Sv2Reader(bytes);
  assert.deepEqual(r.seq0255((r) => r.u256()), hashes);
  assert.deepEqual(r.seq064k((r) => r.u32()), [1, 2, 0xffffffff]);
  assert.equal(r.option((r) => r.u32()), null);
  assert.equal(r.option((r) => r.u32()), 7);
  r.finish("sequences");
  assert.throws(
    () => new Sv2Writer().seq0255(new Array(256).fill(0), (w, n) => w.u8(n)),
    /at most 255 items/,
  );
  assert.throws(
    () =>
      new Sv2Reader(Uint8Array.of(2, 1, 0, 0, 0, 2, 0, 0, 0)).option((r) => r.u32(), "min_ntime"),
    /min_ntime: OPTION count 2 is over 1/,
  );
  // A sequence that claims more items than there are bytes fails on the first missing item.
  assert.throws(
    () =>
      new Sv2Reader(Uint8Array.of(3, ...new Uint8Array(64))).seq0255((r) => r.u256("merkle_path")),
    /merkle_path: needs 32 bytes at offset 65, 0 left/,
  );
});

Deno.test("the reader refuses short input and trailing bytes with a Sv2DecodeError", () => {
  for (
    const read of [
      (r: Sv2Reader) => r.u16(),
      (r: Sv2Reader) => r.u24(),
      (r: Sv2Reader) => r.u32(),
      (r: Sv2Reader) => r.u64(),
    ]
  ) {
    assert.throws(() => read(new Sv2Reader(Uint8Array.of(1))), Sv2DecodeError);
  }
  const r = new Sv2Reader(Uint8Array.of(1, 2, 3));
  r.u8();
  assert.throws(() => r.finish("Thing"), /Thing: 2 trailing bytes/);
  assert.throws(() => new Sv2Reader(new Uint8Array(4), 3, 9), Sv2DecodeError);
  // A sub-range: reads stop at `end`.
  const sub = new Sv2Reader(Uint8Array.of(9, 1, 0, 9), 1, 3);
  assert.equal(sub.u16(), 1);
  assert.throws(() => sub.u8(), Sv2DecodeError);
});

Deno.test("writer reset reuses its buffer; bytes() is a view and toBytes() a copy", () => {
  const w = new Sv2Writer(16);
  w.u32(1);
  const copy = w.toBytes();
  const view = w.bytes();
  w.reset().u32(2);
  assert.equal(w.length, 4);
  assert.equal(bytesToHex(copy), "01000000");
  assert.equal(bytesToHex(view), "02000000");
  w.reset().u8(0).u24(0).u8(5);
  w.patchU24(1, 0x030201);
  assert.equal(bytesToHex(w.bytes()), "0001020305");
  assert.throws(() => w.patchU24(3, 1), Sv2EncodeError);
});

Deno.test("frame header: the SetupConnection header of sv2-tp's tests, and the channel_msg bit", () => {
  // sv2-tp src/test/sv2_messages_tests.cpp, Sv2NetHeader_SetupConnection_test: 00 00 | 00 | 52 00 00
  const h = decodeFrameHeader(hexToBytes("000000520000"));
  assert.deepEqual(h, { extensionType: 0, channelMsg: false, msgType: 0, msgLength: 82 });
  assert.equal(bytesToHex(encodeFrameHeader(h)), "000000520000");
  // sv2-tp Sv2NetHeader_NewTemplate_test: 0000 | 71 | 000000
  assert.equal(
    bytesToHex(
      encodeFrameHeader({ extensionType: 0, channelMsg: false, msgType: 0x71, msgLength: 0 }),
    ),
    "000071000000",
  );
  // stratum framing-sv2 src/header.rs test_header_from_bytes: 01 02 03 04 05 06
  assert.deepEqual(decodeFrameHeader(hexToBytes("010203040506")), {
    extensionType: 0x0201,
    channelMsg: false,
    msgType: 0x03,
    msgLength: 0x060504,
  });
  // channel_msg is bit 15 of the little-endian U16: the high bit of the second byte.
  const ch = encodeFrameHeader({
    extensionType: 0,
    channelMsg: true,
    msgType: 0x1b,
    msgLength: 0xffffff,
  });
  assert.equal(bytesToHex(ch), "00801bffffff");
  assert.deepEqual(decodeFrameHeader(ch), {
    extensionType: 0,
    channelMsg: true,
    msgType: 0x1b,
    msgLength: 0xffffff,
  });
  assert.deepEqual(decodeFrameHeader(hexToBytes("bc8a01000000")), {
    extensionType: 0x0abc,
    channelMsg: true,
    msgType: 1,
    msgLength: 0,
  });
  assert.equal(CHANNEL_MSG_BIT, 0x8000);
  assert.equal(SV2_FRAME_HEADER_SIZE, 6);
  // Into a caller's buffer at an offset.
  const out = new Uint8Array(8);
  encodeFrameHeader({ extensionType: 1, channelMsg: false, msgType: 2, msgLength: 3 }, out, 2);
  assert.equal(bytesToHex(out), "0000010002030000");
  assert.deepEqual(decodeFrameHeader(out, 2).msgLength, 3);
});

Deno.test("frame header: short input and out-of-range fields are refused", () => {
  assert.throws(() => decodeFrameHeader(new Uint8Array(5)), /frame header needs 6 bytes, 5 left/);
  assert.throws(() => decodeFrameHeader(new Uint8Array(6), 1), Sv2DecodeError);
  assert.throws(
    () => encodeFrameHeader({ extensionType: 0x8000, channelMsg: false, msgType: 0, msgLength: 0 }),
    Sv2EncodeError,
  );
  assert.throws(
    () => encodeFrameHeader({ extensionType: 0, channelMsg: false, msgType: 256, msgLength: 0 }),
    Sv2EncodeError,
  );
  assert.throws(
    () =>
      encodeFrameHeader({ extensionType: 0, channelMsg: false, msgType: 0, msgLength: 1 << 24 }),
    Sv2EncodeError,
  );
  assert.throws(
    () =>
      encodeFrameHeader(
        { extensionType: 0, channelMsg: false, msgType: 0, msgLength: 0 },
        new Uint8Array(7),
        2,
      ),
    Sv2EncodeError,
  );
});
