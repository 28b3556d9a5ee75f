import assert from "node:assert/strict";
import { bytesToHex, hexToBytes } from "../lib/bitcoin/mod.ts";
import {
  decodeFrameHeader,
  decodeMessage,
  decodeMessagePayload,
  encodeMessage,
  isChannelMessage,
  MESSAGE_TYPES,
  OpenMiningChannelErrorCode,
  SetupConnectionErrorCode,
  SetupConnectionFlags,
  SubmitSharesErrorCode,
  Sv2DecodeError,
  Sv2EncodeError,
  Sv2Error,
  type Sv2Message,
  type Sv2MessageName,
  Sv2UnknownMessageError,
  Sv2Writer,
  UpdateChannelErrorCode,
  writeMessage,
} from "../lib/sv2/mod.ts";

const ascii = (s: string) => bytesToHex(new TextEncoder().encode(s));
const hex32 = (byte: number) => new Uint8Array(32).fill(byte);

/** Frame header hex: extension_type (with the channel_msg bit), msg_type, msg_length. */
function header(msgType: number, channelMsg: boolean, length: number): string {
  return (channelMsg ? "0080" : "0000") + msgType.toString(16).padStart(2, "0") +
    bytesToHex(Uint8Array.of(length & 0xff, (length >>> 8) & 0xff, length >>> 16));
}

Deno.test("SetupConnection: the 82-byte vector of sv2-tp decodes field by field", () => {
  // sv2-tp src/test/sv2_messages_tests.cpp, Sv2SetupConnection_test (payload) and
  // Sv2NetHeader_SetupConnection_test (header 0000 00 520000).
  const payload = "02" + "0200" + "0200" + "01000000" +
    "07302e302e302e30" + "6121" +
    "07426974" + "6d61696e" +
    "0853396920" + "31332e35" +
    "1c62726169696e732d6f732d323031382d30392d32322d312d68617368" +
    "10736f6d652d6465766963652d75756964";
  assert.equal(payload.length / 2, 82);
  const frame = hexToBytes("000000520000" + payload);
  const m = decodeMessage(frame);
  assert.deepEqual(m, {
    type: "SetupConnection",
    protocol: 2,
    minVersion: 2,
    maxVersion: 2,
    flags: 1,
    endpointHost: "0.0.0.0",
    endpointPort: 8545,
    vendor: "Bitmain",
    hardwareVersion: "S9i 13.5",
    firmware: "braiins-os-2018-09-22-1-hash",
    deviceId: "some-device-uuid",
  });
  assert.equal(bytesToHex(encodeMessage(m)), bytesToHex(frame));
});

Deno.test("SetupConnection.Success and .Error: the payloads of sv2-tp's tests", () => {
  // sv2-tp src/test/sv2_messages_tests.cpp, Sv2SetupConnectionSuccess_test: "020003000000"
  const ok = encodeMessage({ type: "SetupConnection.Success", usedVersion: 2, flags: 3 });
  assert.equal(bytesToHex(ok), header(0x01, false, 6) + "020003000000");
  // sv2-tp Sv2SetupConnectionError_test: flags 0, "protocol-version-mismatch"
  const err = encodeMessage({
    type: "SetupConnection.Error",
    flags: 0,
    errorCode: SetupConnectionErrorCode.ProtocolVersionMismatch,
  });
  assert.equal(
    bytesToHex(err),
    header(0x02, false, 30) + "000000001970726f746f636f6c2d76657273696f6e2d6d69736d61746368",
  );
  assert.deepEqual(decodeMessage(err), {
    type: "SetupConnection.Error",
    flags: 0,
    errorCode: "protocol-version-mismatch",
  });
});

Deno.test("mining messages: bytes laid out field by field from the spec's tables", () => {
  // sv2-spec 05-Mining-Protocol.md §5.3.12 SubmitSharesExtended: the six U32 of §5.3.11, then
  // extranonce B0_32; 08-Message-Types.md: 0x1b, channel_msg 1.
  const submit = "01000000" + "02000000" + "03000000" + "44332211" + "88776655" + "00000020" +
    "04" + "deadbeef";
  assert.equal(
    bytesToHex(encodeMessage({
      type: "SubmitSharesExtended",
      channelId: 1,
      sequenceNumber: 2,
      jobId: 3,
      nonce: 0x11223344,
      ntime: 0x55667788,
      version: 0x20000000,
      extranonce: hexToBytes("deadbeef"),
    })),
    header(0x1b, true, 29) + submit,
  );
  // §5.3.13 SubmitShares.Success: U32 U32 U32 U64; 0x1c, channel_msg 1.
  assert.equal(
    bytesToHex(encodeMessage({
      type: "SubmitShares.Success",
      channelId: 7,
      lastSequenceNumber: 10,
      newSubmitsAcceptedCount: 10,
      newSharesSum: 0x0102030405n,
    })),
    header(0x1c, true, 20) + "07000000" + "0a000000" + "0a000000" + "0504030201000000",
  );
  // §5.3.14 SubmitShares.Error: U32 U32 STR0_255; 0x1d, channel_msg 1.
  assert.equal(
    bytesToHex(encodeMessage({
      type: "SubmitShares.Error",
      channelId: 7,
      sequenceNumber: 11,
      errorCode: SubmitSharesErrorCode.StaleShare,
    })),
    header(0x1d, true, 20) + "07000000" + "0b000000" + "0b" + ascii("stale-share"),
  );
  // §5.3.4 OpenExtendedMiningChannel: U32 STR0_255 F32 U256 U16; 0x13, channel_msg 0.
  // F32 1.0e12 = 0x5368d4a5 (IEEE 754 single).
  assert.equal(
    bytesToHex(encodeMessage({
      type: "OpenExtendedMiningChannel",
      requestId: 1,
      userIdentity: "bc1q.w1",
      nominalHashRate: 1e12,
      maxTarget: hex32(0xff),
      minExtranonceSize: 8,
    })),
    header(0x13, false, 4 + 8 + 4 + 32 + 2) + "01000000" + "07" + ascii("bc1q.w1") + "a5d46853" +
      "ff".repeat(32) + "0800",
  );
  // §5.3.5 OpenExtendedMiningChannel.Success: U32 U32 U256 U16 B0_32 U32; 0x14, channel_msg 0.
  assert.equal(
    bytesToHex(encodeMessage({
      type: "OpenExtendedMiningChannel.Success",
      requestId: 1,
      channelId: 2,
      target: hex32(0x11),
      extranonceSize: 8,
      extranoncePrefix: hexToBytes("aabb"),
      groupChannelId: 3,
    })),
    header(0x14, false, 4 + 4 + 32 + 2 + 3 + 4) + "01000000" + "02000000" + "11".repeat(32) +
      "0800" + "02aabb" + "03000000",
  );
  // §5.3.16 NewExtendedMiningJob: U32 U32 OPTION[U32] U32 BOOL SEQ0_255[U256] B0_64K B0_64K;
  // 0x1f, channel_msg 1. A future job: min_ntime empty.
  assert.equal(
    bytesToHex(encodeMessage({
      type: "NewExtendedMiningJob",
      channelId: 2,
      jobId: 9,
      minNtime: null,
      version: 0x20000000,
      versionRollingAllowed: true,
      merklePath: [hex32(0x01), hex32(0x02)],
      coinbaseTxPrefix: hexToBytes("0200"),
      coinbaseTxSuffix: hexToBytes("ffffffff"),
    })),
    header(0x1f, true, 4 + 4 + 1 + 4 + 1 + 65 + 4 + 6) + "02000000" + "09000000" + "00" +
      "00000020" + "01" + "02" + "01".repeat(32) + "02".repeat(32) + "0200" + "0200" + "0400" +
      "ffffffff",
  );
  // §5.3.15 NewMiningJob with min_ntime set: OPTION count 1 then the U32; 0x15, channel_msg 1.
  assert.equal(
    bytesToHex(encodeMessage({
      type: "NewMiningJob",
      channelId: 2,
      jobId: 9,
      minNtime: 0x66000000,
      version: 0x20000000,
      merkleRoot: hex32(0xcc),
    })),
    header(0x15, true, 4 + 4 + 5 + 4 + 32) + "02000000" + "09000000" + "01" + "00000066" +
      "00000020" + "cc".repeat(32),
  );
  // §5.3.17 SetNewPrevHash: U32 U32 U256 U32 U32; 0x20, channel_msg 1.
  assert.equal(
    bytesToHex(encodeMessage({
      type: "SetNewPrevHash",
      channelId: 2,
      jobId: 9,
      prevHash: hex32(0xee),
      minNtime: 1661877399,
      nbits: 0x1703255b,
    })),
    header(0x20, true, 48) + "02000000" + "09000000" + "ee".repeat(32) + "973c0e63" + "5b250317",
  );
  // §5.3.22 SetGroupChannel: U32 SEQ0_64K[U32]; 0x25, channel_msg 0.
  assert.equal(
    bytesToHex(encodeMessage({ type: "SetGroupChannel", groupChannelId: 5, channelIds: [1, 2] })),
    header(0x25, false, 4 + 2 + 8) + "05000000" + "0200" + "01000000" + "02000000",
  );
  // §3.6.5 Reconnect: STR0_255 U16; 0x04, channel_msg 0.
  assert.equal(
    bytesToHex(encodeMessage({ type: "Reconnect", newHost: "", newPort: 0 })),
    header(0x04, false, 3) + "00" + "0000",
  );
});

/** One sample of every message, with bounds-touching values where it matters. */
const SAMPLES: Sv2Message[] = [
  {
    type: "SetupConnection",
    protocol: 0,
    minVersion: 2,
    maxVersion: 2,
    flags: SetupConnectionFlags.RequiresVersionRolling,
    endpointHost: "pool.example",
    endpointPort: 34254,
    vendor: "denopool",
    hardwareVersion: "",
    firmware: "0.1.0",
    deviceId: "",
  },
  { type: "SetupConnection.Success", usedVersion: 2, flags: 0xffffffff },
  {
    type: "SetupConnection.Error",
    flags: 4,
    errorCode: SetupConnectionErrorCode.UnsupportedFeatureFlags,
  },
  { type: "ChannelEndpointChanged", channelId: 0xffffffff },
  { type: "Reconnect", newHost: "b.pool.example", newPort: 3336 },
  {
    type: "OpenStandardMiningChannel",
    requestId: 1,
    userIdentity: "x".repeat(255),
    nominalHashRate: Math.fround(1.4e14),
    maxTarget: hex32(0xff),
  },
  {
    type: "OpenStandardMiningChannel.Success",
    requestId: 1,
    channelId: 2,
    target: hex32(0x0f),
    extranoncePrefix: new Uint8Array(32).fill(9),
    groupChannelId: 0,
  },
  {
    type: "OpenMiningChannel.Error",
    requestId: 3,
    errorCode: OpenMiningChannelErrorCode.MaxTargetOutOfRange,
  },
  {
    type: "OpenExtendedMiningChannel",
    requestId: 4,
    userIdentity: "bc1qworker.rig-7",
    nominalHashRate: 0,
    maxTarget: hex32(0x7f),
    minExtranonceSize: 16,
  },
  {
    type: "OpenExtendedMiningChannel.Success",
    requestId: 4,
    channelId: 5,
    target: hex32(0x01),
    extranonceSize: 16,
    extranoncePrefix: new Uint8Array(0),
    groupChannelId: 6,
  },
  {
    type: "NewMiningJob",
    channelId: 5,
    jobId: 1,
    minNtime: null,
    version: 0x20000000,
    merkleRoot: hex32(0xab),
  },
  { type: "UpdateChannel", channelId: 5, nominalHashRate: -1, maximumTarget: hex32(0x3f) },
  {
    type: "UpdateChannel.Error",
    channelId: 5,
    errorCode: UpdateChannelErrorCode.InvalidChannelId,
  },
  { type: "CloseChannel", channelId: 5, reasonCode: "shutting-down" },
  { type: "SetExtranoncePrefix", channelId: 5, extranoncePrefix: hexToBytes("0102030405") },
  {
    type: "SubmitSharesStandard",
    channelId: 5,
    sequenceNumber: 0xffffffff,
    jobId: 1,
    nonce: 0xdeadbeef,
    ntime: 1700000000,
    version: 0x3fffe000,
  },
  {
    type: "SubmitSharesExtended",
    channelId: 5,
    sequenceNumber: 2,
    jobId: 1,
    nonce: 0,
    ntime: 1700000001,
    version: 0x20000000,
    extranonce: new Uint8Array(16).fill(0xee),
  },
  {
    type: "SubmitShares.Success",
    channelId: 5,
    lastSequenceNumber: 2,
    newSubmitsAcceptedCount: 2,
    newSharesSum: 0xffffffffffffffffn,
  },
  {
    type: "SubmitShares.Error",
    channelId: 5,
    sequenceNumber: 3,
    errorCode: SubmitSharesErrorCode.DifficultyTooLow,
  },
  {
    type: "NewExtendedMiningJob",
    channelId: 5,
    jobId: 2,
    minNtime: 1700000000,
    version: 0x20000000,
    versionRollingAllowed: false,
    merklePath: Array.from({ length: 12 }, (_, i) => hex32(i)),
    coinbaseTxPrefix: new Uint8Array(100).fill(1),
    coinbaseTxSuffix: new Uint8Array(65535).fill(2),
  },
  {
    type: "SetNewPrevHash",
    channelId: 5,
    jobId: 2,
    prevHash: hex32(0x5a),
    minNtime: 1700000000,
    nbits: 0x17034219,
  },
  { type: "SetTarget", channelId: 5, maximumTarget: hex32(0x00) },
  {
    type: "SetCustomMiningJob",
    channelId: 5,
    requestId: 9,
    miningJobToken: new Uint8Array(255).fill(3),
    version: 0x20000000,
    prevHash: hex32(0x11),
    minNtime: 1700000000,
    nbits: 0x17034219,
    coinbaseTxVersion: 2,
    coinbasePrefix: hexToBytes("03a0bb0d"),
    coinbaseTxInputNSequence: 0xffffffff,
    coinbaseTxOutputs: hexToBytes("01" + "00f2052a01000000" + "00"),
    coinbaseTxLocktime: 0,
    merklePath: [],
  },
  { type: "SetCustomMiningJob.Success", channelId: 5, requestId: 9, jobId: 77 },
  {
    type: "SetCustomMiningJob.Error",
    channelId: 5,
    requestId: 9,
    errorCode: "invalid-mining-job-token",
  },
  { type: "SetGroupChannel", groupChannelId: 6, channelIds: [5, 8, 0xffffffff] },
];

// 08-Message-Types.md, transcribed: message type and channel_msg bit of each message.
const SPEC_TABLE: Record<Sv2MessageName, [number, 0 | 1]> = {
  SetupConnection: [0x00, 0],
  "SetupConnection.Success": [0x01, 0],
  "SetupConnection.Error": [0x02, 0],
  ChannelEndpointChanged: [0x03, 1],
  Reconnect: [0x04, 0],
  OpenStandardMiningChannel: [0x10, 0],
  "OpenStandardMiningChannel.Success": [0x11, 0],
  "OpenMiningChannel.Error": [0x12, 0],
  OpenExtendedMiningChannel: [0x13, 0],
  "OpenExtendedMiningChannel.Success": [0x14, 0],
  NewMiningJob: [0x15, 1],
  UpdateChannel: [0x16, 1],
  "UpdateChannel.Error": [0x17, 1],
  CloseChannel: [0x18, 1],
  SetExtranoncePrefix: [0x19, 1],
  SubmitSharesStandard: [0x1a, 1],
  SubmitSharesExtended: [0x1b, 1],
  "SubmitShares.Success": [0x1c, 1],
  "SubmitShares.Error": [0x1d, 1],
  NewExtendedMiningJob: [0x1f, 1],
  SetNewPrevHash: [0x20, 1],
  SetTarget: [0x21, 1],
  SetCustomMiningJob: [0x22, 1],
  "SetCustomMiningJob.Success": [0x23, 1],
  "SetCustomMiningJob.Error": [0x24, 1],
  SetGroupChannel: [0x25, 0],
};

Deno.test("every message round-trips, under the type number and channel_msg bit of 08-Message-Types.md", () => {
  assert.deepEqual(
    new Set(SAMPLES.map((m) => m.type)),
    new Set(Object.keys(SPEC_TABLE)),
    "one sample per message",
  );
  for (const message of SAMPLES) {
    const frame = encodeMessage(message);
    const h = decodeFrameHeader(frame);
    const [msgType, channelBit] = SPEC_TABLE[message.type];
    assert.equal(h.msgType, msgType, message.type);
    assert.equal(h.channelMsg, channelBit === 1, message.type);
    assert.equal(h.extensionType, 0);
    assert.equal(h.msgLength, frame.length - 6);
    assert.equal(MESSAGE_TYPES[message.type], msgType);
    assert.equal(isChannelMessage(message.type), channelBit === 1);
    assert.deepEqual(decodeMessage(frame), message, message.type);
    // A channel message's payload starts with the U32 channel_id (spec §3.2).
    if (h.channelMsg && "channelId" in message) {
      assert.equal(new DataView(frame.buffer).getUint32(6, true), message.channelId);
    }
  }
});

Deno.test("writeMessage appends frames to one reused writer; decodeMessagePayload reads in place", () => {
  const writer = new Sv2Writer(16);
  for (const m of SAMPLES) writeMessage(writer, m);
  const stream = writer.toBytes();
  let at = 0;
  const decoded: Sv2Message[] = [];
  while (at < stream.length) {
    const h = decodeFrameHeader(stream, at);
    decoded.push(decodeMessagePayload(h, stream, at + 6, at + 6 + h.msgLength));
    at += 6 + h.msgLength;
  }
  assert.deepEqual(decoded, SAMPLES);
  writer.reset();
  writeMessage(writer, SAMPLES[1]);
  assert.equal(writer.length, 12);
});

Deno.test("every truncation of every frame fails with a Sv2DecodeError, never anything else", () => {
  for (const message of SAMPLES) {
    const frame = encodeMessage(message);
    const step = frame.length > 400 ? 97 : 1;
    for (let cut = 0; cut < frame.length; cut += step) {
      // The frame cut short: the header's msg_length no longer matches.
      assert.throws(() => decodeMessage(frame.subarray(0, cut)), Sv2DecodeError, message.type);
      // The payload cut short with msg_length patched to match: a field runs out.
      if (cut >= 6) {
        const patched = frame.slice(0, cut);
        const len = cut - 6;
        patched[3] = len & 0xff;
        patched[4] = (len >>> 8) & 0xff;
        patched[5] = len >>> 16;
        assert.throws(() => decodeMessage(patched), Sv2DecodeError, `${message.type} at ${cut}`);
      }
    }
  }
});

Deno.test("trailing bytes, unknown types and unknown extensions are refused with typed errors", () => {
  const frame = encodeMessage(SAMPLES[1]);
  const longer = new Uint8Array(frame.length + 1);
  longer.set(frame);
  longer[3] += 1;
  assert.throws(() => decodeMessage(longer), /SetupConnection.Success: 1 trailing bytes/);
  // 0x1e is Reserved in 08-Message-Types.md; 0x50 is Job Declaration (not decoded here).
  for (const msgType of [0x05, 0x1e, 0x26, 0x50, 0x71, 0xff]) {
    const unknown = hexToBytes(header(msgType, false, 0));
    assert.throws(() => decodeMessage(unknown), Sv2UnknownMessageError);
    try {
      decodeMessage(unknown);
    } catch (e) {
      assert.ok(e instanceof Sv2UnknownMessageError && e.msgType === msgType);
      assert.ok(e instanceof Sv2DecodeError && e instanceof Sv2Error);
    }
  }
  // A known message type under a non-zero extension type is not ours to decode.
  const ext = hexToBytes("0100" + "01" + "060000" + "020000000000");
  assert.throws(() => decodeMessage(ext), /unknown message: extension 0x0001, type 0x01/);
  // The channel_msg bit is ignored in the lookup (spec §3.2.1).
  const flipped = encodeMessage(SAMPLES[1]);
  flipped[1] |= 0x80;
  assert.deepEqual(decodeMessage(flipped), SAMPLES[1]);
});

Deno.test("bad field values fail to encode with a Sv2EncodeError naming the type", () => {
  const bad: Sv2Message[] = [
    { type: "SetupConnection.Success", usedVersion: 70000, flags: 0 },
    { type: "SetTarget", channelId: 1, maximumTarget: new Uint8Array(31) },
    { type: "SetExtranoncePrefix", channelId: 1, extranoncePrefix: new Uint8Array(33) },
    { type: "CloseChannel", channelId: -1, reasonCode: "" },
    { type: "Reconnect", newHost: "h".repeat(256), newPort: 1 },
    { type: "SetGroupChannel", groupChannelId: 1, channelIds: new Array(65536).fill(1) },
    {
      type: "SubmitShares.Success",
      channelId: 1,
      lastSequenceNumber: 1,
      newSubmitsAcceptedCount: 1,
      newSharesSum: -1n,
    },
  ];
  for (const m of bad) assert.throws(() => encodeMessage(m), Sv2EncodeError, m.type);
  // A failed write leaves the writer as it was: frames before it stay whole.
  const writer = new Sv2Writer();
  writeMessage(writer, SAMPLES[1]);
  for (const m of bad) assert.throws(() => writeMessage(writer, m), Sv2EncodeError);
  assert.equal(writer.length, 12);
  assert.deepEqual(decodeMessage(writer.toBytes()), SAMPLES[1]);
  // A field of the wrong JavaScript type is an encode error too, not a TypeError.
  assert.throws(
    () => encodeMessage({ type: "SetTarget", channelId: 1 } as unknown as Sv2Message),
    Sv2EncodeError,
  );
  assert.throws(
    () => encodeMessage({ type: "Nope" } as unknown as Sv2Message),
    /unknown message type "Nope"/,
  );
});

Deno.test("error-code constants are the strings the spec and the reference use", () => {
  assert.equal(SetupConnectionErrorCode.UnsupportedProtocol, "unsupported-protocol");
  assert.equal(SetupConnectionErrorCode.UnsupportedFeatureFlags, "unsupported-feature-flags");
  assert.equal(OpenMiningChannelErrorCode.UnknownUser, "unknown-user");
  assert.equal(OpenMiningChannelErrorCode.MaxTargetOutOfRange, "max-target-out-of-range");
  assert.equal(UpdateChannelErrorCode.InvalidChannelId, "invalid-channel-id");
  assert.equal(SubmitSharesErrorCode.InvalidChannelId, "invalid-channel-id");
  assert.equal(SubmitSharesErrorCode.StaleShare, "stale-share");
  assert.equal(SubmitSharesErrorCode.DifficultyTooLow, "difficulty-too-low");
  assert.equal(SubmitSharesErrorCode.InvalidJobId, "invalid-job-id");
  assert.equal(SubmitSharesErrorCode.DuplicateShare, "duplicate-share");
  // Error codes must not hold control characters and should be printable ASCII (spec §3.5).
  const all = [
    SetupConnectionErrorCode,
    OpenMiningChannelErrorCode,
    UpdateChannelErrorCode,
    SubmitSharesErrorCode,
  ].flatMap((o) => Object.values(o));
  for (const code of all) assert.match(code, /^[a-z0-9-]+$/);
});
