/**
 * Mining on a Stratum job in-process: the share search the tests, the miner command and its
 * hashing workers share. The coinbase is built from `coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2`,
 * the merkle root folded from the branch, the 80-byte header hashed over the nonces (then further
 * extranonce2 values, each with its own rolled version bits) until a hash meets the target. Enough
 * on regtest and in the tests, where targets are easy; `tools/miner.ts` spreads the same steps
 * over Web Workers.
 *
 * The Stratum client (`stratum/client.ts`) knows nothing of this: {@linkcode findShare} reads the
 * job, extranonce and difficulty it keeps, and the result is a `mining.submit` share. Only types
 * come from the client, so a hashing worker importing {@linkcode scanNonces} loads no socket code.
 *
 * @example
 * ```ts
 * import { findShareOnJob } from "./miner.ts";
 * const job = {
 *   jobId: "1",
 *   prevhash: "00".repeat(32),
 *   coinb1: "01000000",
 *   coinb2: "ffffffff",
 *   merkleBranch: [],
 *   version: 0x20000000,
 *   nbits: "207fffff",
 *   ntime: 1_700_000_000,
 *   clean: true,
 * };
 * const session = { extranonce1: "0000002a", extranonce2Size: 4, difficulty: 2 ** -16 };
 * const share = findShareOnJob(job, session, { maxNonces: 1 << 20 });
 * share?.nonce.length; // 8
 * // On a live connection: `const share = findShare(client);` then `client.submit(user, share)`.
 * ```
 *
 * @module
 */

import { hexToBytes } from "../lib/bitcoin/mod.ts";
import { buildHeader, HEADER_SIZE, prevhashFromStratum } from "../lib/bitcoin/mod.ts";
import { merkleRootFromBranch } from "../lib/bitcoin/mod.ts";
import { headerMidstate, sha256d, sha256dHeaderFromMidstateInto } from "../lib/bitcoin/mod.ts";
import { difficultyToTarget, hashMeetsTarget, targetToBytesLE } from "../lib/bitcoin/mod.ts";
import type { StratumClient, StratumJob, SubmitShare } from "./client.ts";

/** What mining on a job needs besides the job: the session's extranonce and targets. */
export interface MiningContext {
  /** Extranonce1, hex. */
  readonly extranonce1: string;
  /** Extranonce2 size in bytes. */
  readonly extranonce2Size: number;
  /** Share difficulty (`mining.set_difficulty`), used when no explicit target is given. */
  readonly difficulty?: number;
  /** Negotiated version-rolling mask. */
  readonly versionMask?: number;
}

/** How `findShare` searches. */
export interface ShareSearchOptions {
  /** Target the header hash must meet. Default: the target of the session's difficulty. */
  readonly target?: bigint;
  /** Most header hashes to try before giving up (returns undefined). Default 2^32. */
  readonly maxNonces?: number;
  /**
   * Roll version bits inside the negotiated mask: `true` picks non-zero rolled bits (a different
   * set per extranonce2), a number uses exactly those bits (they must lie inside the mask).
   */
  readonly rollVersionBits?: boolean | number;
  /** First extranonce2 as a counter (big-endian in the negotiated size). Default 0. */
  readonly extranonce2Start?: number;
  /** Header time. Default the job's ntime. */
  readonly ntime?: number;
  /** First nonce tried for each extranonce2. Default 0. */
  readonly startNonce?: number;
}

/** A share that meets the asked target: the submit fields plus what was hashed. */
export interface FoundShare extends SubmitShare {
  /** Full header version used (job version with rolled bits applied). */
  readonly version: number;
  /** The 80-byte header that was hashed. */
  readonly header: Uint8Array;
  /** sha256d of the header, internal byte order. */
  readonly hash: Uint8Array;
  /** The target it was searched against. */
  readonly target: bigint;
  /** How many headers were hashed to find it. */
  readonly hashes: number;
}

/** Lowercase 8-hex-char big-endian form of a uint32 (Stratum ntime, nonce, version). */
export function u32Hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}

/** Extranonce2 of `counter` in `size` bytes, big-endian hex (the counter wraps at the size). */
export function extranonce2Hex(counter: number, size: number): string {
  let hex = "";
  let n = BigInt(Math.max(0, Math.floor(counter)));
  for (let i = 0; i < size; i++) {
    hex = Number(n & 0xffn).toString(16).padStart(2, "0") + hex;
    n >>= 8n;
  }
  return hex;
}

/**
 * The `index`-th rolled bit pattern inside `mask`: the low bits of `index` deposited, in order,
 * into the mask's set bits (so index 1, 2, 3… give distinct non-zero patterns).
 */
export function versionBitsAt(index: number, mask: number): number {
  let bits = 0;
  let source = index >>> 0;
  for (let bit = 0; bit < 32 && source !== 0; bit++) {
    const maskBit = (1 << bit) >>> 0;
    if ((mask & maskBit) === 0) continue;
    if (source & 1) bits |= maskBit;
    source >>>= 1;
  }
  return bits >>> 0;
}

/**
 * The rolled version bits of the `unit`-th header (extranonce2 counter) under `mask`: a non-zero
 * pattern inside the mask, cycling through all of them ({@linkcode versionBitsAt} of
 * `1 + unit mod (2^bits − 1)`); 0 when the mask is 0.
 */
export function versionBitsForUnit(unit: number, mask: number): number {
  const patterns = 2 ** popcount(mask) - 1;
  return patterns === 0 ? 0 : versionBitsAt(1 + (unit % patterns), mask);
}

/** The header version a miner uses for `versionBits` (BIP310): job bits outside the mask kept. */
export function rolledVersion(jobVersion: number, mask: number, versionBits: number): number {
  return ((jobVersion & ~mask) | (versionBits & mask)) >>> 0;
}

/** A job decoded once for mining: the fixed bytes, ready for many extranonce2 values. */
export interface MiningJob {
  /** The Stratum job. */
  readonly job: StratumJob;
  /** Previous block hash, internal byte order. */
  readonly prevhash: Uint8Array;
  /** Compact target as a number. */
  readonly bits: number;
  /** Merkle branch, internal byte order. */
  readonly branch: readonly Uint8Array[];
  /** `coinb1 ‖ en1 ‖ en2 ‖ coinb2` with the extranonce2 bytes at `extranonce2Offset`. */
  readonly coinbase: Uint8Array;
  /** Where extranonce2 starts inside `coinbase`. */
  readonly extranonce2Offset: number;
  /** Extranonce2 size in bytes. */
  readonly extranonce2Size: number;
}

/** Decodes `job` for mining with this session's extranonce1 and extranonce2 size. */
export function prepareMiningJob(
  job: StratumJob,
  extranonce1: string,
  extranonce2Size: number,
): MiningJob {
  const coinb1 = hexToBytes(job.coinb1);
  const en1 = hexToBytes(extranonce1);
  const coinb2 = hexToBytes(job.coinb2);
  const coinbase = new Uint8Array(coinb1.length + en1.length + extranonce2Size + coinb2.length);
  coinbase.set(coinb1, 0);
  coinbase.set(en1, coinb1.length);
  coinbase.set(coinb2, coinb1.length + en1.length + extranonce2Size);
  return {
    job,
    prevhash: prevhashFromStratum(job.prevhash),
    bits: parseInt(job.nbits, 16) >>> 0,
    branch: job.merkleBranch.map(hexToBytes),
    coinbase,
    extranonce2Offset: coinb1.length + en1.length,
    extranonce2Size,
  };
}

/**
 * Writes the 80-byte header (nonce 0) for one extranonce2, version and ntime into `out`:
 * coinbase txid = sha256d(coinbase), merkle root folded from the branch.
 */
export function writeMiningHeader(
  work: MiningJob,
  extranonce2: string,
  version: number,
  ntime: number,
  out: Uint8Array = new Uint8Array(HEADER_SIZE),
): Uint8Array {
  const en2 = hexToBytes(extranonce2);
  if (en2.length !== work.extranonce2Size) {
    throw new RangeError(`extranonce2 must be ${work.extranonce2Size} bytes, got ${en2.length}`);
  }
  work.coinbase.set(en2, work.extranonce2Offset);
  const root = merkleRootFromBranch(sha256d(work.coinbase), work.branch);
  return buildHeader(version, work.prevhash, root, ntime, work.bits, 0, out);
}

/**
 * Hashes `header80` with nonces `startNonce … startNonce + count − 1` (bytes 76..79 rewritten in
 * place) and returns the first nonce whose sha256d meets `targetLE` (32 little-endian bytes), or
 * -1. The hash of the winner is left in `hashOut`. Allocation-free: the hot loop of the miner.
 */
export function scanNonces(
  header80: Uint8Array,
  targetLE: Uint8Array,
  startNonce: number,
  count: number,
  hashOut: Uint8Array,
): number {
  const midstate = headerMidstate(header80);
  const end = Math.min(startNonce + count, 0x1_0000_0000);
  for (let nonce = startNonce; nonce < end; nonce++) {
    header80[76] = nonce;
    header80[77] = nonce >>> 8;
    header80[78] = nonce >>> 16;
    header80[79] = nonce >>> 24;
    sha256dHeaderFromMidstateInto(midstate, header80, hashOut, 0);
    // Most hashes fail on the top byte; the full compare runs only when it ties or wins.
    if (hashOut[31] <= targetLE[31] && hashMeetsTarget(hashOut, targetLE)) return nonce;
  }
  return -1;
}

/**
 * Searches nonces (then further extranonce2 values, each with its own rolled version bits) on
 * `job` until a header hash meets the target; undefined when `maxNonces` hashes found none.
 */
export function findShareOnJob(
  job: StratumJob,
  context: MiningContext,
  options: ShareSearchOptions = {},
): FoundShare | undefined {
  if (options.target === undefined && context.difficulty === undefined) {
    throw new Error("no target: set_difficulty not received");
  }
  const target = options.target ?? difficultyToTarget(context.difficulty!);
  const mask = context.versionMask ?? 0;
  const roll = options.rollVersionBits ?? false;
  if (roll !== false && mask === 0) throw new Error("version rolling asked but no mask granted");
  if (typeof roll === "number" && (roll & ~mask) !== 0) {
    throw new RangeError(`version bits ${u32Hex(roll)} outside mask ${u32Hex(mask)}`);
  }
  const work = prepareMiningJob(job, context.extranonce1, context.extranonce2Size);
  const targetLE = targetToBytesLE(target);
  const ntime = options.ntime ?? job.ntime;
  const startNonce = (options.startNonce ?? 0) >>> 0;
  let budget = options.maxNonces ?? 0x1_0000_0000;
  const header = new Uint8Array(HEADER_SIZE);
  const hash = new Uint8Array(32);
  let hashes = 0;
  for (let unit = 0; budget > 0; unit++) {
    const en2 = extranonce2Hex((options.extranonce2Start ?? 0) + unit, context.extranonce2Size);
    const versionBits = roll === false
      ? undefined
      : typeof roll === "number"
      ? roll >>> 0
      : versionBitsForUnit(unit, mask);
    const version = versionBits === undefined
      ? job.version
      : rolledVersion(job.version, mask, versionBits);
    writeMiningHeader(work, en2, version, ntime, header);
    const count = Math.min(budget, 0x1_0000_0000 - startNonce);
    const nonce = scanNonces(header, targetLE, startNonce, count, hash);
    if (nonce >= 0) {
      hashes += nonce - startNonce + 1;
      return {
        jobId: job.jobId,
        extranonce2: en2,
        ntime: u32Hex(ntime),
        nonce: u32Hex(nonce),
        versionBits: versionBits === undefined ? undefined : u32Hex(versionBits),
        version,
        header,
        hash,
        target,
        hashes,
      };
    }
    hashes += count;
    budget -= count;
    if (count === 0) break;
  }
  return undefined;
}

function popcount(value: number): number {
  let n = 0;
  for (let v = value >>> 0; v !== 0; v >>>= 1) n += v & 1;
  return n;
}

/** What {@linkcode findShare} reads from a client: its current job and what the pool told it. */
export type MiningSession = Pick<
  StratumClient,
  "job" | "extranonce1" | "extranonce2Size" | "difficulty" | "versionMask"
>;

/** The mining context of a subscribed session; throws when it has no extranonce yet. */
export function miningContext(session: MiningSession): MiningContext {
  if (session.extranonce1 === undefined || session.extranonce2Size === undefined) {
    throw new Error("not subscribed (no extranonce1)");
  }
  return {
    extranonce1: session.extranonce1,
    extranonce2Size: session.extranonce2Size,
    difficulty: session.difficulty,
    versionMask: session.versionMask,
  };
}

/**
 * Mines `session`'s current job (usually a {@linkcode StratumClient}) until a share meets the
 * target (see {@linkcode ShareSearchOptions}); undefined when `maxNonces` hashes found none.
 * Throws when no job or no extranonce has arrived yet.
 *
 * @example
 * ```ts ignore
 * const client = await StratumClient.connect({ host: "127.0.0.1", port: 3333 });
 * await client.subscribe();
 * await client.authorize("bcrt1q….rig1");
 * await client.waitFor("mining.notify");
 * const share = findShare(client, { maxNonces: 1 << 22 });
 * if (share) await client.submit("bcrt1q….rig1", share);
 * ```
 */
export function findShare(
  session: MiningSession,
  options: ShareSearchOptions = {},
): FoundShare | undefined {
  if (!session.job) throw new Error("no job yet (mining.notify not received)");
  return findShareOnJob(session.job, miningContext(session), options);
}
