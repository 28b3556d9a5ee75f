/**
 * The server certificate of the Noise handshake (sv2-spec 04-Protocol-Security.md §4.5.2–4.5.3):
 * the 74-byte SIGNATURE_NOISE_MESSAGE (version U16, valid_from U32, not_valid_after U32, a BIP340
 * signature) sent encrypted in act 2, and the signature itself: the authority key signs
 * `SHA-256(version ‖ valid_from ‖ not_valid_after ‖ server x-only static key)`, exactly as the
 * reference (noise-sv2 `signature_message.rs`) hashes it.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { schnorr } from "@noble/curves/secp256k1.js";
import { Sv2CertificateError, Sv2DecodeError, Sv2EncodeError } from "./errors.ts";
import { isSecretKey, isXOnlyPublicKey } from "./keys.ts";

/** Size of an encoded SIGNATURE_NOISE_MESSAGE. */
export const SIGNATURE_NOISE_MESSAGE_SIZE = 74;
/** The one certificate format version in use (the reference signs 0; sv2-tp accepts only 0). */
export const CERTIFICATE_VERSION = 0;
/** Clock leeway in seconds on both ends of the validity window (the reference's TIME_LEEWAY). */
export const CERTIFICATE_TIME_LEEWAY = 10;

/** A decoded SIGNATURE_NOISE_MESSAGE. */
export interface SignatureNoiseMessage {
  /** Certificate format version (0). */
  readonly version: number;
  /** Start of validity, Unix seconds. */
  readonly validFrom: number;
  /** End of validity, Unix seconds. */
  readonly notValidAfter: number;
  /** BIP340 signature by the authority key (64 bytes). */
  readonly signature: Uint8Array;
}

function checkU32(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Sv2EncodeError(`${name} must be a U32, got ${value}`);
  }
}

function signedFields(version: number, validFrom: number, notValidAfter: number): Uint8Array {
  if (!Number.isInteger(version) || version < 0 || version > 0xffff) {
    throw new Sv2EncodeError(`certificate version must be a U16, got ${version}`);
  }
  checkU32(validFrom, "valid_from");
  checkU32(notValidAfter, "not_valid_after");
  const out = new Uint8Array(10);
  const view = new DataView(out.buffer);
  view.setUint16(0, version, true);
  view.setUint32(2, validFrom, true);
  view.setUint32(6, notValidAfter, true);
  return out;
}

/** The 32-byte message the authority signs for a server's x-only static key. */
export function certificateDigest(
  fields: Pick<SignatureNoiseMessage, "version" | "validFrom" | "notValidAfter">,
  serverPublicKey: Uint8Array,
): Uint8Array {
  if (!(serverPublicKey instanceof Uint8Array) || serverPublicKey.length !== 32) {
    throw new Sv2EncodeError("the server public key is a 32-byte x-only key");
  }
  return createHash("sha256")
    .update(signedFields(fields.version, fields.validFrom, fields.notValidAfter))
    .update(serverPublicKey)
    .digest();
}

/** Encodes a SIGNATURE_NOISE_MESSAGE into its 74 bytes. */
export function encodeSignatureNoiseMessage(message: SignatureNoiseMessage): Uint8Array {
  if (!(message.signature instanceof Uint8Array) || message.signature.length !== 64) {
    throw new Sv2EncodeError("a certificate signature is 64 bytes");
  }
  const out = new Uint8Array(SIGNATURE_NOISE_MESSAGE_SIZE);
  out.set(signedFields(message.version, message.validFrom, message.notValidAfter));
  out.set(message.signature, 10);
  return out;
}

/** Decodes the 74 bytes of a SIGNATURE_NOISE_MESSAGE. */
export function decodeSignatureNoiseMessage(bytes: Uint8Array): SignatureNoiseMessage {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SIGNATURE_NOISE_MESSAGE_SIZE) {
    throw new Sv2DecodeError(
      `a SIGNATURE_NOISE_MESSAGE is ${SIGNATURE_NOISE_MESSAGE_SIZE} bytes, got ${bytes?.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    version: view.getUint16(0, true),
    validFrom: view.getUint32(2, true),
    notValidAfter: view.getUint32(6, true),
    signature: bytes.slice(10, 74),
  };
}

/** What {@linkcode signCertificate} needs. */
export interface SignCertificateOptions {
  /** The server's x-only static public key (the one its Noise static key pair holds). */
  readonly serverPublicKey: Uint8Array;
  /** The pool authority's 32-byte secret key. */
  readonly authoritySecretKey: Uint8Array;
  /** Start of validity, Unix seconds. */
  readonly validFrom: number;
  /** End of validity, Unix seconds. */
  readonly notValidAfter: number;
  /** Format version; {@linkcode CERTIFICATE_VERSION} by default. */
  readonly version?: number;
  /** BIP340 auxiliary randomness (32 bytes); fresh random bytes by default. */
  readonly auxRand?: Uint8Array;
}

/**
 * Signs a certificate for a server static key with the authority secret key.
 *
 * @example
 * ```ts
 * import { schnorr } from "@noble/curves/secp256k1.js";
 * import { signCertificate, verifyCertificate } from "./certificate.ts";
 * const authority = schnorr.utils.randomSecretKey();
 * const server = schnorr.getPublicKey(schnorr.utils.randomSecretKey());
 * const cert = signCertificate({
 *   serverPublicKey: server,
 *   authoritySecretKey: authority,
 *   validFrom: 1_700_000_000,
 *   notValidAfter: 1_800_000_000,
 * });
 * verifyCertificate(cert, {
 *   serverPublicKey: server,
 *   authorityPublicKey: schnorr.getPublicKey(authority),
 *   now: 1_750_000_000,
 * }); // no throw
 * ```
 */
export function signCertificate(options: SignCertificateOptions): SignatureNoiseMessage {
  const version = options.version ?? CERTIFICATE_VERSION;
  if (!isSecretKey(options.authoritySecretKey)) {
    throw new Sv2EncodeError("the authority secret key is not a valid secp256k1 secret key");
  }
  if (!isXOnlyPublicKey(options.serverPublicKey)) {
    throw new Sv2EncodeError("the server public key is not a 32-byte x-only key");
  }
  const fields = {
    version,
    validFrom: options.validFrom,
    notValidAfter: options.notValidAfter,
  };
  const digest = certificateDigest(fields, options.serverPublicKey);
  const signature = schnorr.sign(digest, options.authoritySecretKey, options.auxRand);
  return { ...fields, signature };
}

/** What {@linkcode verifyCertificate} checks a certificate against. */
export interface VerifyCertificateOptions {
  /** The server's x-only static public key, as decoded from the handshake. */
  readonly serverPublicKey: Uint8Array;
  /** The pool authority's x-only public key the client was configured with. */
  readonly authorityPublicKey: Uint8Array;
  /** The current time, Unix seconds. */
  readonly now: number;
  /** Leeway in seconds on both ends; {@linkcode CERTIFICATE_TIME_LEEWAY} by default. */
  readonly leewaySeconds?: number;
}

/**
 * Checks a certificate: a known version, a valid BIP340 signature by the authority over the
 * server key, and `valid_from − leeway ≤ now ≤ not_valid_after + leeway`. Throws
 * {@linkcode Sv2CertificateError} with the reason otherwise.
 */
export function verifyCertificate(
  certificate: SignatureNoiseMessage,
  options: VerifyCertificateOptions,
): void {
  if (certificate.version !== CERTIFICATE_VERSION) {
    throw new Sv2CertificateError(
      "unsupported-version",
      `certificate version ${certificate.version} is not supported`,
    );
  }
  let valid = false;
  try {
    valid = isXOnlyPublicKey(options.authorityPublicKey) &&
      schnorr.verify(
        certificate.signature,
        certificateDigest(certificate, options.serverPublicKey),
        options.authorityPublicKey,
      );
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new Sv2CertificateError(
      "bad-signature",
      "the certificate is not signed by the authority key for this server key",
    );
  }
  const leeway = options.leewaySeconds ?? CERTIFICATE_TIME_LEEWAY;
  if (options.now + leeway < certificate.validFrom) {
    throw new Sv2CertificateError(
      "not-yet-valid",
      `the certificate is valid from ${certificate.validFrom}, it is ${options.now}`,
    );
  }
  if (options.now - leeway > certificate.notValidAfter) {
    throw new Sv2CertificateError(
      "expired",
      `the certificate expired at ${certificate.notValidAfter}, it is ${options.now}`,
    );
  }
}
