/**
 * Secp256k1 keys as the SV2 tools write them (sv2-spec 04-Protocol-Security.md §4.7): the pool
 * authority public key is Base58Check of a little-endian U16 version `[1, 0]` and the 32-byte
 * x-only key, the string miners put in `stratum2+tcp://host:port/<key>`; a secret key is
 * Base58Check of its 32 bytes (the reference's key-utils crate).
 *
 * @module
 */

import { schnorr, secp256k1 } from "@noble/curves/secp256k1.js";
import { bytesToNumberBE } from "@noble/curves/utils.js";
import { base58CheckDecode, base58CheckEncode, Base58Error } from "../bitcoin/mod.ts";
import { Sv2KeyError } from "./errors.ts";

/** The version prefix of an encoded authority public key (U16 little-endian: bytes `[1, 0]`). */
export const AUTHORITY_KEY_VERSION = 1;

/** Whether `key` is the 32-byte x coordinate of a secp256k1 point (BIP340 x-only key). */
export function isXOnlyPublicKey(key: Uint8Array): boolean {
  if (!(key instanceof Uint8Array) || key.length !== 32) return false;
  try {
    schnorr.utils.lift_x(bytesToNumberBE(key));
    return true;
  } catch {
    return false;
  }
}

/** Whether `key` is a valid 32-byte secp256k1 secret key (1 ≤ key < n). */
export function isSecretKey(key: Uint8Array): boolean {
  return key instanceof Uint8Array && key.length === 32 && secp256k1.utils.isValidSecretKey(key);
}

/** The BIP340 x-only public key of a secret key. */
export function xOnlyPublicKey(secretKey: Uint8Array): Uint8Array {
  if (!isSecretKey(secretKey)) throw new Sv2KeyError("not a valid secp256k1 secret key");
  return schnorr.getPublicKey(secretKey);
}

/**
 * Encodes a 32-byte x-only authority public key as the Base58Check string of the mining URL.
 *
 * @example
 * ```ts
 * import { decodeAuthorityPublicKey, encodeAuthorityPublicKey } from "./keys.ts";
 * const text = "9bXiEd8boQVhq7WddEcERUL5tyyJVFYdU8th3HfbNXK3Yw6GRXh"; // sv2-spec §4.7.1
 * encodeAuthorityPublicKey(decodeAuthorityPublicKey(text)) === text; // true
 * ```
 */
export function encodeAuthorityPublicKey(publicKey: Uint8Array): string {
  if (!isXOnlyPublicKey(publicKey)) {
    throw new Sv2KeyError("an authority public key is the 32-byte x coordinate of a curve point");
  }
  const payload = new Uint8Array(34);
  payload[0] = AUTHORITY_KEY_VERSION & 0xff;
  payload[1] = AUTHORITY_KEY_VERSION >>> 8;
  payload.set(publicKey, 2);
  return base58CheckEncode(payload);
}

function decodeBase58Check(text: string, what: string): Uint8Array {
  if (typeof text !== "string") throw new Sv2KeyError(`${what} must be a string`);
  try {
    return base58CheckDecode(text.trim());
  } catch (e) {
    if (e instanceof Base58Error) throw new Sv2KeyError(`${what}: ${e.message}`);
    throw e;
  }
}

/** Decodes an authority public key string to its 32-byte x-only key, saying why on failure. */
export function decodeAuthorityPublicKey(text: string): Uint8Array {
  const payload = decodeBase58Check(text, "authority public key");
  if (payload.length !== 34) {
    throw new Sv2KeyError(
      `authority public key: expected 34 bytes (version and key), got ${payload.length}`,
    );
  }
  const version = payload[0] | (payload[1] << 8);
  if (version !== AUTHORITY_KEY_VERSION) {
    throw new Sv2KeyError(`authority public key: unknown version ${version}`);
  }
  const key = payload.slice(2);
  if (!isXOnlyPublicKey(key)) {
    throw new Sv2KeyError("authority public key: not the x coordinate of a curve point");
  }
  return key;
}

/** Encodes a 32-byte secret key as Base58Check (the format of the reference's config files). */
export function encodeSecretKey(secretKey: Uint8Array): string {
  if (!isSecretKey(secretKey)) throw new Sv2KeyError("not a valid secp256k1 secret key");
  return base58CheckEncode(secretKey);
}

/** Decodes a Base58Check secret key string to its 32 bytes, saying why on failure. */
export function decodeSecretKey(text: string): Uint8Array {
  const payload = decodeBase58Check(text, "secret key");
  if (payload.length !== 32) {
    throw new Sv2KeyError(`secret key: expected 32 bytes, got ${payload.length}`);
  }
  if (!isSecretKey(payload)) throw new Sv2KeyError("secret key: out of the curve's range");
  return payload;
}
