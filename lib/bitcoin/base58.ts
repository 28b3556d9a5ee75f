/**
 * Base58 and Base58Check (legacy Bitcoin addresses), with a reason on every rejection.
 *
 * @module
 */

import { sha256d } from "./sha256.ts";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** Digit value per char code (0-127), or -1 for a char outside the alphabet. */
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;

/** A Base58 string that cannot be decoded; `message` says why. */
export class Base58Error extends Error {
  /** Creates the error with a human reason. */
  constructor(message: string) {
    super(message);
    this.name = "Base58Error";
  }
}

/** Encodes bytes as Base58 (each leading zero byte becomes a leading `1`). */
export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  // log(256)/log(58) ≈ 1.366 digits per byte.
  const digits = new Uint8Array(Math.ceil((bytes.length - zeros) * 138 / 100) + 1);
  let used = 0;
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i];
    let j = 0;
    for (; j < used || carry !== 0; j++) {
      carry += digits[j] * 256;
      digits[j] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    used = j;
  }
  let out = "1".repeat(zeros);
  for (let i = used - 1; i >= 0; i--) out += ALPHABET[digits[i]];
  return out;
}

/** Decodes a Base58 string; throws `Base58Error` naming the first char outside the alphabet. */
export function base58Decode(text: string): Uint8Array {
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros++;
  // log(58)/log(256) ≈ 0.733 bytes per digit.
  const bytes = new Uint8Array(Math.ceil((text.length - zeros) * 733 / 1000) + 1);
  let used = 0;
  for (let i = zeros; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? DIGIT[code] : -1;
    if (digit < 0) {
      throw new Base58Error(
        `character ${JSON.stringify(text[i])} at position ${i + 1} is not valid in base58`,
      );
    }
    let carry = digit;
    let j = 0;
    for (; j < used || carry !== 0; j++) {
      carry += bytes[j] * 58;
      bytes[j] = carry & 0xff;
      carry >>>= 8;
    }
    used = j;
  }
  const out = new Uint8Array(zeros + used);
  for (let i = 0; i < used; i++) out[zeros + i] = bytes[used - 1 - i];
  return out;
}

/** Encodes `payload` with its 4-byte double-SHA-256 checksum appended, as Base58. */
export function base58CheckEncode(payload: Uint8Array): string {
  const full = new Uint8Array(payload.length + 4);
  full.set(payload);
  full.set(sha256d(payload).subarray(0, 4), payload.length);
  return base58Encode(full);
}

/** Decodes Base58Check and returns the payload; throws `Base58Error` on a bad checksum. */
export function base58CheckDecode(text: string): Uint8Array {
  const full = base58Decode(text);
  if (full.length < 4) throw new Base58Error("too short to hold a checksum");
  const payload = full.subarray(0, full.length - 4);
  const check = sha256d(payload);
  for (let i = 0; i < 4; i++) {
    if (check[i] !== full[payload.length + i]) {
      throw new Base58Error("bad checksum (a mistyped or truncated address?)");
    }
  }
  return payload.slice();
}
