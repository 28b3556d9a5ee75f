/**
 * The seams of the mining core: what the Stratum connector, the share checker and the block
 * submitter agree on. Implementations live in `lib/pool/jobs.ts` (JobManager), `lib/shares/`
 * (SharePool) and `lib/pool/blocks.ts` (BlockSubmitter).
 *
 * Byte order: every `Uint8Array` hash here is in internal byte order (as hashed). Hex strings meant
 * for RPC or display are the reversed form; Stratum fields follow the Stratum conventions.
 *
 * @module
 */

import type { PayoutOutput } from "../bitcoin/mod.ts";

export type { PayoutOutput };

/**
 * The coinbase halves for one payout script on one job. `coinb1 ‖ extranonce1 ‖ extranonce2 ‖
 * coinb2` is the coinbase transaction without witness (the form that is hashed for the txid).
 */
export interface CoinbaseParts {
  /** Small integer that names these parts inside the share worker pool (unique per process). */
  readonly key: number;
  /** Bytes before extranonce1. */
  readonly coinb1: Uint8Array;
  /** Bytes after extranonce2. */
  readonly coinb2: Uint8Array;
  /** `coinb1` as lowercase hex, ready for `mining.notify`. */
  readonly coinb1Hex: string;
  /** `coinb2` as lowercase hex, ready for `mining.notify`. */
  readonly coinb2Hex: string;
  /** The payout outputs, summing exactly to the template's coinbase value. */
  readonly outputs: readonly PayoutOutput[];
}

/** Work built from one block template; shared by every connection. */
export interface Job {
  /** Small integer naming the job inside the share worker pool (unique per process). */
  readonly seq: number;
  /** Stratum job id (lowercase hex of `seq`). */
  readonly id: string;
  /** Height of the block this job builds. */
  readonly height: number;
  /** Previous block hash, internal byte order. */
  readonly prevhash: Uint8Array;
  /** Previous block hash in Stratum notify form (8 words, each 4-byte word byte-swapped). */
  readonly prevhashStratum: string;
  /** Block version from the template (before any version rolling). */
  readonly version: number;
  /** Compact target. */
  readonly bits: number;
  /** Compact target as 8 hex chars, as in the template. */
  readonly bitsHex: string;
  /** Template `curtime` (Unix seconds). */
  readonly curtime: number;
  /** Template `mintime` (Unix seconds). */
  readonly mintime: number;
  /** Full network target. */
  readonly networkTarget: bigint;
  /** Merkle branch for the coinbase (index 0), internal byte order. */
  readonly merkleBranch: readonly Uint8Array[];
  /** The same branch as hex, ready for `mining.notify`. */
  readonly merkleBranchHex: readonly string[];
  /** True when this job starts on a new tip (miners must drop older work). */
  readonly clean: boolean;
  /** When the job was built (ms since the epoch). */
  readonly createdAt: number;
  /** Template `coinbasevalue` (subsidy + fees) in satoshis. */
  readonly coinbaseValue: bigint;
  /** Number of non-coinbase transactions. */
  readonly txCount: number;
  /** Version bits miners may roll (BIP310), already intersected with what the template allows. */
  readonly versionMask: number;
  /** Txids of the non-coinbase transactions, RPC hex, in block order (for `mining.get_transactions`). */
  readonly txids?: readonly string[];
  /** Coinbase halves that pay `payoutScript`, built once and cached for the job's life. */
  coinbaseFor(payoutScript: Uint8Array): CoinbaseParts;
}

/**
 * Where jobs come from (the JobManager); Stratum sessions read it and listen to it. `J` is the job
 * type it hands out (the JobManager's `PoolJob`, which also carries what builds the block).
 */
export interface JobSource<J extends Job = Job> {
  /** The newest job, if there is one. */
  current(): J | undefined;
  /** A recent job by Stratum id (kept while still useful), if known. */
  get(id: string): J | undefined;
  /** Calls `listener` for every new job; returns a function that removes the listener. */
  onJob(listener: (job: J) => void): () => void;
  /** False while the pool must not hand out work (node in IBD, template feed stale, …). */
  readonly ready: boolean;
  /** Why the pool is not ready, for `client.show_message`. */
  readonly notReadyReason: string | undefined;
  /**
   * The tip the pool builds on and the tips it already solved (the pool's `TipState`), which the
   * share policy reads. When absent (a test feed), the newest job's prevhash is the tip and no tip
   * is solved.
   */
  readonly tips?: TipView;
}

/**
 * What the share policy reads about the chain tip (implemented by `TipState` in `tips.ts`). Hashes
 * in internal byte order.
 */
export interface TipView {
  /** The tip the newest job builds on, once there is one. */
  readonly prevhash: Uint8Array | undefined;
  /** Tips the node accepted a block of the pool's on (recent ones only). */
  readonly solved: readonly Uint8Array[];
}

/** The miner-chosen parts of one share, already parsed and validated for format. */
export interface ShareInput {
  /** The connection's extranonce1. */
  readonly extranonce1: Uint8Array;
  /** The miner's extranonce2 (exactly the negotiated size). */
  readonly extranonce2: Uint8Array;
  /** Header time (Unix seconds). */
  readonly ntime: number;
  /** Header nonce as the 32-bit number the miner sent (big-endian hex in Stratum). */
  readonly nonce: number;
  /** Full header version after rolling (the job version with the miner's bits applied). */
  readonly version: number;
  /** The target this share must meet to be accepted (from the difficulty it was sent with). */
  readonly shareTarget: bigint;
}

/** What hashing a share found. */
export interface ShareVerdict {
  /** sha256d of the 80-byte header, internal byte order. */
  readonly hash: Uint8Array;
  /** Difficulty of the hash (diff1 / hash). */
  readonly difficulty: number;
  /** hash ≤ shareTarget (exact 256-bit compare). */
  readonly meetsShareTarget: boolean;
  /** hash ≤ the job's network target (exact 256-bit compare). */
  readonly meetsNetworkTarget: boolean;
}

/** Checks shares by hashing them (the Web Worker pool). */
export interface ShareChecker {
  /** Hashes one share of `job` with `coinbase` and judges it against both targets. */
  check(job: Job, coinbase: CoinbaseParts, share: ShareInput): Promise<ShareVerdict>;
}

/**
 * A share that meets the network target: everything needed to build and record the block. `J` is
 * the job type of the source the share's job came from; a block sink names the one it can build.
 */
export interface BlockCandidate<J extends Job = Job> {
  /** The job the share was made on. */
  readonly job: J;
  /** The coinbase halves the miner was given. */
  readonly coinbase: CoinbaseParts;
  /** The share itself. */
  readonly share: ShareInput;
  /** The verdict that found it to be a block. */
  readonly verdict: ShareVerdict;
  /** Full worker name (`ADDRESS.rig`) the share is credited to. */
  readonly worker: string;
}

/** Outcome of submitting a block to the node. */
export interface BlockSubmitResult {
  /** True when the node accepted the block (or already has it on its chain). */
  readonly accepted: boolean;
  /** Block hash, RPC (reversed) hex. */
  readonly hash: string;
  /** The node's reason when it did not accept, or the transport error. */
  readonly reason?: string;
  /**
   * True when the block was not submitted because the pool's own block on the same tip was
   * accepted while this one waited: submitting it would only compete with that block.
   */
  readonly stale?: boolean;
}

/**
 * Builds, journals and submits found blocks of jobs of type `J`; never loses one.
 *
 * `submit` is a property, not a method, on purpose: so a sink of one job type cannot stand in for
 * a sink of a wider one (a `BlockSink<PoolJob>` is no `BlockSink<Job>`), and a Stratum server
 * wired with a job source whose jobs the sink cannot build does not type-check.
 *
 * @example A sink that only records what it is given
 * ```ts
 * const found: BlockCandidate[] = [];
 * const sink: BlockSink = {
 *   submit: (candidate) => {
 *     found.push(candidate);
 *     return Promise.resolve({ accepted: false, hash: "", reason: "recorded only" });
 *   },
 * };
 * ```
 */
export interface BlockSink<J extends Job = Job> {
  /** Journals the block to disk, submits it at once and reports the node's answer. */
  readonly submit: (candidate: BlockCandidate<J>) => Promise<BlockSubmitResult>;
}

/** A valid payout for a Stratum user name. */
export interface Payout {
  /** scriptPubKey the coinbase pays. */
  readonly script: Uint8Array;
  /** The payout address as given. */
  readonly address: string;
  /** Rig name after the first `.` (may be empty). */
  readonly worker: string;
}

/** What `resolvePayout` returns: a payout, or why the user name is not one. */
export type PayoutResolution = Payout | { readonly error: string };

/** Maps a Stratum user (`ADDRESS[.worker]`) to its payout; supplied by the composition layer (see `payout.ts`). */
export type ResolvePayout = (user: string) => PayoutResolution;
