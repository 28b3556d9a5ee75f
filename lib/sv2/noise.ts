/**
 * The Noise handshake `Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256` of sv2-spec
 * 04-Protocol-Security.md, both sides, and the encrypted SV2 framing after it (§4.6).
 *
 * - Act 1 (initiator → responder, 64 bytes): the initiator's ElligatorSwift ephemeral key.
 * - Act 2 (responder → initiator, 234 bytes): the responder's ephemeral key (64), its encrypted
 *   static key (64 + 16 MAC) and the encrypted SIGNATURE_NOISE_MESSAGE (74 + 16 MAC). The spec
 *   text still says 170 bytes (from 32-byte keys); the reference noise-sv2 crate and sv2-tp send
 *   234 (`INITIATOR_EXPECTED_HANDSHAKE_MESSAGE_SIZE`).
 * - Then both sides split the chaining key into two {@linkcode CipherState}s: the first carries
 *   initiator → responder, the second the other way.
 *
 * Acts travel raw, without an SV2 frame header. After the handshake each frame is the 6-byte
 * header encrypted alone (22 bytes), then the payload in chunks of at most 65519 plaintext bytes,
 * each sealed with its own MAC (at most 65535 bytes per chunk). msg_length stays the plaintext
 * length.
 *
 * ECDH is BIP324's `v2_ecdh` over ElligatorSwift keys (`@scure/btc-signer`), HASH is SHA-256 and
 * the AEAD is ChaCha20-Poly1305 with the Noise nonce (4 zero bytes, then the counter as U64
 * little-endian), both from `node:crypto`.
 *
 * @module
 */

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createSecretKey,
  type KeyObject,
} from "node:crypto";
import { schnorr } from "@noble/curves/secp256k1.js";
import { bytesToNumberBE } from "@noble/curves/utils.js";
import { elligatorSwift } from "@scure/btc-signer/p2p.js";
import {
  decodeSignatureNoiseMessage,
  encodeSignatureNoiseMessage,
  SIGNATURE_NOISE_MESSAGE_SIZE,
  type SignatureNoiseMessage,
  verifyCertificate,
} from "./certificate.ts";
import {
  decodeFrameHeader,
  encodeFrameHeader,
  SV2_FRAME_HEADER_SIZE,
  SV2_MAX_PAYLOAD,
  type Sv2FrameHeader,
} from "./codec.ts";
import { Sv2Error, Sv2NoiseError } from "./errors.ts";
import { isSecretKey, xOnlyPublicKey } from "./keys.ts";

/** The Noise protocol name; `SHA-256` of it is the initial chaining key. */
export const NOISE_PROTOCOL_NAME = "Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256";
/** Size of an ElligatorSwift-encoded public key. */
export const ELLSWIFT_KEY_SIZE = 64;
/** Size of a ChaCha20-Poly1305 MAC. */
export const MAC_SIZE = 16;
/** Size of handshake act 1: the initiator's ephemeral key. */
export const HANDSHAKE_ACT1_SIZE: number = ELLSWIFT_KEY_SIZE;
/** Size of handshake act 2: ephemeral key, encrypted static key, encrypted certificate. */
export const HANDSHAKE_ACT2_SIZE: number = ELLSWIFT_KEY_SIZE + (ELLSWIFT_KEY_SIZE + MAC_SIZE) +
  (SIGNATURE_NOISE_MESSAGE_SIZE + MAC_SIZE);
/** Size of an encrypted frame header. */
export const ENCRYPTED_HEADER_SIZE: number = SV2_FRAME_HEADER_SIZE + MAC_SIZE;
/** Largest Noise transport message (one payload chunk's ciphertext and MAC). */
export const NOISE_MAX_MESSAGE = 65535;
/** Largest plaintext in one payload chunk. */
export const NOISE_MAX_CHUNK_PLAINTEXT = NOISE_MAX_MESSAGE - MAC_SIZE;

const EMPTY = new Uint8Array(0);

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Noise's HKDF with two outputs (RFC 5869 extract-then-expand with an empty info). */
export function hkdf2(
  chainingKey: Uint8Array,
  inputKeyMaterial: Uint8Array,
): [Uint8Array, Uint8Array] {
  const tempKey = hmacSha256(chainingKey, inputKeyMaterial);
  const out1 = hmacSha256(tempKey, Uint8Array.of(1));
  const out2 = hmacSha256(tempKey, out1, Uint8Array.of(2));
  return [out1, out2];
}

/** A secp256k1 key pair with its public key in both encodings the protocol uses. */
export interface NoiseKeyPair {
  /** The 32-byte secret key. */
  readonly secretKey: Uint8Array;
  /** The BIP340 x-only public key (32 bytes): what certificates sign. */
  readonly publicKey: Uint8Array;
  /** An ElligatorSwift encoding of the public key (64 bytes): what the handshake sends. */
  readonly ellswift: Uint8Array;
}

/** Builds a key pair from a secret key, with a fresh random ElligatorSwift encoding. */
export function noiseKeyPairFromSecret(secretKey: Uint8Array): NoiseKeyPair {
  if (!isSecretKey(secretKey)) throw new Sv2NoiseError("not a valid secp256k1 secret key");
  const publicKey = xOnlyPublicKey(secretKey);
  const ellswift = elligatorSwift.encode(bytesToNumberBE(publicKey));
  return { secretKey: secretKey.slice(), publicKey, ellswift };
}

/** Generates a fresh key pair (an ephemeral key, or a server static key). */
export function generateNoiseKeyPair(): NoiseKeyPair {
  return noiseKeyPairFromSecret(schnorr.utils.randomSecretKey());
}

/** Decodes a 64-byte ElligatorSwift public key to its 32-byte x coordinate. */
export function ellswiftToXOnly(ellswift: Uint8Array): Uint8Array {
  if (!(ellswift instanceof Uint8Array) || ellswift.length !== ELLSWIFT_KEY_SIZE) {
    throw new Sv2NoiseError(`an ElligatorSwift key is ${ELLSWIFT_KEY_SIZE} bytes`);
  }
  try {
    return elligatorSwift.decode(ellswift);
  } catch (e) {
    throw new Sv2NoiseError(`ElligatorSwift decode failed: ${(e as Error).message}`);
  }
}

/**
 * The handshake's ECDH: BIP324 `v2_ecdh(ours.secret, ours.ellswift, theirs, initiator)`, the
 * x-only shared point hashed with both encodings, initiator's first.
 */
export function noiseEcdh(ours: NoiseKeyPair, theirs: Uint8Array, initiator: boolean): Uint8Array {
  if (!(theirs instanceof Uint8Array) || theirs.length !== ELLSWIFT_KEY_SIZE) {
    throw new Sv2NoiseError(`an ElligatorSwift key is ${ELLSWIFT_KEY_SIZE} bytes`);
  }
  try {
    return elligatorSwift.getSharedSecretBip324(ours.secretKey, theirs, ours.ellswift, initiator);
  } catch (e) {
    throw new Sv2NoiseError(`ECDH failed: ${(e as Error).message}`);
  }
}

/**
 * One direction's ChaCha20-Poly1305 key and nonce counter (Noise CipherState). The nonce is a
 * 64-bit counter; the last value 2^64−1 is reserved, so using it throws before anything wraps.
 */
export class CipherState {
  readonly #key: KeyObject;
  readonly #nonce = new Uint8Array(12);
  readonly #nonceView = new DataView(this.#nonce.buffer);
  #lo = 0;
  #hi = 0;

  /** Creates the state for a 32-byte key, with the nonce at 0. */
  constructor(key: Uint8Array) {
    if (!(key instanceof Uint8Array) || key.length !== 32) {
      throw new Sv2NoiseError("a cipher key is 32 bytes");
    }
    this.#key = createSecretKey(key);
  }

  /** The next nonce to be used. */
  get nonce(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }

  /** Sets the next nonce (Noise's SetNonce), e.g. to resume a counter. */
  setNonce(nonce: bigint): void {
    if (typeof nonce !== "bigint" || nonce < 0n || nonce > 0xffffffffffffffffn) {
      throw new Sv2NoiseError(`a nonce is a U64, got ${nonce}`);
    }
    this.#lo = Number(nonce & 0xffffffffn);
    this.#hi = Number(nonce >> 32n);
  }

  #prepareNonce(): Uint8Array {
    if (this.#lo === 0xffffffff && this.#hi === 0xffffffff) {
      throw new Sv2NoiseError("nonce exhausted: this cipher state must not be used again");
    }
    this.#nonceView.setUint32(4, this.#lo, true);
    this.#nonceView.setUint32(8, this.#hi, true);
    return this.#nonce;
  }

  #advance(): void {
    if (this.#lo === 0xffffffff) {
      this.#lo = 0;
      this.#hi++;
    } else {
      this.#lo++;
    }
  }

  /**
   * Encrypts `plaintext` with associated data `ad` into `out` at `offset` (ciphertext, then the
   * 16-byte MAC) and returns the bytes written. Advances the nonce.
   */
  encryptInto(ad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset = 0): number {
    const total = plaintext.length + MAC_SIZE;
    if (offset < 0 || offset + total > out.length) {
      throw new Sv2NoiseError(`no room for ${total} bytes of ciphertext at offset ${offset}`);
    }
    const cipher = createCipheriv("chacha20-poly1305", this.#key, this.#prepareNonce(), {
      authTagLength: MAC_SIZE,
    });
    if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
    const body = cipher.update(plaintext);
    cipher.final();
    out.set(body, offset);
    out.set(cipher.getAuthTag(), offset + body.length);
    this.#advance();
    return total;
  }

  /** Encrypts `plaintext` with associated data `ad` (Noise's EncryptWithAd): ciphertext ‖ MAC. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + MAC_SIZE);
    this.encryptInto(ad, plaintext, out, 0);
    return out;
  }

  /**
   * Decrypts `ciphertext` (MAC last) with associated data `ad` into `out` at `offset` and returns
   * the plaintext length. A MAC that does not verify throws {@linkcode Sv2NoiseError} and leaves
   * the nonce where it was.
   */
  decryptInto(ad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, offset = 0): number {
    if (ciphertext.length < MAC_SIZE) {
      throw new Sv2NoiseError(
        `a ciphertext holds a ${MAC_SIZE}-byte MAC, got ${ciphertext.length} bytes`,
      );
    }
    const length = ciphertext.length - MAC_SIZE;
    if (offset < 0 || offset + length > out.length) {
      throw new Sv2NoiseError(`no room for ${length} bytes of plaintext at offset ${offset}`);
    }
    const decipher = createDecipheriv("chacha20-poly1305", this.#key, this.#prepareNonce(), {
      authTagLength: MAC_SIZE,
    });
    decipher.setAuthTag(ciphertext.subarray(length));
    if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: length });
    let body: Uint8Array;
    try {
      body = decipher.update(ciphertext.subarray(0, length));
      decipher.final();
    } catch {
      throw new Sv2NoiseError("MAC check failed: the message was altered or the keys differ");
    }
    out.set(body, offset);
    this.#advance();
    return length;
  }

  /** Decrypts `ciphertext` with associated data `ad` (Noise's DecryptWithAd). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const out = new Uint8Array(Math.max(0, ciphertext.length - MAC_SIZE));
    this.decryptInto(ad, ciphertext, out, 0);
    return out;
  }
}

/** The handshake's SymmetricState: chaining key, handshake hash and the current cipher. */
class SymmetricState {
  ck: Uint8Array;
  h: Uint8Array;
  cipher: CipherState | null = null;

  constructor() {
    this.ck = sha256(new TextEncoder().encode(NOISE_PROTOCOL_NAME));
    this.h = sha256(this.ck);
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, key] = hkdf2(this.ck, inputKeyMaterial);
    this.ck = ck;
    this.cipher = new CipherState(key);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher === null
      ? plaintext
      : this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher === null
      ? ciphertext
      : this.cipher.decryptWithAd(this.h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.ck, EMPTY);
    return [new CipherState(k1), new CipherState(k2)];
  }
}

function checkAct(bytes: Uint8Array, size: number, act: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== size) {
    throw new Sv2NoiseError(`handshake ${act} is ${size} bytes, got ${bytes?.length}`);
  }
}

function asNoiseError(e: unknown, what: string): Sv2Error {
  if (e instanceof Sv2Error) return e;
  return new Sv2NoiseError(`${what}: ${e instanceof Error ? e.message : String(e)}`);
}

/** What a {@linkcode NoiseInitiator} needs. */
export interface NoiseInitiatorOptions {
  /**
   * The pool authority's x-only public key the server certificate must be signed with, or `null`
   * to accept any server (only on a trusted local network: the server is then not authenticated).
   */
  readonly authorityPublicKey: Uint8Array | null;
  /** The clock for the certificate's validity, Unix seconds; the system clock by default. */
  readonly now?: () => number;
  /** Leeway in seconds on the certificate's validity window (10 by default). */
  readonly leewaySeconds?: number;
  /** The ephemeral key pair; a fresh one by default (give one for reproducible handshakes). */
  readonly ephemeral?: NoiseKeyPair;
}

/**
 * The client side of the handshake: `start()` gives act 1, `finish(act2)` checks the server's
 * certificate and returns the transport session.
 *
 * @example
 * ```ts
 * import { generateNoiseKeyPair, NoiseInitiator, NoiseResponder } from "./noise.ts";
 * import { signCertificate } from "./certificate.ts";
 * import { decodeMessage, encodeMessage } from "./messages.ts";
 * import { schnorr } from "@noble/curves/secp256k1.js";
 * const authority = schnorr.utils.randomSecretKey();
 * const serverKey = generateNoiseKeyPair();
 * const now = Math.floor(Date.now() / 1000);
 * const certificate = signCertificate({
 *   serverPublicKey: serverKey.publicKey,
 *   authoritySecretKey: authority,
 *   validFrom: now,
 *   notValidAfter: now + 3600,
 * });
 * const client = new NoiseInitiator({ authorityPublicKey: schnorr.getPublicKey(authority) });
 * const server = new NoiseResponder({ staticKey: serverKey, certificate });
 * const { act2, session: serverSession } = server.respond(client.start());
 * const clientSession = client.finish(act2);
 * const sealed = clientSession.encrypt(
 *   encodeMessage({ type: "SetupConnection.Success", usedVersion: 2, flags: 0 }),
 * );
 * decodeMessage(serverSession.decrypt(sealed)).type; // "SetupConnection.Success"
 * ```
 */
export class NoiseInitiator {
  readonly #state = new SymmetricState();
  readonly #ephemeral: NoiseKeyPair;
  readonly #authority: Uint8Array | null;
  readonly #now: () => number;
  readonly #leeway: number | undefined;
  #step: "new" | "started" | "done" | "failed" = "new";
  #certificate: SignatureNoiseMessage | null = null;
  #serverPublicKey: Uint8Array | null = null;

  /** Creates the initiator; see {@linkcode NoiseInitiatorOptions}. */
  constructor(options: NoiseInitiatorOptions) {
    if (options.authorityPublicKey !== null && options.authorityPublicKey?.length !== 32) {
      throw new Sv2NoiseError("the authority public key is a 32-byte x-only key (or null)");
    }
    this.#authority = options.authorityPublicKey;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.#leeway = options.leewaySeconds;
    this.#ephemeral = options.ephemeral ?? generateNoiseKeyPair();
  }

  /** The server's certificate, once `finish` succeeded. */
  get serverCertificate(): SignatureNoiseMessage | null {
    return this.#certificate;
  }

  /** The server's x-only static public key, once `finish` succeeded. */
  get serverPublicKey(): Uint8Array | null {
    return this.#serverPublicKey;
  }

  /** Act 1: `-> e`, the 64-byte ephemeral key to send. */
  start(): Uint8Array {
    if (this.#step !== "new") throw new Sv2NoiseError("the handshake was already started");
    this.#step = "started";
    const e = this.#ephemeral.ellswift;
    this.#state.mixHash(e);
    this.#state.encryptAndHash(EMPTY);
    return e.slice();
  }

  /**
   * Act 2: reads `<- e, ee, s, es, SIGNATURE_NOISE_MESSAGE` (234 bytes), verifies the certificate
   * and returns the transport session. Any failure throws a {@linkcode Sv2NoiseError} (a
   * {@linkcode Sv2CertificateError} for the certificate) and ends the handshake.
   */
  finish(act2: Uint8Array): NoiseSession {
    if (this.#step !== "started") {
      throw new Sv2NoiseError(
        this.#step === "new" ? "finish before start" : "the handshake is over",
      );
    }
    this.#step = "failed";
    checkAct(act2, HANDSHAKE_ACT2_SIZE, "act 2");
    try {
      const s = this.#state;
      const re = act2.subarray(0, ELLSWIFT_KEY_SIZE);
      s.mixHash(re);
      s.mixKey(noiseEcdh(this.#ephemeral, re, true));
      const rs = s.decryptAndHash(
        act2.subarray(ELLSWIFT_KEY_SIZE, 2 * ELLSWIFT_KEY_SIZE + MAC_SIZE),
      );
      s.mixKey(noiseEcdh(this.#ephemeral, rs, true));
      const certificate = decodeSignatureNoiseMessage(
        s.decryptAndHash(act2.subarray(2 * ELLSWIFT_KEY_SIZE + MAC_SIZE)),
      );
      const serverPublicKey = ellswiftToXOnly(rs);
      if (this.#authority !== null) {
        verifyCertificate(certificate, {
          serverPublicKey,
          authorityPublicKey: this.#authority,
          now: this.#now(),
          leewaySeconds: this.#leeway,
        });
      }
      const [toResponder, toInitiator] = s.split();
      this.#certificate = certificate;
      this.#serverPublicKey = serverPublicKey;
      this.#step = "done";
      return new NoiseSession(toResponder, toInitiator);
    } catch (e) {
      throw asNoiseError(e, "handshake act 2");
    }
  }
}

/** What a {@linkcode NoiseResponder} needs. */
export interface NoiseResponderOptions {
  /** The server's static key pair (long-lived; its x-only key is what the certificate signs). */
  readonly staticKey: NoiseKeyPair;
  /** The certificate for `staticKey.publicKey`, from {@linkcode signCertificate}. */
  readonly certificate: SignatureNoiseMessage;
  /** The ephemeral key pair; a fresh one by default (give one for reproducible handshakes). */
  readonly ephemeral?: NoiseKeyPair;
}

/** The server side of the handshake: `respond(act1)` gives act 2 and the transport session. */
export class NoiseResponder {
  readonly #state = new SymmetricState();
  readonly #static: NoiseKeyPair;
  readonly #ephemeral: NoiseKeyPair;
  readonly #certificate: Uint8Array;
  #used = false;

  /** Creates the responder for one connection; see {@linkcode NoiseResponderOptions}. */
  constructor(options: NoiseResponderOptions) {
    if (!isSecretKey(options.staticKey?.secretKey)) {
      throw new Sv2NoiseError("the static key pair has no valid secret key");
    }
    this.#static = options.staticKey;
    this.#certificate = encodeSignatureNoiseMessage(options.certificate);
    this.#ephemeral = options.ephemeral ?? generateNoiseKeyPair();
  }

  /**
   * Reads act 1 (the initiator's 64-byte ephemeral key) and returns act 2 (234 bytes) with the
   * transport session.
   */
  respond(act1: Uint8Array): { act2: Uint8Array; session: NoiseSession } {
    if (this.#used) throw new Sv2NoiseError("this responder already answered a handshake");
    this.#used = true;
    checkAct(act1, HANDSHAKE_ACT1_SIZE, "act 1");
    try {
      const s = this.#state;
      const re = act1.slice();
      s.mixHash(re);
      s.decryptAndHash(EMPTY);
      const act2 = new Uint8Array(HANDSHAKE_ACT2_SIZE);
      const e = this.#ephemeral.ellswift;
      act2.set(e, 0);
      s.mixHash(e);
      s.mixKey(noiseEcdh(this.#ephemeral, re, false));
      act2.set(s.encryptAndHash(this.#static.ellswift), ELLSWIFT_KEY_SIZE);
      s.mixKey(noiseEcdh(this.#static, re, false));
      act2.set(s.encryptAndHash(this.#certificate), 2 * ELLSWIFT_KEY_SIZE + MAC_SIZE);
      const [toResponder, toInitiator] = s.split();
      return { act2, session: new NoiseSession(toInitiator, toResponder) };
    } catch (e) {
      throw asNoiseError(e, "handshake act 1");
    }
  }
}

/** The ciphertext length of a payload of `payloadLength` plaintext bytes (spec §4.6). */
export function encryptedPayloadLength(payloadLength: number): number {
  const full = Math.floor(payloadLength / NOISE_MAX_CHUNK_PLAINTEXT);
  const rest = payloadLength % NOISE_MAX_CHUNK_PLAINTEXT;
  return full * NOISE_MAX_MESSAGE + (rest > 0 ? rest + MAC_SIZE : 0);
}

/**
 * An established Noise session: seals outgoing SV2 frames and opens incoming ones. A frame on the
 * wire is the encrypted header (22 bytes) then the payload chunks; read the header first
 * ({@linkcode decryptHeader}), then exactly {@linkcode encryptedPayloadLength}`(msgLength)` bytes
 * ({@linkcode decryptPayload}). After any {@linkcode Sv2NoiseError} the session is unusable and
 * the connection should be closed.
 */
export class NoiseSession {
  readonly #send: CipherState;
  readonly #receive: CipherState;

  /** Creates a session from its sending and receiving cipher states. */
  constructor(send: CipherState, receive: CipherState) {
    this.#send = send;
    this.#receive = receive;
  }

  /** The sending cipher state (its nonce counts frames' header and chunks sent). */
  get sendCipher(): CipherState {
    return this.#send;
  }

  /** The receiving cipher state. */
  get receiveCipher(): CipherState {
    return this.#receive;
  }

  /** The wire length of a frame whose payload is `payloadLength` bytes. */
  static encryptedFrameLength(payloadLength: number): number {
    return ENCRYPTED_HEADER_SIZE + encryptedPayloadLength(payloadLength);
  }

  /**
   * Seals one plaintext SV2 frame (6-byte header then exactly msg_length payload bytes, as
   * `encodeMessage` makes) for the wire.
   */
  encrypt(frame: Uint8Array): Uint8Array {
    if (!(frame instanceof Uint8Array) || frame.length < SV2_FRAME_HEADER_SIZE) {
      throw new Sv2NoiseError("a frame holds at least its 6-byte header");
    }
    const payloadLength = frame.length - SV2_FRAME_HEADER_SIZE;
    const header = decodeFrameHeader(frame);
    if (header.msgLength !== payloadLength || payloadLength > SV2_MAX_PAYLOAD) {
      throw new Sv2NoiseError(
        `the header says ${header.msgLength} payload bytes, the frame has ${payloadLength}`,
      );
    }
    const out = new Uint8Array(NoiseSession.encryptedFrameLength(payloadLength));
    let at = this.#send.encryptInto(EMPTY, frame.subarray(0, SV2_FRAME_HEADER_SIZE), out, 0);
    for (let p = SV2_FRAME_HEADER_SIZE; p < frame.length; p += NOISE_MAX_CHUNK_PLAINTEXT) {
      const end = Math.min(p + NOISE_MAX_CHUNK_PLAINTEXT, frame.length);
      at += this.#send.encryptInto(EMPTY, frame.subarray(p, end), out, at);
    }
    return out;
  }

  /** Opens the 22-byte encrypted header at `offset` and returns the plaintext header. */
  decryptHeader(bytes: Uint8Array, offset = 0): Sv2FrameHeader {
    if (
      !(bytes instanceof Uint8Array) || offset < 0 || bytes.length - offset < ENCRYPTED_HEADER_SIZE
    ) {
      throw new Sv2NoiseError(`an encrypted header is ${ENCRYPTED_HEADER_SIZE} bytes`);
    }
    const plain = new Uint8Array(SV2_FRAME_HEADER_SIZE);
    this.#receive.decryptInto(EMPTY, bytes.subarray(offset, offset + ENCRYPTED_HEADER_SIZE), plain);
    return decodeFrameHeader(plain);
  }

  /**
   * Opens the payload of a frame whose header was opened: exactly
   * `encryptedPayloadLength(header.msgLength)` bytes from `offset`. Returns the plaintext payload.
   */
  decryptPayload(header: Sv2FrameHeader, bytes: Uint8Array, offset = 0): Uint8Array {
    const out = new Uint8Array(header.msgLength);
    this.#openPayload(header.msgLength, bytes, offset, out, 0);
    return out;
  }

  #openPayload(
    length: number,
    bytes: Uint8Array,
    offset: number,
    out: Uint8Array,
    outOffset: number,
  ): void {
    const wire = encryptedPayloadLength(length);
    if (!(bytes instanceof Uint8Array) || offset < 0 || bytes.length - offset < wire) {
      throw new Sv2NoiseError(`the payload needs ${wire} encrypted bytes`);
    }
    let at = offset;
    for (let p = 0; p < length; p += NOISE_MAX_CHUNK_PLAINTEXT) {
      const chunk = Math.min(NOISE_MAX_CHUNK_PLAINTEXT, length - p) + MAC_SIZE;
      this.#receive.decryptInto(EMPTY, bytes.subarray(at, at + chunk), out, outOffset + p);
      at += chunk;
    }
  }

  /**
   * Opens one whole encrypted frame (exactly its wire bytes) and returns the plaintext frame:
   * header then payload, ready for `decodeMessage`.
   */
  decrypt(bytes: Uint8Array): Uint8Array {
    const header = this.decryptHeader(bytes, 0);
    const wire = NoiseSession.encryptedFrameLength(header.msgLength);
    if (bytes.length !== wire) {
      throw new Sv2NoiseError(
        `the header says ${header.msgLength} payload bytes (${wire} on the wire), got ${bytes.length}`,
      );
    }
    const frame = new Uint8Array(SV2_FRAME_HEADER_SIZE + header.msgLength);
    encodeFrameHeader(header, frame, 0);
    this.#openPayload(header.msgLength, bytes, ENCRYPTED_HEADER_SIZE, frame, SV2_FRAME_HEADER_SIZE);
    return frame;
  }
}
