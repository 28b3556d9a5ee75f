/**
 * Round-trip latency of node RPC calls, per method: the last and largest ever, a count, and
 * min/avg/max over a rolling window (default one hour) kept in fixed time buckets so memory stays
 * bounded however often a method is called; plus an all-time cumulative histogram (fixed latency
 * bounds, count and sum) for Prometheus.
 *
 * @module
 */

import { type HistogramSnapshot, LATENCY_BUCKETS, LatencyHistogram } from "../histogram.ts";

/** Latency figures of one method, in seconds, as plain data for the status API. */
export interface LatencySnapshot {
  /** Latency of the most recent call (0 before the first). */
  readonly lastSec: number;
  /** Largest latency ever seen. */
  readonly maxSec: number;
  /** Number of calls recorded. */
  readonly count: number;
  /** Smallest latency inside the window (0 when the window is empty). */
  readonly windowMinSec: number;
  /** Mean latency inside the window (0 when the window is empty). */
  readonly windowAvgSec: number;
  /** Largest latency inside the window (0 when the window is empty). */
  readonly windowMaxSec: number;
  /** Number of calls inside the window. */
  readonly windowCount: number;
}

/** An all-time cumulative histogram of one method's latencies. */
export type LatencyHistogramSnapshot = HistogramSnapshot;

/** Histogram bounds (seconds) of RPC latency: the shared request-latency buckets. */
export const RPC_LATENCY_BUCKETS: readonly number[] = LATENCY_BUCKETS;

/** Options for {@linkcode LatencyStats}. */
export interface LatencyOptions {
  /** Length of the rolling window in ms; default one hour. */
  readonly windowMs?: number;
  /** Width of one bucket in ms; default one minute. The window moves in these steps. */
  readonly bucketMs?: number;
  /** Clock in ms since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /** Histogram bounds (seconds, ascending); default {@linkcode RPC_LATENCY_BUCKETS}. */
  readonly histogramBuckets?: readonly number[];
}

/** One time bucket of samples. */
interface Bucket {
  /** Bucket number (time / bucketMs); -1 while unused. */
  slot: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** Samples of one method. */
class MethodLatency {
  last = 0;
  max = 0;
  count = 0;
  readonly buckets: Bucket[];
  /** All-time histogram. */
  readonly histogram: LatencyHistogram;

  constructor(bucketCount: number, histogramBounds: readonly number[]) {
    this.histogram = new LatencyHistogram(histogramBounds);
    this.buckets = Array.from({ length: bucketCount }, () => ({
      slot: -1,
      count: 0,
      sum: 0,
      min: 0,
      max: 0,
    }));
  }
}

const EMPTY: LatencySnapshot = Object.freeze({
  lastSec: 0,
  maxSec: 0,
  count: 0,
  windowMinSec: 0,
  windowAvgSec: 0,
  windowMaxSec: 0,
  windowCount: 0,
});

/** Per-method latency statistics with a rolling window. */
export class LatencyStats {
  readonly #bucketMs: number;
  readonly #bucketCount: number;
  readonly #now: () => number;
  readonly #bounds: readonly number[];
  readonly #methods = new Map<string, MethodLatency>();

  /** Creates empty statistics. */
  constructor(options: LatencyOptions = {}) {
    const windowMs = options.windowMs ?? 3_600_000;
    this.#bucketMs = options.bucketMs ?? 60_000;
    if (!(this.#bucketMs > 0) || !(windowMs >= this.#bucketMs)) {
      throw new RangeError("latency window must be at least one positive bucket wide");
    }
    this.#bucketCount = Math.ceil(windowMs / this.#bucketMs);
    this.#now = options.now ?? Date.now;
    this.#bounds = options.histogramBuckets ?? RPC_LATENCY_BUCKETS;
  }

  /** Records one call of `method` that took `seconds`. */
  record(method: string, seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    let stats = this.#methods.get(method);
    if (!stats) {
      stats = new MethodLatency(this.#bucketCount, this.#bounds);
      this.#methods.set(method, stats);
    }
    stats.last = seconds;
    if (seconds > stats.max) stats.max = seconds;
    stats.count++;
    stats.histogram.observe(seconds);
    const slot = Math.floor(this.#now() / this.#bucketMs);
    const bucket = stats.buckets[slot % this.#bucketCount];
    if (bucket.slot !== slot) {
      bucket.slot = slot;
      bucket.count = 0;
      bucket.sum = 0;
      bucket.min = seconds;
      bucket.max = seconds;
    }
    bucket.count++;
    bucket.sum += seconds;
    if (seconds < bucket.min) bucket.min = seconds;
    if (seconds > bucket.max) bucket.max = seconds;
  }

  /** Figures for `method` (all zero if it was never recorded). */
  snapshot(method: string): LatencySnapshot {
    const stats = this.#methods.get(method);
    if (!stats) return EMPTY;
    const current = Math.floor(this.#now() / this.#bucketMs);
    const oldest = current - this.#bucketCount + 1;
    let count = 0;
    let sum = 0;
    let min = Infinity;
    let max = 0;
    for (const bucket of stats.buckets) {
      if (bucket.slot < oldest || bucket.slot > current || bucket.count === 0) continue;
      count += bucket.count;
      sum += bucket.sum;
      if (bucket.min < min) min = bucket.min;
      if (bucket.max > max) max = bucket.max;
    }
    return {
      lastSec: stats.last,
      maxSec: stats.max,
      count: stats.count,
      windowMinSec: count === 0 ? 0 : min,
      windowAvgSec: count === 0 ? 0 : sum / count,
      windowMaxSec: max,
      windowCount: count,
    };
  }

  /** All-time cumulative histogram of `method` (all zero if it was never recorded). */
  histogram(method: string): LatencyHistogramSnapshot {
    return (this.#methods.get(method)?.histogram ?? new LatencyHistogram(this.#bounds)).snapshot();
  }

  /** The methods recorded so far, in first-call order. */
  methods(): string[] {
    return [...this.#methods.keys()];
  }

  /** Figures for every recorded method. */
  all(): Record<string, LatencySnapshot> {
    const out: Record<string, LatencySnapshot> = {};
    for (const method of this.#methods.keys()) out[method] = this.snapshot(method);
    return out;
  }
}
