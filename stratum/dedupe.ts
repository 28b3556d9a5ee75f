/**
 * Duplicate-share filter shared by every connection: one set of share keys per job.
 *
 * The key is `extranonce1 : extranonce2 : ntime : nonce : version` with extranonce2 lowercased and
 * the words as parsed numbers, so neither hex case nor leading zeros can dodge it, and a miner that
 * resumes its session (and so its extranonce1) on a new connection cannot replay old shares.
 *
 * @module
 */

/** Remembers which shares each recent job has seen. */
export class ShareDeduper {
  readonly #byJob = new Map<number, { readonly jobId: string; readonly keys: Set<string> }>();

  /** Builds the normalised key of a share (extranonce2 hex of either case). */
  static key(
    extranonce1: number,
    extranonce2Hex: string,
    ntime: number,
    nonce: number,
    version: number,
  ): string {
    return `${extranonce1}:${extranonce2Hex.toLowerCase()}:${ntime}:${nonce}:${version}`;
  }

  /** Records `key` under the job (`seq`, `id`); false when it was already there (a duplicate). */
  add(jobSeq: number, jobId: string, key: string): boolean {
    let entry = this.#byJob.get(jobSeq);
    if (entry === undefined) {
      entry = { jobId, keys: new Set() };
      this.#byJob.set(jobSeq, entry);
    }
    if (entry.keys.has(key)) return false;
    entry.keys.add(key);
    return true;
  }

  /** Drops the sets of jobs for which `isLive(jobId)` is false (they can only be stale now). */
  retain(isLive: (jobId: string) => boolean): void {
    for (const [seq, entry] of this.#byJob) {
      if (!isLive(entry.jobId)) this.#byJob.delete(seq);
    }
  }

  /** Jobs with a set. */
  get jobs(): number {
    return this.#byJob.size;
  }
}
