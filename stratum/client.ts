/**
 * A Stratum v1 client over TCP or TLS, used by the tests and by the miner command.
 *
 * It correlates responses with requests by id, keeps what the pool told it (extranonce1 and the
 * extranonce2 size, the current job, difficulty and version mask) and hands notifications out as
 * listeners, an async iterator, or `waitFor`. It does not hash: the share search on its current
 * job is `findShare` in `stratum/miner.ts`.
 *
 * @module
 */

import { LineFramer } from "./framing.ts";

/** Where to connect. */
export interface StratumClientOptions {
  /** Host name or IP address. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Connect with TLS (`stratum+ssl`). */
  readonly tls?: boolean;
  /** Extra trusted certificates (PEM) for TLS, e.g. the pool's self-signed certificate. */
  readonly caCerts?: readonly string[];
  /** How long a request waits for its response before it fails. Default 10 000 ms. */
  readonly requestTimeoutMs?: number;
  /** Longest line accepted from the pool, in bytes. Default 256 KiB. */
  readonly maxLineBytes?: number;
}

/** A response to one request: the raw `result` and `error` members as the pool sent them. */
export interface StratumReply {
  /** The request id the response carried. */
  readonly id: number;
  /** `result` as sent (`null` when absent). */
  readonly result: unknown;
  /** `error` as sent: usually `null` or the tuple `[code, message, traceback]`. */
  readonly error: unknown;
}

/** A message from the pool that is not a response: a notification or a request. */
export interface StratumNotification {
  /** The method name, e.g. `mining.notify`. */
  readonly method: string;
  /** The params (an empty array when the pool sent none or not an array). */
  readonly params: readonly unknown[];
  /** The id, `null` for a notification proper. */
  readonly id: unknown;
}

/** The parsed params of the latest valid `mining.notify`. */
export interface StratumJob {
  /** Job id as sent. */
  readonly jobId: string;
  /** Previous block hash in the Stratum form (each 4-byte word of the internal order swapped). */
  readonly prevhash: string;
  /** Coinbase part before the extranonces, hex. */
  readonly coinb1: string;
  /** Coinbase part after the extranonces, hex. */
  readonly coinb2: string;
  /** Merkle branch hashes, hex, internal byte order. */
  readonly merkleBranch: readonly string[];
  /** Block version (before rolling). */
  readonly version: number;
  /** Compact target as the 8 hex chars sent. */
  readonly nbits: string;
  /** Header time (Unix seconds). */
  readonly ntime: number;
  /** True when older jobs must be dropped. */
  readonly clean: boolean;
}

/** Thrown by pending requests and waits when the connection is gone. */
export class StratumClosedError extends Error {
  /** Makes the error with a human reason. */
  constructor(reason = "connection closed") {
    super(reason);
    this.name = "StratumClosedError";
  }
}

/** Thrown when a request or a wait runs past its time limit. */
export class StratumTimeoutError extends Error {
  /** Makes the error with a human reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "StratumTimeoutError";
  }
}

/** A share as `mining.submit` sends it (all hex in the Stratum forms). */
export interface SubmitShare {
  /** Job id from the notify. */
  readonly jobId: string;
  /** Extranonce2, hex, exactly the negotiated size. */
  readonly extranonce2: string;
  /** Header time, 8 hex chars (big-endian). */
  readonly ntime: string;
  /** Header nonce, 8 hex chars (big-endian). */
  readonly nonce: string;
  /** Rolled version bits (BIP310: `version & mask`), 8 hex chars; absent without rolling. */
  readonly versionBits?: string;
}

type Listener = (message: StratumNotification) => void;

interface PendingRequest {
  readonly resolve: (reply: StratumReply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

interface Waiter {
  readonly method: string;
  readonly predicate: (message: StratumNotification) => boolean;
  readonly resolve: (message: StratumNotification) => void;
  readonly reject: (error: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** How many unclaimed notifications `waitFor` can still find after they arrived. */
const BUFFERED_NOTIFICATIONS = 256;
/** How many unparseable pool lines are kept for inspection. */
const KEPT_INVALID_LINES = 32;

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
const isHexString = (value: unknown, bytes?: number): value is string =>
  typeof value === "string" && HEX_RE.test(value) &&
  (bytes === undefined || value.length === bytes * 2);

/** Parses `mining.notify` params; undefined when any field is malformed. */
export function parseNotify(params: readonly unknown[]): StratumJob | undefined {
  const [jobId, prevhash, coinb1, coinb2, branch, version, nbits, ntime, clean] = params;
  if (typeof jobId !== "string" || jobId.length === 0) return undefined;
  if (!isHexString(prevhash, 32) || !isHexString(coinb1) || !isHexString(coinb2)) return undefined;
  if (!Array.isArray(branch) || !branch.every((hash) => isHexString(hash, 32))) return undefined;
  if (!isHexString(version, 4) || !isHexString(nbits, 4) || !isHexString(ntime, 4)) {
    return undefined;
  }
  return {
    jobId,
    prevhash: prevhash.toLowerCase(),
    coinb1: coinb1.toLowerCase(),
    coinb2: coinb2.toLowerCase(),
    merkleBranch: branch.map((hash: string) => hash.toLowerCase()),
    version: parseInt(version, 16) >>> 0,
    nbits: nbits.toLowerCase(),
    ntime: parseInt(ntime, 16) >>> 0,
    clean: clean === true,
  };
}

/**
 * One Stratum v1 connection to a pool. Make it with {@linkcode StratumClient.connect}; it reads
 * until the pool closes or {@linkcode StratumClient.close} is called.
 */
export class StratumClient {
  /** Extranonce1 from `mining.subscribe` or `mining.set_extranonce`, hex. */
  extranonce1: string | undefined;
  /** Extranonce2 size in bytes from `mining.subscribe` or `mining.set_extranonce`. */
  extranonce2Size: number | undefined;
  /** Subscription id from the `mining.notify` tuple of the subscribe result. */
  subscriptionId: string | undefined;
  /** The latest valid job. */
  job: StratumJob | undefined;
  /** The latest `mining.set_difficulty`. */
  difficulty: number | undefined;
  /** The negotiated version-rolling mask (configure result or `mining.set_version_mask`). */
  versionMask: number | undefined;
  /** The latest `client.show_message` text. */
  lastMessage: string | undefined;
  /** User agent sent in `mining.subscribe`, also the answer to `client.get_version`. */
  userAgent = "denopool-client/0.1";
  /** Lines from the pool that were not JSON-RPC (the latest few). */
  readonly invalidLines: string[] = [];
  /** Count of lines from the pool that were not JSON-RPC. */
  invalidLineCount = 0;
  /** Resolves when the connection is closed (by either side); never rejects. */
  readonly closed: Promise<void>;

  readonly #conn: Deno.Conn;
  readonly #requestTimeoutMs: number;
  readonly #framer: LineFramer;
  readonly #encoder = new TextEncoder();
  readonly #pending = new Map<number, PendingRequest>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #buffered: StratumNotification[] = [];
  readonly #waiters = new Set<Waiter>();
  #nextId = 1;
  #isClosed = false;
  #closeReason = "connection closed";
  #writeChain: Promise<void> = Promise.resolve();
  #resolveClosed!: () => void;

  private constructor(conn: Deno.Conn, options: StratumClientOptions) {
    this.#conn = conn;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#framer = new LineFramer(options.maxLineBytes ?? 256 * 1024);
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#readLoop();
  }

  /** Opens a TCP (or TLS) connection to the pool and starts reading. */
  static async connect(options: StratumClientOptions): Promise<StratumClient> {
    const conn = options.tls
      ? await Deno.connectTls({
        hostname: options.host,
        port: options.port,
        caCerts: options.caCerts ? [...options.caCerts] : undefined,
      })
      : await Deno.connect({ hostname: options.host, port: options.port });
    if (options.tls) await (conn as Deno.TlsConn).handshake();
    if (!options.tls) (conn as Deno.TcpConn).setNoDelay(true);
    return new StratumClient(conn, options);
  }

  /** True once the connection is closed. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Why the connection closed (meaningful once {@linkcode isClosed}). */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** Sends `method(params)` with a fresh id and resolves with the pool's response. */
  request(method: string, params: readonly unknown[] = []): Promise<StratumReply> {
    if (this.#isClosed) return Promise.reject(new StratumClosedError(this.#closeReason));
    const id = this.#nextId++;
    const line = JSON.stringify({ id, method, params });
    return new Promise<StratumReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new StratumTimeoutError(
            `${method} (id ${id}): no response in ${this.#requestTimeoutMs} ms`,
          ),
        );
      }, this.#requestTimeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#write(line + "\n").catch((error) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  /** Sends `method(params)` as a notification (id null); nothing comes back. */
  notify(method: string, params: readonly unknown[] = []): Promise<void> {
    return this.#write(JSON.stringify({ id: null, method, params }) + "\n");
  }

  /** Sends `text` as is (a newline is not added), e.g. garbage for robustness tests. */
  sendRaw(text: string): Promise<void> {
    return this.#write(text);
  }

  /**
   * `mining.subscribe [userAgent, sessionId?]`. On success stores extranonce1, the extranonce2
   * size and the subscription id.
   */
  async subscribe(userAgent = this.userAgent, sessionId?: string): Promise<StratumReply> {
    this.userAgent = userAgent;
    const reply = await this.request(
      "mining.subscribe",
      sessionId === undefined ? [userAgent] : [userAgent, sessionId],
    );
    if (reply.error == null && Array.isArray(reply.result)) {
      const [subscriptions, extranonce1, extranonce2Size] = reply.result;
      if (isHexString(extranonce1)) this.extranonce1 = extranonce1.toLowerCase();
      if (Number.isInteger(extranonce2Size)) this.extranonce2Size = extranonce2Size as number;
      if (Array.isArray(subscriptions)) {
        for (const entry of subscriptions) {
          if (Array.isArray(entry) && entry[0] === "mining.notify") {
            this.subscriptionId = String(entry[1]);
          }
        }
      }
    }
    return reply;
  }

  /** `mining.authorize [user, pass]`. */
  authorize(user: string, pass = "x"): Promise<StratumReply> {
    return this.request("mining.authorize", [user, pass]);
  }

  /**
   * `mining.configure [extensions, params]` (BIP310). When the result grants `version-rolling`,
   * stores the granted mask.
   */
  async configure(
    extensions: readonly string[],
    params: Readonly<Record<string, unknown>> = {},
  ): Promise<StratumReply> {
    const reply = await this.request("mining.configure", [extensions, params]);
    const result = reply.result as Record<string, unknown> | null;
    if (reply.error == null && result && typeof result === "object") {
      const mask = result["version-rolling.mask"];
      if (result["version-rolling"] === true && isHexString(mask, 4)) {
        this.versionMask = parseInt(mask, 16) >>> 0;
      }
    }
    return reply;
  }

  /** `mining.suggest_difficulty [difficulty]`. */
  suggestDifficulty(difficulty: number): Promise<StratumReply> {
    return this.request("mining.suggest_difficulty", [difficulty]);
  }

  /** `mining.submit [worker, jobId, extranonce2, ntime, nonce, versionBits?]`. */
  submit(worker: string, share: SubmitShare): Promise<StratumReply> {
    const params = [worker, share.jobId, share.extranonce2, share.ntime, share.nonce];
    if (share.versionBits !== undefined) params.push(share.versionBits);
    return this.request("mining.submit", params);
  }

  /**
   * Calls `listener` for every message from the pool with `method` (`"*"` for all) until the
   * returned function is called.
   */
  on(method: string, listener: (message: StratumNotification) => void): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, set = new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Every message from the pool with `method` (`"*"` for all) that arrives after this call, in
   * order, until the connection closes or the loop is left.
   */
  async *notifications(method = "*"): AsyncGenerator<StratumNotification, void, undefined> {
    const queue: StratumNotification[] = [];
    let wake: (() => void) | undefined;
    const off = this.on(method, (message) => {
      queue.push(message);
      wake?.();
    });
    this.closed.then(() => wake?.());
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (this.#isClosed) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      off();
    }
  }

  /**
   * The first message with `method` (matching `predicate`, if given) not already claimed by an
   * earlier `waitFor`: one that arrived before this call counts (the last few hundred are kept),
   * so there is no race between a response and the notifications sent right after it.
   */
  waitFor(
    method: string,
    predicate: (message: StratumNotification) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<StratumNotification> {
    const index = this.#buffered.findIndex((message) =>
      message.method === method && predicate(message)
    );
    if (index >= 0) return Promise.resolve(this.#buffered.splice(index, 1)[0]);
    if (this.#isClosed) return Promise.reject(new StratumClosedError(this.#closeReason));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        method,
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new StratumTimeoutError(`no ${method} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Forgets the notifications kept for `waitFor`, so only later ones count. */
  clearBuffered(): void {
    this.#buffered.length = 0;
  }

  /** Closes the connection; pending requests and waits fail with `StratumClosedError`. */
  close(): void {
    this.#shutdown("closed by client");
  }

  async #write(text: string): Promise<void> {
    if (this.#isClosed) throw new StratumClosedError(this.#closeReason);
    const bytes = this.#encoder.encode(text);
    // Chain writes so concurrent requests never interleave their bytes.
    const done = this.#writeChain.then(async () => {
      for (let offset = 0; offset < bytes.length;) {
        offset += await this.#conn.write(bytes.subarray(offset));
      }
    });
    this.#writeChain = done.catch(() => {});
    try {
      await done;
    } catch (error) {
      this.#shutdown(`write failed: ${error instanceof Error ? error.message : error}`);
      throw new StratumClosedError(this.#closeReason);
    }
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    let reason = "closed by pool";
    try {
      while (!this.#isClosed) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        const framed = this.#framer.push(
          buffer.subarray(0, n),
          (line) => {
            this.#handleLine(line);
            return !this.#isClosed;
          },
        );
        if (framed === "oversize") {
          reason = `line from pool over ${this.#framer.maxLineBytes} bytes`;
          break;
        }
      }
    } catch (error) {
      if (!this.#isClosed) {
        reason = `read failed: ${error instanceof Error ? error.message : error}`;
      }
    }
    this.#shutdown(reason);
  }

  #handleLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.#noteInvalid(line);
      return;
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      this.#noteInvalid(line);
      return;
    }
    const { id, method, params, result, error } = message as Record<string, unknown>;
    if (typeof method === "string") {
      this.#handleNotification({
        method,
        params: Array.isArray(params) ? params : [],
        id: id ?? null,
      });
      return;
    }
    const pending = typeof id === "number" ? this.#pending.get(id) : undefined;
    if (!pending) {
      this.#noteInvalid(line);
      return;
    }
    this.#pending.delete(id as number);
    clearTimeout(pending.timer);
    pending.resolve({ id: id as number, result: result ?? null, error: error ?? null });
  }

  #noteInvalid(line: string): void {
    this.invalidLineCount++;
    this.invalidLines.push(line.length > 512 ? line.slice(0, 512) + "…" : line);
    if (this.invalidLines.length > KEPT_INVALID_LINES) this.invalidLines.shift();
  }

  #handleNotification(message: StratumNotification): void {
    const { method, params } = message;
    switch (method) {
      case "mining.notify": {
        const job = parseNotify(params);
        if (!job) {
          this.#noteInvalid(JSON.stringify(message));
          return;
        }
        this.job = job;
        break;
      }
      case "mining.set_difficulty": {
        const difficulty = params[0];
        if (typeof difficulty === "number" && difficulty > 0 && Number.isFinite(difficulty)) {
          this.difficulty = difficulty;
        }
        break;
      }
      case "mining.set_version_mask":
        if (isHexString(params[0], 4)) this.versionMask = parseInt(params[0], 16) >>> 0;
        break;
      case "mining.set_extranonce":
        if (isHexString(params[0])) this.extranonce1 = params[0].toLowerCase();
        if (Number.isInteger(params[1])) this.extranonce2Size = params[1] as number;
        break;
      case "client.show_message":
        if (typeof params[0] === "string") this.lastMessage = params[0];
        break;
      case "client.get_version":
        if (message.id !== null) {
          this.#write(
            JSON.stringify({ id: message.id, result: this.userAgent, error: null }) + "\n",
          )
            .catch(() => {});
        }
        break;
    }
    this.#dispatch(message);
  }

  #dispatch(message: StratumNotification): void {
    for (const key of [message.method, "*"]) {
      for (const listener of this.#listeners.get(key) ?? []) {
        try {
          listener(message);
        } catch (error) {
          // A listener's bug must not stop the read loop (or the process): report and go on.
          console.error(`StratumClient: ${message.method} listener threw`, error);
        }
      }
    }
    for (const waiter of this.#waiters) {
      if (waiter.method === message.method && waiter.predicate(message)) {
        this.#waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(message);
        return;
      }
    }
    this.#buffered.push(message);
    if (this.#buffered.length > BUFFERED_NOTIFICATIONS) this.#buffered.shift();
  }

  #shutdown(reason: string): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closeReason = reason;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer.
    }
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new StratumClosedError(`${reason} (request ${id} unanswered)`));
    }
    this.#pending.clear();
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new StratumClosedError(reason));
    }
    this.#waiters.clear();
    this.#resolveClosed();
  }
}
