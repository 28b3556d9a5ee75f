/**
 * Fixed-bucket latency histograms, shared by the RPC client's statistics, the Stratum fan-out
 * timing and the benchmarks; `/metrics` renders their snapshots.
 *
 * @module
 */

/** A cumulative histogram: `buckets[i].count` is the number of observations ≤ `buckets[i].le`. */
export interface HistogramSnapshot {
  /** Upper bounds (seconds, ascending) with cumulative counts; `+Inf` is implied by `count`. */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  /** Sum of all observations (seconds). */
  readonly sum: number;
  /** Number of observations. */
  readonly count: number;
}

/**
 * Bucket bounds (seconds) of request latencies, 0.5 ms to 30 s: a local node answers in a few ms,
 * a busy mainnet getblocktemplate in up to seconds, and a timed-out call lands past 10 s.
 */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
]);

/**
 * Bucket bounds (seconds) of the new-job fan-out: handing a job to a few miners takes tens of
 * microseconds, to thousands tens to hundreds of milliseconds.
 */
export const FANOUT_BUCKETS: readonly number[] = Object.freeze([
  0.0001,
  0.00025,
  ...LATENCY_BUCKETS,
]);

/** Collects latencies into fixed buckets; `observe` allocates nothing. */
export class LatencyHistogram {
  readonly #bounds: readonly number[];
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  /** A histogram over ascending `bounds` (seconds). */
  constructor(bounds: readonly number[] = LATENCY_BUCKETS) {
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length);
  }

  /** Records one observation in seconds (non-finite or negative values are ignored). */
  observe(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    this.#sum += seconds;
    this.#count++;
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]) {
        this.#counts[i]++;
        return;
      }
    }
  }

  /** The cumulative snapshot. */
  snapshot(): HistogramSnapshot {
    let running = 0;
    const buckets = this.#bounds.map((le, i) => ({ le, count: running += this.#counts[i] }));
    return { buckets, sum: this.#sum, count: this.#count };
  }
}
