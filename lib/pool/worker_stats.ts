/**
 * Per-worker statistics: hashrate, share rate, accepted/rejected counts by reason, best share,
 * notify→first-share latency, and the registry of live workers the status API reads.
 *
 * The hashrate is an exponentially decayed estimate: every accepted share credits
 * `difficulty × 2^32` hashes, the credited work decays with time constant τ, and the estimate is
 * the decayed work divided by the decayed observation time `τ(1 − e^(−age/τ))`. That is unbiased
 * from the first share on (no bootstrap special case) and falls by itself while a worker is silent.
 * Its precision is that of the decayed share count, which sets the accuracy marker.
 *
 * Clock injected: every call that depends on time takes `now` (ms since the epoch).
 *
 * @module
 */

import { parseMinerClient } from "./bans.ts";
import type { CoinbaseParts } from "./types.ts";
import { BestShares } from "./best_shares.ts";

/** Hashes per difficulty-1 share. */
const HASHES_PER_DIFF1 = 2 ** 32;

/** Why a share was rejected, as counted in the stats. */
export type RejectReason =
  | "invalid"
  | "stale"
  | "duplicate"
  | "low-difficulty"
  | "unauthorized"
  | "not-subscribed";

/** Accuracy marker of a hashrate: `"~"` warming up, `"≈"` settling, `""` stable. */
export type HashrateAccuracy = "~" | "≈" | "";

/** Tuning of the hashrate estimate. */
export interface WorkerStatsOptions {
  /** Decay time constant of the hashrate and share rate (ms). */
  readonly tauMs: number;
  /** Decayed share count below which the estimate is warming (`~`). */
  readonly warmingShares: number;
  /** Decayed share count below which the estimate is settling (`≈`). */
  readonly settlingShares: number;
  /** Latency samples kept for the notify→first-share percentiles. */
  readonly latencySamples: number;
}

/** τ = 5 min; `~` below 8 effective shares, `≈` below 32; 64 latency samples. */
export const DEFAULT_WORKER_STATS_OPTIONS: WorkerStatsOptions = Object.freeze({
  tauMs: 300_000,
  warmingShares: 8,
  settlingShares: 32,
  latencySamples: 64,
});

/** A point-in-time copy of one worker's numbers, plain data for the status API. */
export interface WorkerSnapshot {
  /** Connection id (unique in this process). */
  readonly connectionId: string;
  /** Full worker name as authorized (`ADDRESS[.rig]`). */
  readonly name: string;
  /** Payout address. */
  readonly address: string;
  /** Rig name after the first `.` (may be empty). */
  readonly worker: string;
  /** Miner user agent from `mining.subscribe`. */
  readonly userAgent: string;
  /** Remote IP address. */
  readonly remoteAddress: string;
  /** True for a TLS connection. */
  readonly tls: boolean;
  /** When the connection was made (ms since the epoch). */
  readonly connectedAt: number;
  /** Current difficulty. */
  readonly difficulty: number;
  /** Estimated hashrate (H/s). */
  readonly hashrate: number;
  /** Accuracy marker of `hashrate`. */
  readonly hashrateAccuracy: HashrateAccuracy;
  /** Accepted shares per minute (decayed estimate). */
  readonly sharesPerMinute: number;
  /** Accepted shares. */
  readonly accepted: number;
  /** Sum of the difficulties credited for accepted shares. */
  readonly acceptedDifficulty: number;
  /** Rejected shares in total. */
  readonly rejected: number;
  /** Rejected shares by reason. */
  readonly rejectedByReason: Readonly<Record<RejectReason, number>>;
  /** Highest share difficulty seen (accepted or not), 0 if none. */
  readonly bestDifficulty: number;
  /** When the last accepted share arrived (ms since the epoch), if any. */
  readonly lastShareAt: number | undefined;
  /** Last notify→first-share latency (ms), if measured. */
  readonly notifyToFirstShareMs: number | undefined;
  /** Median of the recent notify→first-share latencies (ms), if measured. */
  readonly notifyToFirstShareP50Ms: number | undefined;
  /** 95th percentile of the recent notify→first-share latencies (ms), if measured. */
  readonly notifyToFirstShareP95Ms: number | undefined;
  /** Number of latency samples behind the percentiles. */
  readonly notifyToFirstShareSamples: number;
}

/** Every reject reason, in the order the stats list them. */
export const REJECT_REASONS: readonly RejectReason[] = Object.freeze([
  "invalid",
  "stale",
  "duplicate",
  "low-difficulty",
  "unauthorized",
  "not-subscribed",
]);

/** Hashrate and share rate of one worker or a sum of them, filled in place. */
export interface WorkerRates {
  /** Estimated hashrate (H/s). */
  hashrate: number;
  /** Accepted shares per minute (decayed estimate). */
  sharesPerMinute: number;
}

function emptyRejects(): Record<RejectReason, number> {
  return {
    "invalid": 0,
    "stale": 0,
    "duplicate": 0,
    "low-difficulty": 0,
    "unauthorized": 0,
    "not-subscribed": 0,
  };
}

/** The live numbers of one connected worker. Cheap to update per share; no allocation. */
export class WorkerStats {
  /** Connection id (unique in this process). */
  readonly connectionId: string;
  /** Remote IP address. */
  readonly remoteAddress: string;
  /** True for a TLS connection. */
  readonly tls: boolean;
  /** When the connection was made (ms since the epoch). */
  readonly connectedAt: number;
  /** Full worker name once authorized, else empty. */
  name = "";
  /** Payout address once authorized, else empty. */
  address = "";
  /** Rig name once authorized. */
  worker = "";
  /** Miner user agent from `mining.subscribe`. */
  userAgent = "";
  /** Current difficulty. */
  difficulty = 0;
  /** Accepted shares. */
  accepted = 0;
  /** Sum of credited difficulty of accepted shares. */
  acceptedDifficulty = 0;
  /** Rejected shares in total. */
  rejected = 0;
  /** Rejected shares by reason. */
  readonly rejectedByReason: Record<RejectReason, number> = emptyRejects();
  /** Highest share difficulty seen, 0 if none. */
  bestDifficulty = 0;
  /** When the last accepted share arrived. */
  lastShareAt: number | undefined = undefined;
  /** Last notify→first-share latency (ms). */
  lastLatencyMs: number | undefined = undefined;
  /** Coinbase halves of the latest work sent (shared with every miner of the same payout). */
  coinbase: CoinbaseParts | undefined = undefined;
  /** Height of the latest work sent. */
  workHeight = 0;
  /** Extranonce bytes (extranonce1 + extranonce2) between the coinbase halves. */
  extranonceBytes = 0;
  /** The miner's payout script (output script of its address). */
  payoutScript: Uint8Array | undefined = undefined;

  readonly #options: WorkerStatsOptions;
  #decayedWork = 0;
  #decayedShares = 0;
  #decayedAt: number;
  #notifiedAt: number | undefined = undefined;
  /** Notify → first share latencies, allocated with the first sample (idle miners have none). */
  #latencies: Float64Array | undefined;
  #latencyCount = 0;
  /**
   * p50/p95 of the ring as of `#percentilesCount` samples: a status snapshot of every worker
   * every few seconds would otherwise sort every ring again though new samples are rare.
   */
  #percentiles: [number, number] | undefined;
  #percentilesCount = 0;

  /** Stats for a connection made at `connectedAt`. */
  constructor(
    connectionId: string,
    remoteAddress: string,
    tls: boolean,
    connectedAt: number,
    options: Partial<WorkerStatsOptions> = {},
  ) {
    this.connectionId = connectionId;
    this.remoteAddress = remoteAddress;
    this.tls = tls;
    this.connectedAt = connectedAt;
    this.#decayedAt = connectedAt;
    // Connections share the default options object rather than each holding a copy.
    let custom = false;
    for (const _ in options) custom = true;
    this.#options = custom
      ? { ...DEFAULT_WORKER_STATS_OPTIONS, ...options }
      : DEFAULT_WORKER_STATS_OPTIONS;
  }

  /** Notes that fresh work was notified at `now` (starts a latency measurement). */
  noteNotify(now: number): void {
    this.#notifiedAt = now;
  }

  /** Notes the work just sent: its coinbase halves, height, extranonce room and payout script. */
  noteWork(
    coinbase: CoinbaseParts,
    height: number,
    extranonceBytes: number,
    payoutScript: Uint8Array,
  ): void {
    this.coinbase = coinbase;
    this.workHeight = height;
    this.extranonceBytes = extranonceBytes;
    this.payoutScript = payoutScript;
  }

  /** Counts an accepted share credited at `difficulty` whose hash had `shareDifficulty`. */
  noteAccepted(difficulty: number, shareDifficulty: number, now: number): void {
    this.#decay(now);
    this.#decayedWork += difficulty * HASHES_PER_DIFF1;
    this.#decayedShares += 1;
    this.accepted++;
    this.acceptedDifficulty += difficulty;
    this.lastShareAt = now;
    if (shareDifficulty > this.bestDifficulty) this.bestDifficulty = shareDifficulty;
    this.#noteFirstShare(now);
  }

  /** Counts a rejected share; `shareDifficulty` (if hashed) still counts toward the best share. */
  noteRejected(reason: RejectReason, now: number, shareDifficulty = 0): void {
    this.rejected++;
    this.rejectedByReason[reason]++;
    if (shareDifficulty > this.bestDifficulty) this.bestDifficulty = shareDifficulty;
    this.#noteFirstShare(now);
  }

  /** Estimated hashrate (H/s) at `now`. */
  hashrate(now: number): number {
    const observed = this.#observedMs(now);
    if (observed <= 0) return 0;
    return (this.#decayedWork * this.#decayFactor(now) * 1000) / observed;
  }

  /** Accepted shares per minute at `now` (decayed estimate). */
  sharesPerMinute(now: number): number {
    const observed = this.#observedMs(now);
    if (observed <= 0) return 0;
    return (this.#decayedShares * this.#decayFactor(now) * 60_000) / observed;
  }

  /**
   * {@linkcode hashrate} and {@linkcode sharesPerMinute} at `now` into `out`, with one pair of
   * exponentials for both (the registry's totals sum every worker on each status rebuild).
   */
  ratesInto(now: number, out: WorkerRates): WorkerRates {
    const observed = this.#observedMs(now);
    if (observed <= 0) {
      out.hashrate = 0;
      out.sharesPerMinute = 0;
      return out;
    }
    // The same expressions as the two getters, so a total equals the sum of what they report.
    const f = this.#decayFactor(now);
    out.hashrate = (this.#decayedWork * f * 1000) / observed;
    out.sharesPerMinute = (this.#decayedShares * f * 60_000) / observed;
    return out;
  }

  /** Accuracy marker of the hashrate at `now`. */
  accuracy(now: number): HashrateAccuracy {
    const shares = this.#decayedShares * this.#decayFactor(now);
    if (shares < this.#options.warmingShares) return "~";
    if (shares < this.#options.settlingShares) return "≈";
    return "";
  }

  /** A plain copy of every number at `now`. */
  snapshot(now: number): WorkerSnapshot {
    const lat = this.#latencyPercentiles();
    return {
      connectionId: this.connectionId,
      name: this.name,
      address: this.address,
      worker: this.worker,
      userAgent: this.userAgent,
      remoteAddress: this.remoteAddress,
      tls: this.tls,
      connectedAt: this.connectedAt,
      difficulty: this.difficulty,
      hashrate: this.hashrate(now),
      hashrateAccuracy: this.accuracy(now),
      sharesPerMinute: this.sharesPerMinute(now),
      accepted: this.accepted,
      acceptedDifficulty: this.acceptedDifficulty,
      rejected: this.rejected,
      rejectedByReason: { ...this.rejectedByReason },
      bestDifficulty: this.bestDifficulty,
      lastShareAt: this.lastShareAt,
      notifyToFirstShareMs: this.lastLatencyMs,
      notifyToFirstShareP50Ms: lat?.[0],
      notifyToFirstShareP95Ms: lat?.[1],
      notifyToFirstShareSamples: Math.min(this.#latencyCount, this.#options.latencySamples),
    };
  }

  #noteFirstShare(now: number): void {
    if (this.#notifiedAt === undefined) return;
    const latency = now - this.#notifiedAt;
    this.#notifiedAt = undefined;
    this.lastLatencyMs = latency;
    const ring = this.#latencies ??= new Float64Array(this.#options.latencySamples);
    ring[this.#latencyCount % ring.length] = latency;
    this.#latencyCount++;
  }

  #latencyPercentiles(): [number, number] | undefined {
    const ring = this.#latencies;
    const n = Math.min(this.#latencyCount, ring?.length ?? 0);
    if (ring === undefined || n === 0) return undefined;
    if (this.#percentilesCount === this.#latencyCount) return this.#percentiles;
    const sorted = ring.slice(0, n).sort();
    const at = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))];
    this.#percentiles = [at(0.5), at(0.95)];
    this.#percentilesCount = this.#latencyCount;
    return this.#percentiles;
  }

  #observedMs(now: number): number {
    const tau = this.#options.tauMs;
    return tau * (1 - Math.exp(-(now - this.connectedAt) / tau));
  }

  #decayFactor(now: number): number {
    return Math.exp(-(now - this.#decayedAt) / this.#options.tauMs);
  }

  #decay(now: number): void {
    const f = this.#decayFactor(now);
    this.#decayedWork *= f;
    this.#decayedShares *= f;
    this.#decayedAt = now;
  }
}

/** Count of live workers per miner client name, for the status page. */
export interface MinerTypeCount {
  /** Client name parsed from the user agent (`unknown` when empty). */
  readonly name: string;
  /** Live authorized workers using it. */
  readonly workers: number;
}

/** Share counts of every worker since start, closed connections included. */
export interface ShareTotals {
  /** Accepted shares. */
  readonly accepted: number;
  /** Rejected shares by reason. */
  readonly rejectedByReason: Readonly<Record<RejectReason, number>>;
}

/** The live workers, keyed by connection id; the status API reads it on its timer. */
export class WorkerRegistry {
  /** The pool-wide best accepted shares; kept across disconnects. */
  readonly bestShares: BestShares;
  readonly #workers = new Map<string, WorkerStats>();
  #retiredAccepted = 0;
  readonly #retiredRejects: Record<RejectReason, number> = emptyRejects();

  /** An empty registry; `bestShares` defaults to a table of the top 12. */
  constructor(bestShares: BestShares = new BestShares()) {
    this.bestShares = bestShares;
  }

  /** Adds a live worker (replacing one with the same connection id). */
  add(stats: WorkerStats): void {
    this.#workers.set(stats.connectionId, stats);
  }

  /** Removes a worker whose connection closed; its share counts stay in {@linkcode totals}. */
  remove(connectionId: string): void {
    const stats = this.#workers.get(connectionId);
    if (stats === undefined) return;
    this.#workers.delete(connectionId);
    this.#retiredAccepted += stats.accepted;
    for (const reason of REJECT_REASONS) {
      this.#retiredRejects[reason] += stats.rejectedByReason[reason];
    }
  }

  /** Share counts since start: live workers plus every removed one. */
  totals(): ShareTotals {
    let accepted = this.#retiredAccepted;
    const retired = this.#retiredRejects;
    // One local per reason rather than a keyed loop per worker: this runs on every status rebuild.
    let invalid = retired["invalid"];
    let stale = retired["stale"];
    let duplicate = retired["duplicate"];
    let lowDifficulty = retired["low-difficulty"];
    let unauthorized = retired["unauthorized"];
    let notSubscribed = retired["not-subscribed"];
    for (const w of this.#workers.values()) {
      accepted += w.accepted;
      if (w.rejected === 0) continue;
      const r = w.rejectedByReason;
      invalid += r["invalid"];
      stale += r["stale"];
      duplicate += r["duplicate"];
      lowDifficulty += r["low-difficulty"];
      unauthorized += r["unauthorized"];
      notSubscribed += r["not-subscribed"];
    }
    return {
      accepted,
      rejectedByReason: {
        "invalid": invalid,
        "stale": stale,
        "duplicate": duplicate,
        "low-difficulty": lowDifficulty,
        "unauthorized": unauthorized,
        "not-subscribed": notSubscribed,
      },
    };
  }

  /** The live stats object of a connection, if registered. */
  get(connectionId: string): WorkerStats | undefined {
    return this.#workers.get(connectionId);
  }

  /** Number of registered workers. */
  get size(): number {
    return this.#workers.size;
  }

  /**
   * The live stats of every registered connection, authorized or not (`name` is empty until
   * authorized), in registration order. For one pass without snapshots; do not keep them.
   */
  stats(): IterableIterator<WorkerStats> {
    return this.#workers.values();
  }

  /** Snapshots of every authorized worker at `now`, highest hashrate first. */
  list(now: number): WorkerSnapshot[] {
    const out: WorkerSnapshot[] = [];
    for (const w of this.#workers.values()) if (w.name !== "") out.push(w.snapshot(now));
    return out.sort((a, b) => b.hashrate - a.hashrate);
  }

  /** Sums of the hashrate and share rate of every registered worker at `now`, in one pass. */
  totalRates(now: number): WorkerRates {
    const one: WorkerRates = { hashrate: 0, sharesPerMinute: 0 };
    let hashrate = 0;
    let sharesPerMinute = 0;
    for (const w of this.#workers.values()) {
      w.ratesInto(now, one);
      hashrate += one.hashrate;
      sharesPerMinute += one.sharesPerMinute;
    }
    return { hashrate, sharesPerMinute };
  }

  /** Sum of the hashrate of every registered worker at `now`. */
  totalHashrate(now: number): number {
    let sum = 0;
    for (const w of this.#workers.values()) sum += w.hashrate(now);
    return sum;
  }

  /** Sum of the accepted shares per minute of every registered worker at `now`. */
  totalSharesPerMinute(now: number): number {
    let sum = 0;
    for (const w of this.#workers.values()) sum += w.sharesPerMinute(now);
    return sum;
  }

  /** Live authorized workers per miner client name, most used first. */
  minerTypes(): MinerTypeCount[] {
    // Workers per raw agent first, then one parse per distinct agent (a few, however many workers).
    const byAgent = new Map<string, number>();
    for (const w of this.#workers.values()) {
      if (w.name === "") continue;
      byAgent.set(w.userAgent, (byAgent.get(w.userAgent) ?? 0) + 1);
    }
    const counts = new Map<string, number>();
    for (const [agent, workers] of byAgent) {
      const name = parseMinerClient(agent).name || "unknown";
      counts.set(name, (counts.get(name) ?? 0) + workers);
    }
    return [...counts].map(([name, workers]) => ({ name, workers }))
      .sort((a, b) => b.workers - a.workers || a.name.localeCompare(b.name));
  }
}
