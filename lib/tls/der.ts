/**
 * A small DER (ASN.1 Distinguished Encoding Rules) encoder and reader: just the types an X.509
 * certificate needs. Encoders return complete TLV byte strings, so a structure is built by nesting
 * calls: `derSequence(derInteger(2n), derOid("2.5.4.3"))`.
 *
 * @module
 */

import { concatBytes } from "../bitcoin/mod.ts";

/** ASN.1 universal tag numbers (and the context-specific forms) used by X.509. */
export const DerTag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Thrown when bytes are not the DER this reader expects. */
export class DerError extends Error {
  /** Makes the error with a human reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "DerError";
  }
}

function encodeLength(length: number): Uint8Array<ArrayBuffer> {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** One TLV with the given tag byte around `content` (already-encoded children, or raw bytes). */
export function derTlv(tag: number, ...content: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const body = concatBytes(...content);
  return concatBytes(Uint8Array.of(tag), encodeLength(body.length), body);
}

/** SEQUENCE of already-encoded elements. */
export function derSequence(...elements: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  return derTlv(DerTag.SEQUENCE, ...elements);
}

/** SET of already-encoded elements (callers pass them in DER order; X.509 names use one each). */
export function derSet(...elements: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  return derTlv(DerTag.SET, ...elements);
}

/** Context-specific constructed tag `[n]` (EXPLICIT tagging) around encoded elements. */
export function derExplicit(
  n: number,
  ...elements: readonly Uint8Array[]
): Uint8Array<ArrayBuffer> {
  return derTlv(0xa0 | n, ...elements);
}

/** Context-specific primitive tag `[n]` (IMPLICIT tagging of a primitive) around raw bytes. */
export function derImplicit(n: number, bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return derTlv(0x80 | n, bytes);
}

/** BOOLEAN (DER: true is 0xff). */
export function derBoolean(value: boolean): Uint8Array<ArrayBuffer> {
  return derTlv(DerTag.BOOLEAN, Uint8Array.of(value ? 0xff : 0x00));
}

/** NULL. */
export function derNull(): Uint8Array<ArrayBuffer> {
  return derTlv(DerTag.NULL);
}

/** INTEGER from a bigint, in minimal two's-complement form. */
export function derInteger(value: bigint): Uint8Array<ArrayBuffer> {
  const bytes: number[] = [];
  let n = value;
  // Emit little-endian bytes until the remaining value is pure sign extension of the top byte.
  for (;;) {
    const byte = Number(BigInt.asUintN(8, n));
    bytes.unshift(byte);
    n >>= 8n;
    if ((n === 0n && (byte & 0x80) === 0) || (n === -1n && (byte & 0x80) !== 0)) break;
  }
  return derTlv(DerTag.INTEGER, Uint8Array.from(bytes));
}

/** INTEGER from unsigned big-endian magnitude bytes (leading zeros dropped, sign byte added). */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array<ArrayBuffer> {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  if (trimmed.length === 0) return derTlv(DerTag.INTEGER, Uint8Array.of(0));
  return (trimmed[0] & 0x80) !== 0
    ? derTlv(DerTag.INTEGER, Uint8Array.of(0), trimmed)
    : derTlv(DerTag.INTEGER, trimmed);
}

/** BIT STRING with `unusedBits` (0–7) padding bits in the last byte. */
export function derBitString(bytes: Uint8Array, unusedBits = 0): Uint8Array<ArrayBuffer> {
  if (unusedBits < 0 || unusedBits > 7) throw new DerError(`unused bits ${unusedBits} not in 0..7`);
  return derTlv(DerTag.BIT_STRING, Uint8Array.of(unusedBits), bytes);
}

/**
 * BIT STRING of named bits (bit 0 is the most significant bit of the first byte), with trailing
 * zero bits removed as DER requires (used by keyUsage).
 */
export function derNamedBits(bits: readonly number[]): Uint8Array<ArrayBuffer> {
  if (bits.length === 0) return derBitString(new Uint8Array(0));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array((highest >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3] |= 0x80 >> (bit & 7);
  return derBitString(bytes, 7 - (highest & 7));
}

/** OCTET STRING. */
export function derOctetString(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return derTlv(DerTag.OCTET_STRING, bytes);
}

/** OBJECT IDENTIFIER from dotted form, e.g. `"1.2.840.10045.2.1"`. */
export function derOid(dotted: string): Uint8Array<ArrayBuffer> {
  const arcs = dotted.split(".").map((arc) => {
    if (!/^\d+$/.test(arc)) throw new DerError(`bad OID arc in ${dotted}`);
    return BigInt(arc);
  });
  if (arcs.length < 2 || arcs[0] > 2n || (arcs[0] < 2n && arcs[1] > 39n)) {
    throw new DerError(`bad OID ${dotted}`);
  }
  const body: number[] = [];
  const pushArc = (arc: bigint) => {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let n = arc >> 7n; n > 0n; n >>= 7n) chunk.unshift(Number(n & 0x7fn) | 0x80);
    body.push(...chunk);
  };
  pushArc(arcs[0] * 40n + arcs[1]);
  for (const arc of arcs.slice(2)) pushArc(arc);
  return derTlv(DerTag.OID, Uint8Array.from(body));
}

/** UTF8String. */
export function derUtf8String(text: string): Uint8Array<ArrayBuffer> {
  return derTlv(DerTag.UTF8_STRING, new TextEncoder().encode(text));
}

/** The bytes of an ASCII text; throws `DerError` on any other character. */
export function asciiBytes(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) throw new DerError(`not ASCII: ${JSON.stringify(text)}`);
    bytes[i] = code;
  }
  return bytes;
}

/** IA5String (ASCII only). */
export function derIa5String(text: string): Uint8Array<ArrayBuffer> {
  return derTlv(DerTag.IA5_STRING, asciiBytes(text));
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * X.509 Time: UTCTime for years 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5),
 * whole seconds, always Zulu.
 */
export function derTime(date: Date): Uint8Array<ArrayBuffer> {
  const year = date.getUTCFullYear();
  const rest = pad2(date.getUTCMonth() + 1) + pad2(date.getUTCDate()) + pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) + pad2(date.getUTCSeconds()) + "Z";
  const encoder = new TextEncoder();
  if (year >= 1950 && year < 2050) {
    return derTlv(DerTag.UTC_TIME, encoder.encode(pad2(year % 100) + rest));
  }
  return derTlv(DerTag.GENERALIZED_TIME, encoder.encode(String(year).padStart(4, "0") + rest));
}

/** One element read from DER: its tag byte, content bytes, and the whole TLV. */
export interface DerElement {
  /** The identifier byte (class, constructed flag and tag number; tags ≥ 31 are not supported). */
  readonly tag: number;
  /** Content bytes (a view into the input). */
  readonly content: Uint8Array;
  /** The whole TLV, header included (a view into the input). */
  readonly raw: Uint8Array;
}

/** Reads the TLV starting at `offset` of `bytes`. */
export function readDer(bytes: Uint8Array, offset = 0): DerElement {
  if (offset + 2 > bytes.length) throw new DerError("truncated DER header");
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte DER tags are not supported");
  let length = bytes[offset + 1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError(`unsupported DER length of ${count} bytes`);
    if (offset + 2 + count > bytes.length) throw new DerError("truncated DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i];
    header += count;
  }
  const end = offset + header + length;
  if (end > bytes.length) throw new DerError("DER content runs past the end of the input");
  return {
    tag,
    content: bytes.subarray(offset + header, end),
    raw: bytes.subarray(offset, end),
  };
}

/** Reads every TLV inside a constructed element's content (e.g. the members of a SEQUENCE). */
export function readDerChildren(content: Uint8Array): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = 0; offset < content.length;) {
    const child = readDer(content, offset);
    children.push(child);
    offset += child.raw.length;
  }
  return children;
}

/** Decodes OBJECT IDENTIFIER content bytes to dotted form. */
export function readOid(content: Uint8Array): string {
  const arcs: bigint[] = [];
  let value = 0n;
  for (const byte of content) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    }
  }
  if (arcs.length === 0) throw new DerError("empty OID");
  const first = arcs[0] < 80n ? arcs[0] / 40n : 2n;
  return [first, arcs[0] - first * 40n, ...arcs.slice(1)].join(".");
}

/** Decodes UTCTime / GeneralizedTime content (the forms {@linkcode derTime} writes) to a Date. */
export function readTime(element: DerElement): Date {
  const text = new TextDecoder().decode(element.content);
  const match = element.tag === DerTag.UTC_TIME
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : element.tag === DerTag.GENERALIZED_TIME
    ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : null;
  if (!match) throw new DerError(`unsupported time ${text}`);
  let year = Number(match[1]);
  if (element.tag === DerTag.UTC_TIME) year += year < 50 ? 2000 : 1900;
  const [month, day, hour, minute, second] = match.slice(2).map(Number);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}
