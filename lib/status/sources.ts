/**
 * The seam between the live pool and the status layer: `StatusSources` hands out raw,
 * uncensored plain data; `lib/status/snapshots.ts` censors it and builds the public JSON.
 *
 * Everything here is plain data (no classes, no methods besides the getters), so the pool can
 * implement it from its parts and a status-only mirror or a test can implement it from objects.
 * Times are milliseconds since the Unix epoch unless a name says otherwise. Unknown values are
 * `undefined`, never a placeholder.
 *
 * @module
 */

/** How much the hashrate estimate of a worker can be trusted yet. */
export type HashrateAccuracy = "warming" | "settling" | "stable";

/** One authorized miner connection, uncensored. */
export interface LiveWorker {
  /** Full worker name as authorized (`ADDRESS.rig`). */
  readonly name: string;
  /** Connection id, unique while the pool runs (not secret). */
  readonly connectionId: string;
  /** True when the connection came in over TLS. */
  readonly tls: boolean;
  /** Stratum user agent from `mining.subscribe`, if sent. */
  readonly userAgent?: string;
  /** Display (EMA) hashrate in H/s. */
  readonly hashrate: number;
  /** How settled `hashrate` is. */
  readonly hashrateAccuracy: HashrateAccuracy;
  /** Difficulty the last accepted share was judged at. */
  readonly difficulty: number;
  /** Difficulty vardiff assigns now. */
  readonly vardiff: number;
  /** Accepted shares per minute. */
  readonly shareRate: number;
  /** Accepted shares on this connection. */
  readonly accepted: number;
  /** When the last accepted share arrived; undefined before the first. */
  readonly lastShareAt?: number;
  /** The latest work sent to the connection, for showing whom a block would pay. */
  readonly work?: LiveWork;
}

/**
 * One authorized connection's live figures, as the saved-workers view reads them (a port: the
 * Stratum registry's snapshots satisfy it; routes never see the registry itself).
 */
export interface LiveConnection {
  /** Connection id (base 36, unique while the pool runs). */
  readonly connectionId: string;
  /** Full worker name as authorized (`ADDRESS[.rig]`). */
  readonly name: string;
  /** When the connection was made. */
  readonly connectedAt: number;
  /** Current difficulty. */
  readonly difficulty: number;
  /** Estimated hashrate (H/s). */
  readonly hashrate: number;
  /** Accuracy marker of `hashrate`: `~` warming, `≈` settling, `` settled. */
  readonly hashrateAccuracy: "~" | "≈" | "";
  /** Accepted shares per minute (decayed estimate). */
  readonly sharesPerMinute: number;
  /** Accepted shares. */
  readonly accepted: number;
  /** Rejected shares in total. */
  readonly rejected: number;
  /** Highest share difficulty seen, 0 if none. */
  readonly bestDifficulty: number;
  /** When the last accepted share arrived, if any. */
  readonly lastShareAt: number | undefined;
  /** Last notify→first-share latency (ms), if measured. */
  readonly notifyToFirstShareMs: number | undefined;
  /** Median of the recent notify→first-share latencies (ms), if measured. */
  readonly notifyToFirstShareP50Ms: number | undefined;
  /** 95th percentile of the recent notify→first-share latencies (ms), if measured. */
  readonly notifyToFirstShareP95Ms: number | undefined;
  /** How many latencies the percentiles are taken over. */
  readonly notifyToFirstShareSamples: number;
}

/** The coinbase of the latest work sent to one connection, as its halves. */
export interface LiveWork {
  /** Block height the work is for. */
  readonly height: number;
  /** Coinbase bytes before the extranonces. */
  readonly coinb1: Uint8Array;
  /** Extranonce bytes between the halves. */
  readonly extranonceBytes: number;
  /** Coinbase bytes after the extranonces. */
  readonly coinb2: Uint8Array;
  /** The miner's payout script. */
  readonly payoutScript: Uint8Array;
}

/** A ban on a worker, uncensored. */
export interface WorkerBan {
  /** Full worker name. */
  readonly name: string;
  /** When the ban ends; undefined when unknown. */
  readonly until?: number;
  /** Why (may mention the address; it is censored on the way out). */
  readonly reason?: string;
}

/** One of the pool's best shares, uncensored. */
export interface BestShareRecord {
  /** Full worker name. */
  readonly worker: string;
  /** Share difficulty. */
  readonly difficulty: number;
  /** When it was found. */
  readonly at: number;
  /** Share hash, RPC (reversed) hex; undefined when not kept. */
  readonly hash?: string;
}

/** One block the pool found, uncensored. */
export interface FoundBlockRecord {
  /** Block height. */
  readonly height: number;
  /** Block hash, RPC (reversed) hex. */
  readonly hash: string;
  /** Full name of the finder. */
  readonly worker: string;
  /** When it was found. */
  readonly at: number;
  /** Difficulty of the winning share. */
  readonly shareDifficulty: number;
  /** Pool fee output value (satoshis), when known. */
  readonly poolFeeSats?: number;
  /** Finder's output value (satoshis), when known. */
  readonly workerPayoutSats?: number;
  /** Confirmations from the node (`-1` when off the main chain), when asked. */
  readonly confirmations?: number;
  /** Standing, when known. */
  readonly result?: "possible" | "winning" | "stale";
}

/** Pool-wide counters. */
export interface PoolCounters {
  /** Blocks the node accepted. */
  readonly blocksAccepted: number;
  /** Blocks the node rejected or that could not be submitted. */
  readonly blocksErrored: number;
  /** Shares rejected for an error (not stale or low difficulty). */
  readonly shareErrors: number;
  /** Pool-wide accepted shares per minute, when measured. */
  readonly sharesPerMinute?: number;
  /** Pool hashrate (H/s), when measured. */
  readonly hashrate?: number;
}

/** Latency statistics of RPC calls (seconds). */
export interface RpcStats {
  /** Last getblocktemplate latency. */
  readonly gbtLastSec: number;
  /** Highest getblocktemplate latency since start. */
  readonly gbtMaxSec: number;
  /** getblocktemplate calls. */
  readonly gbtCount: number;
  /** Lowest getblocktemplate latency in the last hour. */
  readonly gbtMin1hSec: number;
  /** Mean getblocktemplate latency in the last hour. */
  readonly gbtAvg1hSec: number;
  /** Highest getblocktemplate latency in the last hour. */
  readonly gbtMax1hSec: number;
  /** Last submitblock latency. */
  readonly submitLastSec: number;
  /** Highest submitblock latency since start. */
  readonly submitMaxSec: number;
  /** submitblock calls. */
  readonly submitCount: number;
  /** Failed RPC calls. */
  readonly errors: number;
}

/** One pool error event, uncensored. */
export interface PoolErrorRecord {
  /** When it happened, if known. */
  readonly at?: number;
  /** Category (`rpc`, `submit`, `share`, …). */
  readonly type: string;
  /** Message (censored on the way out). */
  readonly message: string;
}

/** One node peer. */
export interface NodePeer {
  /** Peer label (`addr` or a host name). */
  readonly display: string;
  /** Last ping in milliseconds (0 when not measured yet). */
  readonly pingMs: number;
  /** `conntime` (Unix seconds). */
  readonly connectedAt: number;
}

/** What the node says about itself (getblockchaininfo, getnetworkinfo, getpeerinfo, getblockhash 0). */
export interface NodeInfo {
  /** `chain`. */
  readonly network?: string;
  /** `subversion`. */
  readonly subversion?: string;
  /** `blocks`. */
  readonly blocks: number;
  /** `headers`. */
  readonly headers: number;
  /** `initialblockdownload`. */
  readonly initialBlockDownload: boolean;
  /** `connections`. */
  readonly connections: number;
  /** `connections_in`. */
  readonly connectionsIn: number;
  /** `connections_out`. */
  readonly connectionsOut: number;
  /** Peers, when asked. */
  readonly peers?: readonly NodePeer[];
  /** `pruned`. */
  readonly pruned: boolean;
  /** `size_on_disk`. */
  readonly sizeOnDiskBytes: number;
  /** `getblockhash 0`. */
  readonly genesisHash?: string;
  /** `bestblockhash`. */
  readonly bestBlockHash?: string;
}

/** The pool's peer-cleanup settings, shown with the node info. */
export interface PeerCleanupSettings {
  /** True when slow peers get disconnected. */
  readonly enabled: boolean;
  /** Ping above which a peer is slow (milliseconds). */
  readonly maxPingMs: number;
  /** Peers always kept. */
  readonly minPeers: number;
}

/** Health of the RPC link to the node. */
export interface RpcHealth {
  /** True while the node answers. */
  readonly healthy: boolean;
  /** Last RPC error, if any. */
  readonly lastError?: string;
  /** Times the link went down. */
  readonly disconnects: number;
  /** Times it came back. */
  readonly reconnects: number;
}

/** State of the template feed (GBT polling + ZMQ). */
export interface JobFeedState {
  /** Last feed error. */
  readonly lastError?: string;
  /** When it happened. */
  readonly lastErrorAt?: number;
  /** Recent feed errors, newest first. */
  readonly errorHistory?: readonly string[];
  /** True while ZMQ delivers. */
  readonly zmqHealthy: boolean;
  /** ZMQ disconnects. */
  readonly zmqDisconnects: number;
  /** ZMQ reconnects. */
  readonly zmqReconnects: number;
  /** When the last rawblock arrived. */
  readonly lastRawBlockAt?: number;
  /** Its size in bytes. */
  readonly lastRawBlockBytes?: number;
  /** What empty-first work did, when the feed reports it. */
  readonly emptyFirst?: {
    readonly enabled: boolean;
    readonly disabledReason?: string;
    readonly published: number;
    readonly skipped: number;
    readonly lastSkip?: string;
    readonly late: number;
  };
  /** Templates thrown away for building below the newest tip. */
  readonly discarded?: number;
  /** Every source of new tips and how it is doing. */
  readonly tipSources?: readonly {
    readonly name: string;
    readonly kind: "node" | "tip-source";
    readonly trusted: boolean;
    readonly healthy: boolean;
    readonly first: number;
    readonly announced: number;
    readonly unconfirmed: number;
    readonly lastAt?: number;
    readonly lastError?: string;
  }[];
}

/** The chain tip the pool builds on. */
export interface ChainTip {
  /** Tip hash, RPC hex. */
  readonly hash: string;
  /** Tip height. */
  readonly height: number;
  /** Tip header time (Unix seconds). */
  readonly time: number;
  /** Tip compact target, 8 hex chars. */
  readonly bits: string;
  /** Tip difficulty. */
  readonly difficulty: number;
  /** Header times (Unix seconds) of the tip and the blocks before it, newest first. */
  readonly recentTimes: readonly number[];
}

/** The template the current job came from. */
export interface TemplateInfo {
  /** `coinbasevalue` minus the subsidy (satoshis). */
  readonly feesSats: number;
  /** When it was fetched. */
  readonly updatedAt: number;
}

/** A BTC price quote. */
export interface PriceQuote {
  /** Price of 1 BTC. */
  readonly price: number;
  /** Currency code (e.g. `USD`). */
  readonly currency: string;
  /** When fetched. */
  readonly updatedAt: number;
}

/** One sample of the pool hashrate. */
export interface HashrateSample {
  /** When taken. */
  readonly at: number;
  /** H/s. */
  readonly hashrate: number;
  /** Tip height then, if known. */
  readonly blockHeight?: number;
}

/**
 * Everything the public status needs, raw and uncensored. The pool implements it from its parts;
 * every getter is cheap except `nodeInfo` and `foundBlocks`, which may ask the node.
 */
export interface StatusSources {
  /** Authorized miner connections, one entry per connection. */
  workers(): readonly LiveWorker[];
  /** Workers under a ban, newest first. */
  bannedWorkers(): readonly WorkerBan[];
  /** Best shares pool-wide, best first. */
  bestShares(): readonly BestShareRecord[];
  /** Pool-wide counters. */
  counters(): PoolCounters;
  /** RPC latency statistics. */
  rpcStats(): RpcStats;
  /** Recent pool errors, newest first. */
  poolErrors(): readonly PoolErrorRecord[];
  /** Node facts; rejects when the node cannot be asked. */
  nodeInfo(): Promise<NodeInfo>;
  /** RPC link health. */
  rpcHealth(): RpcHealth;
  /** Last error of the block/share journal, if any. */
  accountingError(): string | undefined;
  /** Template feed state. */
  jobFeed(): JobFeedState;
  /** Current tip, once known. */
  tip(): ChainTip | undefined;
  /** Current template, once fetched. */
  template(): TemplateInfo | undefined;
  /** Latest BTC price, when a price feed is configured. */
  price(): PriceQuote | undefined;
  /** The `limit` latest found blocks, newest first, with confirmations when the node answers. */
  foundBlocks(limit: number): Promise<readonly FoundBlockRecord[]>;
  /**
   * Pool hashrate samples, oldest first. Optional: without it the snapshot cache samples the pool
   * hashrate itself each time it rebuilds `/api/pool-hashrate`.
   */
  hashrateHistory?(): readonly HashrateSample[];
}

/** Settings that come from configuration rather than live state. */
export interface StatusStatic {
  /** Coinbase tag of the pool, if any. */
  readonly poolTag?: string;
  /** Expected genesis hash of the configured network (RPC hex). */
  readonly genesisExpected?: string;
  /** Peer cleanup settings. */
  readonly peerCleanup: PeerCleanupSettings;
  /** Blocks between difficulty adjustments (2016; 0 when the network never retargets). */
  readonly retargetInterval: number;
  /** Target seconds between blocks (600). */
  readonly targetSpacingSec: number;
}
