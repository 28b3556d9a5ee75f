/**
 * Transactions: CompactSize varints, a minimal parser (legacy and BIP144 witness forms), witness
 * stripping, txid and wtxid.
 *
 * @module
 */

import { sha256d } from "./sha256.ts";

/** A transaction that cannot be parsed; `message` says where and why. */
export class TxParseError extends Error {
  /** Creates the error with a human reason. */
  constructor(message: string) {
    super(message);
    this.name = "TxParseError";
  }
}

/** Bytes `writeVarInt` uses for `n`: 1, 3, 5 or 9. */
export function varIntSize(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint must be a uint, got ${n}`);
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

/** Writes `n` as a CompactSize varint into `out` at `offset`; returns the offset after it. */
export function writeVarInt(n: number, out: Uint8Array, offset = 0): number {
  const size = varIntSize(n);
  if (size === 1) {
    out[offset] = n;
    return offset + 1;
  }
  if (size === 3) {
    out[offset] = 0xfd;
    out[offset + 1] = n & 0xff;
    out[offset + 2] = n >>> 8;
    return offset + 3;
  }
  if (size === 5) {
    out[offset] = 0xfe;
    out[offset + 1] = n & 0xff;
    out[offset + 2] = n >>> 8;
    out[offset + 3] = n >>> 16;
    out[offset + 4] = n >>> 24;
    return offset + 5;
  }
  out[offset] = 0xff;
  const lo = n >>> 0;
  const hi = Math.floor(n / 0x100000000);
  for (let i = 0; i < 4; i++) {
    out[offset + 1 + i] = lo >>> (8 * i);
    out[offset + 5 + i] = hi >>> (8 * i);
  }
  return offset + 9;
}

/** `n` as a new CompactSize varint array. */
export function encodeVarInt(n: number): Uint8Array {
  const out = new Uint8Array(varIntSize(n));
  writeVarInt(n, out, 0);
  return out;
}

/** A decoded varint and the bytes it took. */
export interface VarInt {
  /** The value (values above 2^53-1 are refused). */
  readonly value: number;
  /** Bytes read: 1, 3, 5 or 9. */
  readonly size: number;
}

/** Reads a CompactSize varint at `offset`; refuses truncation and non-canonical forms like Core. */
export function readVarInt(buf: Uint8Array, offset = 0): VarInt {
  if (offset >= buf.length) throw new TxParseError(`varint at ${offset} runs past the end`);
  const first = buf[offset];
  if (first < 0xfd) return { value: first, size: 1 };
  const size = first === 0xfd ? 3 : first === 0xfe ? 5 : 9;
  if (offset + size > buf.length) throw new TxParseError(`varint at ${offset} runs past the end`);
  let value = 0;
  for (let i = size - 1; i >= 1; i--) value = value * 256 + buf[offset + i];
  const min = size === 3 ? 0xfd : size === 5 ? 0x10000 : 0x100000000;
  if (value < min) throw new TxParseError(`non-canonical varint at ${offset}`);
  if (!Number.isSafeInteger(value)) throw new TxParseError(`varint at ${offset} is too large`);
  return { value, size };
}

/** One transaction input. */
export interface TxInput {
  /** Spent transaction id, internal byte order (all zero for a coinbase). */
  readonly prevTxid: Uint8Array;
  /** Spent output index (0xffffffff for a coinbase). */
  readonly prevIndex: number;
  /** Unlocking script. */
  readonly scriptSig: Uint8Array;
  /** nSequence. */
  readonly sequence: number;
  /** Witness stack items (empty when the tx has no witness data for this input). */
  readonly witness: readonly Uint8Array[];
}

/** One transaction output. */
export interface TxOutput {
  /** Value in satoshis. */
  readonly value: bigint;
  /** Locking script (scriptPubKey). */
  readonly script: Uint8Array;
}

/** A parsed transaction. */
export interface Transaction {
  /** nVersion (int32). */
  readonly version: number;
  /** Inputs in order. */
  readonly inputs: readonly TxInput[];
  /** Outputs in order. */
  readonly outputs: readonly TxOutput[];
  /** nLockTime. */
  readonly lockTime: number;
  /** True when serialized in the BIP144 form (marker 0x00, flag 0x01, witnesses). */
  readonly hasWitness: boolean;
  /** Bytes the transaction took in the input. */
  readonly size: number;
  /** Where the inputs/outputs section starts and ends (the witness-free middle of the tx). */
  readonly bodyStart: number;
  /** End (exclusive) of the outputs; witnesses (if any) follow, then nLockTime. */
  readonly bodyEnd: number;
}

/** Cursor over a byte array with bounds checks that name the offending field. */
class Reader {
  offset: number;
  constructor(readonly buf: Uint8Array, offset: number) {
    this.offset = offset;
  }
  need(n: number, what: string): void {
    if (this.offset + n > this.buf.length) {
      throw new TxParseError(`${what} at ${this.offset} runs past the end of the data`);
    }
  }
  u32(what: string): number {
    this.need(4, what);
    const b = this.buf, o = this.offset;
    this.offset += 4;
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }
  u64(what: string): bigint {
    const lo = this.u32(what);
    const hi = this.u32(what);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  varint(): number {
    const v = readVarInt(this.buf, this.offset);
    this.offset += v.size;
    return v.value;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
}

/**
 * Parses one transaction starting at `offset` (legacy or BIP144 witness form). Use `size` to find
 * the next one in a block. Throws `TxParseError` on truncated or malformed data.
 */
export function parseTx(raw: Uint8Array, offset = 0): Transaction {
  const r = new Reader(raw, offset);
  const version = r.u32("version") | 0;
  let hasWitness = false;
  if (r.offset + 1 < raw.length && raw[r.offset] === 0x00) {
    if (raw[r.offset + 1] !== 0x01) {
      throw new TxParseError(`unknown witness flag 0x${raw[r.offset + 1].toString(16)}`);
    }
    hasWitness = true;
    r.offset += 2;
  }
  const bodyStart = r.offset;
  const inCount = r.varint();
  if (inCount === 0) throw new TxParseError("transaction has no inputs");
  const ins: {
    prevTxid: Uint8Array;
    prevIndex: number;
    scriptSig: Uint8Array;
    sequence: number;
  }[] = [];
  for (let i = 0; i < inCount; i++) {
    r.need(36, `input ${i} outpoint`);
    const prevTxid = r.bytes(32, `input ${i} prevout`);
    const prevIndex = r.u32(`input ${i} index`);
    const scriptSig = r.bytes(r.varint(), `input ${i} scriptSig`);
    const sequence = r.u32(`input ${i} sequence`);
    ins.push({ prevTxid, prevIndex, scriptSig, sequence });
  }
  const outCount = r.varint();
  const outputs: TxOutput[] = [];
  for (let i = 0; i < outCount; i++) {
    const value = r.u64(`output ${i} value`);
    outputs.push({ value, script: r.bytes(r.varint(), `output ${i} script`) });
  }
  const bodyEnd = r.offset;
  const witnesses: Uint8Array[][] = [];
  if (hasWitness) {
    let any = false;
    for (let i = 0; i < inCount; i++) {
      const items: Uint8Array[] = [];
      const n = r.varint();
      for (let j = 0; j < n; j++) items.push(r.bytes(r.varint(), `input ${i} witness item ${j}`));
      if (n > 0) any = true;
      witnesses.push(items);
    }
    // BIP144: the extended form is only for transactions that carry witness data.
    if (!any) throw new TxParseError("witness flag set but every witness is empty");
  }
  const lockTime = r.u32("locktime");
  return {
    version,
    inputs: ins.map((input, i) => ({ ...input, witness: witnesses[i] ?? [] })),
    outputs,
    lockTime,
    hasWitness,
    size: r.offset - offset,
    bodyStart: bodyStart - offset,
    bodyEnd: bodyEnd - offset,
  };
}

/**
 * The legacy serialization of `raw` (marker, flag and witnesses removed), what the txid hashes.
 * Returns `raw` itself when it carries no witness.
 */
export function stripWitness(raw: Uint8Array): Uint8Array {
  const tx = parseTx(raw);
  if (tx.size !== raw.length) {
    throw new TxParseError(`${raw.length - tx.size} unexpected bytes after the transaction`);
  }
  if (!tx.hasWitness) return raw;
  const body = tx.bodyEnd - tx.bodyStart;
  const out = new Uint8Array(4 + body + 4);
  out.set(raw.subarray(0, 4));
  out.set(raw.subarray(tx.bodyStart, tx.bodyEnd), 4);
  out.set(raw.subarray(tx.size - 4, tx.size), 4 + body);
  return out;
}

/** Transaction id (sha256d of the witness-stripped form), internal byte order. */
export function txid(raw: Uint8Array): Uint8Array {
  return sha256d(stripWitness(raw));
}

/**
 * Witness transaction id (sha256d of the full serialization), internal byte order. Equals the
 * txid for a tx without witness. (BIP141 defines a coinbase's wtxid as zero for the commitment;
 * that substitution is the caller's.)
 */
export function wtxid(raw: Uint8Array): Uint8Array {
  return sha256d(raw);
}
