/**
 * Operational metrics in the Prometheus text exposition format (version 0.0.4): the plain-data
 * {@linkcode MetricsSnapshot} the pool fills in, a {@linkcode LatencyHistogram} to collect
 * latencies cheaply, and {@linkcode renderPrometheus}.
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

/** Everything `/metrics` exposes; counters are totals since start. */
export interface MetricsSnapshot {
  /** Shares by outcome (`accepted`, `stale`, `low_difficulty`, `duplicate`, …). */
  readonly sharesByResult: Readonly<Record<string, number>>;
  /** Found blocks by outcome (`accepted`, `rejected`, `error`). */
  readonly blocksByResult: Readonly<Record<string, number>>;
  /** Open miner connections by transport (`tcp`, `tls`). */
  readonly connectionsByTransport: Readonly<Record<string, number>>;
  /** Share hashes checked since start. */
  readonly hashChecks: number;
  /** Share hashes checked per second, recent rate. */
  readonly hashChecksPerSecond: number;
  /** Pool hashrate (H/s), when measured. */
  readonly poolHashrate?: number;
  /** RPC latency by method (`getblocktemplate`, `submitblock`, …). */
  readonly rpcLatency: Readonly<Record<string, HistogramSnapshot>>;
  /** Time from a new job to the last `mining.notify` written to every miner. */
  readonly fanoutLatency?: HistogramSnapshot;
}

/** Where `/metrics` reads from. */
export interface MetricsSource {
  /** The current values. */
  metrics(): MetricsSnapshot;
}

/** Bucket bounds (seconds) suited to RPC and fan-out latencies: 1 ms to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [
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
];

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

  /** Records one observation in seconds. */
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

  /** Cumulative snapshot for {@linkcode renderPrometheus}. */
  snapshot(): HistogramSnapshot {
    let running = 0;
    const buckets = this.#bounds.map((le, i) => ({ le, count: running += this.#counts[i] }));
    return { buckets, sum: this.#sum, count: this.#count };
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function labels(pairs: Record<string, string>): string {
  const parts = Object.entries(pairs).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
}

/** The snapshot as Prometheus text exposition format 0.0.4. */
export function renderPrometheus(m: MetricsSnapshot, prefix = "denopool"): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string) => {
    lines.push(`# HELP ${prefix}_${name} ${help}`, `# TYPE ${prefix}_${name} ${type}`);
  };
  const sample = (name: string, value: number, pairs: Record<string, string> = {}) => {
    lines.push(`${prefix}_${name}${labels(pairs)} ${formatValue(value)}`);
  };
  const histogram = (name: string, h: HistogramSnapshot, pairs: Record<string, string>) => {
    for (const b of h.buckets) {
      sample(`${name}_bucket`, b.count, { ...pairs, le: formatValue(b.le) });
    }
    sample(`${name}_bucket`, h.count, { ...pairs, le: "+Inf" });
    sample(`${name}_sum`, h.sum, pairs);
    sample(`${name}_count`, h.count, pairs);
  };

  family("shares_total", "counter", "Shares submitted, by result.");
  for (const [result, n] of Object.entries(m.sharesByResult)) sample("shares_total", n, { result });
  family("blocks_total", "counter", "Blocks found, by submission result.");
  for (const [result, n] of Object.entries(m.blocksByResult)) sample("blocks_total", n, { result });
  family("connections", "gauge", "Open miner connections, by transport.");
  for (const [transport, n] of Object.entries(m.connectionsByTransport)) {
    sample("connections", n, { transport });
  }
  family("hash_checks_total", "counter", "Share hashes checked.");
  sample("hash_checks_total", m.hashChecks);
  family("hash_checks_per_second", "gauge", "Share hashes checked per second, recent rate.");
  sample("hash_checks_per_second", m.hashChecksPerSecond);
  if (m.poolHashrate !== undefined) {
    family("pool_hashrate", "gauge", "Pool hashrate in hashes per second.");
    sample("pool_hashrate", m.poolHashrate);
  }
  family("rpc_latency_seconds", "histogram", "Bitcoin Core RPC latency, by method.");
  for (const [method, h] of Object.entries(m.rpcLatency)) {
    histogram("rpc_latency_seconds", h, { method });
  }
  if (m.fanoutLatency) {
    family("notify_fanout_seconds", "histogram", "New job to the last mining.notify written.");
    histogram("notify_fanout_seconds", m.fanoutLatency, {});
  }
  return lines.join("\n") + "\n";
}
