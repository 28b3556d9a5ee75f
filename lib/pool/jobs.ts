/**
 * JobManager: turns block templates into Stratum jobs and keeps the recent ones.
 *
 * One `Job` per template, shared by every connection; the coinbase halves differ per payout script
 * (each miner is paid to its own address), so they are built on first use and cached on the job.
 * The tip the newest job builds on goes to the pool's `TipState` (`tips.ts`), which the block
 * submitter and the share policy read.
 *
 * @module
 */

import { bytesToHex, hexToBytes, reverseBytes } from "../bitcoin/mod.ts";
import { bitsToTarget } from "../bitcoin/mod.ts";
import { merkleBranchForCoinbase } from "../bitcoin/mod.ts";
import { stratumPrevhash } from "../bitcoin/mod.ts";
import { buildCoinbaseParts, splitPayout } from "../bitcoin/mod.ts";
import type { CoinbaseParts, Job, JobSource } from "./types.ts";
import { TipState } from "./tips.ts";

/** The fields of a `getblocktemplate` result that jobs are built from. */
export interface TemplateData {
  /** Block version. */
  readonly version: number;
  /** Tip hash, RPC hex. */
  readonly previousblockhash: string;
  /** Transactions in block order. */
  readonly transactions: readonly { readonly data: string; readonly txid: string }[];
  /** Subsidy plus fees, satoshis. */
  readonly coinbasevalue: number;
  /** Earliest allowed header time. */
  readonly mintime: number;
  /** Node's current time. */
  readonly curtime: number;
  /** Compact target, 8 hex chars. */
  readonly bits: string;
  /** Height of the block to build. */
  readonly height: number;
  /** Witness commitment scriptPubKey (hex), present once segwit is active. */
  readonly default_witness_commitment?: string;
  /** Aux flags for the coinbase scriptSig. */
  readonly coinbaseaux?: { readonly flags?: string };
  /** Active rules; segwit is active when "segwit" or "!segwit" is among them. */
  readonly rules?: readonly string[];
}

/** How coinbases are built and paid. */
export interface JobManagerOptions {
  /** Pool fee script (required when `poolFeePercent` > 0). */
  readonly poolScript?: Uint8Array;
  /** Pool fee, percent of the coinbase value. */
  readonly poolFeePercent: number;
  /** Donation script (required when `donationPercent` > 0). */
  readonly donationScript?: Uint8Array;
  /** Donation, percent of the pool fee. */
  readonly donationPercent: number;
  /** Pool tag bytes placed in the coinbase scriptSig (truncated to keep it ≤ 100 bytes). */
  readonly tag: Uint8Array;
  /** Size of extranonce1 (bytes). */
  readonly extranonce1Size: number;
  /** Size of extranonce2 (bytes). */
  readonly extranonce2Size: number;
  /** Version bits miners may roll (BIP310). */
  readonly versionMask: number;
  /** How many recent jobs to keep for late shares and stale detection. */
  readonly keepJobs?: number;
  /**
   * The pool's tip owner: the manager sets the tip with every job it builds (default: one of its
   * own, remembering as many solved tips as it keeps jobs).
   */
  readonly tips?: TipState;
  /** Called with each job that falls out of the recent window (free its per-job state). */
  readonly onRetire?: (job: PoolJob) => void;
  /** Clock (ms since the epoch); injectable for tests. */
  readonly now?: () => number;
  /**
   * The block subsidy at a height (satoshis). With it, once a job is out the manager pre-builds,
   * off the hot path, the coinbase halves of the next height's empty-first job for every payout
   * script in use, so a new tip costs no coinbase building per miner.
   */
  readonly subsidy?: (height: number) => bigint;
}

/** A job plus what only the pool needs (the raw transactions for building the block). */
export interface PoolJob extends Job {
  /** Raw transactions (hex), block order, for block assembly. */
  readonly txHex: readonly string[];
  /** Witness commitment scriptPubKey, when segwit is active. */
  readonly witnessCommitment: Uint8Array | undefined;
  /** The template's coinbase aux flags (hex, "" when none). */
  readonly auxHex: string;
  /** Payout scripts (hex) whose coinbase halves were built for this job so far. */
  coinbaseScripts(): Iterable<string>;
}

let nextCoinbaseKey = 1;

/** Builds jobs from templates and serves them to Stratum sessions. */
export class JobManager implements JobSource<PoolJob> {
  #opts: JobManagerOptions;
  #jobs = new Map<string, PoolJob>();
  #order: PoolJob[] = [];
  #current: PoolJob | undefined;
  #listeners = new Set<(job: PoolJob) => void>();
  #seq = 0;
  #notReady: string | undefined = "waiting for the first block template";
  #now: () => number;
  #prebuilt: Prebuilt | undefined;
  #prebuildTimer: ReturnType<typeof setTimeout> | undefined;
  /** The tip the jobs build on and the tips the pool solved (shared with the block submitter). */
  readonly tips: TipState;

  /** Creates a manager with the payout and coinbase settings. */
  /** The pool tag bytes new coinbases carry. */
  get tag(): Uint8Array {
    return this.#opts.tag;
  }

  /** Operator: the pool tag of coinbases built from now on (jobs already sent keep theirs). */
  setTag(tag: Uint8Array): void {
    this.#opts = { ...this.#opts, tag };
  }

  /** A manager for `opts`; throws when a pool fee has no pool script to pay. */
  constructor(opts: JobManagerOptions) {
    if (opts.poolFeePercent > 0 && !opts.poolScript) {
      throw new Error("a pool fee needs a pool payout script");
    }
    if (opts.donationPercent > 0 && !opts.donationScript) {
      throw new Error("a donation needs a donation script");
    }
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.tips = opts.tips ?? new TipState({ keepSolved: opts.keepJobs ?? 16 });
  }

  /** The newest job. */
  current(): PoolJob | undefined {
    return this.#current;
  }

  /** A recent job by Stratum id. */
  get(id: string): PoolJob | undefined {
    return this.#jobs.get(id);
  }

  /** Subscribes to new jobs. */
  onJob(listener: (job: PoolJob) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** False while no work may be handed out. */
  get ready(): boolean {
    return this.#notReady === undefined && this.#current !== undefined;
  }

  /** Why no work is handed out, if so. */
  get notReadyReason(): string | undefined {
    if (this.#notReady !== undefined) return this.#notReady;
    return this.#current ? undefined : "waiting for the first block template";
  }

  /** Sets or clears the reason work is withheld (node in IBD, stale feed, …). */
  setNotReady(reason: string | undefined): void {
    this.#notReady = reason;
  }

  /** Recent jobs, oldest first. */
  recent(): readonly PoolJob[] {
    return this.#order;
  }

  /**
   * Builds a job from a template and announces it. `clean` says the template is on a new tip.
   * Returns the job.
   */
  addTemplate(template: TemplateData, clean: boolean): PoolJob {
    const job = this.#build(template, clean);
    const keep = this.#opts.keepJobs ?? 16;
    this.#jobs.set(job.id, job);
    this.#order.push(job);
    while (this.#order.length > keep) {
      const old = this.#order.shift()!;
      this.#jobs.delete(old.id);
      this.#opts.onRetire?.(old);
    }
    this.tips.setTip(job.prevhash);
    this.#current = job;
    this.#schedulePrebuild(job);
    if (this.#notReady === "waiting for the first block template") this.#notReady = undefined;
    for (const listener of this.#listeners) {
      try {
        listener(job);
      } catch {
        // A listener's failure must not stop the others from getting the job.
      }
    }
    return job;
  }

  #build(t: TemplateData, clean: boolean): PoolJob {
    const opts = this.#opts;
    const seq = ++this.#seq;
    const prevhash = reverseBytes(hexToBytes(t.previousblockhash));
    const txidsInternal = t.transactions.map((tx) => reverseBytes(hexToBytes(tx.txid)));
    const branch = merkleBranchForCoinbase(txidsInternal);
    const bits = parseInt(t.bits, 16);
    const coinbaseValue = BigInt(t.coinbasevalue);
    // Some nodes send a commitment before segwit is active; a witness would then make the block
    // invalid ("unexpected-witness"), so the commitment is used only under the segwit rule.
    const segwit = t.rules?.some((rule) => rule === "segwit" || rule === "!segwit") ?? false;
    const witnessCommitment = segwit && t.default_witness_commitment
      ? hexToBytes(t.default_witness_commitment)
      : undefined;
    const auxFlags = t.coinbaseaux?.flags ? hexToBytes(t.coinbaseaux.flags) : undefined;
    const height = t.height;
    const spec: CoinbaseSpec = {
      height,
      coinbaseValue,
      witnessCommitment,
      auxHex: t.coinbaseaux?.flags ?? "",
      tag: opts.tag,
    };
    // Empty-first work whose coinbases were pre-built while the previous job was out.
    const prebuilt = this.#prebuilt;
    this.#prebuilt = undefined;
    const cache = prebuilt !== undefined && sameSpec(prebuilt.spec, spec)
      ? prebuilt.parts
      : new Map<string, CoinbaseParts>();
    const coinbaseFor = (payoutScript: Uint8Array): CoinbaseParts => {
      const cacheKey = scriptKey(payoutScript);
      const hit = cache.get(cacheKey);
      if (hit) return hit;
      const parts = this.#coinbase(spec, auxFlags, payoutScript);
      cache.set(cacheKey, parts);
      return parts;
    };
    return {
      seq,
      id: seq.toString(16),
      height,
      prevhash,
      prevhashStratum: stratumPrevhash(prevhash),
      version: t.version,
      bits,
      bitsHex: t.bits,
      curtime: t.curtime,
      mintime: t.mintime,
      networkTarget: bitsToTarget(bits),
      merkleBranch: branch,
      merkleBranchHex: branch.map(bytesToHex),
      clean,
      createdAt: this.#now(),
      coinbaseValue,
      txCount: t.transactions.length,
      versionMask: opts.versionMask,
      txids: t.transactions.map((tx) => tx.txid),
      txHex: t.transactions.map((tx) => tx.data),
      witnessCommitment,
      auxHex: spec.auxHex,
      coinbaseFor,
      coinbaseScripts: () => cache.keys(),
    };
  }

  #coinbase(spec: CoinbaseSpec, auxFlags: Uint8Array | undefined, script: Uint8Array) {
    const opts = this.#opts;
    const outputs = splitPayout({
      coinbaseValue: spec.coinbaseValue,
      minerScript: script,
      poolScript: opts.poolScript,
      poolFeePercent: opts.poolFeePercent,
      donationScript: opts.donationScript,
      donationPercent: opts.donationPercent,
    });
    const { coinb1, coinb2 } = buildCoinbaseParts({
      height: spec.height,
      payouts: outputs,
      witnessCommitment: spec.witnessCommitment,
      tag: spec.tag,
      auxFlags,
      extranonce1Size: opts.extranonce1Size,
      extranonce2Size: opts.extranonce2Size,
    });
    const parts: CoinbaseParts = {
      key: nextCoinbaseKey++,
      coinb1,
      coinb2,
      coinb1Hex: bytesToHex(coinb1),
      coinb2Hex: bytesToHex(coinb2),
      outputs,
    };
    return parts;
  }

  /**
   * After the fan-out of `job` (a timer, so sessions have asked for their coinbases by then):
   * pre-builds the next height's empty-first coinbases for every payout script `job` served.
   */
  #schedulePrebuild(job: PoolJob): void {
    const subsidy = this.#opts.subsidy;
    if (subsidy === undefined) return;
    clearTimeout(this.#prebuildTimer);
    this.#prebuildTimer = setTimeout(() => {
      this.#prebuildTimer = undefined;
      if (this.#current !== job) return;
      const height = job.height + 1;
      const spec: CoinbaseSpec = {
        height,
        coinbaseValue: subsidy(height),
        witnessCommitment: undefined,
        auxHex: job.auxHex,
        tag: this.#opts.tag,
      };
      const auxFlags = spec.auxHex ? hexToBytes(spec.auxHex) : undefined;
      const parts = new Map<string, CoinbaseParts>();
      for (const key of job.coinbaseScripts()) {
        parts.set(key, this.#coinbase(spec, auxFlags, hexToBytes(key)));
      }
      this.#prebuilt = { spec, parts };
    }, PREBUILD_DELAY_MS);
  }

  /** Cancels the pending pre-build (the pool is stopping). */
  close(): void {
    clearTimeout(this.#prebuildTimer);
    this.#prebuildTimer = undefined;
  }

  /** How many empty-first coinbases are pre-built for the next height (for tests and status). */
  get prebuiltCoinbases(): number {
    return this.#prebuilt?.parts.size ?? 0;
  }
}

/** Milliseconds after a job goes out before the next height's coinbases are pre-built. */
const PREBUILD_DELAY_MS = 50;

/** What a coinbase depends on besides the payout script. */
interface CoinbaseSpec {
  readonly height: number;
  readonly coinbaseValue: bigint;
  readonly witnessCommitment: Uint8Array | undefined;
  readonly auxHex: string;
  readonly tag: Uint8Array;
}

interface Prebuilt {
  readonly spec: CoinbaseSpec;
  readonly parts: Map<string, CoinbaseParts>;
}

function sameSpec(a: CoinbaseSpec, b: CoinbaseSpec): boolean {
  return a.height === b.height && a.coinbaseValue === b.coinbaseValue &&
    a.witnessCommitment === undefined && b.witnessCommitment === undefined &&
    a.auxHex === b.auxHex && a.tag === b.tag;
}

/**
 * Payout scripts as hex cache keys, remembered per script array: every session asks for its
 * coinbase on every new job with the same array, and a new block must not cost one hex encoding
 * per connection. (Callers never modify a payout script once made.)
 */
const scriptKeys = new WeakMap<Uint8Array, string>();

function scriptKey(script: Uint8Array): string {
  let key = scriptKeys.get(script);
  if (key === undefined) {
    key = bytesToHex(script);
    scriptKeys.set(script, key);
  }
  return key;
}
