/**
 * What a raw block (a ZMQ `rawblock` message) says about the chain tip: hash, BIP34 height, time,
 * bits and difficulty — read from the header and the coinbase without an RPC call.
 *
 * @module
 */

import { bytesToHex, reverseBytes } from "../bitcoin/mod.ts";
import { sha256d } from "../bitcoin/mod.ts";
import { bitsToTarget, targetToDifficulty } from "../bitcoin/mod.ts";

/** The tip facts read from one serialized block. */
export interface BlockTip {
  /** Block hash, RPC (reversed) hex. */
  readonly hash: string;
  /** Previous block hash, RPC (reversed) hex. */
  readonly prevhash: string;
  /** Height from the coinbase (BIP34); undefined when the coinbase does not start with one. */
  readonly height: number | undefined;
  /** Header version. */
  readonly version: number;
  /** Header time (Unix seconds). */
  readonly time: number;
  /** Compact target. */
  readonly bits: number;
  /** Compact target as 8 lowercase hex chars, as RPC shows it. */
  readonly bitsHex: string;
  /** Difficulty of the compact target (diff1 = 0x1d00ffff). */
  readonly difficulty: number;
  /** Size of the serialized block in bytes. */
  readonly size: number;
}

/** Thrown when bytes are not a block this parser understands. */
export class BlockTipError extends Error {
  /** Creates the error with a human reason. */
  constructor(reason: string) {
    super(`raw block: ${reason}`);
    this.name = "BlockTipError";
  }
}

/** Difficulty of compact `bits` for display; 0 when the encoding is invalid. */
export function bitsDifficulty(bits: number): number {
  try {
    return targetToDifficulty(bitsToTarget(bits));
  } catch {
    return 0;
  }
}

/** Reads the tip facts from a serialized block (header, then the coinbase's BIP34 height). */
export function parseBlockTip(raw: Uint8Array): BlockTip {
  if (raw.length < 80) throw new BlockTipError(`${raw.length} bytes, shorter than a header`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const header = raw.subarray(0, 80);
  const bits = view.getUint32(72, true);
  return {
    hash: bytesToHex(reverseBytes(sha256d(header))),
    prevhash: bytesToHex(reverseBytes(raw.subarray(4, 36))),
    height: raw.length > 80 ? coinbaseHeight(raw, view) : undefined,
    version: view.getInt32(0, true),
    time: view.getUint32(68, true),
    bits,
    bitsHex: bits.toString(16).padStart(8, "0"),
    difficulty: bitsDifficulty(bits),
    size: raw.length,
  };
}

/** The BIP34 height pushed first in the coinbase scriptSig, if there is one. */
function coinbaseHeight(raw: Uint8Array, view: DataView): number | undefined {
  let at = 80;
  const need = (n: number) => {
    if (at + n > raw.length) throw new BlockTipError("truncated coinbase");
  };
  const varint = (): number => {
    need(1);
    const first = raw[at++];
    if (first < 0xfd) return first;
    if (first === 0xfd) {
      need(2);
      at += 2;
      return view.getUint16(at - 2, true);
    }
    if (first === 0xfe) {
      need(4);
      at += 4;
      return view.getUint32(at - 4, true);
    }
    throw new BlockTipError("varint too large");
  };
  if (varint() === 0) throw new BlockTipError("block has no transactions");
  need(6);
  at += 4; // tx version
  if (raw[at] === 0 && raw[at + 1] === 1) at += 2; // segwit marker and flag
  if (varint() === 0) throw new BlockTipError("coinbase has no input");
  need(36);
  at += 36; // null prevout
  const scriptLength = varint();
  need(scriptLength);
  if (scriptLength === 0) return undefined;
  const op = raw[at];
  if (op === 0x00) return 0;
  if (op >= 0x51 && op <= 0x60) return op - 0x50; // OP_1 … OP_16
  if (op < 0x01 || op > 0x05 || op + 1 > scriptLength) return undefined;
  // Little-endian script number of `op` bytes; heights are positive, so the sign bit is clear.
  let height = 0;
  for (let i = op; i >= 1; i--) height = height * 256 + raw[at + i];
  return height;
}
