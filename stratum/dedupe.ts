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
 * Keys are kept as 32-bit words in one small open-addressing table per session (a `Uint32Array`
 * that doubles as it fills; keys of jobs no longer kept are dropped when it is rebuilt), not as strings
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

/** Words per slot: state (0 empty, else 1 + extranonce2 hex length), job seq, then five key words. */
const SLOT_WORDS = 7;
/** Slots of a session's table when its first share comes (it doubles past half full). */
const INITIAL_SLOTS = 16;
/** Default time a closed session's keys are kept for its resumption, ms. */
export const DEFAULT_REPLAY_WINDOW_MS = 30_000;

/** What one extranonce1 sent: one table for all its jobs, and when it expires once released. */
class SessionKeys {
  /** Jobs whose keys count, oldest first: `[seq, jobId]`. */
  readonly jobs: [number, string][] = [];
  slots: Uint32Array | undefined;
  /** Slots in use, dead keys (of jobs no longer kept) included. */
  used = 0;
  /** Released at this time + the window (ms since the epoch); undefined while open. */
  expiresAt: number | undefined = undefined;

  hasJob(seq: number): boolean {
    for (const [s] of this.jobs) if (s === seq) return true;
    return false;
  }

  add(
    state: number,
    seq: number,
    en2Hi: number,
    en2Lo: number,
    ntime: number,
    nonce: number,
    version: number,
  ): boolean {
    let slots = this.slots ??= new Uint32Array(INITIAL_SLOTS * SLOT_WORDS);
    const mask = slots.length / SLOT_WORDS - 1;
    let i = hashKey(state, seq, en2Hi, en2Lo, ntime, nonce, version) & mask;
    for (;;) {
      const at = i * SLOT_WORDS;
      const st = slots[at];
      if (st === 0) break;
      if (
        st === state && slots[at + 1] === seq && slots[at + 2] === en2Hi &&
        slots[at + 3] === en2Lo && slots[at + 4] === ntime && slots[at + 5] === nonce &&
        slots[at + 6] === version
      ) {
        return false;
      }
      i = (i + 1) & mask;
    }
    const at = i * SLOT_WORDS;
    slots[at] = state;
    slots[at + 1] = seq;
    slots[at + 2] = en2Hi;
    slots[at + 3] = en2Lo;
    slots[at + 4] = ntime;
    slots[at + 5] = nonce;
    slots[at + 6] = version;
    if (++this.used * 2 > mask + 1) {
      slots = this.slots = this.#rebuilt(slots);
    }
    return true;
  }

  /** The live keys moved into a table sized for them (twice the old one when most are live). */
  #rebuilt(old: Uint32Array): Uint32Array {
    let live = 0;
    for (let from = 0; from < old.length; from += SLOT_WORDS) {
      if (old[from] !== 0 && this.hasJob(old[from + 1])) live++;
    }
    // Two to four slots per live key, as a doubling table keeps: the next insert fits.
    let count = INITIAL_SLOTS;
    while ((live + 1) * 2 > count) count *= 2;
    const slots = new Uint32Array(count * SLOT_WORDS);
    const mask = count - 1;
    for (let from = 0; from < old.length; from += SLOT_WORDS) {
      const state = old[from];
      if (state === 0 || !this.hasJob(old[from + 1])) continue;
      let i = hashKey(
        state,
        old[from + 1],
        old[from + 2],
        old[from + 3],
        old[from + 4],
        old[from + 5],
        old[from + 6],
      ) & mask;
      while (slots[i * SLOT_WORDS] !== 0) i = (i + 1) & mask;
      const to = i * SLOT_WORDS;
      for (let w = 0; w < SLOT_WORDS; w++) slots[to + w] = old[from + w];
    }
    this.used = live;
    return slots;
  }

  /** Keys held for job `seq` (0 when the job is not kept). */
  countOf(seq: number): number {
    if (this.slots === undefined || !this.hasJob(seq)) return 0;
    let n = 0;
    for (let at = 0; at < this.slots.length; at += SLOT_WORDS) {
      if (this.slots[at] !== 0 && this.slots[at + 1] === seq) n++;
    }
    return n;
  }
}

/** Mixes the key words into a 32-bit hash (murmur3's multiply-rotate steps and finaliser). */
function hashKey(
  state: number,
  seq: number,
  en2Hi: number,
  en2Lo: number,
  ntime: number,
  nonce: number,
  version: number,
): number {
  let h = mix(0x9747b28c, state);
  h = mix(h, seq);
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
  /**
   * Jobs whose keys one session keeps (default 16): the newest ones by job seq. Set it to the
   * number of notified jobs a session remembers: a share on an older job is refused by the
   * session before it reaches the filter, so its keys can go.
   */
  readonly jobsPerSession?: number;
}

/** Remembers which shares each session sent on each live job. */
export class ShareDeduper {
  readonly #sessions = new Map<number, SessionKeys>();
  /** Released sessions in release order (the same order as their expiry). */
  readonly #released = new Set<number>();
  /** How long a closed session's keys are kept, ms. */
  readonly replayWindowMs: number;
  /** Jobs whose keys one session keeps. */
  readonly jobsPerSession: number;

  /** An empty filter. */
  constructor(options: ShareDeduperOptions = {}) {
    this.replayWindowMs = options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    this.jobsPerSession = Math.max(1, options.jobsPerSession ?? 16);
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
      session = new SessionKeys();
      this.#sessions.set(en1, session);
    }
    const seq = jobSeq >>> 0;
    if (!session.hasJob(seq)) {
      const jobs = session.jobs;
      // Kept in seq order; past the limit the oldest job's keys become dead (dropped on rebuild).
      let at = jobs.length;
      while (at > 0 && jobs[at - 1][0] > seq) at--;
      jobs.splice(at, 0, [seq, jobId]);
      if (jobs.length > this.jobsPerSession) {
        const [dropped] = jobs.shift()!;
        if (dropped === seq) return true; // older than every job kept: refused before here anyway
      }
    }
    // The digit count is part of the key: "0a" and "000a" are different extranonce2 values.
    return session.add(1 + length, seq, hi, lo, ntime >>> 0, nonce >>> 0, version >>> 0);
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
      session = new SessionKeys();
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

  /** Drops the keys of jobs for which `isLive(jobId)` is false (they can only be stale now). */
  retain(isLive: (jobId: string) => boolean): void {
    const verdicts = new Map<number, boolean>();
    for (const session of this.#sessions.values()) {
      const jobs = session.jobs;
      for (let i = jobs.length - 1; i >= 0; i--) {
        const [seq, id] = jobs[i];
        let live = verdicts.get(seq);
        if (live === undefined) verdicts.set(seq, live = isLive(id));
        if (!live) jobs.splice(i, 1);
      }
      if (jobs.length === 0 && session.slots !== undefined) {
        session.slots = undefined;
        session.used = 0;
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
      for (const [seq] of session.jobs) seqs.add(seq);
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
    for (const session of this.#sessions.values()) n += session.countOf(jobSeq >>> 0);
    return n;
  }
}
