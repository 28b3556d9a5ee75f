/**
 * Empty-first work: the coinbase-only template for the block after a new tip, made from the tip's
 * header alone (a ZMQ `rawblock`, or one `getblockheader`) before `getblocktemplate` answers.
 *
 * A wrong job is worse than a late one, so every rule that cannot be checked exactly from what is
 * known skips the fast path and names why:
 * - the new block must extend the tip the last full template built on, and carry a BIP34 height;
 * - bits are reused from the tip, so a retarget boundary (height+1 a multiple of 2016) waits for the
 *   template, and so do testnet/testnet4 (the 20-minute rule makes bits depend on the header time)
 *   and signet (its blocks need a signet solution in the coinbase); regtest never retargets;
 * - time is at least the new tip's median time past + 1 (BIP113), from cached header times or the
 *   node's `mediantime`;
 * - the value is the subsidy of height+1 (no fees: no transactions), no witness commitment (an
 *   empty block has no witness data, so BIP141 needs none); version and coinbase aux flags are the
 *   last template's (deployment states only move at period boundaries, which are skipped on
 *   networks that retarget).
 *
 * @example
 * ```ts
 * import { NETWORKS } from "../bitcoin/mod.ts";
 * const work = emptyTemplate({
 *   network: NETWORKS.regtest,
 *   base: lastTemplate, // the last full template, on the tip's parent
 *   tip: { hash, prevhash, height: 101, time: 1700000600, bits: 0x207fffff },
 *   medianTimePast: 1700000300,
 *   now: 1700000601,
 * });
 * if ("template" in work) jobs.addTemplate(work.template, true);
 * ```
 *
 * @module
 */

import {
  bitsToTarget,
  blockSubsidy,
  MEDIAN_TIME_SPAN,
  medianTimePast,
  type Network,
} from "../bitcoin/mod.ts";
import type { BlockTemplate } from "./template.ts";

/** What the fast path needs to know about the new tip. */
export interface TipHeader {
  /** Block hash, RPC hex. */
  readonly hash: string;
  /** Parent hash, RPC hex. */
  readonly prevhash: string;
  /** Height (BIP34), when known. */
  readonly height: number | undefined;
  /** Header time, Unix seconds. */
  readonly time: number;
  /** Compact target. */
  readonly bits: number;
}

/** Input of {@linkcode emptyTemplate}. */
export interface EmptyWorkInput {
  /** The network's consensus parameters. */
  readonly network: Network;
  /** The last full template (built on the new tip's parent). */
  readonly base: BlockTemplate;
  /** The new tip. */
  readonly tip: TipHeader;
  /** Median time past of the new tip (over it and its 10 parents), Unix seconds. */
  readonly medianTimePast: number;
  /** Now, Unix seconds. */
  readonly now: number;
}

/** A coinbase-only template, or why none can be made exactly. */
export type EmptyWork = { readonly template: BlockTemplate } | { readonly skip: string };

/** Why the fast path does not run on `network` at all, or undefined when it may. */
export function emptyWorkUnsupported(network: Network): string | undefined {
  if (network.name === "signet") return "signet blocks need a signet solution";
  if (network.powAllowMinDifficultyBlocks && !network.powNoRetargeting) {
    return "bits depend on the block time under the testnet 20-minute rule";
  }
  return undefined;
}

/** The coinbase-only template for the block after `input.tip`, or why it cannot be exact. */
export function emptyTemplate(input: EmptyWorkInput): EmptyWork {
  const { network, base, tip } = input;
  const unsupported = emptyWorkUnsupported(network);
  if (unsupported !== undefined) return { skip: unsupported };
  if (tip.height === undefined) return { skip: "the new block has no BIP34 height" };
  if (tip.prevhash !== base.previousblockhash || tip.height !== base.height) {
    return { skip: "the new block does not extend the last template's tip" };
  }
  const height = tip.height + 1;
  if (!network.powNoRetargeting && height % network.retargetInterval === 0) {
    return { skip: `height ${height} is a retarget boundary` };
  }
  const bitsHex = (tip.bits >>> 0).toString(16).padStart(8, "0");
  if (bitsHex !== base.bits) {
    return { skip: `the new block's bits ${bitsHex} differ from the template's ${base.bits}` };
  }
  let target: bigint;
  try {
    target = bitsToTarget(tip.bits);
  } catch {
    return { skip: `bits ${bitsHex} do not encode a target` };
  }
  const mintime = input.medianTimePast + 1;
  const template: BlockTemplate = {
    version: base.version,
    previousblockhash: tip.hash,
    transactions: [],
    coinbasevalue: Number(blockSubsidy(height, network)),
    target: target.toString(16).padStart(64, "0"),
    mintime,
    curtime: Math.max(Math.floor(input.now), mintime),
    bits: bitsHex,
    height,
    ...(base.coinbaseaux ? { coinbaseaux: base.coinbaseaux } : {}),
    ...(base.rules ? { rules: base.rules } : {}),
  };
  return { template: Object.freeze(template) };
}

/** One header the cache keeps. */
export interface CachedHeader {
  /** Block hash (display hex). */
  readonly hash: string;
  /** Its parent's hash (display hex). */
  readonly prevhash: string;
  /** Block height. */
  readonly height: number;
  /** Header time (Unix seconds). */
  readonly time: number;
}

/**
 * The times of the latest headers of the node's chain, so a new tip's median time past needs no
 * RPC call. Holds a contiguous run (each header the parent of the next) of at most 11.
 */
export class RecentHeaders {
  #run: CachedHeader[] = [];

  /** Hash of the newest cached header, if any. */
  get tipHash(): string | undefined {
    return this.#run.at(-1)?.hash;
  }

  /** How many contiguous headers are cached. */
  get size(): number {
    return this.#run.length;
  }

  /** Replaces the cache with `headers`, oldest first; they must be contiguous. */
  reset(headers: readonly CachedHeader[]): void {
    for (let i = 1; i < headers.length; i++) {
      if (headers[i].prevhash !== headers[i - 1].hash) {
        throw new RangeError(
          `header ${headers[i].hash} is not the child of ${headers[i - 1].hash}`,
        );
      }
    }
    this.#run = headers.slice(-MEDIAN_TIME_SPAN);
  }

  /**
   * Adds the new tip when it is the child of the newest cached header; otherwise (a reorg, a gap)
   * empties the cache. Returns true when added.
   */
  extend(header: CachedHeader): boolean {
    const head = this.#run.at(-1);
    if (head?.hash === header.hash) return true;
    if (head === undefined || head.hash !== header.prevhash || head.height + 1 !== header.height) {
      this.#run = [];
      return false;
    }
    this.#run.push(header);
    if (this.#run.length > MEDIAN_TIME_SPAN) this.#run.shift();
    return true;
  }

  /**
   * Median time past of `tip` (the child of the newest cached header) over it and its 10 parents,
   * or undefined when the cache cannot give it exactly (not the child, or too few headers while
   * `tip` is above height 10).
   */
  medianTimePastOf(tip: TipHeader): number | undefined {
    const head = this.#run.at(-1);
    if (head === undefined || head.hash !== tip.prevhash || tip.height !== head.height + 1) {
      return undefined;
    }
    const needed = Math.min(MEDIAN_TIME_SPAN, tip.height + 1) - 1;
    if (this.#run.length < needed) return undefined;
    const times = this.#run.slice(-needed).map((h) => h.time);
    times.push(tip.time);
    return medianTimePast(times);
  }
}
