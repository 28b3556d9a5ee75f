/**
 * Pure builders of the public response objects: raw `StatusSources` data in, censored
 * `types.ts` objects out. No timers, no I/O; the time is passed in.
 *
 * Rules shared by every builder: optional members are omitted when the source does not know them
 * (and optional lists when empty); non-finite numbers from a source become 0 for required members
 * and are omitted for optional ones; every worker name, address and hash goes through `censor.ts`.
 *
 * @module
 */

import { censorHash, censorText, censorWorker, parseUserAgent } from "./censor.ts";
import type {
  ChainTip,
  FoundBlockRecord,
  HashrateSample,
  LiveWorker,
  NodeInfo,
  StatusSources,
  StatusStatic,
} from "./sources.ts";
import type { SystemMetrics } from "./system.ts";
import {
  API_VERSION,
  type BestShare,
  type FoundBlockView,
  type MinerTypeView,
  type NodePageData,
  type OverviewPageData,
  type PoolHashrateHistoryPoint,
  type PoolHashrateResponse,
  type PoolPageData,
  type RecentWorkView,
  type ServerPageData,
  type ServerPageEmptyFirst,
  type ServerPageJobFeed,
  type ServerPageTipSource,
  type WidgetData,
  type WorkerView,
} from "./types.ts";

/** Limits of the overview lists. */
export interface OverviewLimits {
  /** Most workers in `workers` (15). */
  readonly recentWorkers: number;
  /** Only workers with a share this recent (ms, 30 min). */
  readonly recentWindowMs: number;
  /** Most entries in `banned_workers` (25). */
  readonly bannedWorkers: number;
  /** Most entries in `best_shares` (12). */
  readonly bestShares: number;
  /** Most entries in `error_history` of the pool page (6). */
  readonly poolErrors: number;
}

/** The reference pool's list sizes. */
export const DEFAULT_LIMITS: OverviewLimits = {
  recentWorkers: 15,
  recentWindowMs: 30 * 60_000,
  bannedWorkers: 25,
  bestShares: 12,
  poolErrors: 6,
};

/** Milliseconds since the epoch as RFC3339 in UTC with whole seconds (`2026-01-31T19:55:02Z`). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

function count(value: number): number {
  return Number.isFinite(value) ? Math.max(0, Math.round(value)) : 0;
}

function optFinite(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/** Copies `value` into `target[key]` only when defined (keeps optional members omitted). */
function put<T, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/**
 * The `limit` highest-scored items offered, highest first; among equal scores the first offered
 * ranks first (as a stable sort). One comparison per item below the floor, no allocation: the
 * overview's top workers out of thousands without sorting them all.
 */
export class TopN<T> {
  readonly #limit: number;
  readonly #items: T[] = [];
  readonly #scores: number[] = [];

  /** An empty selection of at most `limit` items. */
  constructor(limit: number) {
    this.#limit = Math.max(0, Math.trunc(limit) || 0);
  }

  /** Offers `item` with `score` (a finite number; higher ranks first). */
  offer(item: T, score: number): void {
    const items = this.#items;
    const scores = this.#scores;
    const n = items.length;
    if (n === this.#limit && (n === 0 || !(score > scores[n - 1]))) return;
    let i = n === this.#limit ? n - 1 : n;
    while (i > 0 && scores[i - 1] < score) {
      items[i] = items[i - 1];
      scores[i] = scores[i - 1];
      i--;
    }
    items[i] = item;
    scores[i] = score;
  }

  /** The selected items, highest score first. */
  list(): T[] {
    return this.#items.slice();
  }
}

/** What `/api/overview` shows of the live workers, gathered in one pass over them. */
export interface WorkerOverview {
  /** Authorized connections. */
  readonly active: number;
  /** Those over TLS. */
  readonly activeTls: number;
  /**
   * At most `limits.recentWorkers` workers with a share in the last `limits.recentWindowMs`,
   * highest (finite) hashrate first, ties in the sources' order.
   */
  readonly recent: readonly LiveWorker[];
  /** Authorized connections per raw user agent (`""` for none). */
  readonly userAgents: ReadonlyMap<string, number>;
  /** Full names of every authorized connection: secrets to censor out of free text. */
  names(): readonly string[];
}

/**
 * `StatusSources` that may summarise their workers for the overview themselves (the live pool
 * does, straight from its registry, without a `LiveWorker` per connection).
 */
export interface OverviewSources extends StatusSources {
  /** The overview's view of the workers at `now` under `limits`; same result as from `workers()`. */
  workerOverview?(now: number, limits: OverviewLimits): WorkerOverview;
}

/** {@linkcode WorkerOverview} of a list of live workers (sources without `workerOverview`). */
export function workerOverview(
  live: readonly LiveWorker[],
  now: number,
  limits: OverviewLimits = DEFAULT_LIMITS,
): WorkerOverview {
  const top = new TopN<LiveWorker>(limits.recentWorkers);
  const userAgents = new Map<string, number>();
  let activeTls = 0;
  for (const w of live) {
    if (w.tls) activeTls++;
    const agent = w.userAgent ?? "";
    userAgents.set(agent, (userAgents.get(agent) ?? 0) + 1);
    if (w.lastShareAt !== undefined && now - w.lastShareAt <= limits.recentWindowMs) {
      top.offer(w, finite(w.hashrate));
    }
  }
  return {
    active: live.length,
    activeTls,
    recent: top.list(),
    userAgents,
    names: () => live.map((w) => w.name),
  };
}

type ParsedAgent = ReturnType<typeof parseUserAgent>;

/** Parsed user agents by raw string: the same few agents come back every rebuild. */
const parsedAgents = new Map<string, ParsedAgent>();
/** Bound of {@linkcode parsedAgents} (a pool of miners sending unique agents must not grow it). */
const PARSED_AGENTS_MAX = 4096;

function parseAgentCached(agent: string): ParsedAgent {
  if (parsedAgents.has(agent)) return parsedAgents.get(agent);
  const parsed = parseUserAgent(agent);
  if (parsedAgents.size >= PARSED_AGENTS_MAX) parsedAgents.clear();
  parsedAgents.set(agent, parsed === undefined ? undefined : Object.freeze(parsed));
  return parsed;
}

/** Workers grouped by the software named in their Stratum user agent, most workers first. */
export function minerTypes(agents: Iterable<string | undefined>): MinerTypeView[] {
  const counts = new Map<string, number>();
  for (const agent of agents) {
    if (agent !== undefined) counts.set(agent, (counts.get(agent) ?? 0) + 1);
  }
  return minerTypesOf(counts);
}

/** {@linkcode minerTypes} from workers per raw user agent (each distinct agent parsed once). */
export function minerTypesOf(agents: ReadonlyMap<string, number>): MinerTypeView[] {
  const byName = new Map<string, Map<string | undefined, number>>();
  for (const [agent, workers] of agents) {
    const parsed = parseAgentCached(agent);
    if (!parsed) continue;
    let versions = byName.get(parsed.name);
    if (!versions) byName.set(parsed.name, versions = new Map());
    versions.set(parsed.version, (versions.get(parsed.version) ?? 0) + workers);
  }
  const out: MinerTypeView[] = [];
  for (const [name, versions] of byName) {
    let total = 0;
    const list = [...versions].map(([version, workers]) => {
      total += workers;
      return version === undefined ? { workers } : { version, workers };
    });
    list.sort((a, b) => b.workers - a.workers || (a.version ?? "").localeCompare(b.version ?? ""));
    out.push({ name, total_workers: total, versions: list });
  }
  out.sort((a, b) => b.total_workers - a.total_workers || a.name.localeCompare(b.name));
  return out;
}

/**
 * `/api/overview` from the sources at `now` (`render_duration` is filled in by the caller). Only
 * what the overview shows is built: the top recent workers, the shown bans and best shares.
 */
export function buildOverview(
  sources: OverviewSources,
  statics: StatusStatic,
  now: number,
  limits: OverviewLimits = DEFAULT_LIMITS,
): OverviewPageData {
  const live = sources.workerOverview?.(now, limits) ??
    workerOverview(sources.workers(), now, limits);
  const counters = sources.counters();

  const recent = live.recent.map((w): RecentWorkView => {
    const name = censorWorker(w.name);
    const view: RecentWorkView = {
      name,
      display_name: name,
      rolling_hashrate: finite(w.hashrate),
      difficulty: finite(w.difficulty),
      vardiff: finite(w.vardiff),
      share_rate: finite(w.shareRate),
      accepted: count(w.accepted),
      connection_id: censorText(w.connectionId, [], 64),
    };
    if (w.hashrateAccuracy === "warming") view.hashrate_accuracy = "~";
    if (w.hashrateAccuracy === "settling") view.hashrate_accuracy = "≈";
    return view;
  });

  // The ban's own name, then every live worker's (deduplicated, first seen first): built once, and
  // only when a shown ban has a reason to censor.
  let secrets: string[] | undefined;
  const banned = sources.bannedWorkers()
    .filter((b) => b.until === undefined || b.until > now)
    .slice(0, limits.bannedWorkers)
    .map((b): WorkerView => {
      const name = censorWorker(b.name);
      const view: WorkerView = { name, display_name: name, banned: true };
      if (b.until !== undefined) view.banned_until = rfc3339(b.until);
      if (b.reason) {
        secrets ??= ["", ...new Set(live.names())];
        secrets[0] = b.name;
        view.ban_reason = censorText(b.reason, secrets, 64);
      }
      return view;
    });

  const best = sources.bestShares().slice(0, limits.bestShares).map((s): BestShare => {
    const worker = censorWorker(s.worker);
    const view: BestShare = {
      worker,
      difficulty: finite(s.difficulty),
      timestamp: rfc3339(s.at),
      display_worker: worker,
    };
    if (s.hash !== undefined) view.hash = view.display_hash = censorHash(s.hash);
    return view;
  });

  const overview: OverviewPageData = {
    api_version: API_VERSION,
    active_miners: live.active,
    active_tls_miners: live.activeTls,
    render_duration: 0,
    workers: recent,
    banned_workers: banned,
    best_shares: best,
  };
  put(overview, "shares_per_minute", optFinite(counters.sharesPerMinute));
  put(overview, "pool_hashrate", optFinite(counters.hashrate));
  put(overview, "pool_tag", statics.poolTag);
  const price = sources.price();
  if (price && Number.isFinite(price.price)) {
    overview.btc_price_fiat = price.price;
    overview.btc_price_updated_at = rfc3339(price.updatedAt);
    overview.fiat_currency = price.currency;
  }
  overview.miner_types = minerTypesOf(live.userAgents);
  return overview;
}

/** `/api/pool-page` from the sources. */
export function buildPoolPage(
  sources: StatusSources,
  limits: OverviewLimits = DEFAULT_LIMITS,
): PoolPageData {
  const counters = sources.counters();
  const rpc = sources.rpcStats();
  const page: PoolPageData = {
    api_version: API_VERSION,
    blocks_accepted: count(counters.blocksAccepted),
    blocks_errored: count(counters.blocksErrored),
    rpc_gbt_last_sec: finite(rpc.gbtLastSec),
    rpc_gbt_max_sec: finite(rpc.gbtMaxSec),
    rpc_gbt_count: count(rpc.gbtCount),
    rpc_submit_last_sec: finite(rpc.submitLastSec),
    rpc_submit_max_sec: finite(rpc.submitMaxSec),
    rpc_submit_count: count(rpc.submitCount),
    rpc_errors: count(rpc.errors),
    share_errors: count(counters.shareErrors),
    rpc_gbt_min_1h_sec: finite(rpc.gbtMin1hSec),
    rpc_gbt_avg_1h_sec: finite(rpc.gbtAvg1hSec),
    rpc_gbt_max_1h_sec: finite(rpc.gbtMax1hSec),
  };
  const errors = sources.poolErrors().slice(0, limits.poolErrors);
  if (errors.length > 0) {
    const secrets = sources.workers().map((w) => w.name);
    page.error_history = errors.map((e) => {
      const event = { type: censorText(e.type, [], 32), message: censorText(e.message, secrets) };
      return e.at === undefined ? event : { at: rfc3339(e.at), ...event };
    });
  }
  return page;
}

/** `/api/node` from what the node said and the static settings. */
export function buildNode(info: NodeInfo, statics: StatusStatic): NodePageData {
  const page: NodePageData = {
    api_version: API_VERSION,
    node_blocks: count(info.blocks),
    node_headers: count(info.headers),
    node_initial_block_download: info.initialBlockDownload,
    node_connections: count(info.connections),
    node_connections_in: count(info.connectionsIn),
    node_connections_out: count(info.connectionsOut),
    node_pruned: info.pruned,
    node_size_on_disk_bytes: count(info.sizeOnDiskBytes),
    node_peer_cleanup_enabled: statics.peerCleanup.enabled,
    node_peer_cleanup_max_ping_ms: finite(statics.peerCleanup.maxPingMs),
    node_peer_cleanup_min_peers: count(statics.peerCleanup.minPeers),
    genesis_match: info.genesisHash !== undefined && statics.genesisExpected !== undefined &&
      info.genesisHash === statics.genesisExpected,
  };
  put(page, "node_network", info.network);
  put(page, "node_subversion", info.subversion);
  if (info.peers && info.peers.length > 0) {
    page.node_peers = info.peers.map((p) => ({
      display: censorText(p.display, [], 80),
      ping_ms: Math.max(0, finite(p.pingMs)),
      connected_at: count(p.connectedAt),
    }));
  }
  put(page, "genesis_hash", info.genesisHash);
  put(page, "genesis_expected", statics.genesisExpected);
  put(page, "best_block_hash", info.bestBlockHash);
  return page;
}

/** `/api/server` from the sources and a system sample. */
export function buildServer(sources: StatusSources, system: SystemMetrics): ServerPageData {
  const rpc = sources.rpcHealth();
  const feed = sources.jobFeed();
  const tip = sources.tip();
  const jobFeed: ServerPageJobFeed = {
    zmq_healthy: feed.zmqHealthy,
    zmq_disconnects: count(feed.zmqDisconnects),
    zmq_reconnects: count(feed.zmqReconnects),
  };
  if (feed.lastError) jobFeed.last_error = censorText(feed.lastError);
  if (feed.lastErrorAt !== undefined) jobFeed.last_error_at = rfc3339(feed.lastErrorAt);
  if (feed.errorHistory && feed.errorHistory.length > 0) {
    jobFeed.error_history = feed.errorHistory.map((e) => censorText(e));
  }
  if (feed.lastRawBlockAt !== undefined) jobFeed.last_raw_block_at = rfc3339(feed.lastRawBlockAt);
  put(jobFeed, "last_raw_block_bytes", optFinite(feed.lastRawBlockBytes));
  if (tip) {
    jobFeed.block_hash = tip.hash;
    jobFeed.block_height = count(tip.height);
    jobFeed.block_time = rfc3339(tip.time * 1000);
    jobFeed.block_bits = tip.bits;
    put(jobFeed, "block_difficulty", optFinite(tip.difficulty));
  }
  if (feed.emptyFirst) {
    const e = feed.emptyFirst;
    const emptyFirst: ServerPageEmptyFirst = {
      enabled: e.enabled,
      published: count(e.published),
      skipped: count(e.skipped),
      late: count(e.late),
    };
    if (e.disabledReason) emptyFirst.disabled_reason = censorText(e.disabledReason);
    if (e.lastSkip) emptyFirst.last_skip = censorText(e.lastSkip);
    jobFeed.empty_first = emptyFirst;
  }
  if (feed.discarded !== undefined) jobFeed.templates_discarded = count(feed.discarded);
  if (feed.tipSources) {
    jobFeed.tip_sources = feed.tipSources.map((s) => {
      const out: ServerPageTipSource = {
        name: censorText(s.name, [], 32),
        kind: s.kind,
        trusted: s.trusted,
        healthy: s.healthy,
        first: count(s.first),
        announced: count(s.announced),
        unconfirmed: count(s.unconfirmed),
      };
      if (s.lastAt !== undefined) out.last_at = rfc3339(s.lastAt);
      if (s.lastError) out.last_error = censorText(s.lastError);
      return out;
    });
  }
  const page: ServerPageData = {
    api_version: API_VERSION,
    uptime: count(system.uptimeNs),
    rpc_healthy: rpc.healthy,
    rpc_disconnects: count(rpc.disconnects),
    rpc_reconnects: count(rpc.reconnects),
    job_feed: jobFeed,
    process_goroutines: count(system.activeResources),
    process_cpu_percent: Math.max(0, finite(system.cpuPercent)),
    go_mem_alloc_bytes: count(system.heapUsedBytes),
    go_mem_sys_bytes: count(system.heapReservedBytes),
    process_rss_bytes: count(system.rssBytes),
    system_mem_total_bytes: count(system.memTotalBytes),
    system_mem_free_bytes: count(system.memAvailableBytes),
    system_mem_used_bytes: count(system.memTotalBytes - system.memAvailableBytes),
    system_load1: Math.max(0, finite(system.load[0])),
    system_load5: Math.max(0, finite(system.load[1])),
    system_load15: Math.max(0, finite(system.load[2])),
  };
  if (rpc.lastError) page.rpc_error = censorText(rpc.lastError);
  const accounting = sources.accountingError();
  if (accounting) page.accounting_error = censorText(accounting);
  // Keep the documented member order: rpc_error before rpc_healthy, accounting_error before job_feed.
  return reorder(page, SERVER_ORDER);
}

const SERVER_ORDER: readonly (keyof ServerPageData)[] = [
  "api_version",
  "uptime",
  "rpc_error",
  "rpc_healthy",
  "rpc_disconnects",
  "rpc_reconnects",
  "accounting_error",
  "job_feed",
];

function reorder<T extends object>(value: T, first: readonly (keyof T)[]): T {
  const out = {} as T;
  for (const key of first) if (key in value) out[key] = value[key];
  return Object.assign(out, value);
}

/** `"9 days 8 hours"`: the two largest non-zero units of a duration in seconds. */
export function humanDuration(totalSeconds: number): string {
  const units: [string, number][] = [["day", 86_400], ["hour", 3_600], ["minute", 60], [
    "second",
    1,
  ]];
  let rest = Math.max(0, Math.round(totalSeconds));
  const parts: string[] = [];
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 && parts.length < 2) parts.push(`${n} ${name}${n === 1 ? "" : "s"}`);
    else if (parts.length > 0) break; // only adjacent units: "1 day 5 minutes" would mislead
  }
  return parts.length > 0 ? parts.join(" ") : "0 seconds";
}

/**
 * Seconds until `tip time + spacing`, rounded up, signed; `-1` when there is no tip yet. (An
 * overdue result of exactly -1 is indistinguishable from "not started", as in the contract.)
 */
export function blockTimeLeft(tip: ChainTip | undefined, now: number, spacingSec: number): number {
  if (!tip) return -1;
  return Math.ceil(tip.time + spacingSec - now / 1000);
}

/** `pool_hashrate_history` points from samples, in the samples' order. */
export function buildHashrateHistory(
  samples: readonly HashrateSample[],
): PoolHashrateHistoryPoint[] {
  return samples.map((s) => {
    const point: PoolHashrateHistoryPoint = {
      at: rfc3339(s.at),
      hashrate: Math.max(0, finite(s.hashrate)),
    };
    if (s.blockHeight !== undefined) point.block_height = count(s.blockHeight);
    return point;
  });
}

/** `/api/pool-hashrate` at `now`; `history` is added only when given. */
export function buildPoolHashrate(
  sources: StatusSources,
  statics: StatusStatic,
  now: number,
  history?: readonly HashrateSample[],
): PoolHashrateResponse {
  const tip = sources.tip();
  const hashrate = optFinite(sources.counters().hashrate) ?? 0;
  const out: PoolHashrateResponse = {
    api_version: API_VERSION,
    pool_hashrate: Math.max(0, hashrate),
    block_height: tip ? count(tip.height) : 0,
    block_difficulty: tip ? Math.max(0, finite(tip.difficulty)) : 0,
    block_time_left_sec: blockTimeLeft(tip, now, statics.targetSpacingSec),
    recent_block_times: tip ? tip.recentTimes.map((t) => rfc3339(t * 1000)) : [],
    updated_at: rfc3339(now),
  };
  if (history !== undefined) out.pool_hashrate_history = buildHashrateHistory(history);
  if (tip && statics.retargetInterval > 0) {
    const interval = statics.retargetInterval;
    const height = (Math.floor(tip.height / interval) + 1) * interval;
    const blocksAway = height - tip.height;
    out.next_difficulty_retarget = {
      height,
      blocks_away: blocksAway,
      duration_estimate: humanDuration(blocksAway * statics.targetSpacingSec),
    };
  }
  const template = sources.template();
  if (template) {
    put(out, "template_tx_fees_sats", optFinite(template.feesSats));
    out.template_updated_at = rfc3339(template.updatedAt);
  }
  return reorder(out, HASHRATE_ORDER);
}

const HASHRATE_ORDER: readonly (keyof PoolHashrateResponse)[] = [
  "api_version",
  "pool_hashrate",
  "pool_hashrate_history",
  "block_height",
  "block_difficulty",
  "block_time_left_sec",
  "recent_block_times",
  "next_difficulty_retarget",
  "template_tx_fees_sats",
  "template_updated_at",
];

/** One censored `/api/blocks` entry. */
export function buildFoundBlock(block: FoundBlockRecord): FoundBlockView {
  const hash = censorHash(block.hash);
  const worker = censorWorker(block.worker);
  const view: FoundBlockView = {
    height: count(block.height),
    hash,
    display_hash: hash,
    worker,
    display_worker: worker,
    timestamp: rfc3339(block.at),
    share_diff: Math.max(0, finite(block.shareDifficulty)),
  };
  put(view, "pool_fee_sats", optFinite(block.poolFeeSats));
  put(view, "worker_payout_sats", optFinite(block.workerPayoutSats));
  const confirmations = optFinite(block.confirmations);
  put(view, "confirmations", confirmations === undefined ? undefined : Math.max(-1, confirmations));
  const result = block.result ??
    (confirmations === undefined
      ? undefined
      : confirmations < 0
      ? "stale"
      : confirmations > 0
      ? "winning"
      : "possible");
  put(view, "result", result);
  return view;
}

/** SI prefixes for widget figures, from 10^3 up. */
const SI = ["k", "M", "G", "T", "P", "E", "Z"];

/** `value` with three significant digits and its SI prefix: `[text, prefix]` (1234 → "1.23", "k"). */
export function siFigure(value: number): [string, string] {
  if (!Number.isFinite(value) || value <= 0) return ["0", ""];
  let scaled = value;
  let i = -1;
  while (scaled >= 999.5 && i < SI.length - 1) {
    scaled /= 1000;
    i++;
  }
  const text = scaled >= 100
    ? scaled.toFixed(0)
    : scaled >= 10
    ? scaled.toFixed(1)
    : scaled.toFixed(2);
  return [text, i < 0 ? "" : SI[i]];
}

/**
 * `/api/widget` at `now`: pool hashrate, miners online, the best share and blocks found, in
 * Umbrel's `four-stats` format; `refreshMs` is the snapshot's own period.
 */
export function buildWidget(
  sources: Pick<StatusSources, "workers" | "counters" | "bestShares"> & {
    workerOverview?: OverviewSources["workerOverview"];
  },
  now: number,
  refreshMs: number,
): WidgetData {
  const counters = sources.counters();
  const limits: OverviewLimits = { ...DEFAULT_LIMITS, recentWorkers: 0 };
  const live = sources.workerOverview?.(now, limits) ??
    workerOverview(sources.workers(), now, limits);
  const [rate, ratePrefix] = siFigure(counters.hashrate ?? 0);
  const best = sources.bestShares()[0]?.difficulty ?? 0;
  const [bestText, bestPrefix] = siFigure(best);
  const blocks = count(counters.blocksAccepted);
  return {
    api_version: API_VERSION,
    type: "four-stats",
    refresh: `${Math.max(1, Math.round(refreshMs / 1000))}s`,
    link: "",
    items: [
      { title: "Pool hashrate", text: rate, subtext: `${ratePrefix}H/s` },
      { title: "Miners", text: String(live.active), subtext: "online" },
      { title: "Best share", text: bestText + bestPrefix, subtext: "difficulty" },
      { title: "Blocks found", text: String(blocks), subtext: blocks === 1 ? "block" : "blocks" },
    ],
  };
}
