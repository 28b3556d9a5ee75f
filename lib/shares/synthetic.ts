/**
 * Deterministic synthetic work for calibrating and benchmarking the share checker (and for its
 * tests): a job and coinbase parts of a chosen shape, and random shares on them, all from a seed.
 * The bytes are random, not valid transactions; the hashing path does not care.
 *
 * @module
 */

import type { CoinbaseParts, Job, ShareInput } from "../pool/mod.ts";

/** A seeded pseudo-random source (mulberry32): same seed, same sequence. */
export class SeededRandom {
  #state: number;

  /** A source seeded with `seed` (any 32-bit integer). */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.nextU32() & 0xff;
    return out;
  }

  /** A random bigint below 2^bits. */
  bigint(bits: number): bigint {
    let v = 0n;
    for (let i = 0; i < bits; i += 32) v = (v << 32n) | BigInt(this.nextU32());
    return BigInt.asUintN(bits, v);
  }
}

/** The shape of synthetic work. */
export interface SyntheticShape {
  /** Merkle branch steps (12 for a ~3,000-tx mainnet block, 0 for an empty regtest block). */
  readonly branchSteps: number;
  /** Coinbase length without extranonces (about 200 for mainnet with a witness commitment). */
  readonly coinbaseBytes: number;
  /** extranonce1 length. */
  readonly extranonce1Bytes: number;
  /** extranonce2 length. */
  readonly extranonce2Bytes: number;
}

/** A mainnet-shaped job: ~3,000 transactions (12-step branch), a ~200-byte coinbase. */
export const MAINNET_SHAPE: SyntheticShape = {
  branchSteps: 12,
  coinbaseBytes: 200,
  extranonce1Bytes: 4,
  extranonce2Bytes: 8,
};

/** A regtest-shaped job: no transactions besides the coinbase (empty branch). */
export const REGTEST_SHAPE: SyntheticShape = {
  branchSteps: 0,
  coinbaseBytes: 120,
  extranonce1Bytes: 4,
  extranonce2Bytes: 8,
};

let nextSyntheticId = 0x7f000000;

/** A job and the coinbase parts shares on it are made with. */
export interface SyntheticWork {
  /** The job. */
  readonly job: Job;
  /** Coinbase parts for the job. */
  readonly coinbase: CoinbaseParts;
}

/**
 * A job of `shape` with random prevhash, branch and coinbase halves. `seq` and `key` come from a
 * private counter far above the ones a JobManager hands out, unless `seq` is given.
 */
export function syntheticWork(
  shape: SyntheticShape,
  random: SeededRandom,
  options: { seq?: number; networkTarget?: bigint } = {},
): SyntheticWork {
  const seq = options.seq ?? nextSyntheticId++;
  const coinb1 = random.bytes(Math.ceil(shape.coinbaseBytes * 0.55));
  const coinb2 = random.bytes(shape.coinbaseBytes - coinb1.length);
  const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const coinbase: CoinbaseParts = {
    key: nextSyntheticId++,
    coinb1,
    coinb2,
    coinb1Hex: toHex(coinb1),
    coinb2Hex: toHex(coinb2),
    outputs: [],
  };
  const merkleBranch = Array.from({ length: shape.branchSteps }, () => random.bytes(32));
  const prevhash = random.bytes(32);
  const bits = 0x17034219;
  const job: Job = {
    seq,
    id: seq.toString(16),
    height: 900_000,
    prevhash,
    prevhashStratum: toHex(prevhash),
    version: 0x20000000,
    bits,
    bitsHex: bits.toString(16).padStart(8, "0"),
    curtime: 1_750_000_000,
    mintime: 1_749_999_000,
    networkTarget: options.networkTarget ?? (0x034219n << (8n * (0x17n - 3n))),
    merkleBranch,
    merkleBranchHex: merkleBranch.map(toHex),
    clean: true,
    createdAt: 0,
    coinbaseValue: 312_500_000n,
    txCount: shape.branchSteps === 0 ? 0 : 2 ** shape.branchSteps - 1,
    versionMask: 0x1fffe000,
    coinbaseFor: () => coinbase,
  };
  return { job, coinbase };
}

/** A random share on a job of `shape`, with `shareTarget` (default: difficulty 1). */
export function syntheticShare(
  shape: SyntheticShape,
  random: SeededRandom,
  shareTarget = 0xffffn << 208n,
): ShareInput {
  return {
    extranonce1: random.bytes(shape.extranonce1Bytes),
    extranonce2: random.bytes(shape.extranonce2Bytes),
    ntime: 1_750_000_000 + (random.nextU32() & 0xfff),
    nonce: random.nextU32(),
    version: 0x20000000 | (random.nextU32() & 0x1fffe000),
    shareTarget,
  };
}
