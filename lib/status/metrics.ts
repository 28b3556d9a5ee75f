/**
 * Operational metrics in the Prometheus text exposition format (version 0.0.4): the plain-data
 * {@linkcode MetricsSnapshot} the pool fills in (histograms from `lib/histogram.ts`),
 * {@linkcode renderPrometheus}, and {@linkcode parsePrometheus}, a strict
 * reader of the same format that checks what a scraper relies on.
 *
 * @module
 */

import type { HistogramSnapshot } from "../histogram.ts";

export type { HistogramSnapshot };

/** Everything `/metrics` exposes; counters are totals since start. */
export interface MetricsSnapshot {
  /** Shares by outcome (`accepted`, `stale`, `low_difficulty`, `duplicate`, …). */
  readonly sharesByResult: Readonly<Record<string, number>>;
  /** Found blocks by outcome (`accepted`, `rejected`, `error`). */
  readonly blocksByResult: Readonly<Record<string, number>>;
  /** Open miner connections by transport (`tcp`, `tls`). */
  readonly connectionsByTransport: Readonly<Record<string, number>>;
  /** Open miner connections that are authorized, when known. */
  readonly authorizedConnections?: number;
  /** Connections refused at accept since start, by reason, when known. */
  readonly connectionsRefused?: Readonly<Record<string, number>>;
  /** Share hashes checked since start. */
  readonly hashChecks: number;
  /** Share hashes checked per second, recent rate. */
  readonly hashChecksPerSecond: number;
  /** Pool hashrate (H/s), when measured. */
  readonly poolHashrate?: number;
  /** RPC latency by method (`getblocktemplate`, `submitblock`, …). */
  readonly rpcLatency: Readonly<Record<string, HistogramSnapshot>>;
  /** Time from a new job to the last `mining.notify` handed to its socket. */
  readonly fanoutLatency?: HistogramSnapshot;
  /** Failed writes of the found-block journal since start, when known. */
  readonly journalErrors?: number;
  /** Sources of new tips (the node's ZMQ, longpoll, RPC; configured tip sources), when known. */
  readonly tipSources?: readonly {
    readonly name: string;
    readonly healthy: boolean;
    readonly first: number;
    readonly announced: number;
    readonly unconfirmed: number;
  }[];
  /** Empty-first jobs published since start, when known. */
  readonly emptyJobs?: number;
  /** Templates thrown away for building below the newest tip, since start, when known. */
  readonly templatesDiscarded?: number;
}

/** Where `/metrics` reads from. */
export interface MetricsSource {
  /** The current values. */
  metrics(): MetricsSnapshot;
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
  if (m.authorizedConnections !== undefined) {
    family("connections_authorized", "gauge", "Open miner connections that are authorized.");
    sample("connections_authorized", m.authorizedConnections);
  }
  if (m.connectionsRefused !== undefined) {
    family("connections_refused_total", "counter", "Connections refused at accept, by reason.");
    for (const [reason, n] of Object.entries(m.connectionsRefused)) {
      sample("connections_refused_total", n, { reason });
    }
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
  if (m.journalErrors !== undefined) {
    family("block_journal_errors_total", "counter", "Failed writes of the found-block journal.");
    sample("block_journal_errors_total", m.journalErrors);
  }
  if (m.tipSources !== undefined) {
    family("tip_source_first_total", "counter", "New tips each source was the first to show.");
    for (const s of m.tipSources) sample("tip_source_first_total", s.first, { source: s.name });
    family("tip_source_announced_total", "counter", "Tips each source announced.");
    for (const s of m.tipSources) {
      sample("tip_source_announced_total", s.announced, { source: s.name });
    }
    family("tip_source_unconfirmed_total", "counter", "Hints the pool's node did not confirm.");
    for (const s of m.tipSources) {
      sample("tip_source_unconfirmed_total", s.unconfirmed, { source: s.name });
    }
    family("tip_source_up", "gauge", "1 while the tip source is reachable.");
    for (const s of m.tipSources) sample("tip_source_up", s.healthy ? 1 : 0, { source: s.name });
  }
  if (m.emptyJobs !== undefined) {
    family(
      "empty_jobs_total",
      "counter",
      "Empty-first (coinbase-only) jobs published on a new tip.",
    );
    sample("empty_jobs_total", m.emptyJobs);
  }
  if (m.templatesDiscarded !== undefined) {
    family("templates_discarded_total", "counter", "Templates thrown away: below the newest tip.");
    sample("templates_discarded_total", m.templatesDiscarded);
  }
  return lines.join("\n") + "\n";
}

/** One sample line of a parsed exposition. */
export interface PrometheusSample {
  /** Sample name (for a histogram: the family name plus `_bucket`, `_sum` or `_count`). */
  readonly name: string;
  /** Label values by label name. */
  readonly labels: Readonly<Record<string, string>>;
  /** The value (`+Inf`, `-Inf`, `NaN` included). */
  readonly value: number;
}

/** One metric family of a parsed exposition. */
export interface PrometheusFamily {
  /** Family name. */
  readonly name: string;
  /** `counter`, `gauge`, `histogram`, `summary` or `untyped`. */
  readonly type: string;
  /** The HELP text. */
  readonly help: string;
  /** Its samples, in order. */
  readonly samples: PrometheusSample[];
}

/** Why {@linkcode parsePrometheus} refused a text, with the line number (1-based). */
export class PrometheusFormatError extends Error {
  /** A refusal at `line`. */
  constructor(readonly line: number, reason: string) {
    super(`line ${line}: ${reason}`);
    this.name = "PrometheusFormatError";
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL_PAIR = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string): number | undefined {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  return /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text) ? Number(text) : undefined;
}

function parseLabels(text: string, at: number): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = text;
  while (rest !== "") {
    const m = LABEL_PAIR.exec(rest);
    if (!m) throw new PrometheusFormatError(at, `malformed labels: {${text}}`);
    if (m[1] in out) throw new PrometheusFormatError(at, `label ${m[1]} twice`);
    out[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** The family a sample name belongs to, given the families' types. */
function familyOf(name: string, families: Map<string, PrometheusFamily>): string | undefined {
  if (families.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = families.get(base)?.type;
    if (type === "histogram" || (type === "summary" && suffix !== "_bucket")) return base;
  }
  return undefined;
}

/**
 * Parses Prometheus text format 0.0.4 strictly: every family announced by `# HELP` then
 * `# TYPE` before its samples and never twice, sample names of their family (with the histogram
 * and summary suffixes), well-formed labels and values, no series twice, and histogram buckets
 * cumulative with a `+Inf` bucket equal to `_count`. Throws {@linkcode PrometheusFormatError}.
 */
export function parsePrometheus(text: string): Map<string, PrometheusFamily> {
  if (text !== "" && !text.endsWith("\n")) {
    throw new PrometheusFormatError(text.split("\n").length, "no final newline");
  }
  const families = new Map<string, PrometheusFamily>();
  const seen = new Set<string>();
  const helps = new Map<string, string>();
  const lines = text.split("\n");
  lines.pop();
  lines.forEach((line, i) => {
    const at = i + 1;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, kind, name, ...rest] = line.split(" ");
      const value = rest.join(" ");
      if (!METRIC_NAME.test(name ?? "")) throw new PrometheusFormatError(at, `bad name ${name}`);
      if (kind === "HELP") {
        if (helps.has(name) || families.has(name)) {
          throw new PrometheusFormatError(at, `HELP of ${name} twice or after its TYPE`);
        }
        helps.set(name, value);
        return;
      }
      if (families.has(name)) throw new PrometheusFormatError(at, `TYPE of ${name} twice`);
      if (!TYPES.has(value)) throw new PrometheusFormatError(at, `unknown type ${value}`);
      const help = helps.get(name);
      if (help === undefined) throw new PrometheusFormatError(at, `TYPE of ${name} without HELP`);
      families.set(name, { name, type: value, help, samples: [] });
      return;
    }
    if (line.startsWith("#")) return; // a comment
    const m = SAMPLE_LINE.exec(line);
    if (!m) throw new PrometheusFormatError(at, `not a sample: ${line}`);
    const [, name, labelText, valueText] = m;
    const value = parseValue(valueText);
    if (value === undefined) throw new PrometheusFormatError(at, `bad value ${valueText}`);
    const family = familyOf(name, families);
    if (family === undefined) throw new PrometheusFormatError(at, `${name} has no HELP/TYPE`);
    const labels = parseLabels(labelText ?? "", at);
    const series = `${name}{${
      Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`)
    }}`;
    if (seen.has(series)) throw new PrometheusFormatError(at, `series ${series} twice`);
    seen.add(series);
    families.get(family)!.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

function checkHistogram(f: PrometheusFamily): void {
  const fail = (reason: string) => {
    throw new PrometheusFormatError(0, `histogram ${f.name}: ${reason}`);
  };
  // Group the samples by their labels other than `le`.
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
    let g = groups.get(key);
    if (!g) groups.set(key, g = { buckets: [] });
    if (s.name.endsWith("_bucket")) {
      const bound = le === undefined ? undefined : parseValue(le);
      if (bound === undefined || Number.isNaN(bound)) fail(`bucket without a numeric le`);
      else g.buckets.push([bound, s.value]);
    } else if (s.name.endsWith("_count")) g.count = s.value;
    else if (s.name.endsWith("_sum")) g.sum = s.value;
    else fail(`sample ${s.name} is not a bucket, sum or count`);
  }
  for (const [key, g] of groups) {
    if (g.count === undefined || g.sum === undefined) fail(`${key}: no _count or _sum`);
    let last = -Infinity;
    let running = 0;
    for (const [bound, count] of g.buckets) {
      if (bound <= last) fail(`${key}: le ${bound} not ascending`);
      if (count < running) fail(`${key}: bucket le=${bound} not cumulative`);
      last = bound;
      running = count;
    }
    if (last !== Infinity) fail(`${key}: no +Inf bucket`);
    if (running !== g.count) fail(`${key}: +Inf bucket ${running} ≠ _count ${g.count}`);
  }
}
