/**
 * The template feed: keeps the pool supplied with fresh, checked block templates from the node.
 *
 * Sources, all funnelled into one serialized accept step: `getblocktemplate` longpoll (when the
 * node offers a `longpollid`), ZMQ `hashblock`/`rawblock` (forces a refresh at once), and a
 * periodic refresh as fallback. Unforced refreshes keep a minimum interval; forced ones bypass it.
 * Each template is checked (tip, height and time never going back, bits vs target, txids) and
 * emitted only when it changes something: `clean` for a new tip, not clean for new transactions.
 *
 * Empty-first work (with `network`): a new tip from ZMQ or a tip source is published at once as a
 * coinbase-only template for the next height (`empty_work.ts` holds the rules and when it skips),
 * and the full template follows as a non-clean update on the same tip. A generation guard (the
 * newest tip known and its height) throws away templates that build below it, whichever source
 * was slower, and counts them.
 *
 * @module
 */

import type { Network } from "../bitcoin/mod.ts";
import type { RpcCaller } from "./rpc.ts";
import type { ZmqBlockNotice, ZmqBlockSubscriber, ZmqHealth } from "./zmq.ts";
import { bitsDifficulty, type BlockTip } from "./block_tip.ts";
import {
  emptyTemplate,
  emptyWorkUnsupported,
  RecentHeaders,
  type TipHeader,
} from "./empty_work.ts";
import type { TipHint, TipSource } from "./tip_sources.ts";
import {
  type BlockTemplate,
  checkTemplate,
  parseTemplate,
  templateChange,
  TemplateError,
} from "./template.ts";

/** The part of the RPC client the feed needs (declared in `rpc.ts`; an `RpcClient` fits). */
export type { RpcCaller };

/** What caused a template fetch. */
export type RefreshReason =
  | "initial"
  | "longpoll"
  | "zmq"
  | "timer"
  | "retry"
  | "manual"
  | "tip-source";

/** A new template for the pool. */
export interface TemplateUpdate {
  /** The checked template. */
  readonly template: BlockTemplate;
  /** True on a new tip (prevhash, height or bits changed); miners must drop older work. */
  readonly clean: boolean;
  /** What brought it. */
  readonly reason: RefreshReason;
  /** When it was accepted (ms since the epoch). */
  readonly receivedAt: number;
  /** True for empty-first work: coinbase-only, made from the new tip's header before GBT. */
  readonly empty?: boolean;
  /** For empty-first work: the announcing source's `receivedAt` (ms since the epoch). */
  readonly announcedAt?: number;
}

/** How one source of new tips is doing, for the status API and `/metrics`. */
export interface TipSourceStatus {
  /** `zmq`, `longpoll`, `rpc` (template fetches on the timer, retries and requests) or a tip source's name. */
  readonly name: string;
  /** `node` for the pool's own node, `tip-source` for a configured other node. */
  readonly kind: "node" | "tip-source";
  /** Hints acted on before the node confirms them. */
  readonly trusted: boolean;
  /** True while reachable (the pool's RPC and longpoll sources report the feed's state). */
  readonly healthy: boolean;
  /** New tips it was the first to show. */
  readonly first: number;
  /** Tips it announced (first or not). */
  readonly announced: number;
  /** Hints the pool's node did not confirm as its tip. */
  readonly unconfirmed: number;
  /** When it last announced a tip (ms since the epoch). */
  readonly lastAt: number | undefined;
  /** Its latest error. */
  readonly lastError: string | undefined;
}

/** What the fast path did, for the status API and `/metrics`. */
export interface EmptyFirstStatus {
  /** Empty-first work is on (a network was given and it allows exact empty work). */
  readonly enabled: boolean;
  /** Why it is off, when off. */
  readonly disabledReason: string | undefined;
  /** Empty-first templates published. */
  readonly published: number;
  /** New tips where it skipped (a rule could not be checked exactly). */
  readonly skipped: number;
  /** Why it last skipped. */
  readonly lastSkip: string | undefined;
  /** New tips the full template reached first (no empty work needed). */
  readonly late: number;
}

/** One feed error for the status API. */
export interface FeedError {
  /** When it happened (ms since the epoch). */
  readonly at: number;
  /** What happened. */
  readonly message: string;
}

/** What the feed knows about the chain tip. */
export interface TipInfo {
  /** Tip block hash, RPC hex. */
  readonly hash: string;
  /** Tip height, when known. */
  readonly height: number | undefined;
  /** Tip header time (Unix seconds), when known. */
  readonly time: number | undefined;
  /** Tip compact target as 8 hex chars, when known. */
  readonly bits: string | undefined;
  /** Tip difficulty, when known. */
  readonly difficulty: number | undefined;
  /** Where the facts came from. */
  readonly source: "zmq" | "rpc" | "template";
}

/** Feed state as plain data for the status API. */
export interface TemplateFeedStatus {
  /** False while the pool must not hand out work. */
  readonly ready: boolean;
  /** Why not ready. */
  readonly notReadyReason: string | undefined;
  /** Last successful template fetch (changed or not), ms since the epoch. */
  readonly lastSuccessAt: number | undefined;
  /** Last emitted template, ms since the epoch. */
  readonly lastTemplateAt: number | undefined;
  /** Latest error message. */
  readonly lastError: string | undefined;
  /** When the latest error happened. */
  readonly lastErrorAt: number | undefined;
  /** Recent errors, oldest first (bounded). */
  readonly errorHistory: readonly FeedError[];
  /** The chain tip as far as the feed knows. */
  readonly tip: TipInfo | undefined;
  /** ZMQ health, when ZMQ is configured. */
  readonly zmq: ZmqHealth | undefined;
  /** The node's `initialblockdownload` at the last check. */
  readonly initialBlockDownload: boolean | undefined;
  /** Templates emitted so far (empty-first ones included). */
  readonly templates: number;
  /** Templates thrown away because they built below the newest known tip (a slower source). */
  readonly discarded: number;
  /** The fast path. */
  readonly emptyFirst: EmptyFirstStatus;
  /** Every source of new tips: the node's ZMQ, longpoll and RPC, then the configured tip sources. */
  readonly sources: readonly TipSourceStatus[];
}

/** How the feed talks to the node. */
export interface TemplateFeedOptions {
  /** The node's RPC client. */
  readonly rpc: RpcCaller;
  /** `rules` for `getblocktemplate` (the network's `gbtRules`: segwit, plus signet on signet). */
  readonly rules: readonly string[];
  /** ZMQ block notifications; the feed starts and closes it. */
  readonly zmq?: ZmqBlockSubscriber;
  /** Use GBT longpoll when the node offers it; default true. */
  readonly longpoll?: boolean;
  /** Fallback refresh (and IBD re-check) period in ms; default 30 s. */
  readonly refreshIntervalMs?: number;
  /** Minimum time between unforced refreshes in ms; default 100. */
  readonly minIntervalMs?: number;
  /** Not ready when the last successful fetch is older than this, in ms; default 5 min. */
  readonly staleAfterMs?: number;
  /** First delay after a failed longpoll in ms (doubles up to 20 s); default 1000. */
  readonly longpollRetryMs?: number;
  /** `getblockchaininfo.chain` the node must report (e.g. "main"); unchecked when absent. */
  readonly expectChain?: string;
  /** Errors kept in the history; default 20. */
  readonly errorHistorySize?: number;
  /** Wall clock in ms since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /** The network's consensus parameters; needed for empty-first work. */
  readonly network?: Network;
  /** Publish empty-first work on a new tip (default true when `network` is given). */
  readonly emptyFirst?: boolean;
  /** Other nodes that may announce new tips first; the feed starts and closes them. */
  readonly tipSources?: readonly TipSource[];
}

/** Called with each new template. */
export type TemplateListener = (update: TemplateUpdate) => void;
/** Called when `ready` flips. */
export type ReadyListener = (ready: boolean, reason: string | undefined) => void;

interface ChainInfo {
  chain?: string;
  blocks?: number;
  headers?: number;
  initialblockdownload?: boolean;
  bestblockhash?: string;
}

interface HeaderReply {
  readonly height: number;
  readonly time: number;
  readonly mediantime?: number;
  readonly bits: string | number;
  readonly previousblockhash?: string | null;
}

interface SourceCounters {
  first: number;
  announced: number;
  unconfirmed: number;
  lastAt: number | undefined;
}

/** How many recent tip hashes are remembered to tell which source showed a tip first. */
const SEEN_TIPS = 16;

/** Keeps fresh, checked block templates coming from the node. */
export class TemplateFeed {
  readonly #rpc: RpcCaller;
  readonly #rules: readonly string[];
  readonly #zmq: ZmqBlockSubscriber | undefined;
  readonly #longpoll: boolean;
  readonly #refreshIntervalMs: number;
  readonly #minIntervalMs: number;
  readonly #staleAfterMs: number;
  readonly #longpollRetryMs: number;
  readonly #expectChain: string | undefined;
  readonly #errorHistorySize: number;
  readonly #now: () => number;
  readonly #templateListeners = new Set<TemplateListener>();
  readonly #readyListeners = new Set<ReadyListener>();
  readonly #errors: FeedError[] = [];

  #running = false;
  #stopper = new AbortController();
  #timer: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #longpollLoop: Promise<void> | undefined;
  #fetching: Promise<void> | undefined;
  #again: RefreshReason | undefined;
  #acceptChain: Promise<unknown> = Promise.resolve();
  #wakeLongpoll: (() => void) | undefined;
  #unsubscribe: (() => void)[] = [];

  #current: TemplateUpdate | undefined;
  #latest: BlockTemplate | undefined;
  #verifiedTxs: ReadonlySet<string> = new Set();
  #knownTip: string | undefined;
  #tip: TipInfo | undefined;
  #lastFetchAt = -Infinity;
  #lastSuccessAt: number | undefined;
  #templates = 0;
  #syncing: string | undefined;
  #wrongChain: string | undefined;
  #ibd: boolean | undefined;
  #lastReady = false;

  // The generation guard: the newest tip any source showed, its height when known, and a counter
  // that moves whenever a push source (ZMQ, a tip source) sets it.
  #knownTipHeight: number | undefined;
  #tipGen = 0;
  #discarded = 0;
  readonly #network: Network | undefined;
  readonly #emptyFirstOff: string | undefined;
  readonly #headers = new RecentHeaders();
  #emptyPublished = 0;
  #emptySkipped = 0;
  #emptyLate = 0;
  #lastEmptySkip: string | undefined;
  readonly #tipSources: readonly TipSource[];
  readonly #counters = new Map<string, SourceCounters>();
  readonly #seenTips: string[] = [];

  /** Prepares the feed; {@linkcode start} begins fetching. */
  constructor(options: TemplateFeedOptions) {
    this.#rpc = options.rpc;
    this.#rules = options.rules;
    this.#zmq = options.zmq;
    this.#longpoll = options.longpoll ?? true;
    this.#refreshIntervalMs = options.refreshIntervalMs ?? 30_000;
    this.#minIntervalMs = options.minIntervalMs ?? 100;
    this.#staleAfterMs = options.staleAfterMs ?? 5 * 60_000;
    this.#longpollRetryMs = options.longpollRetryMs ?? 1_000;
    this.#expectChain = options.expectChain;
    this.#errorHistorySize = options.errorHistorySize ?? 20;
    this.#now = options.now ?? Date.now;
    this.#network = options.network;
    this.#emptyFirstOff = options.network === undefined
      ? "no network given"
      : options.emptyFirst === false
      ? "turned off (node.empty_first = false)"
      : emptyWorkUnsupported(options.network);
    this.#tipSources = options.tipSources ?? [];
    for (const name of ["zmq", "longpoll", "rpc", ...this.#tipSources.map((t) => t.name)]) {
      this.#counters.set(name, { first: 0, announced: 0, unconfirmed: 0, lastAt: undefined });
    }
  }

  /** The latest emitted update, if any. */
  current(): TemplateUpdate | undefined {
    return this.#current;
  }

  /** Calls `listener` for each new template; returns a function that removes it. */
  onTemplate(listener: TemplateListener): () => void {
    this.#templateListeners.add(listener);
    return () => this.#templateListeners.delete(listener);
  }

  /** Calls `listener` when `ready` flips; returns a function that removes it. */
  onReadyChange(listener: ReadyListener): () => void {
    this.#readyListeners.add(listener);
    return () => this.#readyListeners.delete(listener);
  }

  /** False while the pool must not hand out work. */
  get ready(): boolean {
    return this.notReadyReason === undefined;
  }

  /** Why the pool must not hand out work, in words for miners and operators. */
  get notReadyReason(): string | undefined {
    if (!this.#running) return "template feed is not running";
    if (this.#wrongChain) return this.#wrongChain;
    if (this.#syncing) return this.#syncing;
    const lastError = this.#errors.at(-1)?.message;
    if (!this.#current) {
      return "waiting for the first block template" + (lastError ? ` (${lastError})` : "");
    }
    const age = this.#now() - (this.#lastSuccessAt ?? 0);
    if (age > this.#staleAfterMs) {
      return `no fresh block template for ${Math.round(age / 1000)} s` +
        (lastError ? ` (${lastError})` : "");
    }
    return undefined;
  }

  /** Feed state for the status API. */
  status(): TemplateFeedStatus {
    const last = this.#errors.at(-1);
    return {
      ready: this.ready,
      notReadyReason: this.notReadyReason,
      lastSuccessAt: this.#lastSuccessAt,
      lastTemplateAt: this.#current?.receivedAt,
      lastError: last?.message,
      lastErrorAt: last?.at,
      errorHistory: [...this.#errors],
      tip: this.#tip,
      zmq: this.#zmq?.enabled ? this.#zmq.health : undefined,
      initialBlockDownload: this.#ibd,
      templates: this.#templates,
      discarded: this.#discarded,
      emptyFirst: {
        enabled: this.#emptyFirstOff === undefined,
        disabledReason: this.#emptyFirstOff,
        published: this.#emptyPublished,
        skipped: this.#emptySkipped,
        lastSkip: this.#lastEmptySkip,
        late: this.#emptyLate,
      },
      sources: this.#sourceStatus(),
    };
  }

  #sourceStatus(): TipSourceStatus[] {
    const out: TipSourceStatus[] = [];
    const rpcHealthy = this.#errors.length === 0 ||
      (this.#lastSuccessAt ?? 0) >= this.#errors[this.#errors.length - 1].at;
    const node = (name: string, healthy: boolean): TipSourceStatus => ({
      name,
      kind: "node",
      trusted: true,
      healthy,
      ...this.#counters.get(name)!,
      lastError: undefined,
    });
    if (this.#zmq?.enabled) out.push(node("zmq", this.#zmq.health.zmqHealthy));
    if (this.#longpoll) out.push(node("longpoll", rpcHealthy));
    out.push(node("rpc", rpcHealthy));
    for (const source of this.#tipSources) {
      const health = source.health();
      out.push({
        name: source.name,
        kind: "tip-source",
        trusted: source.trusted,
        healthy: health.healthy,
        ...this.#counters.get(source.name)!,
        lastError: health.lastError,
      });
    }
    return out;
  }

  /**
   * Starts the feed: checks the node, fetches the first template, then runs longpoll, ZMQ and
   * the periodic refresh. Resolves after the first attempt even when the node is down (the feed
   * keeps trying and is not ready meanwhile).
   */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#stopper = new AbortController();
    if (this.#zmq) {
      this.#unsubscribe.push(
        this.#zmq.onBlock((notice) => this.#onZmqBlock(notice)),
        this.#zmq.onHealthChange((health) => {
          if (health.zmqHealthy) void this.refresh("zmq");
        }),
      );
      this.#zmq.start();
    }
    for (const source of this.#tipSources) source.start((hint) => this.#onHint(source, hint));
    await this.#checkNode();
    await this.refresh("initial");
    this.#timer = setInterval(() => void this.#tick(), this.#refreshIntervalMs);
    if (this.#longpoll) this.#longpollLoop = this.#runLongpoll();
    this.#checkReady();
  }

  /** Stops every timer, loop and socket and waits for fetches in flight to end. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stopper.abort();
    clearInterval(this.#timer);
    clearTimeout(this.#retryTimer);
    this.#wakeLongpoll?.();
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    const zmqClosed = this.#zmq?.close();
    const sourcesClosed = this.#tipSources.map((source) => source.close());
    await Promise.allSettled([
      this.#longpollLoop,
      this.#fetching,
      this.#acceptChain,
      zmqClosed,
      ...sourcesClosed,
    ]);
    this.#checkReady();
  }

  /**
   * Fetches a template now. `force` (the default) bypasses the minimum interval; a refresh asked
   * for while one runs is coalesced into one more fetch after it. Never rejects.
   */
  refresh(reason: RefreshReason = "manual", force = true): Promise<void> {
    if (!this.#running) return Promise.resolve();
    if (!force && this.#now() - this.#lastFetchAt < this.#minIntervalMs) return Promise.resolve();
    if (this.#fetching) {
      this.#again ??= reason;
      return this.#fetching;
    }
    const run = async () => {
      let next: RefreshReason | undefined = reason;
      while (next && this.#running) {
        this.#again = undefined;
        await this.#fetchOnce(next);
        next = this.#again;
      }
    };
    this.#fetching = run().finally(() => (this.#fetching = undefined));
    return this.#fetching;
  }

  /**
   * The node accepted a block of the pool's own (`hash` at `height`): the tip moved, whatever a
   * fetch in flight will say. Templates below it are thrown away from now on, empty-first work on
   * it goes out after one `getblockheader`, and a fresh template is fetched.
   */
  ownBlockAccepted(hash: string, height: number): void {
    if (!this.#running || hash === this.#knownTip) return;
    this.#setKnownTip(hash, height);
    this.#noteTip(hash, "rpc");
    void this.#emptyFirst(hash, undefined, undefined, this.#now(), "manual");
    void this.refresh("manual");
  }

  async #fetchOnce(reason: RefreshReason): Promise<void> {
    this.#lastFetchAt = this.#now();
    try {
      const raw = await this.#rpc.call("getblocktemplate", [{ rules: this.#rules }], {
        signal: this.#stopper.signal,
      });
      await this.#serialAccept(raw, reason);
    } catch (err) {
      this.#recordError(err);
    }
  }

  async #runLongpoll(): Promise<void> {
    let delay = this.#longpollRetryMs;
    while (this.#running) {
      const longpollid = this.#latest?.longpollid;
      if (longpollid === undefined) {
        // No template yet, or a node without longpoll: wait for the next template to arrive.
        await new Promise<void>((resolve) => (this.#wakeLongpoll = resolve));
        continue;
      }
      try {
        const raw = await this.#rpc.call(
          "getblocktemplate",
          [{ rules: this.#rules, longpollid }],
          { longpoll: true, retries: 0, signal: this.#stopper.signal },
        );
        if (!this.#running) return;
        await this.#serialAccept(raw, "longpoll");
        delay = this.#longpollRetryMs;
        // A node that answers at once with the same id would spin us: pace it.
        if (this.#latest?.longpollid === longpollid) await this.#sleep(this.#minIntervalMs);
      } catch (err) {
        if (!this.#running) return;
        this.#recordError(err);
        await this.#sleep(delay);
        delay = Math.min(delay * 2, 20_000);
      }
    }
  }

  #serialAccept(raw: unknown, reason: RefreshReason): Promise<void> {
    const next = this.#acceptChain.then(() => this.#accept(raw, reason));
    this.#acceptChain = next.catch(() => {});
    return next;
  }

  async #accept(raw: unknown, reason: RefreshReason): Promise<void> {
    const template = parseTemplate(raw);
    if (this.#isBehind(template)) return this.#discard();
    const previous = this.#latest;
    const wentBack = previous !== undefined && template.height < previous.height;
    await this.#confirmTip(template.previousblockhash, template.height, wentBack);
    // A push source may have shown a newer tip while the node was asked.
    if (this.#isBehind(template) || template.previousblockhash !== this.#knownTip) {
      return this.#discard();
    }
    if (
      previous && !wentBack && template.previousblockhash === previous.previousblockhash &&
      template.curtime < previous.curtime
    ) {
      throw new TemplateError(`curtime went back from ${previous.curtime} to ${template.curtime}`);
    }
    this.#verifiedTxs = checkTemplate(template, this.#verifiedTxs);

    this.#latest = template;
    this.#lastSuccessAt = this.#now();
    this.#wakeLongpoll?.();
    this.#wakeLongpoll = undefined;
    const change = templateChange(this.#current?.template, template);
    if (change === "tip") this.#learnTip(template);
    if (
      change === "tip" && this.#current?.template.previousblockhash !== template.previousblockhash
    ) {
      this.#noteTip(template.previousblockhash, reason === "longpoll" ? "longpoll" : "rpc");
    }
    if (change !== "none") {
      const update: TemplateUpdate = {
        template,
        clean: change === "tip",
        reason,
        receivedAt: this.#lastSuccessAt,
      };
      this.#current = update;
      this.#templates++;
      for (const listener of this.#templateListeners) guard(() => listener(update));
    }
    this.#checkReady();
  }

  /**
   * Makes sure `prevhash` is the node's tip. Free when ZMQ or an earlier check already told us;
   * otherwise one `getbestblockhash`. When the height went back (a reorg to a shorter chain, or a
   * confused node) the tip is asked afresh and its header must sit right below `height`.
   */
  async #confirmTip(prevhash: string, height: number, wentBack: boolean): Promise<void> {
    if (!wentBack && prevhash === this.#knownTip) return;
    const signal = this.#stopper.signal;
    const gen = this.#tipGen;
    const best = await this.#rpc.call<string>("getbestblockhash", [], { signal });
    // A push source that spoke meanwhile knows a newer tip than this answer.
    if (gen !== this.#tipGen) return;
    this.#knownTip = best;
    this.#knownTipHeight = best === prevhash ? height - 1 : undefined;
    if (best !== prevhash) {
      this.#scheduleRetry();
      throw new TemplateError(`stale: builds on ${prevhash}, node tip is ${best}`);
    }
    if (wentBack) {
      const header = await this.#rpc.call<{ height: number }>("getblockheader", [best, true], {
        signal,
      });
      if (header.height + 1 !== height) {
        this.#scheduleRetry();
        throw new TemplateError(
          `stale: height ${height} went back and the tip is at ${header.height}`,
        );
      }
    }
  }

  #learnTip(template: BlockTemplate): void {
    const hash = template.previousblockhash;
    if (this.#tip?.hash === hash) return;
    this.#tip = {
      hash,
      height: template.height - 1,
      time: undefined,
      bits: undefined,
      difficulty: undefined,
      source: "template",
    };
    // Time and bits of the tip cost one header lookup per block (not per template).
    this.#rpc.call<{ time: number; bits: string | number }>("getblockheader", [hash, true], {
      signal: this.#stopper.signal,
      retries: 1,
    }).then((header) => {
      this.#cacheHeader(hash, header as HeaderReply);
      if (this.#tip?.hash !== hash || this.#tip.source !== "template") return;
      // Core reports bits as hex; bcoin as a number.
      const bits = typeof header.bits === "number" ? header.bits : parseInt(header.bits, 16);
      if (!Number.isInteger(bits) || typeof header.time !== "number") return;
      this.#tip = {
        ...this.#tip,
        time: header.time,
        bits: bits.toString(16).padStart(8, "0"),
        difficulty: bitsDifficulty(bits),
        source: "rpc",
      };
    }).catch(() => {});
  }

  #onZmqBlock(notice: ZmqBlockNotice): void {
    const counters = this.#counters.get("zmq")!;
    counters.announced++;
    counters.lastAt = notice.receivedAt;
    if (notice.hash !== this.#knownTip) {
      this.#setKnownTip(notice.hash, notice.tip?.height);
      if (notice.tip) {
        const { hash, height, time, bitsHex, difficulty } = notice.tip;
        this.#tip = { hash, height, time, bits: bitsHex, difficulty, source: "zmq" };
      }
      this.#noteTip(notice.hash, "zmq");
      void this.#emptyFirst(notice.hash, notice.tip, undefined, notice.receivedAt, "zmq");
    }
    void this.refresh("zmq");
  }

  /** A tip source announced `hint`: act on it once the node confirms it (at once when trusted). */
  async #onHint(source: TipSource, hint: TipHint): Promise<void> {
    if (!this.#running) return;
    const counters = this.#counters.get(source.name)!;
    counters.announced++;
    counters.lastAt = hint.receivedAt;
    if (hint.hash === this.#knownTip || this.#seenTips.includes(hint.hash)) return;
    if (source.trusted && hint.tip !== undefined) {
      this.#setKnownTip(hint.hash, hint.tip.height);
      this.#noteTip(hint.hash, source.name);
      await this.#emptyFirst(
        hint.hash,
        hint.tip,
        hint.medianTimePast,
        hint.receivedAt,
        "tip-source",
      );
      return;
    }
    // Untrusted: the node must show the block as its tip; its header then comes from the node.
    const gen = this.#tipGen;
    let best: string;
    try {
      best = await this.#rpc.call<string>("getbestblockhash", [], {
        signal: this.#stopper.signal,
        retries: 0,
      });
    } catch {
      counters.unconfirmed++;
      return;
    }
    if (best !== hint.hash) {
      counters.unconfirmed++;
      return;
    }
    if (gen !== this.#tipGen || hint.hash === this.#knownTip) return;
    this.#setKnownTip(hint.hash, undefined);
    this.#noteTip(hint.hash, source.name);
    void this.#emptyFirst(hint.hash, undefined, undefined, hint.receivedAt, "tip-source");
    void this.refresh("tip-source");
  }

  #setKnownTip(hash: string, height: number | undefined): void {
    this.#knownTip = hash;
    this.#knownTipHeight = height;
    this.#tipGen++;
  }

  /** Counts `source` as first to show `hash` unless another source already did. */
  #noteTip(hash: string, source: string): void {
    if (this.#seenTips.includes(hash)) return;
    this.#seenTips.push(hash);
    if (this.#seenTips.length > SEEN_TIPS) this.#seenTips.shift();
    const counters = this.#counters.get(source);
    if (counters) counters.first++;
  }

  /** True when `template` builds below the newest tip known (a slower source's answer). */
  #isBehind(template: BlockTemplate): boolean {
    return this.#knownTipHeight !== undefined && template.height <= this.#knownTipHeight;
  }

  #discard(): void {
    this.#discarded++;
  }

  /**
   * Empty-first work for the new tip `hash`: from its raw header and the cached header times when
   * they suffice, otherwise from one `getblockheader`. Skips (and says why) whenever a rule cannot
   * be checked exactly; does nothing once full work on the tip is out or a newer tip is known.
   */
  async #emptyFirst(
    hash: string,
    raw: BlockTip | undefined,
    mtpHint: number | undefined,
    announcedAt: number,
    reason: RefreshReason,
  ): Promise<void> {
    if (this.#emptyFirstOff !== undefined || !this.#running) return;
    const onIt = () => this.#current?.template.previousblockhash === hash;
    const superseded = () => this.#knownTip !== hash || !this.#running;
    if (onIt()) {
      this.#emptyLate++;
      return;
    }
    let header: TipHeader | undefined = raw === undefined ? undefined : {
      hash,
      prevhash: raw.prevhash,
      height: raw.height,
      time: raw.time,
      bits: raw.bits,
    };
    let mtp = mtpHint ?? (header ? this.#headers.medianTimePastOf(header) : undefined);
    if (header === undefined || mtp === undefined) {
      try {
        const reply = await this.#rpc.call<HeaderReply>("getblockheader", [hash, true], {
          signal: this.#stopper.signal,
          retries: 0,
        });
        header = {
          hash,
          prevhash: reply.previousblockhash ?? "",
          height: reply.height,
          time: reply.time,
          bits: typeof reply.bits === "number" ? reply.bits : parseInt(reply.bits, 16),
        };
        mtp = reply.mediantime;
        if (this.#knownTip === hash && this.#knownTipHeight === undefined) {
          this.#knownTipHeight = reply.height;
        }
      } catch (error) {
        return this.#skipEmpty(`the new tip's header: ${(error as Error).message}`);
      }
      if (superseded()) return;
      if (onIt()) {
        this.#emptyLate++;
        return;
      }
    }
    if (superseded()) return;
    // The newest work out: the last full template, or empty work when tips came faster than GBT.
    const base = this.#current?.template ?? this.#latest;
    if (base === undefined) return this.#skipEmpty("no template yet");
    if (mtp === undefined) return this.#skipEmpty("the node did not give the median time past");
    const work = emptyTemplate({
      network: this.#network!,
      base,
      tip: header,
      medianTimePast: mtp,
      now: this.#now() / 1000,
    });
    if (header.height !== undefined) {
      this.#headers.extend({
        hash,
        prevhash: header.prevhash,
        height: header.height,
        time: header.time,
      });
    }
    if ("skip" in work) return this.#skipEmpty(work.skip);
    const update: TemplateUpdate = {
      template: work.template,
      clean: true,
      reason,
      receivedAt: this.#now(),
      empty: true,
      announcedAt,
    };
    this.#current = update;
    this.#templates++;
    this.#emptyPublished++;
    for (const listener of this.#templateListeners) guard(() => listener(update));
  }

  #skipEmpty(reason: string): void {
    this.#emptySkipped++;
    this.#lastEmptySkip = reason;
  }

  /** Adds the node's header of `hash` to the cached times; reloads them when they do not join. */
  #cacheHeader(hash: string, header: HeaderReply): void {
    if (this.#emptyFirstOff !== undefined || typeof header.time !== "number") return;
    const entry = {
      hash,
      prevhash: header.previousblockhash ?? "",
      height: header.height,
      time: header.time,
    };
    if (this.#headers.extend(entry)) return;
    void this.#loadHeaders(entry);
  }

  /** Reloads the cached header times: `tip` and up to 10 parents, one `getblockheader` each. */
  async #loadHeaders(tip: { hash: string; prevhash: string; height: number; time: number }) {
    const run = [tip];
    try {
      while (run.length < 11 && run[0].height > 0) {
        const parent = run[0].prevhash;
        const h = await this.#rpc.call<HeaderReply>("getblockheader", [parent, true], {
          signal: this.#stopper.signal,
          retries: 1,
        });
        run.unshift({
          hash: parent,
          prevhash: h.previousblockhash ?? "",
          height: h.height,
          time: h.time,
        });
      }
      if (this.#headers.tipHash === undefined || this.#headers.size < run.length) {
        this.#headers.reset(run);
      }
    } catch {
      // The fast path falls back to one getblockheader per tip until the next reload.
    }
  }

  async #checkNode(): Promise<void> {
    const gen = this.#tipGen;
    try {
      const info = await this.#rpc.call<ChainInfo>("getblockchaininfo", [], {
        signal: this.#stopper.signal,
      });
      this.#ibd = info.initialblockdownload === true;
      // The node's own word resets the generation guard (a source that claimed a tip the node
      // never took cannot hold templates back for longer than one period).
      if (info.bestblockhash !== undefined && gen === this.#tipGen) {
        this.#knownTip = info.bestblockhash;
        this.#knownTipHeight = info.blocks;
      }
      const blocks = info.blocks ?? 0;
      const headers = info.headers ?? blocks;
      this.#syncing = this.#ibd || headers - blocks > 2
        ? `node is syncing (block ${blocks} of ${headers})`
        : undefined;
      this.#wrongChain = this.#expectChain !== undefined && info.chain !== this.#expectChain
        ? `node is on chain "${info.chain}", the pool expects "${this.#expectChain}"`
        : undefined;
    } catch (err) {
      this.#recordError(err);
    }
  }

  async #tick(): Promise<void> {
    await this.#checkNode();
    await this.refresh("timer", false);
    this.#checkReady();
  }

  #scheduleRetry(): void {
    if (this.#retryTimer !== undefined || !this.#running) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.refresh("retry");
    }, Math.max(this.#minIntervalMs, 250));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const signal = this.#stopper.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done);
    });
  }

  #recordError(err: unknown): void {
    if (!this.#running) return;
    const message = err instanceof Error ? err.message : String(err);
    this.#errors.push({ at: this.#now(), message });
    if (this.#errors.length > this.#errorHistorySize) this.#errors.shift();
    this.#checkReady();
  }

  #checkReady(): void {
    const reason = this.notReadyReason;
    const ready = reason === undefined;
    if (ready === this.#lastReady) return;
    this.#lastReady = ready;
    for (const listener of this.#readyListeners) guard(() => listener(ready, reason));
  }
}

function guard(fn: () => void): void {
  try {
    fn();
  } catch {
    // A listener's fault must not stop the feed.
  }
}
