/**
 * Hex encoding and byte-order helpers, table driven so they stay cheap on hot paths.
 *
 * @module
 */

/** Lowercase two-character hex for every byte value. */
const BYTE_TO_HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** Nibble value per char code (0-127), or -1 for a non-hex char. */
const HEX_TO_NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_TO_NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_TO_NIBBLE[65 + i] = 10 + i;
  HEX_TO_NIBBLE[97 + i] = 10 + i;
}

/** Nibble of one char code, or -1 when the char is not a hex digit. */
function nibble(code: number): number {
  return code < 128 ? HEX_TO_NIBBLE[code] : -1;
}

/** Decodes hex (either case) to bytes; throws a `TypeError` on odd length or a non-hex char. */
export function hexToBytes(hex: string): Uint8Array {
  const len = hex.length;
  if ((len & 1) !== 0) throw new TypeError(`hex string has odd length ${len}`);
  const out = new Uint8Array(len >>> 1);
  for (let i = 0, j = 0; i < len; i += 2, j++) {
    const hi = nibble(hex.charCodeAt(i));
    const lo = nibble(hex.charCodeAt(i + 1));
    if ((hi | lo) < 0) {
      const at = hi < 0 ? i : i + 1;
      throw new TypeError(`invalid hex character ${JSON.stringify(hex[at])} at index ${at}`);
    }
    out[j] = (hi << 4) | lo;
  }
  return out;
}

/** Encodes bytes as lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i]];
  return out;
}

/** Returns a new array with the bytes in reverse order (internal ⇄ RPC/display order). */
export function reverseBytes(bytes: Uint8Array): Uint8Array {
  const len = bytes.length;
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = bytes[len - 1 - i];
  return out;
}

/** True when `s` is even-length hex (either case), and exactly `byteLength` bytes when given. */
export function isHex(s: string, byteLength?: number): boolean {
  const len = s.length;
  if ((len & 1) !== 0) return false;
  if (byteLength !== undefined && len !== byteLength * 2) return false;
  for (let i = 0; i < len; i++) {
    if (nibble(s.charCodeAt(i)) < 0) return false;
  }
  return true;
}

/** True when `a` and `b` hold the same bytes. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `parts` joined into one new array (`a ‖ b ‖ …`); the parts are copied, never aliased. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
