/**
 * The coinbase transaction: the payout split (miner, pool fee, operator donation), the coinb1/
 * coinb2 halves around the miner's extranonce, and the BIP141 witness form.
 *
 * @module
 */

import { concatBytes, equalBytes } from "./hex.ts";
import { merkleRoot } from "./merkle.ts";
import { bip34HeightPush } from "./script.ts";
import { sha256d64Into } from "./sha256.ts";
import { parseTx, varIntSize, writeVarInt } from "./tx.ts";

/** One output of a coinbase payout, with the role it plays in the split. */
export interface PayoutOutput {
  /** scriptPubKey bytes. */
  readonly script: Uint8Array;
  /** Value in satoshis. */
  readonly value: bigint;
  /** Why the output is there. */
  readonly role: "miner" | "pool-fee" | "donation";
}

/** Inputs of `splitPayout`. */
export interface PayoutSplitOptions {
  /** Template `coinbasevalue` (subsidy + fees), satoshis. */
  readonly coinbaseValue: bigint;
  /** Script of the miner (the worker's address). */
  readonly minerScript: Uint8Array;
  /** Script of the pool operator; without it there is no fee. */
  readonly poolScript?: Uint8Array;
  /** Pool fee as a percentage of the coinbase value, 0 ≤ fee < 100. */
  readonly poolFeePercent: number;
  /** Script that receives the operator's donation; without it there is no donation. */
  readonly donationScript?: Uint8Array;
  /** Donation as a percentage OF THE POOL FEE, 0..100. */
  readonly donationPercent?: number;
}

/** Micro-percent scale: percentages are honoured to 6 decimal places. */
const PERCENT_SCALE = 100_000_000n;

/** round(value × percent / 100), halves rounding up, exact in integers (percent to 1e-6). */
export function percentOf(value: bigint, percent: number): bigint {
  if (!Number.isFinite(percent) || percent < 0) {
    throw new RangeError(`percentage must be a finite number ≥ 0, got ${percent}`);
  }
  const micro = BigInt(Math.round(percent * 1_000_000));
  return (value * micro + PERCENT_SCALE / 2n) / PERCENT_SCALE;
}

/**
 * Splits the coinbase value: fee = round(value × fee%) to the pool, donation = round(fee × don%)
 * of that fee to the donation script, the rest to the miner. The outputs sum exactly to
 * `coinbaseValue`, zero-value outputs are left out, and they are sorted by value, largest first
 * (stable: miner, pool fee, donation). When the miner's script is the pool's, one output pays the
 * whole value (there is no fee to take from oneself, and so no donation).
 */
export function splitPayout(options: PayoutSplitOptions): PayoutOutput[] {
  const { coinbaseValue, minerScript, poolScript, poolFeePercent, donationScript } = options;
  const donationPercent = options.donationPercent ?? 0;
  if (coinbaseValue < 0n) throw new RangeError("coinbase value must not be negative");
  if (!(poolFeePercent >= 0 && poolFeePercent < 100)) {
    throw new RangeError(
      `pool fee must be at least 0 and below 100 percent, got ${poolFeePercent}`,
    );
  }
  if (!(donationPercent >= 0 && donationPercent <= 100)) {
    throw new RangeError(`donation must be 0 to 100 percent of the fee, got ${donationPercent}`);
  }
  if (poolScript === undefined || poolFeePercent === 0 || equalBytes(minerScript, poolScript)) {
    return [{ script: minerScript, value: coinbaseValue, role: "miner" }];
  }
  const fee = percentOf(coinbaseValue, poolFeePercent);
  const donation = donationScript === undefined ? 0n : percentOf(fee, donationPercent);
  const all: PayoutOutput[] = [
    { script: minerScript, value: coinbaseValue - fee, role: "miner" },
    { script: poolScript, value: fee - donation, role: "pool-fee" },
  ];
  if (donationScript !== undefined) {
    all.push({ script: donationScript, value: donation, role: "donation" });
  }
  const paid = all.filter((o) => o.value > 0n);
  // A coinbase needs an output even when there is nothing to pay (a subsidy-free, fee-free block).
  if (paid.length === 0) return [{ script: minerScript, value: 0n, role: "miner" }];
  return paid.sort((a, b) => (a.value === b.value ? 0 : a.value > b.value ? -1 : 1));
}

/** Inputs of `buildCoinbaseParts`. */
export interface CoinbasePartsOptions {
  /** Height of the block (BIP34). */
  readonly height: number;
  /** Payout outputs in order (see `splitPayout`). */
  readonly payouts: readonly PayoutOutput[];
  /** Full scriptPubKey from GBT `default_witness_commitment`; its output goes first. */
  readonly witnessCommitment?: Uint8Array;
  /** Pool tag; pushed last in the scriptSig and cut short to keep the scriptSig ≤ the limit. */
  readonly tag: Uint8Array;
  /** Raw `coinbaseaux.flags` bytes, placed right after the height push. */
  readonly auxFlags?: Uint8Array;
  /** Bytes of extranonce1 (the pool's per-connection part). */
  readonly extranonce1Size: number;
  /** Bytes of extranonce2 (the miner's part). */
  readonly extranonce2Size: number;
  /** Transaction version; default 2 (as Bitcoin Core). */
  readonly version?: number;
  /** Input nSequence; default 0xfffffffe (non-final, as BIP54 asks of coinbases). */
  readonly sequence?: number;
  /** nLockTime; default height − 1 (BIP54; final in this block, unique per height). */
  readonly lockTime?: number;
  /** scriptSig size limit; default 100 (consensus allows 2..100). */
  readonly maxScriptSigSize?: number;
}

/** The coinbase halves around the extranonces. */
export interface CoinbaseHalves {
  /** Bytes up to, not including, extranonce1. */
  readonly coinb1: Uint8Array;
  /** Bytes right after extranonce2. */
  readonly coinb2: Uint8Array;
  /** How many bytes of the tag made it into the scriptSig. */
  readonly tagBytesUsed: number;
}

/** Serialized size of one output. */
function outputSize(script: Uint8Array): number {
  return 8 + varIntSize(script.length) + script.length;
}

function writeOutput(out: Uint8Array, off: number, value: bigint, script: Uint8Array): number {
  if (value < 0n || value > 0x7fffffffffffffffn) throw new RangeError("output value out of range");
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setBigUint64(off, value, true);
  off = writeVarInt(script.length, out, off + 8);
  out.set(script, off);
  return off + script.length;
}

function writeU32(out: Uint8Array, off: number, v: number): number {
  out[off] = v;
  out[off + 1] = v >>> 8;
  out[off + 2] = v >>> 16;
  out[off + 3] = v >>> 24;
  return off + 4;
}

/**
 * Builds coinb1 and coinb2 such that `coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2` is the legacy
 * (witness-free) serialization of the coinbase: one null-prevout input whose scriptSig is
 * `BIP34 height ‖ aux flags ‖ push(extranonce1 ‖ extranonce2) ‖ push(tag)`, then the witness
 * commitment output (when given) and the payouts.
 */
export function buildCoinbaseParts(options: CoinbasePartsOptions): CoinbaseHalves {
  const { height, payouts, witnessCommitment, tag, extranonce1Size, extranonce2Size } = options;
  const auxFlags = options.auxFlags ?? new Uint8Array(0);
  const maxScriptSig = options.maxScriptSigSize ?? 100;
  const version = options.version ?? 2;
  const sequence = options.sequence ?? 0xfffffffe;
  const lockTime = options.lockTime ?? Math.max(0, height - 1);
  const extranonceSize = extranonce1Size + extranonce2Size;
  if (
    !Number.isInteger(extranonce1Size) || !Number.isInteger(extranonce2Size) ||
    extranonce1Size < 0 || extranonce2Size < 0 || extranonceSize > 75
  ) {
    throw new RangeError("extranonce sizes must be integers ≥ 0 that add up to at most 75 bytes");
  }
  if (payouts.length === 0 && witnessCommitment === undefined) {
    throw new RangeError("a coinbase needs at least one output");
  }
  const heightPush = bip34HeightPush(height);
  // Height, flags and the extranonce push are required; the tag gets what room is left.
  const fixed = heightPush.length + auxFlags.length + 1 + extranonceSize;
  if (fixed > maxScriptSig) {
    throw new RangeError(
      `scriptSig needs ${fixed} bytes before the tag, over the ${maxScriptSig}-byte limit`,
    );
  }
  const room = maxScriptSig - fixed - 1; // one byte for the tag's push opcode
  const tagBytesUsed = tag.length === 0 || room <= 0 ? 0 : Math.min(tag.length, room, 75);
  const tagPart = tagBytesUsed === 0 ? 0 : 1 + tagBytesUsed;
  const scriptSigSize = fixed + tagPart;
  if (scriptSigSize < 2) throw new RangeError("scriptSig must be at least 2 bytes");

  const coinb1Size = 4 + 1 + 36 + varIntSize(scriptSigSize) + heightPush.length +
    auxFlags.length + 1;
  const coinb1 = new Uint8Array(coinb1Size);
  let off = writeU32(coinb1, 0, version);
  coinb1[off++] = 1; // one input
  off += 32; // null prevout hash
  off = writeU32(coinb1, off, 0xffffffff); // null prevout index
  off = writeVarInt(scriptSigSize, coinb1, off);
  coinb1.set(heightPush, off);
  off += heightPush.length;
  coinb1.set(auxFlags, off);
  off += auxFlags.length;
  coinb1[off] = extranonceSize; // direct push (0 would read as OP_0: an empty push, still fine)

  const outputs: { value: bigint; script: Uint8Array }[] = [];
  if (witnessCommitment !== undefined) outputs.push({ value: 0n, script: witnessCommitment });
  for (const p of payouts) outputs.push(p);
  let coinb2Size = tagPart + 4 + varIntSize(outputs.length) + 4;
  for (const o of outputs) coinb2Size += outputSize(o.script);
  const coinb2 = new Uint8Array(coinb2Size);
  off = 0;
  if (tagBytesUsed > 0) {
    coinb2[off++] = tagBytesUsed;
    coinb2.set(tag.subarray(0, tagBytesUsed), off);
    off += tagBytesUsed;
  }
  off = writeU32(coinb2, off, sequence);
  off = writeVarInt(outputs.length, coinb2, off);
  for (const o of outputs) off = writeOutput(coinb2, off, o.value, o.script);
  writeU32(coinb2, off, lockTime);
  return { coinb1, coinb2, tagBytesUsed };
}

/** `coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2`: the legacy coinbase a miner's share commits to. */
export function joinCoinbase(
  coinb1: Uint8Array,
  extranonce1: Uint8Array,
  extranonce2: Uint8Array,
  coinb2: Uint8Array,
): Uint8Array {
  return concatBytes(coinb1, extranonce1, extranonce2, coinb2);
}

/**
 * The BIP141 serialization of a legacy coinbase: marker and flag added, and its one input given
 * the witness reserved value (a single 32-byte zero item), so a block never relies on the node to
 * add it. Only for templates with `default_witness_commitment`.
 */
export function coinbaseWithWitness(legacyCoinbase: Uint8Array): Uint8Array {
  const tx = parseTx(legacyCoinbase);
  if (tx.hasWitness) throw new RangeError("coinbase already has a witness");
  if (tx.size !== legacyCoinbase.length) throw new RangeError("trailing bytes after the coinbase");
  if (tx.inputs.length !== 1) throw new RangeError("a coinbase has exactly one input");
  const body = legacyCoinbase.subarray(4, tx.size - 4);
  const out = new Uint8Array(legacyCoinbase.length + 2 + 34);
  out.set(legacyCoinbase.subarray(0, 4), 0);
  out[4] = 0x00; // marker
  out[5] = 0x01; // flag
  out.set(body, 6);
  let off = 6 + body.length;
  out[off++] = 1; // one stack item
  out[off++] = 32; // of 32 bytes, all zero: the witness reserved value
  off += 32;
  out.set(legacyCoinbase.subarray(tx.size - 4), off);
  return out;
}

/** BIP141 commitment header: OP_RETURN, push 36, then 0xaa21a9ed. */
const COMMITMENT_PREFIX = Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed);

/** True when `script` is a BIP141 witness commitment (its header and at least the 32-byte root). */
export function isWitnessCommitment(script: Uint8Array): boolean {
  return script.length >= 38 &&
    equalBytes(script.subarray(0, COMMITMENT_PREFIX.length), COMMITMENT_PREFIX);
}

/**
 * The BIP141 witness commitment output script for a block whose non-coinbase transactions have
 * these wtxids (internal order, block order): `OP_RETURN aa21a9ed ‖ sha256d(witness root ‖ 32 zero
 * bytes)`, the coinbase's wtxid counting as zero. GBT's `default_witness_commitment` is the same.
 */
export function witnessCommitmentScript(wtxids: readonly Uint8Array[]): Uint8Array {
  const root = merkleRoot([new Uint8Array(32), ...wtxids]);
  const script = new Uint8Array(38);
  script.set(COMMITMENT_PREFIX);
  sha256d64Into(root, new Uint8Array(32), script, 6);
  return script;
}
