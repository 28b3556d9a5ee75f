/**
 * `StatusSources` over plain in-memory data, and a manual clock: for tests, demos and tools that
 * need the status layer without a live pool. Change `data` and the next snapshot refresh sees it.
 *
 * @module
 */

import type { Clock } from "./snapshots.ts";
import type {
  BestShareRecord,
  ChainTip,
  FoundBlockRecord,
  HashrateSample,
  JobFeedState,
  LiveWorker,
  NodeInfo,
  PoolCounters,
  PoolErrorRecord,
  PriceQuote,
  RpcHealth,
  RpcStats,
  StatusSources,
  TemplateInfo,
  WorkerBan,
} from "./sources.ts";

/** Everything a {@linkcode memorySources} answers with; `undefined` where the pool would not know. */
export interface StatusData {
  /** `workers()`. */
  workers: LiveWorker[];
  /** `bannedWorkers()`. */
  bannedWorkers: WorkerBan[];
  /** `bestShares()`. */
  bestShares: BestShareRecord[];
  /** `counters()`. */
  counters: PoolCounters;
  /** `rpcStats()`. */
  rpcStats: RpcStats;
  /** `poolErrors()`. */
  poolErrors: PoolErrorRecord[];
  /** `nodeInfo()`; `undefined` makes it reject as an unreachable node would. */
  nodeInfo?: NodeInfo;
  /** `rpcHealth()`. */
  rpcHealth: RpcHealth;
  /** `accountingError()`. */
  accountingError?: string;
  /** `jobFeed()`. */
  jobFeed: JobFeedState;
  /** `tip()`. */
  tip?: ChainTip;
  /** `template()`. */
  template?: TemplateInfo;
  /** `price()`. */
  price?: PriceQuote;
  /** `foundBlocks(limit)` answers the first `limit`. */
  foundBlocks: FoundBlockRecord[];
  /** `hashrateHistory()`; when `undefined` at creation the method is absent. */
  hashrateHistory?: HashrateSample[];
}

/** A pool that has just started: no miners, no blocks, nothing measured. */
export function emptyStatusData(): StatusData {
  return {
    workers: [],
    bannedWorkers: [],
    bestShares: [],
    counters: { blocksAccepted: 0, blocksErrored: 0, shareErrors: 0 },
    rpcStats: {
      gbtLastSec: 0,
      gbtMaxSec: 0,
      gbtCount: 0,
      gbtMin1hSec: 0,
      gbtAvg1hSec: 0,
      gbtMax1hSec: 0,
      submitLastSec: 0,
      submitMaxSec: 0,
      submitCount: 0,
      errors: 0,
    },
    poolErrors: [],
    rpcHealth: { healthy: false, disconnects: 0, reconnects: 0 },
    jobFeed: { zmqHealthy: false, zmqDisconnects: 0, zmqReconnects: 0 },
    foundBlocks: [],
  };
}

/** `StatusSources` reading `data` on every call (so tests can change it between refreshes). */
export function memorySources(data: StatusData): StatusSources {
  const sources: StatusSources = {
    workers: () => data.workers,
    bannedWorkers: () => data.bannedWorkers,
    bestShares: () => data.bestShares,
    counters: () => data.counters,
    rpcStats: () => data.rpcStats,
    poolErrors: () => data.poolErrors,
    nodeInfo: () =>
      data.nodeInfo
        ? Promise.resolve(data.nodeInfo)
        : Promise.reject(new Error("node unreachable")),
    rpcHealth: () => data.rpcHealth,
    accountingError: () => data.accountingError,
    jobFeed: () => data.jobFeed,
    tip: () => data.tip,
    template: () => data.template,
    price: () => data.price,
    foundBlocks: (limit) => Promise.resolve(data.foundBlocks.slice(0, limit)),
  };
  if (data.hashrateHistory !== undefined) {
    sources.hashrateHistory = () => data.hashrateHistory ?? [];
  }
  return sources;
}

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** A clock that moves only when told to; timers fire in time order during {@linkcode advance}. */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: PendingTimer[] = [];

  /** A clock reading `start` (ms since the epoch). */
  constructor(start: number) {
    this.#now = start;
  }

  /** The current time. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at now + `ms`. */
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.push({ id, at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  /** Cancels a timer. */
  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order; after each one, lets the promise
   * work it started (and the timers it sets) settle before going on.
   */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= target).sort((a, b) =>
        a.at - b.at || a.id - b.id
      );
      if (due.length === 0) break;
      const timer = due[0];
      this.#timers = this.#timers.filter((t) => t !== timer);
      this.#now = Math.max(this.#now, timer.at);
      timer.fn();
      await settle();
    }
    this.#now = target;
  }
}

/** Lets pending promise chains run to completion (one real macrotask turn). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A mainnet payout address used by {@linkcode sampleStatusData} (P2WPKH). */
export const SAMPLE_ADDRESS_BECH32 = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq";
/** A mainnet payout address used by {@linkcode sampleStatusData} (P2PKH). */
export const SAMPLE_ADDRESS_BASE58 = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2";

/**
 * A busy pool at `now` (ms): TCP and TLS miners of three software types, a ban, best shares,
 * errors quoting a payout address, node facts with peers, a tip, a template, a price and blocks
 * in every standing. Every name and hash is full-length, so censoring has something to do.
 */
export function sampleStatusData(now: number): StatusData {
  const a = SAMPLE_ADDRESS_BECH32;
  const b = SAMPLE_ADDRESS_BASE58;
  const hash = (n: number) => n.toString(16).padStart(8, "0").repeat(8);
  const worker = (
    name: string,
    i: number,
    extra: Partial<LiveWorker> = {},
  ): LiveWorker => ({
    name,
    connectionId: `c${i}`,
    tls: i % 2 === 1,
    userAgent: ["cgminer/4.12.1", "bitaxe/BM1370/v2.9.0", "NerdMiner/1.7", undefined][i % 4],
    hashrate: 1e12 / (i + 1),
    hashrateAccuracy: (["warming", "settling", "stable"] as const)[i % 3],
    difficulty: 2048 * (i + 1),
    vardiff: 4096 * (i + 1),
    shareRate: 12.5 / (i + 1),
    accepted: 100 * (i + 1),
    lastShareAt: now - 1000 * (i + 1),
    ...extra,
  });
  return {
    ...emptyStatusData(),
    workers: [
      worker(`${a}.rig1`, 0),
      worker(`${a}.bitaxe`, 1),
      worker(`${b}.garage`, 2),
      worker(b, 3),
      worker(`${a}.${b}`, 4),
      worker(`${b}.idle`, 5, { lastShareAt: now - 45 * 60_000 }),
      worker(`${b}.fresh`, 6, { lastShareAt: undefined, accepted: 0 }),
    ],
    bannedWorkers: [
      { name: `${a}.bad`, until: now + 600_000, reason: `too many invalid shares from ${a}` },
      { name: `${b}.old`, until: now - 1, reason: "expired" },
      { name: `${b}.forever` },
    ],
    bestShares: [
      { worker: `${a}.rig1`, difficulty: 5.5e9, at: now - 3_600_000, hash: hash(1) },
      { worker: `${b}.garage`, difficulty: 1.2e9, at: now - 7_200_000 },
    ],
    counters: {
      blocksAccepted: 2,
      blocksErrored: 1,
      shareErrors: 7,
      sharesPerMinute: 42.5,
      hashrate: 2.5e12,
    },
    rpcStats: {
      gbtLastSec: 0.012,
      gbtMaxSec: 0.4,
      gbtCount: 1234,
      gbtMin1hSec: 0.008,
      gbtAvg1hSec: 0.015,
      gbtMax1hSec: 0.09,
      submitLastSec: 0.05,
      submitMaxSec: 0.05,
      submitCount: 3,
      errors: 2,
    },
    poolErrors: [
      { at: now - 60_000, type: "submit", message: `block from ${a}.rig1 rejected: bad-txns` },
      { type: "rpc", message: `payout to ${b} failed\nretrying` },
    ],
    nodeInfo: {
      network: "main",
      subversion: "/Satoshi:27.1.0/",
      blocks: 880_000,
      headers: 880_000,
      initialBlockDownload: false,
      connections: 10,
      connectionsIn: 2,
      connectionsOut: 8,
      peers: [
        { display: "203.0.113.5:8333", pingMs: 23.5, connectedAt: Math.floor(now / 1000) - 3600 },
        { display: "node.example.org", pingMs: 140, connectedAt: Math.floor(now / 1000) - 60 },
      ],
      pruned: false,
      sizeOnDiskBytes: 712_000_000_000,
      genesisHash: "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
      bestBlockHash: hash(880_000),
    },
    rpcHealth: { healthy: true, disconnects: 1, reconnects: 1, lastError: `timeout paying ${a}` },
    jobFeed: {
      lastError: "zmq: connection refused",
      lastErrorAt: now - 120_000,
      errorHistory: ["zmq: connection refused", "gbt: timeout"],
      zmqHealthy: true,
      zmqDisconnects: 1,
      zmqReconnects: 1,
      lastRawBlockAt: now - 30_000,
      lastRawBlockBytes: 1_650_000,
    },
    tip: {
      hash: hash(880_000),
      height: 880_000,
      time: Math.floor(now / 1000) - 420,
      bits: "17027726",
      difficulty: 1.1e14,
      recentTimes: [
        Math.floor(now / 1000) - 420,
        Math.floor(now / 1000) - 1000,
        Math.floor(now / 1000) - 1500,
        Math.floor(now / 1000) - 2300,
      ],
    },
    template: { feesSats: 2_345_678, updatedAt: now - 5_000 },
    price: { price: 97_123.45, currency: "USD", updatedAt: now - 60_000 },
    foundBlocks: Array.from({ length: 12 }, (_, i): FoundBlockRecord => ({
      height: 879_990 - i,
      hash: hash(879_990 - i),
      worker: i % 2 === 0 ? `${a}.rig1` : b,
      at: now - (i + 1) * 86_400_000,
      shareDifficulty: 1.2e14 + i,
      poolFeeSats: i === 0 ? undefined : 3_125_000,
      workerPayoutSats: 309_375_000,
      confirmations: i === 0 ? 0 : i === 1 ? -1 : i === 2 ? undefined : i * 144,
    })),
  };
}
