/**
 * The pool-wide best shares: the top N (12) accepted shares by difficulty, kept for the life of
 * the process whatever happens to the connection that found them.
 *
 * Called once per accepted share, so the common case (a share below the current floor of a full
 * table) is one comparison and no allocation; only a share that enters the table costs a hex
 * conversion and an insertion into a list of at most N entries.
 *
 * @module
 */

import { bytesToHex, reverseBytes } from "../bitcoin/mod.ts";

/** One entry of the table, uncensored. */
export interface BestShareEntry {
  /** Full worker name the share was credited to. */
  readonly worker: string;
  /** Difficulty of the share's hash. */
  readonly difficulty: number;
  /** When it was accepted (ms since the epoch). */
  readonly at: number;
  /** Share hash, RPC (reversed) hex. */
  readonly hash: string;
}

/** How many best shares the reference pool keeps and shows. */
export const DEFAULT_BEST_SHARES = 12;

/** The top-N accepted shares by difficulty, best first. */
export class BestShares {
  readonly #capacity: number;
  readonly #entries: BestShareEntry[] = [];
  #floor = 0;

  /** A table of at most `capacity` shares. */
  constructor(capacity: number = DEFAULT_BEST_SHARES) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
  }

  /**
   * Offers an accepted share whose hash (`hashInternal`, internal byte order) has `difficulty`.
   * Returns true when it entered the table. A share equal to the floor of a full table does not
   * displace the earlier one (first found ranks first among equals).
   */
  offer(worker: string, difficulty: number, hashInternal: Uint8Array, at: number): boolean {
    const entries = this.#entries;
    if (!(difficulty > 0) || !Number.isFinite(difficulty)) return false;
    if (entries.length === this.#capacity && difficulty <= this.#floor) return false;
    const entry: BestShareEntry = {
      worker,
      difficulty,
      at,
      hash: bytesToHex(reverseBytes(hashInternal)),
    };
    let i = entries.length;
    while (i > 0 && entries[i - 1].difficulty < difficulty) i--;
    entries.splice(i, 0, entry);
    if (entries.length > this.#capacity) entries.length = this.#capacity;
    this.#floor = entries[entries.length - 1].difficulty;
    return true;
  }

  /** The table, best first (a copy). */
  list(): BestShareEntry[] {
    return [...this.#entries];
  }

  /** Number of shares held. */
  get size(): number {
    return this.#entries.length;
  }
}
