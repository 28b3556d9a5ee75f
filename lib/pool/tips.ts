/**
 * TipState: the one owner of the chain tip the pool builds on and of the tips it already solved.
 *
 * The composition layer makes one and hands it out. The JobManager sets the tip with every job it
 * builds (the template's prevhash); the BlockSubmitter reads it (retry and resubmit a block only
 * while its parent is still the tip) and marks a tip solved when the node accepts the pool's block
 * on it; Stratum sessions read both through the job source (`JobSource.tips`) and judge shares
 * with `policy.ts`.
 *
 * @example
 * ```ts
 * const tips = new TipState();
 * const prevhash = new Uint8Array(32).fill(7); // internal byte order
 * tips.setTip(prevhash);
 * tips.isCurrent("07".repeat(32)); // true (RPC hex)
 * tips.markSolved("07".repeat(32)); // the node accepted our block on it
 * tips.isSolved(prevhash); // true
 * ```
 *
 * @module
 */

import { bytesToHex, equalBytes, hexToBytes, reverseBytes } from "../bitcoin/mod.ts";
import { isSolvedTip } from "./policy.ts";
import type { TipView } from "./types.ts";

/** How many solved tips are remembered by default (only recent tips still get shares). */
export const DEFAULT_KEEP_SOLVED = 16;

/** The current tip and the solved ones, for the job manager, the block submitter and the policy. */
export class TipState implements TipView {
  #prevhash: Uint8Array | undefined;
  #prevhashRpc: string | undefined;
  readonly #solved: Uint8Array[] = [];
  readonly #solvedRpc: string[] = [];
  readonly #keepSolved: number;

  /** No tip yet; `keepSolved` bounds the solved tips remembered (oldest forgotten first). */
  constructor(options: { readonly keepSolved?: number } = {}) {
    this.#keepSolved = options.keepSolved ?? DEFAULT_KEEP_SOLVED;
  }

  /** The tip the newest job builds on (its prevhash, internal byte order), once there is one. */
  get prevhash(): Uint8Array | undefined {
    return this.#prevhash;
  }

  /** The same tip as RPC (reversed) hex. */
  get prevhashRpc(): string | undefined {
    return this.#prevhashRpc;
  }

  /** Tips the node accepted a block of the pool's on, internal byte order, oldest first. */
  get solved(): readonly Uint8Array[] {
    return this.#solved;
  }

  /** Sets the tip the pool builds on (`prevhash` in internal byte order). */
  setTip(prevhash: Uint8Array): void {
    const old = this.#prevhash;
    if (old !== undefined && (old === prevhash || equalBytes(old, prevhash))) {
      this.#prevhash = prevhash;
      return;
    }
    this.#prevhash = prevhash;
    this.#prevhashRpc = bytesToHex(reverseBytes(prevhash));
  }

  /** True when `prevhashRpc` (RPC hex) is the tip, or while no tip is known. */
  isCurrent(prevhashRpc: string): boolean {
    return this.#prevhashRpc === undefined || this.#prevhashRpc === prevhashRpc;
  }

  /** Records that the node accepted the pool's block on `prevhashRpc` (RPC hex). */
  markSolved(prevhashRpc: string): void {
    if (this.#solvedRpc.includes(prevhashRpc)) return;
    this.#solvedRpc.push(prevhashRpc);
    this.#solved.push(reverseBytes(hexToBytes(prevhashRpc)));
    while (this.#solved.length > this.#keepSolved) {
      this.#solved.shift();
      this.#solvedRpc.shift();
    }
  }

  /** True when the pool already found a block on `prevhash` (internal byte order). */
  isSolved(prevhash: Uint8Array): boolean {
    return isSolvedTip(prevhash, this.#solved);
  }
}
