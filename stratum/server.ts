/**
 * The Stratum v1 server ("connector"): plain TCP and TLS listeners, admission control, one
 * {@link Session} per connection, the job fan-out and a once-a-second upkeep sweep.
 *
 * I/O shape per connection: one reused read buffer fed to a {@link LineFramer}; writes queued (text,
 * or UTF-8 bytes shared between connections such as a new block's `mining.notify`) and flushed at
 * the end of the tick by one shared microtask for all connections (a burst of replies and notifies
 * becomes one write per socket); TCP_NODELAY on. Idle connections are closed by the sweep rather
 * than by a timer per connection.
 *
 * @module
 */

import {
  Admission,
  type AdmissionOptions,
  type AdmissionRefusal,
  TokenBucket,
} from "../lib/pool/mod.ts";
import { concatBytes } from "../lib/bitcoin/mod.ts";
import { BanList, type InvalidShareOptions } from "../lib/pool/mod.ts";
import type { BlockSink, Job, JobSource, ResolvePayout, ShareChecker } from "../lib/pool/mod.ts";
import type { VardiffOptions } from "../lib/pool/mod.ts";
import { WorkerRegistry, WorkerStats } from "../lib/pool/mod.ts";
import { FANOUT_BUCKETS, type HistogramSnapshot, LatencyHistogram } from "../lib/histogram.ts";
import { DEFAULT_REPLAY_WINDOW_MS, ShareDeduper } from "./dedupe.ts";
import { type ConnectionShares, ShareGate } from "./backpressure.ts";
import { DEFAULT_MAX_LINE_BYTES, LineFramer } from "./framing.ts";
import { encodeShowMessage, sniffId } from "./protocol.ts";
import { Session, type SessionConfig, type SessionHost, type SessionTransport } from "./session.ts";

/** TLS listener settings; certificate and key are PEM text supplied by the caller. */
export interface StratumTlsOptions {
  /** Port (0 = any free port; read the bound one from `StratumServer.tlsPort`). */
  readonly port: number;
  /** Address to bind (default: the plain listener's hostname). */
  readonly hostname?: string;
  /** Certificate chain, PEM. */
  readonly cert: string;
  /** Private key, PEM. */
  readonly key: string;
}

/**
 * Everything the server needs; the integrator maps the config onto it. `J` pairs the job source
 * with a block sink that can build its jobs (the JobManager's `PoolJob`s and the BlockSubmitter).
 */
export interface StratumServerOptions<J extends Job = Job> {
  /** Address to bind (default `0.0.0.0`). */
  readonly hostname?: string;
  /** Plain TCP port (0 = any free port); omit to run TLS only. */
  readonly port?: number;
  /** TLS listener, if wanted. */
  readonly tls?: StratumTlsOptions;
  /** Job feed. */
  readonly jobs: JobSource<J>;
  /** Share hasher. */
  readonly checker: ShareChecker;
  /** Block submitter: builds blocks of the feed's jobs. */
  readonly blocks: BlockSink<J>;
  /** Validates `ADDRESS[.worker]` user names for the network. */
  readonly resolvePayout: ResolvePayout;
  /** Shared pool password (default none). */
  readonly poolPassword?: string;
  /** extranonce2 size in bytes (default 4, 1–8). */
  readonly extranonce2Size?: number;
  /** Version bits miners may roll (default `0x1fffe000`). */
  readonly versionMask?: number;
  /** Starting difficulty (default: the vardiff minimum). */
  readonly initialDifficulty?: number;
  /** Vardiff tuning (defaults in `lib/pool/vardiff.ts`). */
  readonly vardiff?: Partial<VardiffOptions>;
  /** Invalid-share ban tuning (defaults in `lib/pool/bans.ts`). */
  readonly invalidShares?: Partial<InvalidShareOptions>;
  /** Admission limits (defaults in `lib/pool/admission.ts`). */
  readonly admission?: Partial<AdmissionOptions>;
  /** Miner clients refused at subscribe. */
  readonly clientBlacklist?: readonly string[];
  /** Cap on one JSON-RPC line in bytes (default 16 KiB). */
  readonly maxLineBytes?: number;
  /**
   * Most lines one connection may send per minute, in bursts of up to the same count (token
   * bucket); past it the miner is told why and the connection is closed. Default: no limit.
   */
  readonly messagesPerMinute?: number;
  /**
   * Shares in flight (sent to the checker, not answered) pool-wide before every connection stops
   * reading its socket until half of them are answered (default 20,000).
   */
  readonly maxSharesInFlight?: number;
  /** The same per connection: a miner that pipelines submits is read as fast as it is answered (64). */
  readonly maxSharesInFlightPerConnection?: number;
  /** Close a connection silent for this long (default 10 min). */
  readonly idleTimeoutMs?: number;
  /** Delay of the first work after subscribe + authorize (default 100 ms). */
  readonly initialWorkDelayMs?: number;
  /** Seconds an ntime may run ahead of max(curtime, now) (default 7000). */
  readonly ntimeMaxForwardSec?: number;
  /** Notified jobs each connection remembers (default 16). */
  readonly recentJobs?: number;
  /** How long a closed session's difficulty is kept for resumption (default 10 min). */
  readonly resumeWindowMs?: number;
  /**
   * How long a closed session's extranonce1 (and the keys of the shares it sent, so they cannot
   * be sent again) is kept for resumption (default 30 s); a miner resuming later gets its
   * difficulty back with a fresh extranonce1.
   */
  readonly extranonceResumeWindowMs?: number;
  /** Period of the upkeep sweep (default 1 s). */
  readonly sweepIntervalMs?: number;
  /** Answer to `client.get_version` (default `denopool/0.1.0`). */
  readonly serverVersion?: string;
  /** Worker/address bans; pass one to share it with the admin side (default: a new list). */
  readonly bans?: BanList;
  /** Live worker registry for the status API (default: a new one). */
  readonly registry?: WorkerRegistry;
  /** Clock (default `Date.now`). */
  readonly now?: () => number;
  /** Operator log for rare events (default `console.log`). */
  readonly log?: (message: string) => void;
}

/** Connection counters for the status API. */
export interface StratumCounts {
  /** Open plain TCP connections. */
  readonly plain: number;
  /** Open TLS connections. */
  readonly tls: number;
  /** Open connections that are authorized. */
  readonly authorized: number;
  /** Connections accepted since start. */
  readonly acceptedTotal: number;
  /** Connections refused since start, by reason. */
  readonly refused: Readonly<Record<AdmissionRefusal, number>>;
  /** IPs banned since start for a reconnect loop (connections that ended without useful work). */
  readonly churnBans: number;
  /** Connections closed for sending more than `messagesPerMinute`. */
  readonly messageFloods: number;
  /** Connections closed because they opened with a TLS handshake on the plain port. */
  readonly tlsOnPlainPort: number;
}

/** Why the server closed a connection on its own, for the counters. */
type CloseCause = "flood" | "tls-on-plain";

/** Most bytes queued for a connection that does not read; past it the connection is dropped. */
const MAX_QUEUED_BYTES = 1 << 20;
/**
 * Read buffer per connection. Every idle connection pins one (a read is always pending), so it is
 * sized for the traffic, not for bursts: a submit is ~170 bytes, and a longer burst just takes a
 * few more reads (the framer joins split lines).
 */
const READ_BUFFER_BYTES = 512;
/** First byte of a TLS record carrying a handshake (a ClientHello sent to the plain port). */
const TLS_HANDSHAKE_RECORD = 0x16;

const encoder = new TextEncoder();

/** A queued line: text, or UTF-8 bytes shared with other connections (never modified). */
type Chunk = string | Uint8Array;

/** The queued chunks as one byte array (the common single-chunk case without a copy of bytes). */
function encodeChunks(chunks: readonly Chunk[]): Uint8Array {
  if (chunks.length === 1) {
    const only = chunks[0];
    return typeof only === "string" ? encoder.encode(only) : only;
  }
  let text = true;
  for (const c of chunks) if (typeof c !== "string") text = false;
  if (text) return encoder.encode(chunks.join(""));
  return concatBytes(...chunks.map((c) => typeof c === "string" ? encoder.encode(c) : c));
}

/**
 * Connections with queued lines, flushed together at the end of the current tick: one microtask
 * for a whole fan-out or a burst of replies, not one per connection.
 */
const pendingFlush: Connection[] = [];
let flushQueued = false;

function flushPending(): void {
  flushQueued = false;
  // Connections queued during this pass (a flush that fails closes and may write) go next tick.
  const batch = pendingFlush.splice(0);
  for (const c of batch) c.flushQueued();
}

/** One socket: the read loop, the batched writer, and its session. */
class Connection implements SessionTransport {
  readonly session: Session;
  readonly tls: boolean;
  readonly ip: string;
  readonly done: Promise<void>;
  readonly #conn: Deno.Conn;
  readonly #framer: LineFramer;
  /** Its shares in flight (back-pressure on the read side). */
  readonly shares: ConnectionShares;
  #queue: Chunk[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  #writing = false;
  #closing = false;
  #closed = false;
  readonly #onClosed: (c: Connection) => void;
  readonly #onCause: (cause: CloseCause) => void;
  readonly #messages: TokenBucket | undefined;
  readonly #now: () => number;

  constructor(
    conn: Deno.Conn,
    tls: boolean,
    ip: string,
    host: SessionHost,
    stats: WorkerStats,
    maxLineBytes: number,
    messagesPerMinute: number,
    onClosed: (c: Connection) => void,
    onCause: (cause: CloseCause) => void,
    shares: ConnectionShares,
  ) {
    this.#conn = conn;
    this.shares = shares;
    this.tls = tls;
    this.ip = ip;
    this.#framer = new LineFramer(maxLineBytes);
    this.#onClosed = onClosed;
    this.#onCause = onCause;
    this.#now = host.now;
    this.#messages = messagesPerMinute > 0 && Number.isFinite(messagesPerMinute)
      ? new TokenBucket(messagesPerMinute / 60, messagesPerMinute, host.now())
      : undefined;
    this.session = new Session(host, this, stats);
    this.done = this.#readLoop();
  }

  write(line: string): void {
    this.#enqueue(line, line.length);
  }

  writeBytes(line: Uint8Array): void {
    this.#enqueue(line, line.length);
  }

  #enqueue(chunk: Chunk, size: number): void {
    if (this.#closed || this.#closing) return;
    this.#queue.push(chunk);
    this.#queuedBytes += size;
    if (this.#queuedBytes > MAX_QUEUED_BYTES) {
      // The miner is not reading; holding more would let one socket eat memory.
      this.#queue.length = 0;
      this.#destroy();
      return;
    }
    this.#scheduleFlush();
  }

  close(): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    if (!this.#writing && this.#queue.length === 0) this.#destroy();
    else this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#writing) return;
    this.#flushScheduled = true;
    pendingFlush.push(this);
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flushPending);
    }
  }

  /** Starts writing what is queued (called by the shared end-of-tick flush). */
  flushQueued(): void {
    this.#flushScheduled = false;
    void this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#writing || this.#closed) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const bytes = encodeChunks(this.#queue);
        this.#queue.length = 0;
        this.#queuedBytes = 0;
        let offset = 0;
        while (offset < bytes.length) {
          offset += await this.#conn.write(offset === 0 ? bytes : bytes.subarray(offset));
        }
      }
    } catch {
      this.#destroy();
      return;
    } finally {
      this.#writing = false;
    }
    if (this.#closing) this.#destroy();
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_BUFFER_BYTES);
    const session = this.session;
    const messages = this.#messages;
    const onLine = (line: string) => {
      if (messages !== undefined && !messages.take(this.#now())) {
        // A flood: answering each line would let one socket cost the pool work per line.
        this.#onCause("flood");
        session.showMessage("Too many messages; disconnected");
        session.close();
        return false;
      }
      session.handleLine(line);
      return !this.#closing && !this.#closed;
    };
    let first = true;
    try {
      while (!this.#closing && !this.#closed) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        if (first && !this.tls && n > 0 && buffer[0] === TLS_HANDSHAKE_RECORD) {
          // A TLS miner on the plain port: no line will ever come; close now, not at idle timeout.
          this.#onCause("tls-on-plain");
          break;
        }
        first = false;
        if (this.#framer.push(buffer.subarray(0, n), onLine) === "oversize") {
          session.rejectOversizeLine(sniffId(this.#framer.oversizeHead));
          break;
        }
        // Too many of its (or the pool's) shares wait for a hash: read on once they are answered.
        if (this.shares.mustWait) await this.shares.drained();
      }
    } catch {
      // reset by peer, TLS handshake failure, or closed under us: all end the connection
    }
    session.close();
    if (!this.#writing && this.#queue.length === 0) this.#destroy();
    else this.close();
  }

  #destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.session.close();
    this.shares.close();
    this.#onClosed(this);
  }
}

/** A Stratum v1 server over plain TCP and/or TLS. */
export class StratumServer<J extends Job = Job> {
  /** Live worker registry (the status API reads it). */
  readonly registry: WorkerRegistry;
  /** Worker and payout-address bans. */
  readonly bans: BanList;
  /** Admission control of new connections (also holds the IP bans). */
  readonly admission: Admission;
  /** New job → every connection's `mining.notify` handed to its socket, seconds (`/metrics`). */
  readonly #fanout = new LatencyHistogram(FANOUT_BUCKETS);
  /** Shares in flight, pool-wide and per connection. */
  readonly shareGate: ShareGate;

  /** The options; the block sink lives in the session host, where `J` is checked once. */
  readonly #options: Omit<StratumServerOptions, "blocks">;
  readonly #host: SessionHost;
  readonly #now: () => number;
  readonly #connections = new Set<Connection>();
  readonly #listeners: Deno.Listener[] = [];
  readonly #acceptLoops: Promise<void>[] = [];
  readonly #extranonce1InUse = new Set<number>();
  readonly #resumable = new Map<
    string,
    { extranonce1: number; difficulty?: number; until: number }
  >();
  readonly #refused: Record<AdmissionRefusal, number> = {
    "capacity": 0,
    "ip-limit": 0,
    "rate-limit": 0,
    "banned": 0,
  };
  #nextExtranonce1 = 1;
  #nextConnectionId = 1;
  #messagesPerMinute: number;
  /** Vardiff options new sessions start with (the operator's overrides change them). */
  readonly #vardiff: Partial<VardiffOptions>;
  /** Operator difficulty floors by worker name. */
  readonly #floors = new Map<string, number>();
  #acceptedTotal = 0;
  #messageFloods = 0;
  #tlsOnPlainPort = 0;
  #plain = 0;
  #tls = 0;
  #port: number | undefined;
  #tlsPort: number | undefined;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: (() => void) | undefined;
  #running = false;

  /** A stopped server; call `start`. */
  constructor(options: StratumServerOptions<J>) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.registry = options.registry ?? new WorkerRegistry();
    this.bans = options.bans ?? new BanList();
    this.admission = new Admission(options.admission ?? {}, this.#now());
    this.#messagesPerMinute = options.messagesPerMinute ?? 0;
    this.shareGate = new ShareGate({
      maxInFlight: options.maxSharesInFlight,
      maxInFlightPerConnection: options.maxSharesInFlightPerConnection,
    });
    this.#vardiff = { ...(options.vardiff ?? {}) };
    const en2 = options.extranonce2Size ?? 4;
    if (!Number.isInteger(en2) || en2 < 1 || en2 > 8) {
      throw new RangeError(`extranonce2Size must be an integer in 1..8, got ${en2}`);
    }
    const config: SessionConfig = {
      extranonce2Size: en2,
      poolPassword: options.poolPassword,
      versionMask: (options.versionMask ?? 0x1fffe000) >>> 0,
      initialDifficulty: options.initialDifficulty ?? options.vardiff?.minDifficulty ?? 1,
      vardiff: this.#vardiff,
      invalidShares: options.invalidShares ?? {},
      clientBlacklist: options.clientBlacklist ?? [],
      initialWorkDelayMs: options.initialWorkDelayMs ?? 100,
      ntimeMaxForwardSec: options.ntimeMaxForwardSec ?? 7000,
      recentJobs: options.recentJobs ?? 16,
      serverVersion: options.serverVersion ?? "denopool/0.1.0",
      resolvePayout: options.resolvePayout,
    };
    const log = options.log ?? ((m: string) => console.log(`stratum: ${m}`));
    this.#host = {
      config,
      jobs: options.jobs,
      checker: options.checker,
      blocks: options.blocks,
      bans: this.bans,
      dedupe: new ShareDeduper({
        jobsPerSession: config.recentJobs,
        replayWindowMs: Math.min(
          options.extranonceResumeWindowMs ?? DEFAULT_REPLAY_WINDOW_MS,
          options.resumeWindowMs ?? 600_000,
        ),
      }),
      registry: this.registry,
      now: this.#now,
      log,
      difficultyFloor: (worker) => this.#floors.get(worker),
      allocateExtranonce1: (resumeId) => this.#allocateExtranonce1(resumeId),
      releaseExtranonce1: (en1, difficulty) => this.#releaseExtranonce1(en1, difficulty),
    };
  }

  /** The bound plain TCP port, once started. */
  get port(): number | undefined {
    return this.#port;
  }

  /** The bound TLS port, once started. */
  get tlsPort(): number | undefined {
    return this.#tlsPort;
  }

  /** Connection counters. */
  counts(): StratumCounts {
    let authorized = 0;
    for (const c of this.#connections) if (c.session.user !== undefined) authorized++;
    return {
      plain: this.#plain,
      tls: this.#tls,
      authorized,
      acceptedTotal: this.#acceptedTotal,
      refused: { ...this.#refused },
      churnBans: this.admission.churnBans,
      messageFloods: this.#messageFloods,
      tlsOnPlainPort: this.#tlsOnPlainPort,
    };
  }

  /**
   * Fan-out latency of every new job since start: from the job to the last connection's
   * `mining.notify` handed to its socket (seconds, cumulative buckets).
   */
  fanoutLatency(): HistogramSnapshot {
    return this.#fanout.snapshot();
  }

  /** Binds the listeners and starts accepting. */
  start(): void {
    if (this.#running) throw new Error("StratumServer already started");
    const o = this.#options;
    const hostname = o.hostname ?? "0.0.0.0";
    if (o.port === undefined && o.tls === undefined) {
      throw new Error("StratumServer needs a port, a TLS listener, or both");
    }
    try {
      if (o.port !== undefined) {
        const listener = Deno.listen({ hostname, port: o.port, transport: "tcp" });
        this.#listeners.push(listener);
        this.#port = (listener.addr as Deno.NetAddr).port;
        this.#acceptLoops.push(this.#acceptLoop(listener, false));
      }
      if (o.tls !== undefined) {
        const listener = Deno.listenTls({
          hostname: o.tls.hostname ?? hostname,
          port: o.tls.port,
          cert: o.tls.cert,
          key: o.tls.key,
        });
        this.#listeners.push(listener);
        this.#tlsPort = (listener.addr as Deno.NetAddr).port;
        this.#acceptLoops.push(this.#acceptLoop(listener, true));
      }
    } catch (error) {
      for (const l of this.#listeners) l.close();
      this.#listeners.length = 0;
      throw error;
    }
    this.#running = true;
    this.#unsubscribe = o.jobs.onJob((job) => {
      const started = performance.now();
      this.#host.dedupe.retain((id) => o.jobs.get(id) !== undefined);
      for (const c of this.#connections) c.session.onJob(job);
      if (this.#connections.size === 0) return;
      // The pass above queued the notifies and the shared end-of-tick flush; a microtask queued
      // now runs after that flush has handed every queued line to its socket.
      queueMicrotask(() => this.#fanout.observe((performance.now() - started) / 1000));
    });
    this.#sweepTimer = setInterval(() => this.#sweep(), o.sweepIntervalMs ?? 1000);
  }

  /**
   * Stops: closes the listeners, tells every miner `message` (`client.show_message`), then closes
   * every connection once its queued lines are written. Resolves when all are closed.
   */
  async stop(message = "Pool is shutting down; please reconnect later"): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const l of this.#listeners) {
      try {
        l.close();
      } catch {
        // already closed
      }
    }
    this.#listeners.length = 0;
    this.#unsubscribe?.();
    clearInterval(this.#sweepTimer);
    const pending: Promise<void>[] = [];
    for (const c of this.#connections) {
      c.write(encodeShowMessage(message));
      c.session.close();
      pending.push(c.done);
    }
    await Promise.allSettled([...pending, ...this.#acceptLoops]);
    this.#acceptLoops.length = 0;
  }

  /** Lines per minute a new connection may send (0 = no limit); open connections keep theirs. */
  get messagesPerMinute(): number {
    return this.#messagesPerMinute;
  }

  /** Operator: changes the per-connection message limit for connections accepted from now on. */
  setMessagesPerMinute(limit: number): void {
    if (!(limit >= 0)) throw new RangeError("messages per minute must be 0 or more");
    this.#messagesPerMinute = limit;
  }

  /**
   * Operator: the lowest difficulty of `worker`'s connections, now and later (`undefined` lifts
   * it). Returns how many live connections got it.
   */
  setDifficultyFloor(worker: string, difficulty: number | undefined): number {
    if (difficulty === undefined) this.#floors.delete(worker);
    else this.#floors.set(worker, difficulty);
    let n = 0;
    for (const c of this.#connections) {
      if (c.session.user !== worker) continue;
      c.session.setDifficultyFloor(difficulty);
      n++;
    }
    return n;
  }

  /** Operator: new vardiff aim and range for every connection, open and future. */
  retuneVardiff(
    patch: Partial<
      Pick<VardiffOptions, "targetSharesPerMinute" | "minDifficulty" | "maxDifficulty">
    >,
  ): void {
    Object.assign(this.#vardiff, patch);
    for (const c of this.#connections) c.session.retuneVardiff(patch);
  }

  /** Operator: tells connection `id` `message`, then closes it; false when there is none. */
  kick(id: string, message: string): boolean {
    return this.closeWhere((stats) => stats.connectionId === id, message) > 0;
  }

  /** Operator: `client.show_message` to connection `id`, or to every one; returns how many. */
  showMessage(id: string | undefined, text: string): number {
    let sent = 0;
    for (const c of this.#connections) {
      if (id !== undefined && c.session.stats.connectionId !== id) continue;
      c.session.showMessage(text);
      sent++;
    }
    return sent;
  }

  /**
   * Operator: tells every connection that `match` picks `message` and closes it (a new ban on
   * its worker, address or IP). Returns how many were closed.
   */
  closeWhere(match: (stats: WorkerStats, ip: string) => boolean, message: string): number {
    let closed = 0;
    for (const c of [...this.#connections]) {
      if (!match(c.session.stats, c.ip)) continue;
      c.write(encodeShowMessage(message));
      c.session.close();
      closed++;
    }
    return closed;
  }

  async #acceptLoop(listener: Deno.Listener, tls: boolean): Promise<void> {
    try {
      for await (const conn of listener) this.#accept(conn, tls);
    } catch {
      // listener closed by stop()
    }
  }

  #accept(conn: Deno.Conn, tls: boolean): void {
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    const now = this.#now();
    const verdict = this.admission.admit(ip, now);
    if (!verdict.admitted) {
      this.#refused[verdict.reason]++;
      try {
        conn.close();
      } catch {
        // gone already
      }
      return;
    }
    this.#acceptedTotal++;
    if (tls) this.#tls++;
    else this.#plain++;
    const tcp = conn as Partial<Deno.TcpConn>;
    if (typeof tcp.setNoDelay === "function") tcp.setNoDelay(true);
    const id = (this.#nextConnectionId++).toString(36);
    const stats = new WorkerStats(id, ip, tls, now);
    const connection = new Connection(
      conn,
      tls,
      ip,
      this.#host,
      stats,
      this.#options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      this.#messagesPerMinute,
      (c) => this.#closed(c),
      (cause) => {
        if (cause === "flood") this.#messageFloods++;
        else this.#tlsOnPlainPort++;
      },
      this.shareGate.connection(),
    );
    this.#connections.add(connection);
  }

  #closed(c: Connection): void {
    if (!this.#connections.delete(c)) return;
    if (c.tls) this.#tls--;
    else this.#plain--;
    const now = this.#now();
    const ban = this.admission.release(c.ip, now, {
      connectedAt: c.session.stats.connectedAt,
      authorized: c.session.user !== undefined,
      acceptedShares: c.session.stats.accepted,
    });
    if (ban !== undefined) {
      this.#host.log(
        `banned ${c.ip} for ${Math.round((ban.until - now) / 1000)} s: ${ban.reason}`,
      );
    }
  }

  #sweep(): void {
    const now = this.#now();
    const idle = this.#options.idleTimeoutMs ?? 600_000;
    for (const c of this.#connections) {
      if (now - c.session.lastActivity > idle) c.session.close();
      else c.session.tick(now);
    }
    for (const [id, r] of this.#resumable) {
      if (r.until > now) break; // insertion order = expiry order
      this.#resumable.delete(id);
    }
    this.#host.dedupe.prune(now);
    this.admission.prune(now);
  }

  #allocateExtranonce1(resumeId: string | undefined): { extranonce1: number; difficulty?: number } {
    if (resumeId !== undefined) {
      const now = this.#now();
      const r = this.#resumable.get(resumeId.toLowerCase());
      if (r !== undefined && r.until > now && !this.#extranonce1InUse.has(r.extranonce1)) {
        this.#resumable.delete(resumeId.toLowerCase());
        // The same extranonce1 only while the keys of its old shares are held (no replay).
        if (this.#host.dedupe.reclaim(r.extranonce1, now)) {
          this.#extranonce1InUse.add(r.extranonce1);
          return { extranonce1: r.extranonce1, difficulty: r.difficulty };
        }
        return { ...this.#freshExtranonce1(), difficulty: r.difficulty };
      }
    }
    return this.#freshExtranonce1();
  }

  #freshExtranonce1(): { extranonce1: number } {
    // Skip values in use and values held for a recent session that may come back.
    for (;;) {
      const en1 = this.#nextExtranonce1;
      this.#nextExtranonce1 = (this.#nextExtranonce1 + 1) >>> 0 || 1;
      if (this.#extranonce1InUse.has(en1)) continue;
      if (this.#resumable.has(en1.toString(16).padStart(8, "0"))) continue;
      this.#extranonce1InUse.add(en1);
      return { extranonce1: en1 };
    }
  }

  #releaseExtranonce1(extranonce1: number, difficulty: number | undefined): void {
    this.#extranonce1InUse.delete(extranonce1);
    this.#host.dedupe.release(extranonce1, this.#now());
    const id = extranonce1.toString(16).padStart(8, "0");
    this.#resumable.delete(id);
    this.#resumable.set(id, {
      extranonce1,
      difficulty,
      until: this.#now() + (this.#options.resumeWindowMs ?? 600_000),
    });
  }
}
