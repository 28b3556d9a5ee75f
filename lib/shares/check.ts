/**
 * The per-share check on one thread: coinbase = coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2 →
 * sha256d (txid) → fold the merkle branch → 80-byte header → sha256d → difficulty and both exact
 * 256-bit target compares. Two backends: "ts" (the project's TypeScript SHA-256, synchronous and
 * allocation-free per share) and "webcrypto" (`crypto.subtle`, asynchronous).
 *
 * Jobs and coinbases are prepared once (`prepareJob`, `prepareCoinbase`). A coinbase keeps the
 * SHA-256 midstate of coinb1's whole 64-byte blocks and the rest of the message already padded and
 * converted to big-endian words, so a share only rewrites the few words its extranonces touch and
 * compresses the tail blocks. From there the TypeScript path stays in words: the txid, the merkle
 * fold (`sha256d64Words`, the job's branch pre-converted) and the 80-byte header (`sha256dHeaderWords`;
 * version, ntime and nonce are stored little-endian in the share record, which read as big-endian
 * words are exactly the header's words), and converts to bytes once, for the verdict. A header
 * midstate is of no use here: the merkle root sits in the header's first 64 bytes and changes with
 * every extranonce2. Shares and verdicts use the binary records of `record.ts`.
 *
 * @module
 */

import { buildHeader } from "../bitcoin/mod.ts";
import {
  readWordsBE,
  Sha256,
  sha256d64Words,
  sha256dFromMidstateWords,
  sha256dHeaderWords,
  sha256dInto,
  writeWordsBE,
} from "../bitcoin/mod.ts";
import { hashMeetsTarget, hashToDifficulty, MAX_TARGET, targetToBytesLE } from "../bitcoin/mod.ts";
import type { CoinbaseParts, Job, ShareChecker, ShareInput, ShareVerdict } from "../pool/mod.ts";
import {
  FLAG_NETWORK,
  FLAG_SHARE,
  readVerdict,
  SHARE_HEADER_BYTES,
  SHARE_TARGET_OFFSET,
  shareRecordBytes,
  VERDICT_BYTES,
  VERDICT_DIFFICULTY_OFFSET,
  VERDICT_FLAGS_OFFSET,
  writeShareRecord,
} from "./record.ts";

/** Which SHA-256 implementation hashes shares. */
export type HashBackend = "ts" | "webcrypto";

/** What a share checker needs from a job, in a form that can be posted to a worker. */
export interface JobSpec {
  /** The job's `seq`. */
  readonly seq: number;
  /** Previous block hash, internal byte order (32 bytes). */
  readonly prevhash: Uint8Array;
  /** Compact target (header `bits`). */
  readonly bits: number;
  /** Network target as 32 little-endian bytes (internal hash order). */
  readonly networkTarget: Uint8Array;
  /** Merkle branch, the 32-byte steps concatenated, internal byte order. */
  readonly merkleBranch: Uint8Array;
}

/** What a share checker needs from coinbase parts, in a form that can be posted to a worker. */
export interface CoinbaseSpec {
  /** The parts' `key`. */
  readonly key: number;
  /** Bytes before extranonce1. */
  readonly coinb1: Uint8Array;
  /** Bytes after extranonce2. */
  readonly coinb2: Uint8Array;
}

/** The `JobSpec` of `job`. */
export function jobSpecOf(job: Job): JobSpec {
  const branch = new Uint8Array(job.merkleBranch.length * 32);
  job.merkleBranch.forEach((step, i) => {
    if (step.length !== 32) throw new RangeError(`merkle branch step ${i} is not 32 bytes`);
    branch.set(step, i * 32);
  });
  if (job.prevhash.length !== 32) throw new RangeError("prevhash is not 32 bytes");
  return {
    seq: job.seq,
    prevhash: job.prevhash,
    bits: job.bits,
    networkTarget: targetToBytesLE(job.networkTarget),
    merkleBranch: branch,
  };
}

/** The `CoinbaseSpec` of `parts`. */
export function coinbaseSpecOf(parts: CoinbaseParts): CoinbaseSpec {
  return { key: parts.key, coinb1: parts.coinb1, coinb2: parts.coinb2 };
}

/** A job ready for hashing. */
export interface PreparedJob {
  /** The job's `seq`. */
  readonly seq: number;
  /** Previous block hash, internal byte order. */
  readonly prevhash: Uint8Array;
  /** Compact target. */
  readonly bits: number;
  /** Merkle branch steps (views into one buffer). */
  readonly branch: readonly Uint8Array[];
  /** Network target, 32 little-endian bytes. */
  readonly networkTarget: Uint8Array;
  /** The merkle branch as big-endian words, 8 per step. */
  readonly branchWords: Int32Array;
  /** The prevhash as the header's words 1..8. */
  readonly prevhashWords: Int32Array;
  /** `bits` as the header's word 18 (its little-endian bytes read big-endian). */
  readonly bitsWord: number;
}

/** Reverses the byte order of a 32-bit word. */
function byteSwap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/** Prepares `spec` for hashing. */
export function prepareJob(spec: JobSpec): PreparedJob {
  if (spec.merkleBranch.length % 32 !== 0) throw new RangeError("merkle branch length not 32·n");
  if (spec.networkTarget.length !== 32) throw new RangeError("network target is not 32 bytes");
  if (spec.prevhash.length !== 32) throw new RangeError("prevhash is not 32 bytes");
  // Own copy: the spec's buffer may be transferred or reused by its sender.
  const steps = spec.merkleBranch.slice();
  const branch: Uint8Array[] = [];
  for (let off = 0; off < steps.length; off += 32) branch.push(steps.subarray(off, off + 32));
  return {
    seq: spec.seq,
    prevhash: spec.prevhash.slice(),
    bits: spec.bits,
    branch,
    networkTarget: spec.networkTarget.slice(),
    branchWords: readWordsBE(steps, 0, steps.length / 4, new Int32Array(steps.length / 4)),
    prevhashWords: readWordsBE(spec.prevhash, 0, 8, new Int32Array(8)),
    bitsWord: byteSwap32(spec.bits),
  };
}

/**
 * Coinbase parts ready for hashing: one buffer `coinb1 ‖ en1 ‖ en2 ‖ coinb2` sized for the
 * extranonce lengths last seen (they are fixed per connection and almost always per pool), the
 * SHA-256 midstate after coinb1's whole 64-byte blocks, and the message after the midstate
 * padded and as big-endian words (`tailWords`), of which a share rewrites only the words its
 * extranonces touch (`wordsFrom` up to `wordsTo`).
 */
export class PreparedCoinbase {
  /** The parts' `key`. */
  readonly key: number;
  /** Bytes before extranonce1. */
  readonly coinb1: Uint8Array;
  /** Bytes after extranonce2. */
  readonly coinb2: Uint8Array;
  /** SHA-256 state after the first `midstateBytes` bytes of coinb1. */
  readonly midstate: Sha256;
  /** How many leading bytes of coinb1 `midstate` has absorbed (a multiple of 64). */
  readonly midstateBytes: number;
  /** The whole coinbase for the current extranonce lengths. */
  buffer: Uint8Array = new Uint8Array(0);
  /** The part of `buffer` after the midstate. */
  tail: Uint8Array = new Uint8Array(0);
  /** The tail with SHA-256 padding (a multiple of 64 bytes). */
  paddedTail: Uint8Array = new Uint8Array(0);
  /** `paddedTail` as big-endian words (16 per block). */
  tailWords: Int32Array = new Int32Array(0);
  /** First word of `tailWords` an extranonce byte falls in. */
  wordsFrom = 0;
  /** One past the last such word. */
  wordsTo = 0;
  #en1Len = -1;
  #en2Len = -1;

  /** Prepares `spec`. */
  constructor(spec: CoinbaseSpec) {
    this.key = spec.key;
    this.coinb1 = spec.coinb1.slice();
    this.coinb2 = spec.coinb2.slice();
    this.midstateBytes = this.coinb1.length - (this.coinb1.length & 63);
    this.midstate = new Sha256().update(this.coinb1.subarray(0, this.midstateBytes));
  }

  /** Sizes `buffer` and the padded tail for the extranonce lengths (a no-op when unchanged). */
  fit(en1Len: number, en2Len: number): Uint8Array {
    if (en1Len !== this.#en1Len || en2Len !== this.#en2Len) {
      const len1 = this.coinb1.length;
      const total = len1 + en1Len + en2Len + this.coinb2.length;
      const buffer = new Uint8Array(total);
      buffer.set(this.coinb1, 0);
      buffer.set(this.coinb2, len1 + en1Len + en2Len);
      this.buffer = buffer;
      this.tail = buffer.subarray(this.midstateBytes);
      const tailLen = total - this.midstateBytes;
      const padded = new Uint8Array((tailLen + 9 + 63) & ~63);
      padded.set(this.tail);
      padded[tailLen] = 0x80;
      const bits = total * 8;
      const view = new DataView(padded.buffer);
      view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
      view.setUint32(padded.length - 4, bits >>> 0);
      this.paddedTail = padded;
      this.tailWords = readWordsBE(padded, 0, padded.length / 4, new Int32Array(padded.length / 4));
      const enStart = len1 - this.midstateBytes;
      this.wordsFrom = enStart >> 2;
      this.wordsTo = (enStart + en1Len + en2Len + 3) >> 2;
      this.#en1Len = en1Len;
      this.#en2Len = en2Len;
    }
    return this.buffer;
  }
}

/** Prepares `spec` for hashing. */
export function prepareCoinbase(spec: CoinbaseSpec): PreparedCoinbase {
  return new PreparedCoinbase(spec);
}

/** Reads a little-endian uint32. */
function readU32LE(data: Uint8Array, offset: number): number {
  return (data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) |
    (data[offset + 3] << 24)) >>> 0;
}

/** Copies the extranonces of the share record at `offset` into the coinbase buffer. */
function fillCoinbase(cb: PreparedCoinbase, record: Uint8Array, offset: number): Uint8Array {
  const en1Len = record[offset + 20];
  const en2Len = record[offset + 21];
  const buffer = cb.fit(en1Len, en2Len);
  const src = offset + SHARE_HEADER_BYTES;
  const dst = cb.coinb1.length;
  const n = en1Len + en2Len;
  for (let i = 0; i < n; i++) buffer[dst + i] = record[src + i];
  return buffer;
}

/**
 * Writes the extranonces of the share record at `offset` into the padded tail of `cb` (sized by a
 * `fit` for this record's lengths) and refreshes the tail words they touch.
 */
function fillTailWords(cb: PreparedCoinbase, record: Uint8Array, offset: number): void {
  const padded = cb.paddedTail;
  const src = offset + SHARE_HEADER_BYTES;
  const dst = cb.coinb1.length - cb.midstateBytes;
  const n = record[offset + 20] + record[offset + 21];
  for (let i = 0; i < n; i++) padded[dst + i] = record[src + i];
  const from = cb.wordsFrom;
  readWordsBE(padded, from * 4, cb.wordsTo - from, cb.tailWords, from);
}

/**
 * Fills the verdict record at `outOffset` from `hash` (32 bytes): the hash itself, its difficulty
 * and the two exact target compares. `shareTarget` is scratch for the record's target bytes.
 */
function writeVerdict(
  job: PreparedJob,
  hash: Uint8Array,
  shareTarget: Uint8Array,
  record: Uint8Array,
  offset: number,
  out: Uint8Array,
  outView: DataView,
  outOffset: number,
): void {
  const from = offset + SHARE_TARGET_OFFSET;
  for (let i = 0; i < 32; i++) shareTarget[i] = record[from + i];
  let flags = 0;
  if (hashMeetsTarget(hash, shareTarget)) flags |= FLAG_SHARE;
  if (hashMeetsTarget(hash, job.networkTarget)) flags |= FLAG_NETWORK;
  out.set(hash, outOffset);
  outView.setFloat64(outOffset + VERDICT_DIFFICULTY_OFFSET, hashToDifficulty(hash), true);
  out[outOffset + VERDICT_FLAGS_OFFSET] = flags;
}

/**
 * Hashes shares on the current thread. One instance per thread: it owns the scratch state the
 * synchronous path reuses for every share.
 */
export class ShareHasher {
  readonly #root = new Uint8Array(32);
  readonly #header = new Uint8Array(80);
  readonly #hash = new Uint8Array(32);
  readonly #shareTarget = new Uint8Array(32);
  /** The txid, then each merkle node, as words, followed by the branch step (16 words). */
  readonly #node = new Int32Array(16);
  /** The 80-byte header as 20 words, and its hash. */
  readonly #headerWords = new Int32Array(20);
  readonly #hashWords = new Int32Array(8);
  /** Whether the coinbase txid starts from coinb1's midstate (else hashes the whole buffer). */
  useMidstate: boolean;

  /** A hasher; `useMidstate` picks the coinbase hashing strategy (see `bench/hash.ts`). */
  constructor(useMidstate = true) {
    this.useMidstate = useMidstate;
  }

  /**
   * Checks the share record at `offset` of `record` on `job` with `cb` (both must be the ones
   * the record names) with the TypeScript SHA-256, writing the verdict record into `out` at
   * `outOffset`. Allocates nothing (once `cb` has seen the record's extranonce lengths).
   */
  checkTs(
    job: PreparedJob,
    cb: PreparedCoinbase,
    record: Uint8Array,
    offset: number,
    out: Uint8Array,
    outView: DataView,
    outOffset: number,
  ): void {
    const node = this.#node;
    const coinbase = fillCoinbase(cb, record, offset);
    if (this.useMidstate) {
      // txid: the tail blocks from coinb1's midstate, then the second hash, all in words.
      fillTailWords(cb, record, offset);
      sha256dFromMidstateWords(cb.midstate.state, cb.tailWords, node, 0);
    } else {
      sha256dInto(coinbase, this.#root, 0);
      readWordsBE(this.#root, 0, 8, node, 0);
    }
    // Merkle fold: node = sha256d(node ‖ step), in place.
    const branch = job.branchWords;
    for (let o = 0; o < branch.length; o += 8) {
      for (let i = 0; i < 8; i++) node[8 + i] = branch[o + i];
      sha256d64Words(node, 0, node, 0);
    }
    // Header words: version, prevhash, root, ntime, bits, nonce.
    const header = this.#headerWords;
    readWordsBE(record, offset + 8, 1, header, 0);
    header.set(job.prevhashWords, 1);
    for (let i = 0; i < 8; i++) header[9 + i] = node[i];
    readWordsBE(record, offset + 12, 1, header, 17);
    header[18] = job.bitsWord;
    readWordsBE(record, offset + 16, 1, header, 19);
    sha256dHeaderWords(header, 0, this.#hashWords, 0);
    writeWordsBE(this.#hashWords, 0, 8, this.#hash, 0);
    writeVerdict(job, this.#hash, this.#shareTarget, record, offset, out, outView, outOffset);
  }

  /**
   * The same check through `crypto.subtle`. Safe to run many at once: WebCrypto copies its input
   * when called, so shared buffers are only written between awaits.
   */
  async checkWebCrypto(
    job: PreparedJob,
    cb: PreparedCoinbase,
    record: Uint8Array,
    offset: number,
    out: Uint8Array,
    outView: DataView,
    outOffset: number,
  ): Promise<void> {
    const subtle = crypto.subtle;
    const coinbase = fillCoinbase(cb, record, offset);
    let digest = await subtle.digest("SHA-256", coinbase as Uint8Array<ArrayBuffer>);
    digest = await subtle.digest("SHA-256", digest);
    const branch = job.branch;
    if (branch.length > 0) {
      const node = new Uint8Array(64);
      for (let i = 0; i < branch.length; i++) {
        node.set(new Uint8Array(digest), 0);
        node.set(branch[i], 32);
        digest = await subtle.digest("SHA-256", node);
        digest = await subtle.digest("SHA-256", digest);
      }
    }
    const header = buildHeader(
      readU32LE(record, offset + 8),
      job.prevhash,
      new Uint8Array(digest),
      readU32LE(record, offset + 12),
      job.bits,
      readU32LE(record, offset + 16),
      this.#header,
    );
    digest = await subtle.digest("SHA-256", header as Uint8Array<ArrayBuffer>);
    const hash = new Uint8Array(await subtle.digest("SHA-256", digest));
    writeVerdict(job, hash, this.#shareTarget, record, offset, out, outView, outOffset);
  }
}

/** Reads the job `seq` of the share record at `offset`. */
export function recordJobSeq(record: Uint8Array, offset: number): number {
  return readU32LE(record, offset);
}

/** Reads the coinbase `key` of the share record at `offset`. */
export function recordCoinbaseKey(record: Uint8Array, offset: number): number {
  return readU32LE(record, offset + 4);
}

/**
 * Encodes share targets into 32 little-endian bytes, remembering recent ones: a pool hands out a
 * few hundred distinct difficulties, so the bigint work is paid once per target, not per share.
 */
export class TargetCache {
  readonly #cache = new Map<bigint, Uint8Array>();
  readonly #limit: number;

  /** A cache of at most `limit` targets (cleared wholesale when full). */
  constructor(limit = 1024) {
    this.#limit = limit;
  }

  /** `target` as 32 little-endian bytes (do not modify the result). */
  get(target: bigint): Uint8Array {
    let bytes = this.#cache.get(target);
    if (bytes === undefined) {
      if (this.#cache.size >= this.#limit) this.#cache.clear();
      // Share targets above 2^256 − 1 (difficulty below diff1 / 2^32) are met by every hash.
      bytes = targetToBytesLE(target > MAX_TARGET ? MAX_TARGET : target < 0n ? 0n : target);
      this.#cache.set(target, bytes);
    }
    return bytes;
  }
}

/**
 * A `ShareChecker` that hashes on the calling thread: the reference path for tests and for
 * benchmarks, and a fallback where workers are not wanted. Prepared jobs and coinbases are kept
 * until `retireJob`.
 */
export class InlineShareChecker implements ShareChecker {
  /** The backend this checker hashes with. */
  readonly backend: HashBackend;
  readonly #hasher: ShareHasher;
  readonly #jobs = new Map<number, { job: PreparedJob; keys: number[] }>();
  readonly #coinbases = new Map<number, PreparedCoinbase>();
  readonly #targets = new TargetCache();
  #record = new Uint8Array(SHARE_HEADER_BYTES + 64);
  #recordView = new DataView(this.#record.buffer);
  readonly #verdict = new Uint8Array(VERDICT_BYTES);
  readonly #verdictView = new DataView(this.#verdict.buffer);

  /** A checker using `backend`; `useMidstate` as for `ShareHasher`. */
  constructor(backend: HashBackend = "ts", useMidstate = true) {
    this.backend = backend;
    this.#hasher = new ShareHasher(useMidstate);
  }

  /** Hashes one share of `job` with `coinbase` and judges it against both targets. */
  check(job: Job, coinbase: CoinbaseParts, share: ShareInput): Promise<ShareVerdict> {
    try {
      if (this.backend === "ts") return Promise.resolve(this.checkSync(job, coinbase, share));
      return this.#checkWebCrypto(job, coinbase, share);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The synchronous TypeScript check (ignores `backend`). */
  checkSync(job: Job, coinbase: CoinbaseParts, share: ShareInput): ShareVerdict {
    const [prepared, cb] = this.#prepare(job, coinbase);
    const size = shareRecordBytes(share);
    if (size > this.#record.length) {
      this.#record = new Uint8Array(size);
      this.#recordView = new DataView(this.#record.buffer);
    }
    const target = this.#targets.get(share.shareTarget);
    writeShareRecord(this.#record, this.#recordView, 0, job.seq, coinbase.key, share, target);
    this.#hasher.checkTs(prepared, cb, this.#record, 0, this.#verdict, this.#verdictView, 0);
    return readVerdict(this.#verdict, this.#verdictView, 0);
  }

  async #checkWebCrypto(
    job: Job,
    coinbase: CoinbaseParts,
    share: ShareInput,
  ): Promise<ShareVerdict> {
    const [prepared, cb] = this.#prepare(job, coinbase);
    const record = new Uint8Array(shareRecordBytes(share));
    const target = this.#targets.get(share.shareTarget);
    writeShareRecord(record, new DataView(record.buffer), 0, job.seq, coinbase.key, share, target);
    const out = new Uint8Array(VERDICT_BYTES);
    const outView = new DataView(out.buffer);
    await this.#hasher.checkWebCrypto(prepared, cb, record, 0, out, outView, 0);
    return readVerdict(out, outView, 0);
  }

  /** Forgets job `seq` and the coinbases used with it. */
  retireJob(seq: number): void {
    const entry = this.#jobs.get(seq);
    if (entry === undefined) return;
    this.#jobs.delete(seq);
    for (const key of entry.keys) this.#coinbases.delete(key);
  }

  #prepare(job: Job, coinbase: CoinbaseParts): [PreparedJob, PreparedCoinbase] {
    let entry = this.#jobs.get(job.seq);
    if (entry === undefined) {
      entry = { job: prepareJob(jobSpecOf(job)), keys: [] };
      this.#jobs.set(job.seq, entry);
    }
    let cb = this.#coinbases.get(coinbase.key);
    if (cb === undefined) {
      cb = prepareCoinbase(coinbaseSpecOf(coinbase));
      this.#coinbases.set(coinbase.key, cb);
      entry.keys.push(coinbase.key);
    }
    return [entry.job, cb];
  }
}
