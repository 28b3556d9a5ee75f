/**
 * Types of `sha256.js`: SHA-256 for the browser's worker lookup.
 *
 * @module
 */

/** SHA-256 of `bytes` in plain JavaScript; returns 32 bytes. */
export function sha256Bytes(bytes: Uint8Array): Uint8Array;
/** SHA-256 of `text` (UTF-8) as lowercase hex, in JavaScript only. */
export function sha256HexSync(text: string): string;
/** SHA-256 of `text` (UTF-8) as lowercase hex: WebCrypto when available, else JavaScript. */
export function sha256Hex(text: string): Promise<string>;
