/**
 * The admin password: PBKDF2-HMAC-SHA256 through WebCrypto with a random 16-byte salt, written as
 * one self-describing string that `secrets.toml` keeps (`admin_password_hash`):
 *
 * ```text
 * pbkdf2-sha256$<iterations>$<salt, base64url>$<32-byte key, base64url>
 * ```
 *
 * Verification reads the iterations from the string, derives the key again and compares in
 * constant time. The password itself is never stored.
 *
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from "./password.ts";
 * const stored = await hashPassword("correct horse battery staple");
 * await verifyPassword("correct horse battery staple", stored); // true
 * await verifyPassword("wrong", stored); // false
 * ```
 *
 * @module
 */

/** Iterations new hashes get (OWASP's 2023 figure for PBKDF2-HMAC-SHA256). */
export const DEFAULT_ITERATIONS = 600_000;

/** Fewest iterations a stored hash may name; fewer is refused as a weak or hand-made hash. */
export const MIN_ITERATIONS = 1_000;

const PREFIX = "pbkdf2-sha256";
const KEY_BYTES = 32;
const SALT_BYTES = 16;

/** A stored hash that cannot be read; the message names what is wrong, never the hash. */
export class PasswordHashError extends Error {
  /**
   * A refusal of a stored hash.
   *
   * @param message what is wrong with the stored hash
   */
  constructor(message: string) {
    super(message);
    this.name = "PasswordHashError";
  }
}

/** The parts of a stored hash. */
export interface ParsedPasswordHash {
  /** PBKDF2 iterations. */
  readonly iterations: number;
  /** The salt. */
  readonly salt: Uint8Array<ArrayBuffer>;
  /** The derived key. */
  readonly key: Uint8Array<ArrayBuffer>;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  try {
    const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Reads a stored hash; throws {@linkcode PasswordHashError} when it is not one. */
export function parsePasswordHash(stored: string): ParsedPasswordHash {
  const parts = stored.trim().split("$");
  if (parts.length !== 4 || parts[0] !== PREFIX) {
    throw new PasswordHashError(`expected "${PREFIX}$<iterations>$<salt>$<key>"`);
  }
  const iterations = Number(parts[1]);
  if (!/^\d{1,9}$/.test(parts[1]) || iterations < MIN_ITERATIONS) {
    throw new PasswordHashError(`iterations must be a whole number of at least ${MIN_ITERATIONS}`);
  }
  const salt = fromBase64Url(parts[2]);
  const key = fromBase64Url(parts[3]);
  if (salt === undefined || salt.length < 8) throw new PasswordHashError("salt is not base64url");
  if (key === undefined || key.length !== KEY_BYTES) {
    throw new PasswordHashError(`key must be ${KEY_BYTES} bytes of base64url`);
  }
  return { iterations, salt, key };
}

async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    material,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/** Hashes `password` with a fresh random salt; `iterations` defaults to {@linkcode DEFAULT_ITERATIONS}. */
export async function hashPassword(
  password: string,
  iterations: number = DEFAULT_ITERATIONS,
): Promise<string> {
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS) {
    throw new RangeError(`iterations must be an integer of at least ${MIN_ITERATIONS}`);
  }
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const key = await derive(password, salt, iterations);
  return `${PREFIX}$${iterations}$${toBase64Url(salt)}$${toBase64Url(key)}`;
}

/** Compares two byte strings in time that depends only on their lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqualText(a: string, b: string): boolean {
  const enc = new TextEncoder();
  return constantTimeEqual(enc.encode(a), enc.encode(b));
}

/** True when `password` matches `stored`; throws {@linkcode PasswordHashError} for a bad hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { iterations, salt, key } = parsePasswordHash(stored);
  return constantTimeEqual(await derive(password, salt, iterations), key);
}
