/**
 * The pool's best shares, kept as one list so they come back into the live table after a restart.
 *
 * @module
 */

import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** Best shares kept pool-wide. */
export const BEST_SHARES_KEPT = 16;

/** One of the pool's best shares (as `lib/pool/best_shares.ts` keeps them). */
export interface BestShare {
  /** Full worker name (censored when shown). */
  readonly worker: string;
  /** Share difficulty. */
  readonly difficulty: number;
  /** When it was accepted (ms since the epoch). */
  readonly at: number;
  /** Share hash, RPC hex. */
  readonly hash: string;
}

/** The stored best-shares list. */
export interface BestShareStore {
  /** Replaces the stored list (best first, at most {@linkcode BEST_SHARES_KEPT}). */
  put(list: readonly BestShare[]): Promise<void>;
  /** The pool's best shares, best first. */
  list(): Promise<BestShare[]>;
}

/** {@linkcode BestShareStore} on Deno KV: one value at `["v1","best-shares"]`. */
export class KvBestShareStore implements BestShareStore {
  readonly #core: KvCore;

  /** A best-shares store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** Replaces the stored list (best first, at most {@linkcode BEST_SHARES_KEPT}). */
  async put(list: readonly BestShare[]): Promise<void> {
    await this.#core.set(keys.bestShares, list.slice(0, BEST_SHARES_KEPT));
  }

  /** The pool's best shares, best first. */
  async list(): Promise<BestShare[]> {
    return (await this.#core.get<BestShare[]>(keys.bestShares)) ?? [];
  }
}
