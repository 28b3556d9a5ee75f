import assert from "node:assert/strict";
import { createHash, hkdfSync } from "node:crypto";
import { schnorr } from "@noble/curves/secp256k1.js";
import { bytesToHex, hexToBytes } from "../lib/bitcoin/mod.ts";
import {
  certificateDigest,
  CipherState,
  decodeAuthorityPublicKey,
  decodeMessage,
  decodeSecretKey,
  decodeSignatureNoiseMessage,
  ellswiftToXOnly,
  encodeAuthorityPublicKey,
  encodeMessage,
  encodeSecretKey,
  encodeSignatureNoiseMessage,
  ENCRYPTED_HEADER_SIZE,
  encryptedPayloadLength,
  generateNoiseKeyPair,
  HANDSHAKE_ACT1_SIZE,
  HANDSHAKE_ACT2_SIZE,
  hkdf2,
  NOISE_PROTOCOL_NAME,
  noiseEcdh,
  NoiseInitiator,
  type NoiseKeyPair,
  noiseKeyPairFromSecret,
  NoiseResponder,
  NoiseSession,
  signCertificate,
  Sv2CertificateError,
  Sv2Error,
  Sv2KeyError,
  Sv2NoiseError,
  verifyCertificate,
  xOnlyPublicKey,
} from "../lib/sv2/mod.ts";
import { seededBytes } from "./helpers/random.ts";

const NOW = 1_750_000_000;

/** A pool: authority key, server static key and a certificate valid around NOW. */
function pool(validFrom = NOW - 60, notValidAfter = NOW + 3600) {
  const authority = schnorr.utils.randomSecretKey();
  const staticKey = generateNoiseKeyPair();
  const certificate = signCertificate({
    serverPublicKey: staticKey.publicKey,
    authoritySecretKey: authority,
    validFrom,
    notValidAfter,
  });
  return { authority, authorityPublicKey: schnorr.getPublicKey(authority), staticKey, certificate };
}

function handshake(
  p: ReturnType<typeof pool>,
  opts: { now?: number; ephemeralI?: NoiseKeyPair; ephemeralR?: NoiseKeyPair } = {},
) {
  const initiator = new NoiseInitiator({
    authorityPublicKey: p.authorityPublicKey,
    now: () => opts.now ?? NOW,
    ephemeral: opts.ephemeralI,
  });
  const responder = new NoiseResponder({
    staticKey: p.staticKey,
    certificate: p.certificate,
    ephemeral: opts.ephemeralR,
  });
  const act1 = initiator.start();
  const { act2, session: server } = responder.respond(act1);
  const client = initiator.finish(act2);
  return { initiator, act1, act2, client, server };
}

const frameOf = (n: number) => encodeMessage({ type: "ChannelEndpointChanged", channelId: n });

Deno.test("the protocol name hashes to the reference's initial chaining key", () => {
  // stratum sv2/noise-sv2/src/lib.rs NOISE_HASHED_PROTOCOL_NAME_CHACHA
  const expected = Uint8Array.of(
    46,
    180,
    120,
    129,
    32,
    142,
    158,
    238,
    31,
    102,
    159,
    103,
    198,
    110,
    231,
    14,
    169,
    234,
    136,
    9,
    13,
    80,
    63,
    232,
    48,
    220,
    75,
    200,
    62,
    41,
    191,
    16,
  );
  const got = createHash("sha256").update(NOISE_PROTOCOL_NAME).digest();
  assert.equal(bytesToHex(got), bytesToHex(expected));
});

Deno.test("HKDF matches RFC 5869 test case 3 (an empty salt is the all-zero 32-byte key)", () => {
  // RFC 5869 A.3: IKM = 0x0b × 22, salt and info empty, L = 42.
  const [out1, out2] = hkdf2(new Uint8Array(32), new Uint8Array(22).fill(0x0b));
  const okm = "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d" +
    "9d201395faa4b61a96c8";
  assert.equal(bytesToHex(out1) + bytesToHex(out2).slice(0, 20), okm);
  // And against node's own HKDF for another input, both outputs whole.
  const ck = seededBytes(7, 32);
  const ikm = seededBytes(8, 32);
  const [a, b] = hkdf2(ck, ikm);
  const node = new Uint8Array(hkdfSync("sha256", ikm, ck, new Uint8Array(0), 64));
  assert.equal(bytesToHex(a) + bytesToHex(b), bytesToHex(node));
});

Deno.test("ECDH is BIP324's v2_ecdh: the packet_encoding_test_vectors.csv shared secrets", () => {
  // bitcoin/bips bip-0324/packet_encoding_test_vectors.csv, rows in_idx 1 and 999:
  // in_priv_ours, in_ellswift_ours, in_ellswift_theirs, in_initiating → mid_shared_secret.
  const rows = [
    [
      "61062ea5071d800bbfd59e2e8b53d47d194b095ae5a4df04936b49772ef0d4d7",
      "ec0adff257bbfe500c188c80b4fdd640f6b45a482bbc15fc7cef5931deff0aa1" +
      "86f6eb9bba7b85dc4dcc28b28722de1e3d9108b985e2967045668f66098e475b",
      "a4a94dfce69b4a2a0a099313d10f9f7e7d649d60501c9e1d274c300e0d89aafa" +
      "ffffffffffffffffffffffffffffffffffffffffffffffffffffffff8faf88d5",
      true,
      "c6992a117f5edbea70c3f511d32d26b9798be4b81a62eaee1a5acaa8459a3592",
    ],
    [
      "6f312890ec83bbb26798abaadd574684a53e74ccef7953b790fcc29409080246",
      "a8785af31c029efc82fa9fc677d7118031358d7c6a25b5779a9b900e5ccd94aa" +
      "c97eb36a3c5dbcdb2ca5843cc4c2fe0aaa46d10eb3d233a81c3dde476da00eef",
      "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f" +
      "0000000000000000000000000000000000000000000000000000000000000000",
      false,
      "a6f79eb08243b6f65dbe42bfe4a6cf3f131d6963fa5d06c770a18f7b9c489b78",
    ],
  ] as const;
  for (const [priv, ours, theirs, initiating, secret] of rows) {
    const secretKey = hexToBytes(priv);
    const pair = { secretKey, publicKey: xOnlyPublicKey(secretKey), ellswift: hexToBytes(ours) };
    assert.equal(bytesToHex(ellswiftToXOnly(pair.ellswift)), bytesToHex(pair.publicKey));
    assert.equal(bytesToHex(noiseEcdh(pair, hexToBytes(theirs), initiating)), secret);
  }
});

Deno.test("handshake: acts of 64 and 234 bytes, then frames both ways", () => {
  assert.equal(HANDSHAKE_ACT1_SIZE, 64);
  assert.equal(HANDSHAKE_ACT2_SIZE, 234);
  const p = pool();
  const { initiator, act1, act2, client, server } = handshake(p);
  assert.equal(act1.length, 64);
  assert.equal(act2.length, 234);
  assert.equal(bytesToHex(initiator.serverPublicKey!), bytesToHex(p.staticKey.publicKey));
  assert.deepEqual(initiator.serverCertificate, p.certificate);
  for (let i = 0; i < 20; i++) {
    const up = client.encrypt(frameOf(i));
    assert.equal(up.length, ENCRYPTED_HEADER_SIZE + 4 + 16);
    assert.deepEqual(decodeMessage(server.decrypt(up)), {
      type: "ChannelEndpointChanged",
      channelId: i,
    });
    const message = { type: "SetupConnection.Error", flags: i, errorCode: "e" + i } as const;
    assert.deepEqual(
      decodeMessage(client.decrypt(server.encrypt(encodeMessage(message)))),
      message,
    );
  }
  // Each frame spends two nonces here: the header and one payload chunk.
  assert.equal(client.sendCipher.nonce, 40n);
  assert.equal(server.receiveCipher.nonce, 40n);
  // The two directions use different keys: a client frame does not open on the client.
  assert.throws(() => client.decrypt(client.encrypt(frameOf(1))), Sv2NoiseError);
});

Deno.test("transport: an empty payload has no chunk; a large one is split at 65519 bytes", () => {
  const { client, server } = handshake(pool());
  const empty = hexToBytes("000001000000"); // a header with msg_length 0
  const sealedEmpty = client.encrypt(empty);
  assert.equal(sealedEmpty.length, 22);
  assert.equal(bytesToHex(server.decrypt(sealedEmpty)), "000001000000");
  const job = {
    type: "NewExtendedMiningJob",
    channelId: 1,
    jobId: 2,
    minNtime: null,
    version: 0x20000000,
    versionRollingAllowed: true,
    merklePath: [],
    coinbaseTxPrefix: seededBytes(1, 65535),
    coinbaseTxSuffix: seededBytes(2, 65535),
  } as const;
  const frame = encodeMessage(job);
  const payload = frame.length - 6; // 131084
  const sealed = client.encrypt(frame);
  // sv2-spec §4.6 pt_len_to_ct_len: full 65535-byte blocks, then the rest plus its MAC.
  assert.equal(encryptedPayloadLength(payload), 2 * 65535 + (payload - 2 * 65519) + 16);
  assert.equal(sealed.length, 22 + encryptedPayloadLength(payload));
  assert.equal(NoiseSession.encryptedFrameLength(payload), sealed.length);
  assert.equal(encryptedPayloadLength(65519), 65535);
  assert.equal(encryptedPayloadLength(65520), 65535 + 17);
  // Read it the way a socket reader would: header first, then the payload bytes it announces.
  const header = server.decryptHeader(sealed);
  assert.equal(header.msgLength, payload);
  const opened = server.decryptPayload(header, sealed, 22);
  assert.equal(bytesToHex(opened), bytesToHex(frame.subarray(6)));
  assert.equal(server.receiveCipher.nonce, 1n + 1n + 3n); // empty frame: its header; this one: header and 3 chunks
});

Deno.test("transport: a wrong MAC fails and leaves the nonce, so the true frame still opens", () => {
  const { client, server } = handshake(pool());
  const sealed = client.encrypt(frameOf(5));
  for (const at of [0, 10, 21, 22, sealed.length - 1]) {
    const bad = sealed.slice();
    bad[at] ^= 0x01;
    const before = server.receiveCipher.nonce;
    assert.throws(() => server.decrypt(bad), Sv2NoiseError, `flip at ${at}`);
    // A header that opened counts; a failed MAC does not.
    assert.ok(server.receiveCipher.nonce - before <= 1n);
    server.receiveCipher.setNonce(before);
  }
  assert.deepEqual(decodeMessage(server.decrypt(sealed)), {
    type: "ChannelEndpointChanged",
    channelId: 5,
  });
  // Replaying the same frame fails: the nonce moved on.
  assert.throws(() => server.decrypt(sealed), /MAC check failed/);
});

Deno.test("handshake: a tampered act 2 fails with a Sv2NoiseError", () => {
  const p = pool();
  for (const at of [0, 63, 64, 100, 143, 144, 200, 233]) {
    const initiator = new NoiseInitiator({
      authorityPublicKey: p.authorityPublicKey,
      now: () => NOW,
    });
    const responder = new NoiseResponder({ staticKey: p.staticKey, certificate: p.certificate });
    const { act2 } = responder.respond(initiator.start());
    act2[at] ^= 0x80;
    assert.throws(() => initiator.finish(act2), Sv2NoiseError, `flip at ${at}`);
    assert.throws(() => initiator.finish(act2), /the handshake is over/);
  }
});

Deno.test("handshake: a certificate by another authority, or for another key, fails", () => {
  const p = pool();
  const other = pool();
  // Signed by a different authority than the client trusts.
  const wrongAuthority = { ...p, authorityPublicKey: other.authorityPublicKey };
  assert.throws(
    () => handshake(wrongAuthority),
    (e) => e instanceof Sv2CertificateError && e.reason === "bad-signature",
  );
  // Signed by the right authority, but for another server key.
  const wrongKey = {
    ...p,
    certificate: other.certificate,
    authorityPublicKey: other.authorityPublicKey,
  };
  assert.throws(
    () => handshake(wrongKey),
    (e) => e instanceof Sv2CertificateError && e.reason === "bad-signature",
  );
  // A flipped signature bit inside a correctly encrypted certificate.
  const sig = p.certificate.signature.slice();
  sig[5] ^= 1;
  assert.throws(
    () => handshake({ ...p, certificate: { ...p.certificate, signature: sig } }),
    (e) => e instanceof Sv2CertificateError && e.reason === "bad-signature",
  );
  // No authority key: the server is accepted unauthenticated.
  const initiator = new NoiseInitiator({ authorityPublicKey: null });
  const { act2 } = new NoiseResponder({ staticKey: p.staticKey, certificate: other.certificate })
    .respond(initiator.start());
  assert.ok(initiator.finish(act2) instanceof NoiseSession);
});

Deno.test("handshake: an expired or not yet valid certificate fails, with 10 s of leeway", () => {
  const p = pool(NOW, NOW + 100);
  assert.ok(handshake(p, { now: NOW + 110 }).client); // at the leeway's edge
  assert.ok(handshake(p, { now: NOW - 10 }).client);
  assert.throws(
    () => handshake(p, { now: NOW + 111 }),
    (e) => e instanceof Sv2CertificateError && e.reason === "expired",
  );
  assert.throws(
    () => handshake(p, { now: NOW - 11 }),
    (e) => e instanceof Sv2CertificateError && e.reason === "not-yet-valid",
  );
});

Deno.test("certificate: 74 bytes, the signed digest is SHA-256 over version ‖ times ‖ server key", () => {
  const p = pool();
  const bytes = encodeSignatureNoiseMessage(p.certificate);
  assert.equal(bytes.length, 74);
  assert.deepEqual(decodeSignatureNoiseMessage(bytes), p.certificate);
  // Laid out by hand from noise-sv2 src/signature_message.rs (split + serialize):
  const fields = new Uint8Array(42);
  const view = new DataView(fields.buffer);
  view.setUint16(0, 0, true);
  view.setUint32(2, p.certificate.validFrom, true);
  view.setUint32(6, p.certificate.notValidAfter, true);
  fields.set(p.staticKey.publicKey, 10);
  const digest = createHash("sha256").update(fields).digest();
  assert.equal(
    bytesToHex(certificateDigest(p.certificate, p.staticKey.publicKey)),
    bytesToHex(digest),
  );
  assert.equal(bytesToHex(bytes.subarray(0, 10)), bytesToHex(fields.subarray(0, 10)));
  // The signature is plain BIP340 over that digest.
  assert.ok(schnorr.verify(p.certificate.signature, digest, p.authorityPublicKey));
  // Only version 0 is known.
  const v1 = signCertificate({
    serverPublicKey: p.staticKey.publicKey,
    authoritySecretKey: p.authority,
    validFrom: NOW,
    notValidAfter: NOW + 1,
    version: 1,
  });
  assert.throws(
    () =>
      verifyCertificate(v1, {
        serverPublicKey: p.staticKey.publicKey,
        authorityPublicKey: p.authorityPublicKey,
        now: NOW,
      }),
    (e) => e instanceof Sv2CertificateError && e.reason === "unsupported-version",
  );
  assert.throws(() => decodeSignatureNoiseMessage(new Uint8Array(73)), Sv2Error);
});

Deno.test("handshake: fixed keys give a reproducible session (the reference has no fixed vector)", () => {
  // noise-sv2 has no fixed-key handshake vector (its tests use random keys), so this checks that
  // the handshake is a pure function of its keys: same keys, same acts, same transport bytes.
  const p = pool();
  const ei = noiseKeyPairFromSecret(seededBytes(11, 32));
  const er = noiseKeyPairFromSecret(seededBytes(12, 32));
  const a = handshake(p, { ephemeralI: ei, ephemeralR: er });
  const b = handshake(p, { ephemeralI: ei, ephemeralR: er });
  assert.equal(bytesToHex(a.act1), bytesToHex(ei.ellswift));
  assert.equal(bytesToHex(a.act2), bytesToHex(b.act2));
  assert.equal(bytesToHex(a.act2.subarray(0, 64)), bytesToHex(er.ellswift));
  assert.equal(bytesToHex(a.client.encrypt(frameOf(1))), bytesToHex(b.client.encrypt(frameOf(1))));
  // Another ElligatorSwift encoding of the same ephemeral key changes every byte after it.
  const ei2 = noiseKeyPairFromSecret(ei.secretKey);
  assert.notEqual(bytesToHex(ei2.ellswift), bytesToHex(ei.ellswift));
  assert.equal(bytesToHex(ellswiftToXOnly(ei2.ellswift)), bytesToHex(ei.publicKey));
  const c = handshake(p, { ephemeralI: ei2, ephemeralR: er });
  assert.notEqual(bytesToHex(c.act2.subarray(64)), bytesToHex(a.act2.subarray(64)));
});

Deno.test("cipher state: the nonce refuses to wrap; handshake steps run in order", () => {
  const c = new CipherState(new Uint8Array(32).fill(3));
  const d = new CipherState(new Uint8Array(32).fill(3));
  c.setNonce(0xfffffffffffffffdn);
  d.setNonce(0xfffffffffffffffdn);
  assert.deepEqual(
    d.decryptWithAd(new Uint8Array(0), c.encryptWithAd(new Uint8Array(0), Uint8Array.of(1))),
    Uint8Array.of(1),
  );
  assert.equal(c.nonce, 0xfffffffffffffffen);
  c.encryptWithAd(new Uint8Array(0), Uint8Array.of(2)); // the last usable nonce
  assert.equal(c.nonce, 0xffffffffffffffffn);
  assert.throws(() => c.encryptWithAd(new Uint8Array(0), Uint8Array.of(3)), /nonce exhausted/);
  assert.throws(() => c.setNonce(1n << 64n), Sv2NoiseError);
  // The 32-bit carry: nonce 2^32 - 1 → 2^32.
  const e = new CipherState(new Uint8Array(32));
  e.setNonce(0xffffffffn);
  e.encryptWithAd(new Uint8Array(0), new Uint8Array(0));
  assert.equal(e.nonce, 0x100000000n);
  // Out-of-order handshake calls.
  const p = pool();
  const i = new NoiseInitiator({ authorityPublicKey: p.authorityPublicKey });
  assert.throws(() => i.finish(new Uint8Array(234)), /finish before start/);
  i.start();
  assert.throws(() => i.start(), /already started/);
  const r = new NoiseResponder({ staticKey: p.staticKey, certificate: p.certificate });
  r.respond(new Uint8Array(64));
  assert.throws(() => r.respond(new Uint8Array(64)), /already answered/);
  assert.throws(
    () =>
      new NoiseResponder({ staticKey: p.staticKey, certificate: p.certificate }).respond(
        new Uint8Array(63),
      ),
    /act 1 is 64 bytes, got 63/,
  );
  assert.throws(() => i.finish(new Uint8Array(170)), /act 2 is 234 bytes, got 170/);
});

Deno.test("fuzz: random and truncated acts and frames throw only typed Sv2 errors", () => {
  const p = pool();
  const { client, server } = handshake(p);
  const frames = [frameOf(1), encodeMessage({ type: "Reconnect", newHost: "x", newPort: 1 })];
  const expectTyped = (f: () => unknown, what: string) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof Sv2Error)) throw new Error(`${what}: untyped ${e}`);
    }
  };
  for (let seed = 1; seed <= 300; seed++) {
    const noise = seededBytes(seed, 300);
    const len = noise[0] + (noise[1] << 1);
    const random = seededBytes(seed * 7919, len % 300);
    // Random act 2 of the right size: the MAC must fail.
    const i = new NoiseInitiator({ authorityPublicKey: p.authorityPublicKey, now: () => NOW });
    i.start();
    assert.throws(() => i.finish(seededBytes(seed, 234)), Sv2NoiseError);
    // Random act 1: any 64 bytes decode to a key (BIP324), other sizes are refused.
    expectTyped(
      () =>
        new NoiseResponder({ staticKey: p.staticKey, certificate: p.certificate }).respond(random),
      `act1 seed ${seed}`,
    );
    // Random and truncated transport frames.
    const sealed = client.encrypt(frames[seed % 2]);
    const before = server.receiveCipher.nonce;
    expectTyped(() => server.decrypt(random), `random frame seed ${seed}`);
    server.receiveCipher.setNonce(before);
    expectTyped(() => server.decrypt(sealed.subarray(0, seed % sealed.length)), `cut ${seed}`);
    server.receiveCipher.setNonce(before);
    assert.ok(decodeMessage(server.decrypt(sealed)));
    // Random plaintext frames.
    expectTyped(() => decodeMessage(random), `decode seed ${seed}`);
    const h = seededBytes(seed, 6);
    h[0] = 0;
    h[1] &= 0x80;
    h[2] = [0x00, 0x13, 0x15, 0x1b, 0x1f, 0x22, 0x25][seed % 7];
    const withBody = new Uint8Array([...h, ...random]);
    const len2 = random.length;
    withBody[3] = len2 & 0xff;
    withBody[4] = len2 >>> 8;
    withBody[5] = 0;
    expectTyped(() => decodeMessage(withBody), `decode known type seed ${seed}`);
  }
});

Deno.test("authority keys: the spec's and the reference's Base58Check vectors", () => {
  // sv2-spec 04-Protocol-Security.md §4.7.1
  const raw = Uint8Array.of(
    118,
    99,
    112,
    0,
    151,
    156,
    28,
    17,
    175,
    12,
    48,
    11,
    205,
    140,
    127,
    228,
    134,
    16,
    252,
    233,
    185,
    193,
    30,
    61,
    174,
    227,
    90,
    224,
    176,
    138,
    116,
    85,
  );
  const text = "9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh";
  assert.equal(encodeAuthorityPublicKey(raw), text);
  assert.deepEqual(decodeAuthorityPublicKey(text), raw);
  // stratum key-utils src/lib.rs, key_conversions: a secret key and its public key
  const secret = decodeSecretKey("zmBEmPhqo3A92FkiLVvyCz6htc3e53ph3ZbD4ASqGaLjwnFLi");
  assert.equal(
    encodeAuthorityPublicKey(xOnlyPublicKey(secret)),
    "9bDuixKmZqAJnrmP746n8zU1wyAQRrus7th9dxnkPg6RzQvCnan",
  );
  assert.equal(encodeSecretKey(secret), "zmBEmPhqo3A92FkiLVvyCz6htc3e53ph3ZbD4ASqGaLjwnFLi");
  // …and its three bad keys: checksum, version 12, one byte short
  assert.throws(
    () => decodeAuthorityPublicKey("9bDuixKmZqAJnrmP746n8zU1wyAQRrus7th9dxnkPg6RzQvCnam"),
    /checksum/,
  );
  assert.throws(
    () => decodeAuthorityPublicKey("2myPhc5vkPzuC5FXNK5tee79WmP7uoLh55SxezoF8iqwF3E3rnPY"),
    /unknown version 12/,
  );
  assert.throws(
    () => decodeAuthorityPublicKey("2wmHTKZkLg2QzXyEXGMBXzKP7JXDUt8yy9SA5hoQwERc92qR6c"),
    /expected 34 bytes/,
  );
  // stratum codec-sv2 src/encoder.rs: the authority pair of its noise tests
  const pub = decodeAuthorityPublicKey("9auqWEzQDVyd2oe1JVGFLMLHZtCo2FFqZwtKA5gd9xbuEu7PH72");
  const priv = decodeSecretKey("mkDLTBBRxdBv998612qipDYoTK3YUrqLe8uWw7gu3iXbSrn2n");
  assert.equal(bytesToHex(xOnlyPublicKey(priv)), bytesToHex(pub));
  assert.throws(() => decodeAuthorityPublicKey("0OIl"), Sv2KeyError);
  assert.throws(() => encodeAuthorityPublicKey(new Uint8Array(32).fill(0xff)), Sv2KeyError);
});
