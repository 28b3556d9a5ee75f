/**
 * Block notifications from Bitcoin Core over ZMQ (`hashblock`, `rawblock`), with connection
 * health. One SUB socket per distinct address; libzmq reconnects by itself and ZMTP heartbeats
 * notice a publisher that vanished without closing the connection.
 *
 * @module
 */

import * as zmq from "zeromq";
import { bytesToHex } from "../bitcoin/mod.ts";
import { type BlockTip, parseBlockTip } from "./block_tip.ts";
import { LinkHealth } from "./link_health.ts";

/** A block announced over ZMQ. */
export interface ZmqBlockNotice {
  /** Which topic announced it. */
  readonly topic: "hashblock" | "rawblock";
  /** Block hash, RPC (reversed) hex. */
  readonly hash: string;
  /** Tip facts parsed from the raw block (rawblock only). */
  readonly tip: BlockTip | undefined;
  /** When the message arrived (ms since the epoch). */
  readonly receivedAt: number;
}

/** ZMQ health as plain data for the status API. */
export interface ZmqHealth {
  /** True while every configured socket has a live connection. */
  readonly zmqHealthy: boolean;
  /** Healthy → unhealthy transitions. */
  readonly zmqDisconnects: number;
  /** Unhealthy → healthy transitions after the first connect. */
  readonly zmqReconnects: number;
  /** When the latest rawblock arrived (ms since the epoch). */
  readonly lastRawBlockAt: number | undefined;
  /** Size of the latest rawblock in bytes. */
  readonly lastRawBlockBytes: number | undefined;
  /** The latest message that could not be used, if any. */
  readonly lastError: string | undefined;
}

/** Where to subscribe and how to reconnect. */
export interface ZmqOptions {
  /** Endpoint publishing `hashblock`, e.g. `tcp://127.0.0.1:28332`; empty or absent to skip. */
  readonly hashblockAddr?: string;
  /** Endpoint publishing `rawblock`; empty or absent to skip. May equal `hashblockAddr`. */
  readonly rawblockAddr?: string;
  /** First reconnect delay in ms; default 1000. */
  readonly reconnectMinMs?: number;
  /** Largest reconnect delay in ms; default 10000. */
  readonly reconnectMaxMs?: number;
  /** ZMTP heartbeat interval in ms (0 disables); default 5000. A silent peer is dropped after 3×. */
  readonly heartbeatMs?: number;
  /** Wall clock in ms since the epoch; default `Date.now`. */
  readonly now?: () => number;
}

/** Longest `close()` waits for the socket loops to end, in ms. */
const CLOSE_WAIT_MS = 2_000;

/** Called for every block notice. */
export type ZmqBlockListener = (notice: ZmqBlockNotice) => void;
/** Called when `zmqHealthy` flips. */
export type ZmqHealthListener = (health: ZmqHealth) => void;

interface Endpoint {
  readonly address: string;
  readonly topics: readonly ("hashblock" | "rawblock")[];
  readonly socket: zmq.Subscriber;
  connected: boolean;
}

/** Subscribes to block notifications and tracks connection health. */
export class ZmqBlockSubscriber {
  readonly #options: ZmqOptions;
  readonly #now: () => number;
  readonly #endpoints: Endpoint[] = [];
  readonly #blockListeners = new Set<ZmqBlockListener>();
  readonly #healthListeners = new Set<ZmqHealthListener>();
  #started = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** The receive and event loops, one each per socket. */
  readonly #loops: Promise<void>[] = [];
  readonly #link = new LinkHealth();
  #lastRawBlockAt: number | undefined;
  #lastRawBlockBytes: number | undefined;
  #lastError: string | undefined;

  /** Prepares the subscriber; {@linkcode start} opens the sockets. */
  constructor(options: ZmqOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** True when at least one address is configured. */
  get enabled(): boolean {
    return !!(this.#options.hashblockAddr || this.#options.rawblockAddr);
  }

  /** Current health figures. */
  get health(): ZmqHealth {
    return {
      zmqHealthy: this.#link.healthy,
      zmqDisconnects: this.#link.disconnects,
      zmqReconnects: this.#link.reconnects,
      lastRawBlockAt: this.#lastRawBlockAt,
      lastRawBlockBytes: this.#lastRawBlockBytes,
      lastError: this.#lastError,
    };
  }

  /** Calls `listener` for every block notice; returns a function that removes it. */
  onBlock(listener: ZmqBlockListener): () => void {
    this.#blockListeners.add(listener);
    return () => this.#blockListeners.delete(listener);
  }

  /** Calls `listener` whenever `zmqHealthy` flips; returns a function that removes it. */
  onHealthChange(listener: ZmqHealthListener): () => void {
    this.#healthListeners.add(listener);
    return () => this.#healthListeners.delete(listener);
  }

  /** Opens one SUB socket per distinct address and starts receiving. Idempotent. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    const byAddress = new Map<string, ("hashblock" | "rawblock")[]>();
    const add = (address: string | undefined, topic: "hashblock" | "rawblock") => {
      if (!address) return;
      byAddress.set(address, [...(byAddress.get(address) ?? []), topic]);
    };
    add(this.#options.hashblockAddr, "hashblock");
    add(this.#options.rawblockAddr, "rawblock");
    const heartbeat = this.#options.heartbeatMs ?? 5_000;
    for (const [address, topics] of byAddress) {
      const socket = new zmq.Subscriber({
        reconnectInterval: this.#options.reconnectMinMs ?? 1_000,
        reconnectMaxInterval: this.#options.reconnectMaxMs ?? 10_000,
        heartbeatInterval: heartbeat,
        heartbeatTimeout: heartbeat * 3,
        heartbeatTimeToLive: heartbeat * 6,
        linger: 0,
      });
      const endpoint: Endpoint = { address, topics, socket, connected: false };
      this.#endpoints.push(endpoint);
      // Socket events are read by our own loop, not `events.on()`: zeromq's emitter mode runs an
      // uncaught receive loop whose rejection (ENOTSOCK when a close races it) would be unhandled.
      this.#loops.push(
        this.#watch(endpoint).catch(() => {
          // the observer went with its socket: nothing more to watch
        }),
      );
      for (const topic of topics) socket.subscribe(topic);
      socket.connect(address);
      this.#loops.push(
        this.#receive(endpoint).catch((err) => {
          if (!this.#closed) this.#lastError = `zmq ${address}: ${errorText(err)}`;
        }),
      );
    }
  }

  /**
   * Closes every socket; no more notices or health changes are reported. Resolves once the
   * receive loops have ended (at most `CLOSE_WAIT_MS`): a native receive still pending when its
   * JS realm is torn down (a test file ending, a worker closing) can take the process with it.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closing ?? Promise.resolve();
    this.#closed = true;
    for (const endpoint of this.#endpoints) endpoint.socket.close();
    this.#blockListeners.clear();
    this.#healthListeners.clear();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_WAIT_MS));
    this.#closing = Promise.race([Promise.allSettled(this.#loops).then(() => {}), bound])
      .finally(() => clearTimeout(timer));
    return this.#closing;
  }

  async #watch(endpoint: Endpoint): Promise<void> {
    for await (const event of endpoint.socket.events) {
      if (this.#closed) return;
      if (event.type === "handshake") this.#setConnected(endpoint, true);
      else if (event.type === "disconnect") this.#setConnected(endpoint, false);
    }
  }

  async #receive(endpoint: Endpoint): Promise<void> {
    for await (const [topicFrame, body] of endpoint.socket) {
      if (this.#closed) return;
      const topic = new TextDecoder().decode(topicFrame);
      const receivedAt = this.#now();
      let notice: ZmqBlockNotice;
      try {
        if (topic === "hashblock") {
          if (body.length !== 32) throw new Error(`hashblock body of ${body.length} bytes`);
          notice = { topic, hash: bytesToHex(body), tip: undefined, receivedAt };
        } else if (topic === "rawblock") {
          const tip = parseBlockTip(body);
          this.#lastRawBlockAt = receivedAt;
          this.#lastRawBlockBytes = body.length;
          notice = { topic, hash: tip.hash, tip, receivedAt };
        } else {
          continue;
        }
      } catch (err) {
        this.#lastError = `zmq ${topic}: ${errorText(err)}`;
        continue;
      }
      // A message proves the connection works even if the handshake event was missed.
      this.#setConnected(endpoint, true);
      for (const listener of this.#blockListeners) guard(() => listener(notice));
    }
  }

  #setConnected(endpoint: Endpoint, connected: boolean): void {
    if (this.#closed) return;
    endpoint.connected = connected;
    const healthy = this.#endpoints.every((e) => e.connected);
    if (!this.#link.set(healthy)) return;
    const health = this.health;
    for (const listener of this.#healthListeners) guard(() => listener(health));
  }
}

function guard(fn: () => void): void {
  try {
    fn();
  } catch {
    // Listener faults stay with the listener; the receive loop must keep running.
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
