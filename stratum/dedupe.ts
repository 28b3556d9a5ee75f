/**
 * Duplicate-share filter: the keys of the shares each session sent, per job.
 *
 * A share's key is `extranonce1, extranonce2, ntime, nonce, version` with extranonce2 read as a
 * number (so hex case cannot dodge it) and the words as parsed numbers (so leading zeros cannot).
 * Keys are grouped by extranonce1 (one session) and then by job, so what a session sent is
 * dropped with it: when it closes, its keys stay for `replayWindowMs` (a miner that resumes its
 * session, and so its extranonce1, within that time cannot replay old shares), then go; the server
 * hands a resumed session its old extranonce1 only within the same window. A job's keys go when the
 * job is no longer live (`retain`). So the filter holds the shares of live sessions on live jobs,
 * and a pool that sees workers come and go comes back to its idle size.
 *
 * Keys are kept as 32-bit words in small open-addressing tables (`Uint32Array`s), not as strings
 * in a `Set`: strings there would be promoted to the old generation and traced by every full
 * garbage collection, whose pauses are the longest stalls of a busy pool. Words in a typed array
 * cost the collector nothing and are compared exactly (no hash-only matching: a false duplicate
 * would reject a good share).
 *
 * @example
 * ```ts
 * const dedupe = new ShareDeduper({ replayWindowMs: 30_000 });
 * dedupe.add(1, "1", 0x01020304, "0000abcd", 0x6553f100, 0xdeadbeef, 0x20000000); // true
 * dedupe.add(1, "1", 0x01020304, "0000abcd", 0x6553f100, 0xdeadbeef, 0x20000000); // false
 * ```
 *
 * @module
 */

/** Words per slot: state (0 empty, else 1 + extranonce2 hex length), then the five key words. */
const SLOT_WORDS = 6;
/** Slots of a table when first used (it doubles past half full). */
const INITIAL_SLOTS = 8;
/** Default time a closed session's keys are kept for its resumption, ms. */
export const DEFAULT_REPLAY_WINDOW_MS = 30_000;

/** The keys one session sent on one job: an open-addressing table with linear probing. */
class KeyTable {
  readonly jobId: string;
  #slots: Uint32Array = new Uint32Array(INITIAL_SLOTS * SLOT_WORDS);
  #size = 0;

  constructor(jobId: string) {
    this.jobId = jobId;
  }

  /** Inserts the key; false when it was already there. */
  add(
    state: number,
    en2Hi: number,
    en2Lo: number,
    ntime: number,
    nonce: number,
    version: number,
  ): boolean {
    const slots = this.#slots;
    const mask = slots.length / SLOT_WORDS - 1;
    let i = hashKey(state, en2Hi, en2Lo, ntime, nonce, version) & mask;
    for (;;) {
      const at = i * SLOT_WORDS;
      const s = slots[at];
      if (s === 0) break;
      if (
        s === state && slots[at + 1] === en2Hi && slots[at + 2] === en2Lo &&
        slots[at + 3] === ntime && slots[at + 4] === nonce && slots[at + 5] === version
      ) {
        return false;
      }
      i = (i + 1) & mask;
    }
    const at = i * SLOT_WORDS;
    slots[at] = state;
    slots[at + 1] = en2Hi;
    slots[at + 2] = en2Lo;
    slots[at + 3] = ntime;
    slots[at + 4] = nonce;
    slots[at + 5] = version;
    if (++this.#size * 2 > mask + 1) this.#slots = grown(slots);
    return true;
  }

  /** Keys held. */
  get size(): number {
    return this.#size;
  }
}

/** A table's slots moved into one twice the size. */
function grown(old: Uint32Array): Uint32Array {
  const count = (old.length / SLOT_WORDS) * 2;
  const slots = new Uint32Array(count * SLOT_WORDS);
  const mask = count - 1;
  for (let from = 0; from < old.length; from += SLOT_WORDS) {
    const state = old[from];
    if (state === 0) continue;
    let i =
      hashKey(state, old[from + 1], old[from + 2], old[from + 3], old[from + 4], old[from + 5]) &
      mask;
    while (slots[i * SLOT_WORDS] !== 0) i = (i + 1) & mask;
    const to = i * SLOT_WORDS;
    for (let w = 0; w < SLOT_WORDS; w++) slots[to + w] = old[from + w];
  }
  return slots;
}

/** What one extranonce1 sent: its tables by job seq, and when its keys expire once released. */
interface SessionKeys {
  readonly byJob: Map<number, KeyTable>;
  /** Released at this time + the window (ms since the epoch); undefined while the session is open. */
  expiresAt: number | undefined;
}

/** Mixes the key words into a 32-bit hash (murmur3's multiply-rotate steps and finaliser). */
function hashKey(
  state: number,
  en2Hi: number,
  en2Lo: number,
  ntime: number,
  nonce: number,
  version: number,
): number {
  let h = mix(0x9747b28c, state);
  h = mix(h, en2Hi);
  h = mix(h, en2Lo);
  h = mix(h, ntime);
  h = mix(h, nonce);
  h = mix(h, version);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function mix(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Value of a hex digit (either case), or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** Options of {@linkcode ShareDeduper}. */
export interface ShareDeduperOptions {
  /** How long a closed session's keys are kept for its resumption, ms (default 30 s). */
  readonly replayWindowMs?: number;
}

/** Remembers which shares each session sent on each live job. */
export class ShareDeduper {
  readonly #sessions = new Map<number, SessionKeys>();
  /** Released sessions in release order (the same order as their expiry). */
  readonly #released = new Set<number>();
  /** How long a closed session's keys are kept, ms. */
  readonly replayWindowMs: number;

  /** An empty filter. */
  constructor(options: ShareDeduperOptions = {}) {
    this.replayWindowMs = options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
  }

  /**
   * Records a share of the job (`seq`, `id`); false when it was already there (a duplicate).
   * `extranonce2Hex` is 1–16 hex digits of either case (the session has validated it); anything
   * else throws a `RangeError`.
   */
  add(
    jobSeq: number,
    jobId: string,
    extranonce1: number,
    extranonce2Hex: string,
    ntime: number,
    nonce: number,
    version: number,
  ): boolean {
    const length = extranonce2Hex.length;
    if (length < 1 || length > 16) {
      throw new RangeError(`extranonce2 must be 1 to 16 hex digits, got ${length}`);
    }
    // Digits before the last 8 go to the high word, the last 8 to the low word.
    const split = length > 8 ? length - 8 : 0;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < length; i++) {
      const d = hexDigit(extranonce2Hex.charCodeAt(i));
      if (d < 0) throw new RangeError("extranonce2 must be hex digits");
      if (i < split) hi = hi * 16 + d;
      else lo = lo * 16 + d;
    }
    const en1 = extranonce1 >>> 0;
    let session = this.#sessions.get(en1);
    if (session === undefined) {
      session = { byJob: new Map(), expiresAt: undefined };
      this.#sessions.set(en1, session);
    }
    let table = session.byJob.get(jobSeq);
    if (table === undefined) {
      table = new KeyTable(jobId);
      session.byJob.set(jobSeq, table);
    }
    // The digit count is part of the key: "0a" and "000a" are different extranonce2 values.
    return table.add(1 + length, hi, lo, ntime >>> 0, nonce >>> 0, version >>> 0);
  }

  /**
   * The session of `extranonce1` closed: its keys are kept `replayWindowMs` from `now` for a
   * resumption (see `reclaim`), then dropped by `prune`.
   */
  release(extranonce1: number, now: number): void {
    const en1 = extranonce1 >>> 0;
    let session = this.#sessions.get(en1);
    if (session === undefined) {
      // No keys yet; the entry still marks the window in which the extranonce1 may come back.
      session = { byJob: new Map(), expiresAt: undefined };
      this.#sessions.set(en1, session);
    }
    session.expiresAt = now + this.replayWindowMs;
    this.#released.delete(en1);
    this.#released.add(en1);
  }

  /**
   * A new session takes the released `extranonce1` back: its keys are its own again. False when
   * it was not released within the window (its keys may be gone): the server must then not hand
   * that extranonce1 out for a resumption, or old shares could be sent again.
   */
  reclaim(extranonce1: number, now: number): boolean {
    const en1 = extranonce1 >>> 0;
    const session = this.#sessions.get(en1);
    if (session === undefined || session.expiresAt === undefined) return false;
    if (session.expiresAt <= now) {
      this.#drop(en1);
      return false;
    }
    session.expiresAt = undefined;
    this.#released.delete(en1);
    return true;
  }

  /** Drops the keys of sessions released more than `replayWindowMs` before `now`. */
  prune(now: number): void {
    for (const en1 of this.#released) {
      const session = this.#sessions.get(en1);
      if (session?.expiresAt !== undefined && session.expiresAt > now) break; // expiry order
      this.#drop(en1);
    }
  }

  /** Drops the tables of jobs for which `isLive(jobId)` is false (they can only be stale now). */
  retain(isLive: (jobId: string) => boolean): void {
    const verdicts = new Map<number, boolean>();
    for (const session of this.#sessions.values()) {
      for (const [seq, table] of session.byJob) {
        let live = verdicts.get(seq);
        if (live === undefined) verdicts.set(seq, live = isLive(table.jobId));
        if (!live) session.byJob.delete(seq);
      }
    }
  }

  #drop(en1: number): void {
    this.#sessions.delete(en1);
    this.#released.delete(en1);
  }

  /** Distinct jobs with keys. */
  get jobs(): number {
    const seqs = new Set<number>();
    for (const session of this.#sessions.values()) {
      for (const seq of session.byJob.keys()) seqs.add(seq);
    }
    return seqs.size;
  }

  /** Sessions with keys (open ones, and closed ones within the window). */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Shares remembered for job `seq`, over every session (0 when none). */
  sharesOf(jobSeq: number): number {
    let n = 0;
    for (const session of this.#sessions.values()) n += session.byJob.get(jobSeq)?.size ?? 0;
    return n;
  }
}
