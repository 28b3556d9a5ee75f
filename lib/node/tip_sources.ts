/**
 * Tip sources: other nodes that may hear of a new block before the pool's own node does (a node in
 * another region, a well-connected relay), announcing it over ZMQ and/or RPC. The template feed
 * acts on a hint only after the pool's node confirms the block is its tip, or at once with empty
 * work when the operator marks the source trusted.
 *
 * @example
 * ```ts
 * const source = new RpcTipSource({ name: "eu", rpc: otherNodeRpc, pollMs: 250 });
 * const feed = new TemplateFeed({ rpc, rules: ["segwit"], tipSources: [source] });
 * ```
 *
 * @module
 */

import type { BlockTip } from "./block_tip.ts";
import type { RpcCaller } from "./rpc.ts";
import type { ZmqBlockSubscriber } from "./zmq.ts";

/** A new tip announced by a source. */
export interface TipHint {
  /** Block hash, RPC hex. */
  readonly hash: string;
  /** Header facts when the source sent the raw block (or its header). */
  readonly tip: BlockTip | undefined;
  /** Median time past of the block, when the source's RPC told it. */
  readonly medianTimePast: number | undefined;
  /** When the hint arrived (ms since the epoch). */
  readonly receivedAt: number;
}

/** A source's health for the status API. */
export interface TipSourceHealth {
  /** True while the source is reachable. */
  readonly healthy: boolean;
  /** Its latest error. */
  readonly lastError: string | undefined;
}

/** Something that announces new tips. */
export interface TipSource {
  /** Operator's name for it (status API, metrics label). */
  readonly name: string;
  /** Act on its hints before the pool's own node confirms them. */
  readonly trusted: boolean;
  /** Starts announcing to `onHint`. */
  start(onHint: (hint: TipHint) => void): void;
  /** Stops and releases sockets and timers. */
  close(): Promise<void>;
  /** Reachability, now. */
  health(): TipSourceHealth;
}

/** Options of {@linkcode ZmqTipSource}. */
export interface ZmqTipSourceOptions {
  /** Name for the status API. */
  readonly name: string;
  /** The other node's ZMQ subscription (`hashblock` and/or `rawblock`). */
  readonly zmq: ZmqBlockSubscriber;
  /** Act before the pool's node confirms; default false. */
  readonly trusted?: boolean;
}

/** Tips another node publishes over ZMQ. */
export class ZmqTipSource implements TipSource {
  readonly name: string;
  readonly trusted: boolean;
  readonly #zmq: ZmqBlockSubscriber;
  #unsubscribe: (() => void) | undefined;

  /** A source over `options.zmq` (started by {@linkcode start}). */
  constructor(options: ZmqTipSourceOptions) {
    this.name = options.name;
    this.trusted = options.trusted ?? false;
    this.#zmq = options.zmq;
  }

  start(onHint: (hint: TipHint) => void): void {
    this.#unsubscribe = this.#zmq.onBlock((notice) =>
      onHint({
        hash: notice.hash,
        tip: notice.tip,
        medianTimePast: undefined,
        receivedAt: notice.receivedAt,
      })
    );
    this.#zmq.start();
  }

  async close(): Promise<void> {
    this.#unsubscribe?.();
    await this.#zmq.close();
  }

  health(): TipSourceHealth {
    return { healthy: this.#zmq.health.zmqHealthy, lastError: undefined };
  }
}

/** Options of {@linkcode RpcTipSource}. */
export interface RpcTipSourceOptions {
  /** Name for the status API. */
  readonly name: string;
  /** The other node's RPC. */
  readonly rpc: RpcCaller;
  /** Act before the pool's node confirms; default false. */
  readonly trusted?: boolean;
  /** How often to ask for its best block, ms; default 500. */
  readonly pollMs?: number;
  /** Clock; default `Date.now`. */
  readonly now?: () => number;
}

interface HeaderReply {
  readonly height: number;
  readonly time: number;
  readonly mediantime?: number;
  readonly bits: string | number;
  readonly version: number;
  readonly previousblockhash?: string | null;
}

/**
 * Tips another node reports over RPC: `getbestblockhash` every `pollMs`, and for a new hash its
 * header (`getblockheader`), so a trusted source gives the fast path everything it needs.
 */
export class RpcTipSource implements TipSource {
  readonly name: string;
  readonly trusted: boolean;
  readonly #rpc: RpcCaller;
  readonly #pollMs: number;
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #last: string | undefined;
  #healthy = false;
  #lastError: string | undefined;
  #polling: Promise<void> | undefined;
  readonly #stopper = new AbortController();

  /** A source over `options.rpc` (started by {@linkcode start}). */
  constructor(options: RpcTipSourceOptions) {
    this.name = options.name;
    this.trusted = options.trusted ?? false;
    this.#rpc = options.rpc;
    this.#pollMs = options.pollMs ?? 500;
    this.#now = options.now ?? Date.now;
  }

  start(onHint: (hint: TipHint) => void): void {
    this.#running = true;
    const loop = () => {
      if (!this.#running) return;
      this.#polling = this.#poll(onHint).finally(() => {
        if (this.#running) this.#timer = setTimeout(loop, this.#pollMs);
      });
    };
    loop();
  }

  async #poll(onHint: (hint: TipHint) => void): Promise<void> {
    const signal = this.#stopper.signal;
    try {
      const hash = await this.#rpc.call<string>("getbestblockhash", [], { signal, retries: 0 });
      this.#healthy = true;
      if (hash === this.#last) return;
      const first = this.#last === undefined;
      this.#last = hash;
      // The tip at start is not news.
      if (first) return;
      const receivedAt = this.#now();
      const h = await this.#rpc.call<HeaderReply>("getblockheader", [hash, true], {
        signal,
        retries: 0,
      });
      const bits = typeof h.bits === "number" ? h.bits : parseInt(h.bits, 16);
      onHint({
        hash,
        tip: {
          hash,
          prevhash: h.previousblockhash ?? "",
          height: h.height,
          version: h.version,
          time: h.time,
          bits,
          bitsHex: (bits >>> 0).toString(16).padStart(8, "0"),
          difficulty: 0,
          size: 0,
        },
        medianTimePast: h.mediantime,
        receivedAt,
      });
    } catch (error) {
      if (!this.#running) return;
      this.#healthy = false;
      this.#lastError = error instanceof Error ? error.message : String(error);
    }
  }

  async close(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#stopper.abort();
    await this.#polling?.catch(() => {});
  }

  health(): TipSourceHealth {
    return { healthy: this.#healthy, lastError: this.#lastError };
  }
}
