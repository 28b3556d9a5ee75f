/**
 * The public response objects of the JSON API, field for field as in `docs/json-api.md`.
 *
 * Keys are snake_case exactly as they go on the wire. Optional members are omitted from the JSON
 * when unknown (never filled with made-up values). Timestamps are RFC3339 strings; durations are
 * integer nanoseconds. Every worker name, address and hash in these objects is already censored.
 *
 * @module
 */

/** The schema version every object response carries. */
export const API_VERSION = "1" as const;

/** One worker with recent work, as listed on the overview (censored). */
export interface RecentWorkView {
  /** Worker name, censored (`ADDRESS8...ADDRESS8.rig`). */
  name: string;
  /** Worker name for display, censored. */
  display_name: string;
  /** Rolling (EMA) hashrate in H/s. */
  rolling_hashrate: number;
  /** `"~"` while warming up, `"≈"` while settling; omitted when stable. */
  hashrate_accuracy?: "~" | "≈";
  /** Difficulty of the worker's latest accepted share target. */
  difficulty: number;
  /** Current vardiff-assigned difficulty. */
  vardiff: number;
  /** Accepted shares per minute. */
  share_rate: number;
  /** Accepted shares on this connection. */
  accepted: number;
  /** Connection id (opaque, not secret). */
  connection_id: string;
}

/** One banned worker (censored and truncated). */
export interface WorkerView {
  /** Worker name, censored. */
  name: string;
  /** Worker name for display, censored. */
  display_name: string;
  /** True while the ban holds. */
  banned: boolean;
  /** When the ban ends (RFC3339); omitted when unknown. */
  banned_until?: string;
  /** Brief reason for the ban, with any address censored. */
  ban_reason?: string;
}

/** One of the pool's best shares (censored). */
export interface BestShare {
  /** Worker name, censored. */
  worker: string;
  /** Share difficulty. */
  difficulty: number;
  /** When the share was found (RFC3339). */
  timestamp: string;
  /** Share hash, censored to `...` + last 16 hex. */
  hash?: string;
  /** Worker name for display, censored. */
  display_worker?: string;
  /** Share hash for display, censored. */
  display_hash?: string;
}

/** How many workers run one version of a miner type. */
export interface MinerTypeVersionView {
  /** Version string from the user agent; omitted when the agent had none. */
  version?: string;
  /** Workers running this version. */
  workers: number;
}

/** Workers grouped by mining software (from the Stratum user agent). */
export interface MinerTypeView {
  /** Mining software name. */
  name: string;
  /** Workers running it, all versions. */
  total_workers: number;
  /** Per-version counts, most workers first. */
  versions: MinerTypeVersionView[];
}

/** `GET /api/overview`. */
export interface OverviewPageData {
  /** Always `"1"`. */
  api_version: typeof API_VERSION;
  /** Authorized miner connections. */
  active_miners: number;
  /** Authorized miner connections over TLS. */
  active_tls_miners: number;
  /** Pool-wide accepted shares per minute. */
  shares_per_minute?: number;
  /** Pool hashrate in H/s. */
  pool_hashrate?: number;
  /** Coinbase tag of the pool. */
  pool_tag?: string;
  /** BTC price in `fiat_currency`. */
  btc_price_fiat?: number;
  /** When the price was fetched (RFC3339). */
  btc_price_updated_at?: string;
  /** Fiat currency code of the price. */
  fiat_currency?: string;
  /** Time spent building this snapshot (nanoseconds). */
  render_duration: number;
  /** Workers with recent work (censored). */
  workers: RecentWorkView[];
  /** Banned workers (censored, truncated). */
  banned_workers: WorkerView[];
  /** Best shares (censored). */
  best_shares: BestShare[];
  /** Mining software in use. */
  miner_types?: MinerTypeView[];
}

/** One entry of the pool's error history. */
export interface PoolErrorEvent {
  /** When it happened (RFC3339). */
  at?: string;
  /** Error category (e.g. `rpc`, `submit`, `share`). */
  type: string;
  /** Human message, with any address censored. */
  message: string;
}

/** `GET /api/pool-page`. */
export interface PoolPageData {
  /** Always `"1"`. */
  api_version: typeof API_VERSION;
  /** Blocks the node accepted. */
  blocks_accepted: number;
  /** Blocks whose submission failed or was rejected. */
  blocks_errored: number;
  /** Latency of the last getblocktemplate (seconds). */
  rpc_gbt_last_sec: number;
  /** Highest getblocktemplate latency since start (seconds). */
  rpc_gbt_max_sec: number;
  /** getblocktemplate calls made. */
  rpc_gbt_count: number;
  /** Latency of the last submitblock (seconds). */
  rpc_submit_last_sec: number;
  /** Highest submitblock latency since start (seconds). */
  rpc_submit_max_sec: number;
  /** submitblock calls made. */
  rpc_submit_count: number;
  /** RPC calls that failed. */
  rpc_errors: number;
  /** Shares rejected for an error (not stale or low difficulty). */
  share_errors: number;
  /** Lowest getblocktemplate latency in the last hour (seconds). */
  rpc_gbt_min_1h_sec: number;
  /** Mean getblocktemplate latency in the last hour (seconds). */
  rpc_gbt_avg_1h_sec: number;
  /** Highest getblocktemplate latency in the last hour (seconds). */
  rpc_gbt_max_1h_sec: number;
  /** Recent errors, newest first. */
  error_history?: PoolErrorEvent[];
}

/** One peer of the node. */
export interface NodePeerInfo {
  /** Peer label (host name or address). */
  display: string;
  /** Last ping (milliseconds). */
  ping_ms: number;
  /** When the connection opened (Unix seconds). */
  connected_at: number;
}

/** `GET /api/node`. */
export interface NodePageData {
  /** Always `"1"`. */
  api_version: typeof API_VERSION;
  /** Chain name (`main`, `test`, `regtest`, …). */
  node_network?: string;
  /** Node user agent (e.g. `/Satoshi:27.0.0/`). */
  node_subversion?: string;
  /** Validated blocks. */
  node_blocks: number;
  /** Known headers. */
  node_headers: number;
  /** True during initial block download. */
  node_initial_block_download: boolean;
  /** Peer connections. */
  node_connections: number;
  /** Inbound peer connections. */
  node_connections_in: number;
  /** Outbound peer connections. */
  node_connections_out: number;
  /** Peers. */
  node_peers?: NodePeerInfo[];
  /** True when the node prunes. */
  node_pruned: boolean;
  /** Block and undo data on disk (bytes). */
  node_size_on_disk_bytes: number;
  /** True when slow peers get disconnected. */
  node_peer_cleanup_enabled: boolean;
  /** Ping above which a peer counts as slow (milliseconds). */
  node_peer_cleanup_max_ping_ms: number;
  /** Peers always kept. */
  node_peer_cleanup_min_peers: number;
  /** Genesis hash the node reports. */
  genesis_hash?: string;
  /** Genesis hash of the configured network. */
  genesis_expected?: string;
  /** True when both genesis hashes are known and equal. */
  genesis_match: boolean;
  /** Tip hash. */
  best_block_hash?: string;
}

/** Job feed state inside `/api/server`. */
export interface ServerPageJobFeed {
  /** Last template feed error (censored). */
  last_error?: string;
  /** When it happened (RFC3339). */
  last_error_at?: string;
  /** Recent template feed errors, newest first. */
  error_history?: string[];
  /** True while the ZMQ subscription is delivering. */
  zmq_healthy: boolean;
  /** ZMQ disconnects seen. */
  zmq_disconnects: number;
  /** ZMQ reconnects made. */
  zmq_reconnects: number;
  /** When the last raw block arrived over ZMQ (RFC3339). */
  last_raw_block_at?: string;
  /** Size of that block (bytes). */
  last_raw_block_bytes?: number;
  /** Tip hash. */
  block_hash?: string;
  /** Tip height. */
  block_height?: number;
  /** Tip header time (RFC3339). */
  block_time?: string;
  /** Tip compact target as 8 hex chars. */
  block_bits?: string;
  /** Tip difficulty. */
  block_difficulty?: number;
  /** Empty-first work (denopool addition). */
  empty_first?: ServerPageEmptyFirst;
  /** Templates thrown away for building below the newest tip (denopool addition). */
  templates_discarded?: number;
  /** Every source of new tips (denopool addition). */
  tip_sources?: ServerPageTipSource[];
}

/** `/api/server.job_feed.empty_first`: what the new-tip fast path did. */
export interface ServerPageEmptyFirst {
  /** On for this network and config. */
  enabled: boolean;
  /** Why off, when off. */
  disabled_reason?: string;
  /** Coinbase-only jobs published on new tips. */
  published: number;
  /** New tips where a rule could not be checked exactly, so it waited for the template. */
  skipped: number;
  /** Why it last skipped. */
  last_skip?: string;
  /** New tips the full template reached first. */
  late: number;
}

/** One `/api/server.job_feed.tip_sources` entry. */
export interface ServerPageTipSource {
  /** `zmq`, `longpoll`, `rpc` (the pool's node) or a configured tip source's name. */
  name: string;
  /** `node` or `tip-source`. */
  kind: string;
  /** Acted on before the node confirms. */
  trusted: boolean;
  /** Reachable now. */
  healthy: boolean;
  /** New tips it showed first. */
  first: number;
  /** Tips it announced. */
  announced: number;
  /** Hints the node did not confirm. */
  unconfirmed: number;
  /** When it last announced a tip (RFC3339). */
  last_at?: string;
  /** Its latest error (censored). */
  last_error?: string;
}

/** `GET /api/server`. */
export interface ServerPageData {
  /** Always `"1"`. */
  api_version: typeof API_VERSION;
  /** Process uptime (nanoseconds). */
  uptime: number;
  /** Last RPC error (censored). */
  rpc_error?: string;
  /** True while the node answers RPC. */
  rpc_healthy: boolean;
  /** RPC connection losses. */
  rpc_disconnects: number;
  /** RPC recoveries. */
  rpc_reconnects: number;
  /** Last error writing the block/share journal. */
  accounting_error?: string;
  /** Template feed state. */
  job_feed: ServerPageJobFeed;
  /** Active async resources (sockets, timers, …): the Deno stand-in for Go's goroutine count. */
  process_goroutines: number;
  /** Process CPU use since the previous sample (percent of one core). */
  process_cpu_percent: number;
  /** JS heap in use (bytes). */
  go_mem_alloc_bytes: number;
  /** JS heap reserved plus external memory (bytes). */
  go_mem_sys_bytes: number;
  /** Resident set size (bytes). */
  process_rss_bytes: number;
  /** Total system memory (bytes). */
  system_mem_total_bytes: number;
  /** Memory available to new work, MemAvailable (bytes). */
  system_mem_free_bytes: number;
  /** Total minus available (bytes). */
  system_mem_used_bytes: number;
  /** 1-minute load average. */
  system_load1: number;
  /** 5-minute load average. */
  system_load5: number;
  /** 15-minute load average. */
  system_load15: number;
}

/** One sample of the pool hashrate. */
export interface PoolHashrateHistoryPoint {
  /** When it was taken (RFC3339). */
  at: string;
  /** Pool hashrate (H/s). */
  hashrate: number;
  /** Tip height then. */
  block_height?: number;
}

/** The next difficulty adjustment. */
export interface NextDifficultyRetarget {
  /** Height of the first block with the new difficulty. */
  height: number;
  /** Blocks until then. */
  blocks_away: number;
  /** Time until then at 10 minutes a block, for people (e.g. `9 days 8 hours`). */
  duration_estimate?: string;
}

/** `GET /api/pool-hashrate`. */
export interface PoolHashrateResponse {
  /** Always `"1"`. */
  api_version: typeof API_VERSION;
  /** Pool hashrate (H/s). */
  pool_hashrate: number;
  /** Recent samples, oldest first; only with `include_history=1`. */
  pool_hashrate_history?: PoolHashrateHistoryPoint[];
  /** Tip height. */
  block_height: number;
  /** Tip difficulty. */
  block_difficulty: number;
  /** Seconds until tip time + 10 min, signed; `-1` when the timer has not started. */
  block_time_left_sec: number;
  /** Header times of the latest blocks, newest first (RFC3339). */
  recent_block_times: string[];
  /** Next difficulty adjustment. */
  next_difficulty_retarget?: NextDifficultyRetarget;
  /** Fees in the current template (satoshis). */
  template_tx_fees_sats?: number;
  /** When the current template was fetched (RFC3339). */
  template_updated_at?: string;
  /** When this snapshot was built (RFC3339). */
  updated_at: string;
}

/** One block the pool found (censored). `/api/blocks` answers a bare array of these. */
export interface FoundBlockView {
  /** Block height. */
  height: number;
  /** Block hash, censored. */
  hash: string;
  /** Block hash for display, censored. */
  display_hash: string;
  /** Finder, censored. */
  worker: string;
  /** Finder for display, censored. */
  display_worker: string;
  /** When it was found (RFC3339). */
  timestamp: string;
  /** Difficulty of the winning share. */
  share_diff: number;
  /** Pool fee paid by the coinbase (satoshis). */
  pool_fee_sats?: number;
  /** Paid to the finder by the coinbase (satoshis). */
  worker_payout_sats?: number;
  /** Confirmations; omitted when the node was not asked or did not answer. */
  confirmations?: number;
  /** `"possible"` (submitted, unconfirmed), `"winning"` (in the chain) or `"stale"` (orphaned). */
  result?: "possible" | "winning" | "stale";
}

/** One figure of {@linkcode WidgetData}. */
export interface WidgetItem {
  /** What the figure is ("Pool hashrate"). */
  title: string;
  /** The figure ("1.23"). */
  text: string;
  /** Its unit or a note ("TH/s"). */
  subtext: string;
}

/**
 * `/api/widget`: four figures for a home-screen widget, in Umbrel's `four-stats` format (pool
 * hashrate, miners online, best share, blocks found).
 */
export interface WidgetData {
  /** Schema version. */
  api_version: typeof API_VERSION;
  /** Always `four-stats`. */
  type: "four-stats";
  /** How often the widget should ask again ("10s"). */
  refresh: string;
  /** Where a tap on the widget leads (`""`: the app's own page). */
  link: string;
  /** Exactly four figures. */
  items: WidgetItem[];
}
