/**
 * The hub: one queue per channel, and the fan-out of events to them. {@linkcode NotifyHub.publish}
 * never waits and never throws: it turns the event into notices (`events.ts`), asks each channel
 * apart what to send for each, and queues that on the channel's own queue (`queue.ts`, persisted
 * in the store's outbox). A channel that fails, is slow or hangs fills and then drops from its
 * own queue only; the pool and the other channels go on.
 *
 * @example
 * ```ts
 * import { NotifyHub, NtfyChannel } from "./mod.ts";
 * import { openStore } from "../store/mod.ts";
 *
 * const store = await openStore(":memory:");
 * const hub = new NotifyHub({ store });
 * hub.add(new NtfyChannel({ topicUrl: "https://ntfy.example/pool", store }), { minIntervalMs: 1000 });
 * await hub.restore(); // notices a previous run left queued
 * hub.publish({ type: "node.up", since: Date.now() - 60_000, at: Date.now() });
 * await hub.stop(); // what is still queued stays in the store for the next start
 * store.close();
 * ```
 *
 * @module
 */

import { censorWorker } from "../status/censor.ts";
import { type DomainStores, workerNameHash } from "../store/mod.ts";
import type { NotifyChannel } from "./channel.ts";
import { type NoticeOptions, noticesFor, type NotifyEvent } from "./events.ts";
import { NoticeQueue, type NoticeQueueOptions } from "./queue.ts";

/** A channel's queue settings (everything but what the hub fills in). */
export type QueueTuning = Omit<NoticeQueueOptions<unknown>, "channel" | "send" | "outbox">;

/** Options of {@linkcode NotifyHub}. */
export interface NotifyHubOptions {
  /** The store: who saved a block's worker, and the outbox of the queues. */
  readonly store: Pick<DomainStores, "savedWorkers" | "noticeQueue">;
  /** Link and brand of the notices. */
  readonly notices?: NoticeOptions;
  /** Error sink (default: ignored). */
  readonly onError?: (error: unknown) => void;
  /** Keep queues in memory only (no outbox). */
  readonly memoryOnly?: boolean;
}

/** One channel's counters. */
export interface ChannelStats {
  /** Channel name. */
  readonly channel: string;
  /** Delivered. */
  readonly sent: number;
  /** Refused, the queue being full. */
  readonly dropped: number;
  /** Given up after the last try. */
  readonly failed: number;
  /** Tries that failed and were tried again. */
  readonly retried: number;
  /** Waiting now. */
  readonly waiting: number;
}

/** A found block as the hub needs it (a `FoundBlockRecord` fits). */
export interface FoundBlock {
  /** Height. */
  readonly height: number;
  /** Hash, RPC hex. */
  readonly hash: string;
  /** Full worker name (censored before it goes anywhere). */
  readonly worker: string;
  /** When it was found (ms since the epoch). */
  readonly foundAt: number;
}

interface Lane {
  readonly channel: NotifyChannel<unknown>;
  readonly queue: NoticeQueue<unknown>;
}

/** Fans events out to every channel, each behind its own queue. */
export class NotifyHub {
  readonly #o: NotifyHubOptions;
  readonly #lanes: Lane[] = [];
  readonly #pending = new Set<Promise<void>>();
  #stopped = false;

  /** A hub with no channel yet ({@linkcode add} them). */
  constructor(options: NotifyHubOptions) {
    this.#o = options;
  }

  /** Adds a channel with its own queue; returns the queue. */
  add<P>(channel: NotifyChannel<P>, tuning: QueueTuning = {}): NoticeQueue<P> {
    if (this.#lanes.some((l) => l.channel.name === channel.name)) {
      throw new Error(`notify: a channel named ${channel.name} is there already`);
    }
    const queue = new NoticeQueue<P>({
      ...tuning,
      channel: channel.name,
      send: (p, signal) => channel.send(p, signal),
      outbox: this.#o.memoryOnly ? undefined : this.#o.store.noticeQueue,
      onError: (e) => this.#error(e),
    });
    this.#lanes.push({
      channel: channel as NotifyChannel<unknown>,
      queue: queue as NoticeQueue<unknown>,
    });
    return queue;
  }

  /** The channels' names, in the order added. */
  get channels(): string[] {
    return this.#lanes.map((l) => l.channel.name);
  }

  /** The queue of a channel, by name. */
  queue(name: string): NoticeQueue<unknown> | undefined {
    return this.#lanes.find((l) => l.channel.name === name)?.queue;
  }

  /** Loads what a previous run left queued, channel by channel; returns how many came back. */
  async restore(): Promise<number> {
    let n = 0;
    for (const lane of this.#lanes) {
      n += await lane.queue.restore().catch((e) => {
        this.#error(e);
        return 0;
      });
    }
    return n;
  }

  /** Users with a target on any channel (whose saved workers are watched). */
  async users(): Promise<Set<string>> {
    const out = new Set<string>();
    const lists = await Promise.allSettled(this.#lanes.map((l) => l.channel.users()));
    for (const r of lists) {
      if (r.status === "fulfilled") { for (const u of r.value) out.add(u); }
      else this.#error(r.reason);
    }
    return out;
  }

  /** Queues the notices of `event` on every channel. Never waits, never throws. */
  publish(event: NotifyEvent): void {
    if (this.#stopped) return;
    const notices = noticesFor(event, this.#o.notices);
    for (const lane of this.#lanes) {
      this.#track(
        (async () => {
          for (const notice of notices) {
            for (const payload of await lane.channel.prepare(notice)) lane.queue.enqueue(payload);
          }
        })().catch((e) => this.#error(new Error(`${lane.channel.name}: ${message(e)}`))),
      );
    }
  }

  /** Publishes a found block: to the pool, and to each user who saved its worker. */
  blockFound(block: FoundBlock): void {
    if (this.#stopped) return;
    const workerHash = workerNameHash(block.worker);
    this.#track(
      this.#o.store.savedWorkers.usersWhoSaved(workerHash).then((owners) =>
        this.publish({
          type: "block.found",
          height: block.height,
          hash: block.hash,
          worker: censorWorker(block.worker),
          workerHash,
          at: block.foundAt,
          owners,
        })
      ).catch((e) => this.#error(e)),
    );
  }

  /** Resolves once every event published so far is queued (or failed to be). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Resolves once every queue is empty (everything sent or given up). */
  async idle(): Promise<void> {
    await this.settled();
    await Promise.all(this.#lanes.map((l) => l.queue.idle()));
  }

  /** Each channel's counters. */
  stats(): ChannelStats[] {
    return this.#lanes.map(({ channel, queue }) => ({
      channel: channel.name,
      sent: queue.sent,
      dropped: queue.dropped,
      failed: queue.failed,
      retried: queue.retried,
      waiting: queue.size,
    }));
  }

  /** Stops: queues what is being prepared, then stops every queue (undelivered stays stored). */
  async stop(): Promise<void> {
    await this.settled();
    this.#stopped = true;
    await Promise.all(this.#lanes.map((l) => l.queue.stop()));
  }

  #track(p: Promise<void>): void {
    const tracked = p.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  #error(e: unknown): void {
    this.#o.onError?.(e);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
