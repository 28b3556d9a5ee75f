/**
 * The Discord-only notifier: saved workers of Discord-linked users going offline and coming back,
 * and block notices, as Discord messages on a {@linkcode MessageQueue}. The state machine is
 * `lib/notify`'s {@linkcode WorkerWatch} (thresholds, first sight silent, state kept in the store)
 * looking at the users whose Discord link is switched on; the text is `format.ts`'s. All of one
 * user's changes in one pass go out as one message that pings only that user.
 *
 * The pool itself runs the watch over every channel through `lib/notify`'s hub, with Discord as
 * one channel among them (`channel.ts`); this class serves a Discord-only setup and tests.
 *
 * @module
 */

import type { Timers } from "../periodic.ts";
import { censorWorker } from "../status/censor.ts";
import type { FoundBlockRecord } from "../pool/mod.ts";
import { type DiscordLink, type DomainStores, workerNameHash } from "../store/mod.ts";
import { type WorkerChange, WorkerWatch } from "../notify/mod.ts";
import { discordBlockMessage, discordWorkerMessage } from "./format.ts";
import type { OutgoingMessage } from "./queue.ts";

export type { NotifyState } from "../notify/mod.ts";

/** One confirmed change (the watch's {@linkcode WorkerChange}). */
export type WorkerEvent = WorkerChange;

/** Options of {@linkcode WorkerNotifier}. */
export interface WorkerNotifierOptions {
  /** The store (links, saved workers, states). */
  readonly store: Pick<DomainStores, "discord" | "savedWorkers" | "notifyStates">;
  /** Hashes of the worker names online now. */
  readonly onlineHashes: () => ReadonlySet<string>;
  /** Where messages go (the rate-limited queue). */
  readonly enqueue: (message: OutgoingMessage) => void;
  /** Offline this long before "offline" is sent, ms. */
  readonly offlineAfterMs: number;
  /** Back this long before "back online" is sent, ms. */
  readonly onlineAfterMs: number;
  /** Link appended to notices (e.g. `https://pool.example/saved-workers`), if any. */
  readonly statusUrl?: string;
  /** Clock, ms since the epoch. */
  readonly now?: () => number;
  /** Error sink for failed passes (default: ignored). */
  readonly onError?: (error: unknown) => void;
  /** Timers of the passes (default: the global ones); tests pass a manual clock. */
  readonly timers?: Timers;
}

/** Watches saved workers of Discord-linked users and queues Discord messages. */
export class WorkerNotifier {
  readonly #o: WorkerNotifierOptions;
  readonly #watch: WorkerWatch;
  #links = new Map<string, DiscordLink>();

  /** A notifier; call {@linkcode start} or drive it with {@linkcode check}. */
  constructor(options: WorkerNotifierOptions) {
    this.#o = options;
    this.#watch = new WorkerWatch({
      store: options.store,
      users: async () => {
        this.#links = await options.store.discord.all();
        return [...this.#links].filter(([, l]) => l.enabled).map(([u]) => u);
      },
      onlineHashes: options.onlineHashes,
      publish: (event) => {
        if (event.type !== "workers.changed") return;
        const link = this.#links.get(event.userId);
        if (!link) return;
        this.#o.enqueue({
          content: discordWorkerMessage(link.discordUserId, event.changes, this.#o.statusUrl),
          mentionUserIds: [link.discordUserId],
        });
      },
      offlineAfterMs: options.offlineAfterMs,
      onlineAfterMs: options.onlineAfterMs,
      now: options.now,
      onError: options.onError,
      timers: options.timers,
    });
  }

  /**
   * Checks every `intervalMs`: the first pass an interval from now (not at boot, before the miners
   * are back), each next one an interval after the last one ended. Does nothing while running.
   */
  start(intervalMs: number): void {
    this.#watch.start(intervalMs);
  }

  /** Stops the passes and waits for a pass in progress (timed or called). */
  stop(): Promise<void> {
    return this.#watch.stop();
  }

  /**
   * One pass over every linked user; returns the changes it notified. A pass already running
   * (timed or called) is joined, so passes never overlap; rejects when the pass fails.
   */
  check(): Promise<WorkerEvent[]> {
    return this.#watch.check();
  }

  /**
   * Queues the block notice: everyone may read it, and every linked user (notifications on) who
   * saved the worker is pinged. Returns the pinged Discord user ids.
   */
  async notifyBlock(record: FoundBlockRecord): Promise<string[]> {
    const { store } = this.#o;
    const users = await store.savedWorkers.usersWhoSaved(workerNameHash(record.worker));
    const pings: string[] = [];
    for (const userId of users) {
      const link = await store.discord.get(userId);
      if (link?.enabled) pings.push(link.discordUserId);
    }
    const content = discordBlockMessage(
      { ...record, worker: censorWorker(record.worker) },
      pings,
      this.#o.statusUrl,
    );
    this.#o.enqueue({ content, mentionUserIds: pings });
    return pings;
  }
}
