/**
 * Pool hashrate history for the chart: short-term samples (one per `/api/pool-hashrate` refresh,
 * 72 kept = 6 min at 5 s) and 24 h of one-minute points (a ring of 1440). Each minute point is the
 * mean of the short samples taken in that minute, so a minute is not represented by whichever
 * instant the sampler happened to land on.
 *
 * Pure bookkeeping: the caller passes the time and decides when to sample. Bounded memory: two
 * preallocated rings, no growth however long the pool runs.
 *
 * @module
 */

/** One published point (the `StatusSources.hashrateHistory` shape). */
export interface HistoryPoint {
  /** When (ms since the epoch): the sample time, or the start of the minute. */
  readonly at: number;
  /** H/s. */
  readonly hashrate: number;
  /** Tip height then, if known. */
  readonly blockHeight?: number;
}

/** Sizes of the rings. */
export interface HashrateHistoryOptions {
  /** Short-term samples kept (72). */
  readonly shortSlots?: number;
  /** Minute points kept (1440 = 24 h). */
  readonly minuteSlots?: number;
}

const MINUTE_MS = 60_000;

/** A fixed-size ring of points, oldest overwritten first. */
class Ring {
  readonly #at: Float64Array;
  readonly #hashrate: Float64Array;
  readonly #height: Float64Array;
  #next = 0;
  #size = 0;

  constructor(slots: number) {
    this.#at = new Float64Array(slots);
    this.#hashrate = new Float64Array(slots);
    this.#height = new Float64Array(slots);
  }

  get size(): number {
    return this.#size;
  }

  push(at: number, hashrate: number, height: number): void {
    const i = this.#next;
    this.#at[i] = at;
    this.#hashrate[i] = hashrate;
    this.#height[i] = height;
    this.#next = (i + 1) % this.#at.length;
    if (this.#size < this.#at.length) this.#size++;
  }

  /** Index of the k-th oldest entry. */
  #index(k: number): number {
    const n = this.#at.length;
    return (this.#next - this.#size + k + n) % n;
  }

  /** Time of the oldest entry, or Infinity when empty. */
  oldestAt(): number {
    return this.#size === 0 ? Infinity : this.#at[this.#index(0)];
  }

  /** Appends every entry older than `before`, oldest first, to `out`. */
  appendTo(out: HistoryPoint[], before = Infinity): void {
    for (let k = 0; k < this.#size; k++) {
      const i = this.#index(k);
      const at = this.#at[i];
      if (at >= before) break;
      const height = this.#height[i];
      out.push(
        height >= 0
          ? { at, hashrate: this.#hashrate[i], blockHeight: height }
          : { at, hashrate: this.#hashrate[i] },
      );
    }
  }
}

/** Short-term samples plus a day of minute means. */
export class HashrateHistory {
  readonly #short: Ring;
  readonly #minutes: Ring;
  /** Start of the minute being accumulated; -1 before the first sample. */
  #minute = -1;
  #sum = 0;
  #count = 0;
  #lastHeight = -1;

  /** Empty history with the given ring sizes (72 short samples, 1440 minutes). */
  constructor(options: HashrateHistoryOptions = {}) {
    const shortSlots = options.shortSlots ?? 72;
    const minuteSlots = options.minuteSlots ?? 1440;
    for (const [name, n] of [["shortSlots", shortSlots], ["minuteSlots", minuteSlots]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer`);
    }
    this.#short = new Ring(shortSlots);
    this.#minutes = new Ring(minuteSlots);
  }

  /**
   * Records the pool hashrate at `at` (ms) with the tip height then (undefined when unknown).
   * Samples must come in time order; one that goes back in time is ignored.
   */
  sample(at: number, hashrate: number, blockHeight?: number): void {
    const value = Number.isFinite(hashrate) && hashrate > 0 ? hashrate : 0;
    const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    if (minute < this.#minute) return;
    if (minute !== this.#minute) {
      this.#closeMinute();
      this.#minute = minute;
    }
    this.#sum += value;
    this.#count++;
    const height = blockHeight !== undefined && blockHeight >= 0 ? blockHeight : -1;
    this.#lastHeight = height;
    this.#short.push(at, value, height);
  }

  /** Minute points recorded (the minute in progress not counted). */
  get minutes(): number {
    return this.#minutes.size;
  }

  /** Short samples held. */
  get samples(): number {
    return this.#short.size;
  }

  /**
   * Every point oldest first: the minute means older than the oldest short sample, then the short
   * samples (the minute in progress is covered by them).
   */
  points(): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    const shortStart = this.#short.oldestAt();
    // A closed minute that overlaps the short window is already there sample by sample.
    this.#minutes.appendTo(out, Math.floor(shortStart / MINUTE_MS) * MINUTE_MS);
    this.#short.appendTo(out);
    return out;
  }

  #closeMinute(): void {
    if (this.#count === 0) return;
    this.#minutes.push(this.#minute, this.#sum / this.#count, this.#lastHeight);
    this.#sum = 0;
    this.#count = 0;
  }
}
