/**
 * One channel's outgoing queue: FIFO, one send at a time, at least `minIntervalMs` apart, at most
 * `maxQueued` waiting. {@linkcode NoticeQueue.enqueue} never waits: a full (or stopped) queue
 * drops the item and counts it. A send that fails with a retryable error
 * ({@linkcode DeliveryError}, e.g. HTTP 5xx or a network error) is tried again after an
 * exponential back-off (`backoffMs`, doubled each time, at most `maxBackoffMs`) up to
 * `maxAttempts`; any other failure, or the last attempt, gives the item up (counted in `failed`).
 * Every send has a timeout, so a channel that hangs holds only its own queue.
 *
 * With an outbox (the store's `noticeQueue`), every accepted item is written when it is queued and
 * deleted once delivered or given up; {@linkcode NoticeQueue.restore} loads what a previous run
 * left, so a restart loses nothing (a send cut short by the stop is sent again: at least once).
 *
 * @module
 */

/** A failed delivery, saying whether trying again may help. */
export class DeliveryError extends Error {
  /** True for transient failures (HTTP 5xx or 429, network errors, timeouts). */
  readonly retryable: boolean;
  /** Longest wait the far side asked for before the next try, ms (e.g. HTTP 429), if any. */
  readonly retryAfterMs: number | undefined;
  /** A failure with its reason. */
  constructor(message: string, retryable: boolean, retryAfterMs?: number) {
    super(message);
    this.name = "DeliveryError";
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

/** One queued item as kept in the outbox. */
export interface QueuedItem<P> {
  /** Sortable id (queue order). */
  readonly id: string;
  /** What the channel sends. */
  readonly payload: P;
  /** When it was queued (ms since the epoch). */
  readonly queuedAt: number;
}

/** Where queued items are kept across restarts (the store's `noticeQueue` fits). */
export interface Outbox {
  /** Stores one item. */
  put<T>(channel: string, id: string, item: T): Promise<void>;
  /** Deletes one item. */
  delete(channel: string, id: string): Promise<void>;
  /** Every item of a channel, oldest first. */
  list<T>(channel: string): Promise<T[]>;
}

/** Options of {@linkcode NoticeQueue}. */
export interface NoticeQueueOptions<P> {
  /** Channel name (the outbox key; in errors). */
  readonly channel: string;
  /** Sends one item; `signal` aborts at the timeout or at stop. */
  readonly send: (payload: P, signal: AbortSignal) => Promise<void>;
  /** The outbox; absent → the queue lives in memory only. */
  readonly outbox?: Outbox;
  /** Least time between two sends, ms (default 1 s). */
  readonly minIntervalMs?: number;
  /** Most items waiting (default 100). */
  readonly maxQueued?: number;
  /** Tries of one item, the first included (default 5). */
  readonly maxAttempts?: number;
  /** First back-off, ms (default 1 s); doubled each retry. */
  readonly backoffMs?: number;
  /** Longest back-off, ms (default 5 min). */
  readonly maxBackoffMs?: number;
  /** Timeout of one send, ms (default 10 s). */
  readonly timeoutMs?: number;
  /** Error sink: failed tries, given-up items, outbox failures (default: ignored). */
  readonly onError?: (error: unknown) => void;
  /** Clock, ms since the epoch (ids, `queuedAt`). */
  readonly now?: () => number;
  /** Sleep used for spacing and back-off (tests may record it). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** A sleep that ends early when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

let sequence = 0;

/** Rate-limited, bounded, optionally persisted FIFO in front of one channel. */
export class NoticeQueue<P> {
  readonly #o: Required<Omit<NoticeQueueOptions<P>, "outbox">> & { outbox?: Outbox };
  readonly #queue: QueuedItem<P>[] = [];
  readonly #persisted = new Map<string, Promise<unknown>>();
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #lastSend = Number.NEGATIVE_INFINITY;
  /** Items delivered. */
  sent = 0;
  /** Items refused because the queue was full or stopped. */
  dropped = 0;
  /** Items given up after their last try (or a failure that no retry helps). */
  failed = 0;
  /** Tries that failed and were tried again. */
  retried = 0;

  /** A queue in front of `send`. */
  constructor(options: NoticeQueueOptions<P>) {
    this.#o = {
      minIntervalMs: 1_000,
      maxQueued: 100,
      maxAttempts: 5,
      backoffMs: 1_000,
      maxBackoffMs: 300_000,
      timeoutMs: 10_000,
      onError: () => {},
      now: Date.now,
      sleep: abortableSleep,
      ...options,
    };
  }

  /** The channel name. */
  get channel(): string {
    return this.#o.channel;
  }

  /** Items waiting (not counting one being sent). */
  get size(): number {
    return this.#queue.length;
  }

  /** Queues an item; false when it was dropped (queue full or stopped). Never waits. */
  enqueue(payload: P): boolean {
    if (this.#stop.signal.aborted || this.#queue.length >= this.#o.maxQueued) {
      this.dropped++;
      return false;
    }
    const now = this.#o.now();
    const id = `${String(now).padStart(15, "0")}-${String(sequence++ % 1e9).padStart(9, "0")}`;
    const item: QueuedItem<P> = { id, payload, queuedAt: now };
    if (this.#o.outbox) {
      const write = this.#o.outbox.put(this.#o.channel, id, item).catch((e) => this.#o.onError(e));
      this.#persisted.set(id, write);
    }
    this.#queue.push(item);
    this.#kick();
    return true;
  }

  /**
   * Loads the items a previous run left in the outbox (oldest first) in front of anything queued
   * since (best called at start, before anything is queued); beyond `maxQueued` the oldest are kept and the rest deleted and counted as dropped.
   * Returns how many came back.
   */
  async restore(): Promise<number> {
    const outbox = this.#o.outbox;
    if (!outbox) return 0;
    // Items of this run are known (waiting, in flight, or being deleted): only older ones load.
    const known = new Set([...this.#queue.map((i) => i.id), ...this.#persisted.keys()]);
    const stored = (await outbox.list<QueuedItem<P>>(this.#o.channel)).filter((i) =>
      !known.has(i.id)
    );
    const room = Math.max(0, this.#o.maxQueued - this.#queue.length);
    const kept = stored.slice(0, room);
    for (const extra of stored.slice(room)) {
      this.dropped++;
      await outbox.delete(this.#o.channel, extra.id).catch((e) => this.#o.onError(e));
    }
    for (const item of kept) this.#persisted.set(item.id, Promise.resolve());
    this.#queue.unshift(...kept);
    if (kept.length > 0) this.#kick();
    return kept.length;
  }

  /** Resolves when everything queued so far has been sent or given up. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /**
   * Stops: refuses new items, aborts a send in flight and waits for the loop to end. Items not
   * delivered stay in the outbox for the next run; without an outbox they are counted as dropped.
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.idle();
    if (!this.#o.outbox) {
      this.dropped += this.#queue.length;
      this.#queue.length = 0;
    }
    await Promise.all(this.#persisted.values());
  }

  #kick(): void {
    this.#running ??= this.#drain().finally(() => this.#running = undefined);
  }

  async #drain(): Promise<void> {
    const stop = this.#stop.signal;
    while (this.#queue.length > 0 && !stop.aborted) {
      const wait = this.#lastSend + this.#o.minIntervalMs - Date.now();
      if (wait > 0) await this.#o.sleep(wait, stop);
      if (stop.aborted) break;
      const item = this.#queue.shift();
      if (!item) break;
      const delivered = await this.#deliver(item);
      if (delivered === "stopped") {
        this.#queue.unshift(item); // still in the outbox: the next run sends it
        break;
      }
      await this.#forget(item.id);
    }
  }

  /** Tries one item until it is sent, given up, or the queue stops. */
  async #deliver(item: QueuedItem<P>): Promise<"sent" | "failed" | "stopped"> {
    const stop = this.#stop.signal;
    for (let attempt = 1;; attempt++) {
      this.#lastSend = Date.now();
      const signal = AbortSignal.any([stop, AbortSignal.timeout(this.#o.timeoutMs)]);
      try {
        await raceAbort(this.#o.send(item.payload, signal), signal);
        this.sent++;
        return "sent";
      } catch (err) {
        if (stop.aborted) return "stopped";
        const retryable = !(err instanceof DeliveryError) || err.retryable;
        if (!retryable || attempt >= this.#o.maxAttempts) {
          this.failed++;
          this.#o.onError(
            new Error(`${this.#o.channel}: gave up after ${attempt} tries: ${message(err)}`),
          );
          return "failed";
        }
        this.retried++;
        this.#o.onError(new Error(`${this.#o.channel}: try ${attempt} failed: ${message(err)}`));
        const backoff = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** (attempt - 1));
        const asked = err instanceof DeliveryError ? err.retryAfterMs ?? 0 : 0;
        await this.#o.sleep(Math.min(this.#o.maxBackoffMs, Math.max(backoff, asked)), stop);
        if (stop.aborted) return "stopped";
      }
    }
  }

  async #forget(id: string): Promise<void> {
    const outbox = this.#o.outbox;
    if (!outbox) return;
    await this.#persisted.get(id);
    await outbox.delete(this.#o.channel, id).catch((e) => this.#o.onError(e));
    this.#persisted.delete(id);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `work`, or a rejection as soon as `signal` aborts (a send that ignores its signal still ends). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DeliveryError(`aborted: ${message(signal.reason)}`, true));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
