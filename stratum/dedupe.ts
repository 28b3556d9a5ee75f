/**
 * Duplicate-share filter shared by every connection: one set of share keys per job.
 *
 * A share's key is `extranonce1, extranonce2, ntime, nonce, version` with extranonce2 read as a
 * number (so hex case cannot dodge it) and the words as parsed numbers (so leading zeros cannot),
 * and a miner that resumes its session (and so its extranonce1) on a new connection cannot replay
 * old shares.
 *
 * Keys are kept as 32-bit words in open-addressing tables (`Uint32Array`s, per job), not as
 * strings in a `Set`: a set lives as long as its job and takes a key per share, and strings there
 * would be promoted to the old generation and traced by every full garbage collection, whose
 * pauses are the longest stalls of a busy pool. Words in a typed array cost the collector nothing
 * and are compared exactly (no hash-only matching: a false duplicate would reject a good share).
 *
 * @module
 */

/** Words per slot: state (0 empty, else 1 + extranonce2 hex length), then the six key words. */
const SLOT_WORDS = 7;
/** The table is split in parts by the hash's top bits, so that growing one moves few keys. */
const PART_BITS = 6;
const PARTS = 1 << PART_BITS;
/** Slots of a part when first used (a part doubles past half full). */
const INITIAL_SLOTS = 16;

/**
 * The keys of one job: open-addressing hash tables with linear probing, 64 of them chosen by the
 * hash's top bits. One big table would stall the event loop while it doubles (milliseconds at
 * 100,000 keys); a part holds 1/64 of the keys, so a doubling moves at most a few thousand.
 */
class KeyTable {
  readonly jobId: string;
  readonly #parts: (Uint32Array | undefined)[] = new Array(PARTS).fill(undefined);
  readonly #sizes = new Uint32Array(PARTS);
  #size = 0;

  constructor(jobId: string) {
    this.jobId = jobId;
  }

  /** Inserts the key; false when it was already there. */
  add(
    state: number,
    en1: number,
    en2Hi: number,
    en2Lo: number,
    ntime: number,
    nonce: number,
    version: number,
  ): boolean {
    const hash = hashKey(state, en1, en2Hi, en2Lo, ntime, nonce, version);
    const p = hash >>> (32 - PART_BITS);
    const slots = this.#parts[p] ??= new Uint32Array(INITIAL_SLOTS * SLOT_WORDS);
    const mask = slots.length / SLOT_WORDS - 1;
    let i = hash & mask;
    for (;;) {
      const at = i * SLOT_WORDS;
      const s = slots[at];
      if (s === 0) break;
      if (
        s === state && slots[at + 1] === en1 && slots[at + 2] === en2Hi &&
        slots[at + 3] === en2Lo && slots[at + 4] === ntime && slots[at + 5] === nonce &&
        slots[at + 6] === version
      ) {
        return false;
      }
      i = (i + 1) & mask;
    }
    const at = i * SLOT_WORDS;
    slots[at] = state;
    slots[at + 1] = en1;
    slots[at + 2] = en2Hi;
    slots[at + 3] = en2Lo;
    slots[at + 4] = ntime;
    slots[at + 5] = nonce;
    slots[at + 6] = version;
    this.#size++;
    if (++this.#sizes[p] * 2 > mask + 1) this.#parts[p] = grown(slots);
    return true;
  }

  /** Keys held. */
  get size(): number {
    return this.#size;
  }
}

/** A part's slots moved into a table twice the size. */
function grown(old: Uint32Array): Uint32Array {
  const count = (old.length / SLOT_WORDS) * 2;
  const slots = new Uint32Array(count * SLOT_WORDS);
  const mask = count - 1;
  for (let from = 0; from < old.length; from += SLOT_WORDS) {
    const state = old[from];
    if (state === 0) continue;
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
  return slots;
}

/** Mixes the key words into a 32-bit hash (murmur3's multiply-rotate steps and finaliser). */
function hashKey(
  state: number,
  en1: number,
  en2Hi: number,
  en2Lo: number,
  ntime: number,
  nonce: number,
  version: number,
): number {
  let h = mix(0x9747b28c ^ state, en1);
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

/** Remembers which shares each recent job has seen. */
export class ShareDeduper {
  readonly #byJob = new Map<number, KeyTable>();

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
    let table = this.#byJob.get(jobSeq);
    if (table === undefined) {
      table = new KeyTable(jobId);
      this.#byJob.set(jobSeq, table);
    }
    // The digit count is part of the key: "0a" and "000a" are different extranonce2 values.
    return table.add(
      1 + length,
      extranonce1 >>> 0,
      hi,
      lo,
      ntime >>> 0,
      nonce >>> 0,
      version >>> 0,
    );
  }

  /** Drops the sets of jobs for which `isLive(jobId)` is false (they can only be stale now). */
  retain(isLive: (jobId: string) => boolean): void {
    for (const [seq, table] of this.#byJob) {
      if (!isLive(table.jobId)) this.#byJob.delete(seq);
    }
  }

  /** Jobs with a set. */
  get jobs(): number {
    return this.#byJob.size;
  }

  /** Shares remembered for job `seq` (0 when it has no set). */
  sharesOf(jobSeq: number): number {
    return this.#byJob.get(jobSeq)?.size ?? 0;
  }
}
