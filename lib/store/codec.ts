/**
 * Value encoding of the store: every value is a superjson string, so `Date`, `bigint` (satoshis),
 * `undefined` members and nested objects survive the round trip exactly, and a backup file is plain
 * JSON text.
 *
 * @module
 */

import superjson from "superjson";

/** Largest encoded value Deno KV accepts (64 KiB); checked before a write. */
export const MAX_VALUE_BYTES = 65_536;

/** Raised when a value cannot be stored or read back. */
export class StoreCodecError extends Error {
  /** Names the key the value belongs to. */
  constructor(message: string) {
    super(message);
    this.name = "StoreCodecError";
  }
}

const encoder = new TextEncoder();

/** Encodes `value` for the store; throws when the encoding is larger than Deno KV allows. */
export function encodeValue(value: unknown): string {
  const text = superjson.stringify(value);
  // A UTF-16 length below a quarter of the limit cannot exceed it in UTF-8: skip the byte count.
  if (text.length * 3 > MAX_VALUE_BYTES && encoder.encode(text).length > MAX_VALUE_BYTES) {
    throw new StoreCodecError(`value of ${text.length} characters is larger than 64 KiB`);
  }
  return text;
}

/** Decodes a value written by {@linkcode encodeValue}. */
export function decodeValue<T>(text: unknown): T {
  if (typeof text !== "string") throw new StoreCodecError("stored value is not a string");
  return superjson.parse<T>(text);
}
