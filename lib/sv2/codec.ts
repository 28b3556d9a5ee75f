/**
 * The Stratum V2 binary data types (sv2-spec 03-Protocol-Overview.md §3.1) as a writer and a reader
 * pair, and the 6-byte frame header (§3.2). Multibyte integers are little-endian. The reader throws
 * {@linkcode Sv2DecodeError} on short input or a length over its type's bound; the writer throws
 * {@linkcode Sv2EncodeError} on a value out of range.
 *
 * Type names follow the spec without the underscore: `STR0_255` is {@linkcode Sv2Writer.str0255},
 * `B0_64K` is {@linkcode Sv2Writer.b064k}, `SEQ0_255[T]` is {@linkcode Sv2Writer.seq0255}.
 *
 * @module
 */

import { Sv2DecodeError, Sv2EncodeError } from "./errors.ts";

/** Size of the plaintext frame header: extension_type U16, msg_type U8, msg_length U24. */
export const SV2_FRAME_HEADER_SIZE = 6;
/** The channel_msg bit of extension_type: the payload starts with a U32 channel_id. */
export const CHANNEL_MSG_BIT = 0x8000;
/** The largest payload a frame can carry (msg_length is a U24). */
export const SV2_MAX_PAYLOAD = 0xffffff;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function checkUint(value: number, max: number, type: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Sv2EncodeError(`${type} out of range: ${value}`);
  }
}

function checkBytes(value: Uint8Array, max: number, type: string): void {
  if (!(value instanceof Uint8Array)) throw new Sv2EncodeError(`${type} needs a Uint8Array`);
  if (value.length > max) {
    throw new Sv2EncodeError(`${type} holds at most ${max} bytes, got ${value.length}`);
  }
}

/**
 * Writes SV2 data types into one growing buffer. Reuse one writer per connection: `reset()`, write,
 * then take `bytes()` (a view, valid until the next write) or `toBytes()` (a copy).
 *
 * @example
 * ```ts
 * import { Sv2Reader, Sv2Writer } from "./codec.ts";
 * const w = new Sv2Writer().u16(2).str0255("Bitmain");
 * const r = new Sv2Reader(w.toBytes());
 * r.u16(); // 2
 * r.str0255(); // "Bitmain"
 * ```
 */
export class Sv2Writer {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  /** Creates a writer with room for `initialCapacity` bytes (it grows as needed). */
  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** Forgets what was written; the buffer is kept for the next message. */
  reset(): this {
    this.#pos = 0;
    return this;
  }

  /** Drops everything written after the first `length` bytes (to undo a half-written message). */
  truncate(length: number): this {
    if (!Number.isInteger(length) || length < 0 || length > this.#pos) {
      throw new Sv2EncodeError(`cannot truncate ${this.#pos} bytes to ${length}`);
    }
    this.#pos = length;
    return this;
  }

  /** The bytes written so far as a view into the buffer: valid until the next write or reset. */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }

  #ensure(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** U8. */
  u8(value: number): this {
    checkUint(value, 0xff, "U8");
    this.#ensure(1);
    this.#buf[this.#pos++] = value;
    return this;
  }

  /** U16, little-endian. */
  u16(value: number): this {
    checkUint(value, 0xffff, "U16");
    this.#ensure(2);
    this.#view.setUint16(this.#pos, value, true);
    this.#pos += 2;
    return this;
  }

  /** U24, little-endian. */
  u24(value: number): this {
    checkUint(value, 0xffffff, "U24");
    this.#ensure(3);
    this.#writeU24At(this.#pos, value);
    this.#pos += 3;
    return this;
  }

  #writeU24At(offset: number, value: number): void {
    this.#buf[offset] = value & 0xff;
    this.#buf[offset + 1] = (value >>> 8) & 0xff;
    this.#buf[offset + 2] = value >>> 16;
  }

  /** Overwrites a U24 written earlier at `offset` (a frame's msg_length once the payload is known). */
  patchU24(offset: number, value: number): this {
    checkUint(value, 0xffffff, "U24");
    if (!Number.isInteger(offset) || offset < 0 || offset + 3 > this.#pos) {
      throw new Sv2EncodeError(`patch offset ${offset} is outside the ${this.#pos} bytes written`);
    }
    this.#writeU24At(offset, value);
    return this;
  }

  /** U32, little-endian. */
  u32(value: number): this {
    checkUint(value, 0xffffffff, "U32");
    this.#ensure(4);
    this.#view.setUint32(this.#pos, value, true);
    this.#pos += 4;
    return this;
  }

  /** U64, little-endian, from a bigint. */
  u64(value: bigint): this {
    if (typeof value !== "bigint" || value < 0n || value > 0xffffffffffffffffn) {
      throw new Sv2EncodeError(`U64 out of range: ${value}`);
    }
    this.#ensure(8);
    this.#view.setBigUint64(this.#pos, value, true);
    this.#pos += 8;
    return this;
  }

  /** BOOL: 1 for true, 0 for false. */
  bool(value: boolean): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = value ? 1 : 0;
    return this;
  }

  /** F32, IEEE 754 single precision, little-endian. */
  f32(value: number): this {
    if (typeof value !== "number") throw new Sv2EncodeError(`F32 needs a number`);
    this.#ensure(4);
    this.#view.setFloat32(this.#pos, value, true);
    this.#pos += 4;
    return this;
  }

  /** Raw bytes with no length prefix (BYTES, and the fixed 32-byte U256 through {@linkcode u256}). */
  raw(value: Uint8Array): this {
    if (!(value instanceof Uint8Array)) throw new Sv2EncodeError(`BYTES needs a Uint8Array`);
    this.#ensure(value.length);
    this.#buf.set(value, this.#pos);
    this.#pos += value.length;
    return this;
  }

  /** U256: exactly 32 bytes, written as given (little-endian, as hashed). */
  u256(value: Uint8Array): this {
    if (!(value instanceof Uint8Array) || value.length !== 32) {
      throw new Sv2EncodeError(`U256 needs 32 bytes, got ${value?.length}`);
    }
    return this.raw(value);
  }

  /** STR0_255: a U8 byte length and the UTF-8 bytes (at most 255). */
  str0255(value: string): this {
    if (typeof value !== "string") throw new Sv2EncodeError(`STR0_255 needs a string`);
    this.#ensure(1 + value.length * 3);
    const { read, written } = encoder.encodeInto(value, this.#buf.subarray(this.#pos + 1));
    if (read !== value.length || written > 255) {
      throw new Sv2EncodeError(
        `STR0_255 holds at most 255 bytes, got ${encoder.encode(value).length}`,
      );
    }
    this.#buf[this.#pos] = written;
    this.#pos += 1 + written;
    return this;
  }

  /** B0_32: a U8 length and at most 32 bytes. */
  b032(value: Uint8Array): this {
    checkBytes(value, 32, "B0_32");
    return this.u8(value.length).raw(value);
  }

  /** B0_255: a U8 length and at most 255 bytes. */
  b0255(value: Uint8Array): this {
    checkBytes(value, 255, "B0_255");
    return this.u8(value.length).raw(value);
  }

  /** B0_64K: a U16 length and at most 65535 bytes. */
  b064k(value: Uint8Array): this {
    checkBytes(value, 0xffff, "B0_64K");
    return this.u16(value.length).raw(value);
  }

  /** B0_16M: a U24 length and at most 2^24-1 bytes. */
  b016m(value: Uint8Array): this {
    checkBytes(value, 0xffffff, "B0_16M");
    return this.u24(value.length).raw(value);
  }

  /** SEQ0_255[T]: a U8 count, then each item written by `write`. */
  seq0255<T>(items: readonly T[], write: (writer: this, item: T) => void): this {
    if (!Array.isArray(items)) throw new Sv2EncodeError(`SEQ0_255 needs an array`);
    if (items.length > 255) {
      throw new Sv2EncodeError(`SEQ0_255 holds at most 255 items, got ${items.length}`);
    }
    this.u8(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  /** SEQ0_64K[T]: a U16 count, then each item written by `write`. */
  seq064k<T>(items: readonly T[], write: (writer: this, item: T) => void): this {
    if (!Array.isArray(items)) throw new Sv2EncodeError(`SEQ0_64K needs an array`);
    if (items.length > 0xffff) {
      throw new Sv2EncodeError(`SEQ0_64K holds at most 65535 items, got ${items.length}`);
    }
    this.u16(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  /** OPTION[T] (SEQ0_1[T]): 0 for `null`, else 1 and the value written by `write`. */
  option<T>(value: T | null, write: (writer: this, item: T) => void): this {
    if (value === null || value === undefined) return this.u8(0);
    this.u8(1);
    write(this, value);
    return this;
  }
}

/**
 * Reads SV2 data types from a byte range. Every read checks the bytes left and throws
 * {@linkcode Sv2DecodeError} naming the field when short; byte fields come back as copies, so the
 * source buffer may be reused.
 */
export class Sv2Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #end: number;
  #pos: number;

  /** Reads `bytes` from `start` (default 0) to `end` (default its length). */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    if (!(bytes instanceof Uint8Array)) throw new Sv2DecodeError("input is not a Uint8Array");
    if (start < 0 || end > bytes.length || start > end) {
      throw new Sv2DecodeError(`range ${start}..${end} is outside ${bytes.length} bytes`);
    }
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = start;
    this.#end = end;
  }

  /** The position of the next byte to read. */
  get offset(): number {
    return this.#pos;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(n: number, field: string): number {
    const at = this.#pos;
    if (at + n > this.#end) {
      throw new Sv2DecodeError(
        `${field}: needs ${n} bytes at offset ${at}, ${this.#end - at} left`,
      );
    }
    this.#pos = at + n;
    return at;
  }

  /** Throws unless every byte was read (`what` names the message for the error). */
  finish(what: string): void {
    if (this.#pos !== this.#end) {
      throw new Sv2DecodeError(`${what}: ${this.#end - this.#pos} trailing bytes`);
    }
  }

  /** U8. */
  u8(field = "U8"): number {
    return this.#bytes[this.#need(1, field)];
  }

  /** U16, little-endian. */
  u16(field = "U16"): number {
    return this.#view.getUint16(this.#need(2, field), true);
  }

  /** U24, little-endian. */
  u24(field = "U24"): number {
    const at = this.#need(3, field);
    const b = this.#bytes;
    return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
  }

  /** U32, little-endian. */
  u32(field = "U32"): number {
    return this.#view.getUint32(this.#need(4, field), true);
  }

  /** U64, little-endian, as a bigint. */
  u64(field = "U64"): bigint {
    return this.#view.getBigUint64(this.#need(8, field), true);
  }

  /** BOOL: only the least significant bit counts (the spec lets senders set the others). */
  bool(field = "BOOL"): boolean {
    return (this.#bytes[this.#need(1, field)] & 1) === 1;
  }

  /** F32, little-endian. */
  f32(field = "F32"): number {
    return this.#view.getFloat32(this.#need(4, field), true);
  }

  /** `length` raw bytes (a copy). */
  raw(length: number, field = "BYTES"): Uint8Array {
    const at = this.#need(length, field);
    return this.#bytes.slice(at, at + length);
  }

  /** U256: 32 bytes (a copy). */
  u256(field = "U256"): Uint8Array {
    return this.raw(32, field);
  }

  /** STR0_255: a U8 length and that many bytes of UTF-8 (invalid UTF-8 is refused). */
  str0255(field = "STR0_255"): string {
    const length = this.u8(field);
    const at = this.#need(length, field);
    try {
      return decoder.decode(this.#bytes.subarray(at, at + length));
    } catch {
      throw new Sv2DecodeError(`${field}: not valid UTF-8`);
    }
  }

  /** B0_32: a U8 length (at most 32) and that many bytes. */
  b032(field = "B0_32"): Uint8Array {
    const length = this.u8(field);
    if (length > 32) throw new Sv2DecodeError(`${field}: B0_32 length ${length} is over 32`);
    return this.raw(length, field);
  }

  /** B0_255: a U8 length and that many bytes. */
  b0255(field = "B0_255"): Uint8Array {
    return this.raw(this.u8(field), field);
  }

  /** B0_64K: a U16 length and that many bytes. */
  b064k(field = "B0_64K"): Uint8Array {
    return this.raw(this.u16(field), field);
  }

  /** B0_16M: a U24 length and that many bytes. */
  b016m(field = "B0_16M"): Uint8Array {
    return this.raw(this.u24(field), field);
  }

  /** SEQ0_255[T]: a U8 count, then each item read by `read`. */
  seq0255<T>(read: (reader: this) => T, field = "SEQ0_255"): T[] {
    const count = this.u8(field);
    const out: T[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = read(this);
    return out;
  }

  /** SEQ0_64K[T]: a U16 count, then each item read by `read`. */
  seq064k<T>(read: (reader: this) => T, field = "SEQ0_64K"): T[] {
    const count = this.u16(field);
    const out: T[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = read(this);
    return out;
  }

  /** OPTION[T]: a count of 0 (`null`) or 1 (the value read by `read`); anything else is refused. */
  option<T>(read: (reader: this) => T, field = "OPTION"): T | null {
    const count = this.u8(field);
    if (count === 0) return null;
    if (count !== 1) throw new Sv2DecodeError(`${field}: OPTION count ${count} is over 1`);
    return read(this);
  }
}

/** The 6-byte SV2 frame header, with the channel_msg bit split out of extension_type. */
export interface Sv2FrameHeader {
  /** The extension type without the channel_msg bit (0 for the core protocols). */
  readonly extensionType: number;
  /** Whether the channel_msg bit is set (the payload starts with a U32 channel_id). */
  readonly channelMsg: boolean;
  /** The message type. */
  readonly msgType: number;
  /** The payload length in bytes, not counting the header (plaintext length under Noise too). */
  readonly msgLength: number;
}

/** Writes a frame header into `out` at `offset` (a new 6-byte array by default) and returns `out`. */
export function encodeFrameHeader(
  header: Sv2FrameHeader,
  out: Uint8Array = new Uint8Array(SV2_FRAME_HEADER_SIZE),
  offset = 0,
): Uint8Array {
  checkUint(header.extensionType, 0x7fff, "extension_type (without the channel_msg bit)");
  checkUint(header.msgType, 0xff, "msg_type");
  checkUint(header.msgLength, SV2_MAX_PAYLOAD, "msg_length");
  if (offset < 0 || offset + SV2_FRAME_HEADER_SIZE > out.length) {
    throw new Sv2EncodeError(`no room for a frame header at offset ${offset}`);
  }
  const ext = header.extensionType | (header.channelMsg ? CHANNEL_MSG_BIT : 0);
  out[offset] = ext & 0xff;
  out[offset + 1] = ext >>> 8;
  out[offset + 2] = header.msgType;
  out[offset + 3] = header.msgLength & 0xff;
  out[offset + 4] = (header.msgLength >>> 8) & 0xff;
  out[offset + 5] = header.msgLength >>> 16;
  return out;
}

/** Reads a frame header at `offset`; throws {@linkcode Sv2DecodeError} if fewer than 6 bytes. */
export function decodeFrameHeader(bytes: Uint8Array, offset = 0): Sv2FrameHeader {
  if (!(bytes instanceof Uint8Array)) throw new Sv2DecodeError("input is not a Uint8Array");
  if (offset < 0 || bytes.length - offset < SV2_FRAME_HEADER_SIZE) {
    throw new Sv2DecodeError(
      `frame header needs ${SV2_FRAME_HEADER_SIZE} bytes, ${
        Math.max(0, bytes.length - offset)
      } left`,
    );
  }
  const ext = bytes[offset] | (bytes[offset + 1] << 8);
  return {
    extensionType: ext & ~CHANNEL_MSG_BIT,
    channelMsg: (ext & CHANNEL_MSG_BIT) !== 0,
    msgType: bytes[offset + 2],
    msgLength: bytes[offset + 3] | (bytes[offset + 4] << 8) | (bytes[offset + 5] << 16),
  };
}
