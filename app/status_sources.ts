/**
 * `StatusSources` (and the Prometheus `MetricsSource`) of the running pool: every figure the status
 * pages show, read from the live parts — the Stratum worker registry and bans, the RPC client, the
 * template feed, the block submitter, the share checker — plus the few caches the status needs of
 * its own (node facts, tip headers, block confirmations, the hashrate history, the BTC price).
 *
 * Nothing here runs per share. The getters run on the snapshot timers; the only timer of its own
 * is the hashrate sampler (one sample per `/api/pool-hashrate` cadence), a {@linkcode Periodic}
 * task.
 *
 * @module
 */

import { blockSubsidy, NETWORKS } from "../lib/bitcoin/mod.ts";
import type { Config } from "../lib/config/mod.ts";
import type { RpcClient } from "../lib/node/mod.ts";
import type { TemplateFeed } from "../lib/node/mod.ts";
import type { SharePool } from "../lib/shares/mod.ts";
import type { HistogramSnapshot, MetricsSnapshot, MetricsSource } from "../lib/status/metrics.ts";
import {
  type OverviewLimits,
  type OverviewSources,
  TopN,
  type WorkerOverview,
} from "../lib/status/views.ts";
import type {
  BestShareRecord,
  ChainTip,
  FoundBlockRecord,
  HashrateAccuracy,
  HashrateSample,
  JobFeedState,
  LiveWorker,
  NodeInfo,
  PoolCounters,
  PoolErrorRecord,
  PriceQuote,
  RpcHealth,
  RpcStats,
  StatusStatic,
  TemplateInfo,
  WorkerBan,
} from "../lib/status/sources.ts";
import type { StratumServer } from "../stratum/mod.ts";
import type { BlockSubmitter, FoundBlockRecord as JournalRecord } from "../lib/pool/mod.ts";
import { HashrateHistory } from "../lib/pool/mod.ts";
import { BlockConfirmations, NodeInfoCache, TipHeaders } from "../lib/status/node_info.ts";
import { PriceFeed } from "../lib/status/price_feed.ts";
import { Periodic, type Timers } from "../lib/periodic.ts";
import type { HashrateAccuracy as StatsAccuracy, WorkerStats } from "../lib/pool/mod.ts";

/** The parts of a running pool the status reads (a `RunningPool` fits). */
export interface StatusParts {
  /** The validated configuration. */
  readonly config: Config;
  /** Node RPC client. */
  readonly rpc: RpcClient;
  /** Template feed. */
  readonly feed: TemplateFeed;
  /** Found blocks. */
  readonly blocks: BlockSubmitter;
  /** Stratum listeners, worker registry and bans. */
  readonly stratum: StratumServer;
  /** Share checker (for `/metrics`); optional. */
  readonly shares?: SharePool;
}

/** Options of {@linkcode LiveStatusSources}. */
export interface LiveStatusOptions {
  /** Clock (ms since the epoch); default `Date.now`. */
  readonly now?: () => number;
  /** `fetch` of the price feed, injectable for tests. */
  readonly fetch?: typeof fetch;
  /** How long node facts are reused (ms, default 30 s). */
  readonly nodeInfoTtlMs?: number;
  /** Hashrate sample period (ms); default `status.pool_hashrate_refresh_seconds`. */
  readonly sampleIntervalMs?: number;
  /** Operator log for rare events (peer clean-up); default none. */
  readonly log?: (message: string) => void;
  /** Timers of the hashrate sampler (default: the global ones); tests pass a manual clock. */
  readonly timers?: Timers;
}

/** Confirmations from which a found block counts as `winning` (the reference pool's 6). */
export const WINNING_CONFIRMATIONS = 6;
/** Pool errors older than this are not shown (as the reference pool: 1 h). */
export const POOL_ERROR_WINDOW_MS = 3_600_000;
/** Pool errors kept per kind. */
const ERROR_HISTORY = 20;

/** Blocks between difficulty retargets; 0 on regtest, which never retargets. */
export function retargetInterval(network: Config["node"]["network"]): number {
  return network === "regtest" ? 0 : 2016;
}

/** The configuration-derived half of the status input. */
export function statusStaticFrom(config: Config): StatusStatic {
  const s = config.status;
  return {
    poolTag: config.mining.poolTag || undefined,
    genesisExpected: NETWORKS[config.node.network].genesisHash,
    peerCleanup: {
      enabled: s.peerCleanupEnabled,
      maxPingMs: s.peerCleanupMaxPingMs,
      minPeers: s.peerCleanupMinPeers,
    },
    retargetInterval: retargetInterval(config.node.network),
    targetSpacingSec: 600,
  };
}

function accuracy(marker: StatsAccuracy): HashrateAccuracy {
  return marker === "~" ? "warming" : marker === "≈" ? "settling" : "stable";
}

/** A registered worker as the status sees it, its hashrate at `now` given (already computed). */
function liveWorker(w: WorkerStats, now: number, hashrate: number): LiveWorker {
  const worker: LiveWorker = {
    name: w.name,
    connectionId: w.connectionId,
    tls: w.tls,
    hashrate,
    hashrateAccuracy: accuracy(w.accuracy(now)),
    // The registry keeps one difficulty: the one assigned now, which shares are judged at.
    difficulty: w.difficulty,
    vardiff: w.difficulty,
    shareRate: w.sharesPerMinute(now),
    accepted: w.accepted,
    lastShareAt: w.lastShareAt,
    ...(w.userAgent === "" ? {} : { userAgent: w.userAgent }),
    ...(w.coinbase === undefined || w.payoutScript === undefined ? {} : {
      work: {
        height: w.workHeight,
        coinb1: w.coinbase.coinb1,
        extranonceBytes: w.extranonceBytes,
        coinb2: w.coinbase.coinb2,
        payoutScript: w.payoutScript,
      },
    }),
  };
  return worker;
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

/** The live pool as `StatusSources` and `MetricsSource`. */
export class LiveStatusSources implements OverviewSources, MetricsSource {
  readonly #parts: StatusParts;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  readonly #node: NodeInfoCache;
  readonly #headers: TipHeaders;
  readonly #confirmations: BlockConfirmations;
  readonly #history = new HashrateHistory();
  readonly #price: PriceFeed | undefined;
  readonly #sampler: Periodic<void>;
  readonly #rpcErrors: PoolErrorRecord[] = [];
  readonly #tipListeners = new Set<() => void>();
  #lastRpcErrorAt: number | undefined;
  #unsubscribe: (() => void)[] = [];

  /** Sources over `parts`; call {@linkcode start} to run the sampler and follow the tip. */
  constructor(parts: StatusParts, options: LiveStatusOptions = {}) {
    this.#parts = parts;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
    const s = parts.config.status;
    this.#node = new NodeInfoCache({
      rpc: parts.rpc,
      ttlMs: options.nodeInfoTtlMs,
      now: this.#now,
      peerCleanup: s.peerCleanupEnabled
        ? { enabled: true, maxPingMs: s.peerCleanupMaxPingMs, minPeers: s.peerCleanupMinPeers }
        : undefined,
      onDisconnect: (peer) =>
        this.#log(
          `peer clean-up: disconnected ${peer.display} (ping ${Math.round(peer.pingMs)} ms)`,
        ),
    });
    this.#headers = new TipHeaders(parts.rpc);
    this.#confirmations = new BlockConfirmations(parts.rpc);
    this.#price = s.priceUrl
      ? new PriceFeed({
        url: s.priceUrl,
        currency: s.fiatCurrency,
        now: this.#now,
        fetch: options.fetch,
        // At most one line a minute (the retry period) while the price source is failing.
        onError: (error) =>
          this.#log(`price: ${error instanceof Error ? error.message : String(error)}`),
      })
      : undefined;
    this.#sampler = new Periodic<void>({
      run: () => this.#sample(),
      intervalMs: options.sampleIntervalMs ?? s.poolHashrateRefreshSeconds * 1000,
      timers: options.timers,
      onError: (error) =>
        this.#log(`hashrate sample: ${error instanceof Error ? error.message : String(error)}`),
    });
  }

  /**
   * Starts the hashrate sampler (a sample now, then one per period) and follows new tips (fetching
   * their headers once each). Does nothing while started.
   */
  start(): void {
    if (this.#sampler.started) return;
    const feed = this.#parts.feed;
    this.#unsubscribe.push(
      feed.onTemplate((update) => {
        if (update.clean) this.#followTip(update.template.previousblockhash);
      }),
    );
    const current = feed.status().tip?.hash ?? feed.current()?.template.previousblockhash;
    if (current) this.#followTip(current);
    void this.#sampler.start();
    void this.#price?.refresh();
  }

  /** Stops the sampler and the tip listener; resolves once a sample in flight has settled. */
  async stop(): Promise<void> {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    await this.#sampler.stop();
  }

  /**
   * Calls `listener` each time a new tip's headers are in (block timer, recent block times), so the
   * snapshots can be rebuilt early. Returns a function that removes it.
   */
  onNewTip(listener: () => void): () => void {
    this.#tipListeners.add(listener);
    return () => this.#tipListeners.delete(listener);
  }

  /** Waits until the tip headers of `hash` are in (tests, start-up); never rejects. */
  tipHeadersFor(hash: string): Promise<void> {
    return this.#headers.update(hash);
  }

  // ---- StatusSources ------------------------------------------------------------------------

  /** Authorized connections from the worker registry, highest hashrate first. */
  workers(): readonly LiveWorker[] {
    const now = this.#now();
    const out: LiveWorker[] = [];
    for (const w of this.#parts.stratum.registry.stats()) {
      if (w.name !== "") out.push(liveWorker(w, now, w.hashrate(now)));
    }
    return out.sort((a, b) => b.hashrate - a.hashrate);
  }

  /**
   * What the overview shows of the workers, in one pass over the registry: counts, the top recent
   * workers (only those become `LiveWorker`s) and workers per user agent. The same result as
   * `workerOverview(workers(), now, limits)` without a snapshot of every worker: this runs on the
   * main thread every 10 s, and every share answer waits for it.
   */
  workerOverview(now: number, limits: OverviewLimits): WorkerOverview {
    const registry = this.#parts.stratum.registry;
    const top = new TopN<WorkerStats>(limits.recentWorkers);
    const userAgents = new Map<string, number>();
    let active = 0;
    let activeTls = 0;
    for (const w of registry.stats()) {
      if (w.name === "") continue;
      active++;
      if (w.tls) activeTls++;
      userAgents.set(w.userAgent, (userAgents.get(w.userAgent) ?? 0) + 1);
      const last = w.lastShareAt;
      if (last !== undefined && now - last <= limits.recentWindowMs) {
        top.offer(w, finite(w.hashrate(now)));
      }
    }
    return {
      active,
      activeTls,
      recent: top.list().map((w) => liveWorker(w, now, w.hashrate(now))),
      userAgents,
      names: () => {
        const names: string[] = [];
        for (const w of registry.stats()) if (w.name !== "") names.push(w.name);
        return names;
      },
    };
  }

  /** Worker and address bans (IP bans are not public), latest expiry first. */
  bannedWorkers(): readonly WorkerBan[] {
    return this.#parts.stratum.bans.list(this.#now())
      .filter((b) => !b.key.startsWith("ip:"))
      .reverse()
      .map((b) => ({ name: b.key, until: b.until, reason: b.reason }));
  }

  /** The pool-wide best shares, best first. */
  bestShares(): readonly BestShareRecord[] {
    return this.#parts.stratum.registry.bestShares.list();
  }

  /** Block counts from the journal (all time), share errors and rates since start. */
  counters(): PoolCounters {
    const now = this.#now();
    const registry = this.#parts.stratum.registry;
    let blocksAccepted = 0;
    let blocksErrored = 0;
    for (const r of this.#parts.blocks.records()) {
      if (r.status === "accepted") blocksAccepted++;
      else if (r.status === "rejected" || r.status === "stale") blocksErrored++;
    }
    const rejected = registry.totals().rejectedByReason;
    const rates = registry.totalRates(now);
    return {
      blocksAccepted,
      blocksErrored,
      // Errors are what a working miner should never send: not stale work, not low difficulty.
      shareErrors: rejected.invalid + rejected.duplicate + rejected.unauthorized +
        rejected["not-subscribed"],
      sharesPerMinute: rates.sharesPerMinute,
      hashrate: rates.hashrate,
    };
  }

  /** getblocktemplate / submitblock latency from the RPC client. */
  rpcStats(): RpcStats {
    const rpc = this.#parts.rpc;
    const gbt = rpc.latency.snapshot("getblocktemplate");
    const submit = rpc.latency.snapshot("submitblock");
    return {
      gbtLastSec: gbt.lastSec,
      gbtMaxSec: gbt.maxSec,
      gbtCount: gbt.count,
      gbtMin1hSec: gbt.windowMinSec,
      gbtAvg1hSec: gbt.windowAvgSec,
      gbtMax1hSec: gbt.windowMaxSec,
      submitLastSec: submit.lastSec,
      submitMaxSec: submit.maxSec,
      submitCount: submit.count,
      errors: rpc.health.errors,
    };
  }

  /** Feed errors, RPC errors and block rejections of the last hour, newest first. */
  poolErrors(): readonly PoolErrorRecord[] {
    const now = this.#now();
    this.#pollRpcError();
    const out: PoolErrorRecord[] = [...this.#rpcErrors];
    for (const e of this.#parts.feed.status().errorHistory) {
      out.push({ at: e.at, type: "feed", message: e.message });
    }
    for (const r of this.#parts.blocks.records()) {
      if (r.status !== "rejected" && r.status !== "stale") continue;
      const what = r.status === "stale" ? "went stale" : "rejected";
      out.push({
        at: r.updatedAt,
        type: "submit",
        message: `block ${r.height} ${what}${r.reason ? `: ${r.reason}` : ""}`,
      });
    }
    return out
      .filter((e) => e.at !== undefined && now - e.at <= POOL_ERROR_WINDOW_MS)
      .sort((a, b) => (b.at ?? 0) - (a.at ?? 0));
  }

  /** Node facts, cached ~30 s (peer clean-up runs with each fetch when enabled). */
  nodeInfo(): Promise<NodeInfo> {
    return this.#node.get();
  }

  /** RPC link health. */
  rpcHealth(): RpcHealth {
    const h = this.#parts.rpc.health;
    const health: RpcHealth = {
      healthy: h.rpcHealthy,
      disconnects: h.disconnects,
      reconnects: h.reconnects,
    };
    // An old error is history, not the state of a link that works now.
    return h.lastError !== undefined && !h.rpcHealthy
      ? { ...health, lastError: h.lastError }
      : health;
  }

  /**
   * The block journal's latest failure with its time, for an hour after it (as the pool errors);
   * the journal is the pool's record of found blocks, so a failure there is an accounting error.
   */
  accountingError(): string | undefined {
    const error = this.#parts.blocks.journalError;
    if (error === undefined || this.#now() - error.at > POOL_ERROR_WINDOW_MS) return undefined;
    return `${error.message} (at ${new Date(error.at).toISOString().replace(/\.\d{3}Z$/, "Z")})`;
  }

  /** Template feed and ZMQ state. */
  jobFeed(): JobFeedState {
    const status = this.#parts.feed.status();
    const zmq = status.zmq;
    const state: JobFeedState = {
      zmqHealthy: zmq?.zmqHealthy ?? false,
      zmqDisconnects: zmq?.zmqDisconnects ?? 0,
      zmqReconnects: zmq?.zmqReconnects ?? 0,
      lastError: status.lastError,
      lastErrorAt: status.lastErrorAt,
      errorHistory: status.errorHistory.map((e) => e.message).reverse(),
      lastRawBlockAt: zmq?.lastRawBlockAt,
      lastRawBlockBytes: zmq?.lastRawBlockBytes,
      emptyFirst: status.emptyFirst,
      discarded: status.discarded,
      tipSources: status.sources,
    };
    return state;
  }

  /** The tip from the feed, completed from its header; undefined until its time is known. */
  tip(): ChainTip | undefined {
    const feedTip = this.#parts.feed.status().tip;
    if (!feedTip) return undefined;
    const headers = this.#headers;
    if (headers.tip !== feedTip.hash) void this.#headers.update(feedTip.hash);
    const header = headers.tip === feedTip.hash ? headers.header : undefined;
    const height = feedTip.height ?? header?.height;
    const time = feedTip.time ?? header?.time;
    const bits = feedTip.bits ?? header?.bits;
    const difficulty = feedTip.difficulty ?? header?.difficulty;
    if (height === undefined || time === undefined || bits === undefined) return undefined;
    return {
      hash: feedTip.hash,
      height,
      time,
      bits,
      difficulty: difficulty ?? 0,
      recentTimes: headers.tip === feedTip.hash ? headers.times : [time],
    };
  }

  /** Fees of the current template: coinbasevalue − subsidy. */
  template(): TemplateInfo | undefined {
    const current = this.#parts.feed.current();
    if (!current) return undefined;
    const { template } = current;
    const subsidy = blockSubsidy(template.height, NETWORKS[this.#parts.config.node.network]);
    return {
      feesSats: Math.max(0, template.coinbasevalue - Number(subsidy)),
      updatedAt: current.receivedAt,
    };
  }

  /** The BTC price when `status.price_url` is set (cached 30 min), else undefined. */
  price(): PriceQuote | undefined {
    return this.#price?.quote();
  }

  /** The `limit` newest found blocks (not those the node rejected), with confirmations. */
  async foundBlocks(limit: number): Promise<readonly FoundBlockRecord[]> {
    const records = this.#parts.blocks.records()
      .filter((r) => r.status !== "rejected")
      .slice(0, Math.max(0, limit));
    const tip = this.#parts.feed.status().tip;
    return await Promise.all(records.map((r) => this.#foundBlock(r, tip?.hash, tip?.height)));
  }

  /** Minute means of the last 24 h, then the samples of the last few minutes; oldest first. */
  hashrateHistory(): readonly HashrateSample[] {
    return this.#history.points();
  }

  // ---- MetricsSource ------------------------------------------------------------------------

  /** Counters, gauges and histograms for `/metrics`, every one from a live part. */
  metrics(): MetricsSnapshot {
    const { stratum, shares, blocks, rpc } = this.#parts;
    const totals = stratum.registry.totals();
    const sharesByResult: Record<string, number> = { accepted: totals.accepted };
    for (const [reason, n] of Object.entries(totals.rejectedByReason)) {
      sharesByResult[reason.replace("-", "_")] = n;
    }
    const blocksByResult: Record<string, number> = {
      accepted: 0,
      rejected: 0,
      stale: 0,
      pending: 0,
    };
    for (const r of blocks.records()) blocksByResult[r.status]++;
    const counts = stratum.counts();
    const stats = shares?.stats();
    const feedStatus = this.#parts.feed.status();
    const rpcLatency: Record<string, HistogramSnapshot> = {};
    // The two that matter are always listed (zero before their first call: a true count, and a
    // series that exists from the start is one alerts can rely on).
    for (const method of new Set(["getblocktemplate", "submitblock", ...rpc.latency.methods()])) {
      rpcLatency[method] = rpc.latency.histogram(method);
    }
    return {
      sharesByResult,
      blocksByResult,
      connectionsByTransport: { tcp: counts.plain, tls: counts.tls },
      authorizedConnections: counts.authorized,
      connectionsRefused: counts.refused,
      hashChecks: stats?.checksDone ?? 0,
      hashChecksPerSecond: stats?.checksPerSecond ?? 0,
      poolHashrate: stratum.registry.totalHashrate(this.#now()),
      rpcLatency,
      fanoutLatency: stratum.fanoutLatency(),
      journalErrors: blocks.journalErrors,
      tipSources: feedStatus.sources,
      emptyJobs: feedStatus.emptyFirst.published,
      templatesDiscarded: feedStatus.discarded,
    };
  }

  // ---- internals ----------------------------------------------------------------------------

  async #foundBlock(
    r: JournalRecord,
    tipHash: string | undefined,
    tipHeight: number | undefined,
  ): Promise<FoundBlockRecord> {
    const base = {
      height: r.height,
      hash: r.hash,
      worker: r.worker,
      at: r.foundAt,
      shareDifficulty: r.shareDifficulty,
      poolFeeSats: Number(r.poolFeeSats),
      workerPayoutSats: Number(r.workerPayoutSats),
    };
    // Lost the race before the node ever had it: stale, nothing to ask.
    if (r.status === "stale") return { ...base, result: "stale" };
    if (r.status !== "accepted" || tipHash === undefined || tipHeight === undefined) {
      return { ...base, result: "possible" };
    }
    const confirmations = await this.#confirmations.get(r.hash, r.height, tipHash, tipHeight);
    if (confirmations === undefined) return { ...base, result: "possible" };
    return {
      ...base,
      confirmations,
      result: confirmations < 0
        ? "stale"
        : confirmations >= WINNING_CONFIRMATIONS
        ? "winning"
        : "possible",
    };
  }

  #followTip(hash: string): void {
    // Node facts would otherwise show the old height for up to 30 s beside the new tip.
    this.#node.invalidate();
    void this.#headers.update(hash).then(() => {
      if (this.#headers.tip !== hash) return;
      for (const listener of this.#tipListeners) listener();
    });
  }

  #sample(): void {
    const now = this.#now();
    const tip = this.#parts.feed.status().tip;
    this.#history.sample(now, this.#parts.stratum.registry.totalHashrate(now), tip?.height);
    this.#pollRpcError();
  }

  /** The RPC client keeps only its latest error: polled here (each sample and rebuild) into a history. */
  #pollRpcError(): void {
    const { lastError, lastErrorAt } = this.#parts.rpc.health;
    if (lastError === undefined || lastErrorAt === undefined) return;
    if (lastErrorAt === this.#lastRpcErrorAt) return;
    this.#lastRpcErrorAt = lastErrorAt;
    this.#rpcErrors.unshift({ at: lastErrorAt, type: "rpc", message: lastError });
    if (this.#rpcErrors.length > ERROR_HISTORY) this.#rpcErrors.length = ERROR_HISTORY;
  }
}
