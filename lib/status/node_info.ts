/**
 * What the status pages ask the node, cached so that page traffic never turns into RPC traffic:
 *
 * - {@linkcode NodeInfoCache}: getblockchaininfo + getnetworkinfo + getpeerinfo (+ getblockhash 0
 *   once), at most once per 30 s, with the optional clean-up of slow peers;
 * - {@linkcode TipHeaders}: header times of the tip and the 3 blocks before it, fetched only when
 *   the tip changes;
 * - {@linkcode BlockConfirmations}: confirmations of found blocks, asked once per block per new tip
 *   (`getblockhash <height>`: is it still the main chain's block there?) where the reference pool
 *   asks once per block per status rebuild, and not at all once a block is deeper than any reorg
 *   the pool cares about.
 *
 * @module
 */

import { bitsToTarget, targetToDifficulty } from "../bitcoin/mod.ts";
import type { NodeInfo, NodePeer } from "./sources.ts";

/** The part of the RPC client these caches need (an `RpcClient` fits). */
export interface NodeRpc {
  /** Calls `method` on the node; rejects on transport or RPC error. */
  call<T = unknown>(
    method: string,
    params?: readonly unknown[],
    options?: { readonly timeoutMs?: number; readonly retries?: number },
  ): Promise<T>;
}

/** Clean-up of slow node peers (`status.peer_cleanup_*`). */
export interface PeerCleanupOptions {
  /** Off unless true. */
  readonly enabled: boolean;
  /** Peers with a ping above this (ms) are candidates. */
  readonly maxPingMs: number;
  /** Never disconnect below this many peers. */
  readonly minPeers: number;
}

/** Options of {@linkcode NodeInfoCache}. */
export interface NodeInfoCacheOptions {
  /** The node. */
  readonly rpc: NodeRpc;
  /** How long an answer is reused (ms, default 30 s). */
  readonly ttlMs?: number;
  /** Slow-peer clean-up; off when absent. */
  readonly peerCleanup?: PeerCleanupOptions;
  /** Timeout of each status RPC (ms, default 5 s); status never waits long on the node. */
  readonly timeoutMs?: number;
  /** Told about every peer disconnected by the clean-up. */
  readonly onDisconnect?: (peer: NodePeer) => void;
  /** Clock (ms since the epoch). */
  readonly now?: () => number;
}

interface ChainInfoReply {
  chain?: string;
  blocks?: number;
  headers?: number;
  initialblockdownload?: boolean;
  pruned?: boolean;
  size_on_disk?: number;
  bestblockhash?: string;
}

interface NetworkInfoReply {
  subversion?: string;
  connections?: number;
  connections_in?: number;
  connections_out?: number;
}

interface PeerReply {
  addr?: string;
  pingtime?: number;
  conntime?: number;
  inbound?: boolean;
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/**
 * The peers the clean-up disconnects: those pinging above `maxPingMs`, slowest first, while more
 * than `minPeers` would remain. Peers without a ping yet are never chosen (no evidence).
 */
export function peersToDisconnect(
  peers: readonly NodePeer[],
  options: PeerCleanupOptions,
): NodePeer[] {
  if (!options.enabled) return [];
  const removable = Math.max(0, peers.length - Math.max(0, options.minPeers));
  return peers
    .filter((p) => p.pingMs > 0 && p.pingMs > options.maxPingMs)
    .sort((a, b) => b.pingMs - a.pingMs)
    .slice(0, removable);
}

/** Node facts for `/api/node`, asked at most once per `ttlMs`. */
export class NodeInfoCache {
  readonly #rpc: NodeRpc;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #cleanup: PeerCleanupOptions | undefined;
  readonly #onDisconnect: (peer: NodePeer) => void;
  readonly #now: () => number;
  #genesis: string | undefined;
  #cached: { info: NodeInfo; at: number } | undefined;
  #inFlight: Promise<NodeInfo> | undefined;
  #disconnected = 0;

  /** A cache that asks nothing until {@linkcode get}. */
  constructor(options: NodeInfoCacheOptions) {
    this.#rpc = options.rpc;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#cleanup = options.peerCleanup;
    this.#onDisconnect = options.onDisconnect ?? (() => {});
    this.#now = options.now ?? Date.now;
  }

  /** Peers disconnected by the clean-up since start. */
  get disconnectedPeers(): number {
    return this.#disconnected;
  }

  /** Forgets the cached facts (e.g. on a new tip), so the next {@linkcode get} asks the node. */
  invalidate(): void {
    this.#cached = undefined;
  }

  /** The cached facts, or fresh ones when older than the TTL; rejects when the node cannot answer. */
  get(): Promise<NodeInfo> {
    const cached = this.#cached;
    if (cached && this.#now() - cached.at < this.#ttlMs) return Promise.resolve(cached.info);
    this.#inFlight ??= this.#fetch().finally(() => this.#inFlight = undefined);
    return this.#inFlight;
  }

  async #fetch(): Promise<NodeInfo> {
    const opts = { timeoutMs: this.#timeoutMs, retries: 0 };
    const rpc = this.#rpc;
    const [chain, network, peerReplies, genesis] = await Promise.all([
      rpc.call<ChainInfoReply>("getblockchaininfo", [], opts),
      rpc.call<NetworkInfoReply>("getnetworkinfo", [], opts),
      rpc.call<PeerReply[]>("getpeerinfo", [], opts).catch(() => undefined),
      this.#genesis ?? rpc.call<string>("getblockhash", [0], opts).catch(() => undefined),
    ]);
    if (typeof genesis === "string") this.#genesis = genesis;
    const replies = Array.isArray(peerReplies) ? peerReplies : undefined;
    let peers = replies?.map((p): NodePeer => ({
      display: typeof p.addr === "string" ? p.addr : "",
      pingMs: num(p.pingtime) * 1000,
      connectedAt: num(p.conntime),
    }));
    if (peers && this.#cleanup) peers = await this.#cleanPeers(peers, this.#cleanup);
    // Older nodes (and bcoin) do not split the connection count: count inbound peers instead.
    const inbound = replies?.filter((p) => p.inbound === true).length;
    const connections = num(network.connections);
    const connectionsIn = network.connections_in ?? inbound ?? 0;
    const info: NodeInfo = {
      network: chain.chain,
      subversion: network.subversion,
      blocks: num(chain.blocks),
      headers: num(chain.headers ?? chain.blocks),
      initialBlockDownload: chain.initialblockdownload === true,
      connections,
      connectionsIn: num(connectionsIn),
      connectionsOut: num(network.connections_out ?? Math.max(0, connections - num(connectionsIn))),
      peers,
      pruned: chain.pruned === true,
      sizeOnDiskBytes: num(chain.size_on_disk),
      genesisHash: this.#genesis,
      bestBlockHash: chain.bestblockhash,
    };
    this.#cached = { info, at: this.#now() };
    return info;
  }

  /** Disconnects the slow peers; returns the peers still connected. */
  async #cleanPeers(peers: NodePeer[], options: PeerCleanupOptions): Promise<NodePeer[]> {
    const victims = peersToDisconnect(peers, options).filter((p) => p.display !== "");
    if (victims.length === 0) return peers;
    const gone = new Set<NodePeer>();
    await Promise.all(victims.map(async (peer) => {
      try {
        await this.#rpc.call("disconnectnode", [peer.display], {
          timeoutMs: this.#timeoutMs,
          retries: 0,
        });
        gone.add(peer);
        this.#disconnected++;
        this.#onDisconnect(peer);
      } catch {
        // Already gone, or the node refused: it stays in the list and is tried again next time.
      }
    }));
    return peers.filter((p) => !gone.has(p));
  }
}

interface HeaderReply {
  time?: number;
  height?: number;
  bits?: string | number;
  difficulty?: number;
  previousblockhash?: string;
  confirmations?: number;
}

/** The tip header as the node reports it. */
export interface TipHeader {
  /** Block hash, RPC hex. */
  readonly hash: string;
  /** Height. */
  readonly height: number;
  /** Header time (Unix seconds). */
  readonly time: number;
  /** Compact target, 8 hex chars. */
  readonly bits: string;
  /** Difficulty. */
  readonly difficulty: number;
}

/** Header times of the tip and the blocks before it, refreshed only when the tip changes. */
export class TipHeaders {
  readonly #rpc: NodeRpc;
  readonly #depth: number;
  #tip: string | undefined;
  #header: TipHeader | undefined;
  #times: readonly number[] = [];
  #pending: Promise<void> | undefined;
  #pendingTip: string | undefined;

  /** Tracks `depth` header times (4: the tip and 3 before it). */
  constructor(rpc: NodeRpc, depth = 4) {
    this.#rpc = rpc;
    this.#depth = depth;
  }

  /** The tip the times belong to, once fetched. */
  get tip(): string | undefined {
    return this.#tip;
  }

  /** The fetched tip's own header facts, when the node reported them all. */
  get header(): TipHeader | undefined {
    return this.#header;
  }

  /** Header times (Unix seconds) of the fetched tip and its ancestors, newest first. */
  get times(): readonly number[] {
    return this.#times;
  }

  /**
   * Makes sure the times are those of `tipHash`: does nothing when they are (or being fetched),
   * else walks `depth` headers back from it. Never rejects; on failure the next call retries.
   */
  update(tipHash: string): Promise<void> {
    if (tipHash === this.#tip) return Promise.resolve();
    if (this.#pending && this.#pendingTip === tipHash) return this.#pending;
    this.#pendingTip = tipHash;
    const run = this.#walk(tipHash).then(({ times, header }) => {
      // A newer tip may have started its own walk meanwhile; only the latest one lands.
      if (this.#pendingTip !== tipHash) return;
      this.#tip = tipHash;
      this.#times = times;
      this.#header = header;
    }, () => {}).finally(() => {
      if (this.#pending === run) this.#pending = undefined;
    });
    this.#pending = run;
    return run;
  }

  async #walk(tipHash: string): Promise<{ times: number[]; header?: TipHeader }> {
    const times: number[] = [];
    let tip: TipHeader | undefined;
    let hash: string | undefined = tipHash;
    while (hash !== undefined && times.length < this.#depth) {
      const reply: HeaderReply = await this.#rpc.call<HeaderReply>(
        "getblockheader",
        [hash, true],
        { timeoutMs: 5_000, retries: 1 },
      );
      if (typeof reply.time !== "number") break;
      if (times.length === 0) tip = tipHeader(tipHash, reply);
      times.push(reply.time);
      // Genesis has no parent: Core leaves the field out, bcoin sends null (asking is an error).
      const parent: unknown = reply.previousblockhash;
      hash = typeof parent === "string" && !/^0*$/.test(parent) ? parent : undefined;
    }
    return { times, header: tip };
  }
}

function tipHeader(hash: string, reply: HeaderReply): TipHeader | undefined {
  // Core reports bits as hex text; bcoin as a number.
  const bits = typeof reply.bits === "number"
    ? reply.bits
    : typeof reply.bits === "string"
    ? parseInt(reply.bits, 16)
    : NaN;
  const { time, height, difficulty } = reply;
  if (typeof time !== "number" || typeof height !== "number" || !Number.isInteger(bits)) {
    return undefined;
  }
  return {
    hash,
    height,
    time,
    bits: (bits >>> 0).toString(16).padStart(8, "0"),
    difficulty: typeof difficulty === "number"
      ? difficulty
      : targetToDifficulty(bitsToTarget(bits >>> 0)),
  };
}

/** Depth past which a block's confirmations are counted from heights instead of asked. */
export const SETTLED_DEPTH = 100;

/** Confirmations of found blocks (`getblockhash <height>` once per block per tip). */
export class BlockConfirmations {
  readonly #rpc: NodeRpc;
  readonly #known = new Map<string, { tip: string; confirmations: number; tipHeight: number }>();

  /** Asks `rpc` for headers. */
  constructor(rpc: NodeRpc) {
    this.#rpc = rpc;
  }

  /**
   * Confirmations of the block `hash` at `height` with the chain at `tip`/`tipHeight`: -1 when it
   * is off the main chain, undefined when the node cannot tell. Asked at most once per tip; once a
   * block is {@linkcode SETTLED_DEPTH} deep it is not asked again.
   */
  async get(
    hash: string,
    height: number,
    tip: string,
    tipHeight: number,
  ): Promise<number | undefined> {
    const known = this.#known.get(hash);
    if (known) {
      if (known.tip === tip) return known.confirmations;
      if (known.confirmations >= SETTLED_DEPTH) return tipHeight - height + 1;
    }
    try {
      // Main-chain membership by height rather than `getblockheader.confirmations`: bcoin counts a
      // side-chain block's confirmations as if it were on the main chain; this works on both.
      const atHeight = await this.#rpc.call<string>("getblockhash", [height], {
        timeoutMs: 5_000,
        retries: 0,
      });
      const confirmations = atHeight === hash ? Math.max(1, tipHeight - height + 1) : -1;
      this.#known.set(hash, { tip, confirmations, tipHeight });
      return confirmations;
    } catch {
      return known?.confirmations;
    }
  }
}
