/**
 * Saved-worker notifications: a worker went offline, came back, found a block.
 *
 * Each (user, saved worker) pair has a confirmed state (online/offline) and the state last observed
 * with the time it was first observed. A change is confirmed, and notified, only after it has held
 * for the threshold (`offlineAfterMs` going offline, `onlineAfterMs` coming back), so a quick
 * reconnect is silent. A pair seen for the first time takes the observed state without a notice
 * (no flood at boot or right after saving). The state is kept in the store, so a restart neither
 * forgets a pending change nor repeats a notice. Only users with a Discord link that is switched on
 * and workers with notifications on are checked; all of one user's changes in one pass go out as
 * one message that pings only that user. The passes run on {@linkcode Periodic}
 * (`lib/periodic.ts`): the first an interval after `start`, each next one an interval after the
 * last one ended.
 *
 * @module
 */

import { Periodic, type Timers } from "../periodic.ts";
import { censorHash, censorWorker } from "../status/censor.ts";
import type { FoundBlockRecord } from "../pool/mod.ts";
import { type DomainStores, workerNameHash } from "../store/mod.ts";
import type { OutgoingMessage } from "./queue.ts";

/** The notifier's memory of one saved worker of one user (stored). */
export interface NotifyState {
  /** Confirmed state (the last one notified or taken at first sight). */
  readonly state: "online" | "offline";
  /** State last observed. */
  readonly observed: "online" | "offline";
  /** When `observed` was first seen (ms since the epoch). */
  readonly observedSince: number;
}

/** One confirmed change. */
export interface WorkerEvent {
  /** Pool user. */
  readonly userId: string;
  /** Saved worker hash. */
  readonly hash: string;
  /** Censored display name. */
  readonly name: string;
  /** The new state. */
  readonly state: "online" | "offline";
  /** When the change was first observed. */
  readonly since: number;
}

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

/** Watches saved workers of linked users and queues notices. */
export class WorkerNotifier {
  readonly #o: WorkerNotifierOptions;
  readonly #now: () => number;
  #task: Periodic<WorkerEvent[] | void> | undefined;
  #pass: Promise<WorkerEvent[]> | undefined;

  /** A notifier; call {@linkcode start} or drive it with {@linkcode check}. */
  constructor(options: WorkerNotifierOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Checks every `intervalMs`: the first pass an interval from now (not at boot, before the miners
   * are back), each next one an interval after the last one ended. Does nothing while running.
   */
  start(intervalMs: number): void {
    if (this.#task?.started) return;
    let waited = false;
    this.#task = new Periodic<WorkerEvent[] | void>({
      // Periodic runs a pass at once; that one is skipped, so the first check waits an interval.
      run: () => waited ? this.check() : void (waited = true),
      intervalMs,
      timers: this.#o.timers,
      onError: (e) => this.#o.onError?.(e),
    });
    void this.#task.start();
  }

  /** Stops the passes and waits for a pass in progress (timed or called). */
  async stop(): Promise<void> {
    await this.#task?.stop();
    await this.#pass?.catch(() => {});
  }

  /**
   * One pass over every linked user; returns the changes it notified. A pass already running
   * (timed or called) is joined, so passes never overlap; rejects when the pass fails.
   */
  check(): Promise<WorkerEvent[]> {
    this.#pass ??= this.#check().finally(() => this.#pass = undefined);
    return this.#pass;
  }

  async #check(): Promise<WorkerEvent[]> {
    const { store } = this.#o;
    const online = this.#o.onlineHashes();
    const now = this.#now();
    const all: WorkerEvent[] = [];
    for (const [userId, link] of await store.discord.all()) {
      if (!link.enabled) continue;
      const saved = (await store.savedWorkers.list(userId)).filter((w) => w.notifyEnabled);
      if (saved.length === 0) continue;
      const states = await store.notifyStates.list<NotifyState>(userId);
      const events: WorkerEvent[] = [];
      for (const w of saved) {
        const observed = online.has(w.hash) ? "online" : "offline";
        const old = states.get(w.hash);
        let next: NotifyState;
        if (old === undefined) {
          next = { state: observed, observed, observedSince: now };
        } else {
          next = old.observed === observed ? old : { ...old, observed, observedSince: now };
          const holdMs = observed === "online" ? this.#o.onlineAfterMs : this.#o.offlineAfterMs;
          if (next.state !== observed && now - next.observedSince >= holdMs) {
            next = { ...next, state: observed };
            events.push({
              userId,
              hash: w.hash,
              name: w.name,
              state: observed,
              since: next.observedSince,
            });
          }
        }
        if (next !== old) await store.notifyStates.put(userId, w.hash, next);
      }
      if (events.length > 0) {
        this.#o.enqueue({
          content: this.#workerMessage(link.discordUserId, events),
          mentionUserIds: [link.discordUserId],
        });
        all.push(...events);
      }
    }
    return all;
  }

  #workerMessage(discordUserId: string, events: readonly WorkerEvent[]): string {
    const lines = events.slice(0, 20).map((e) => {
      const t = `<t:${Math.floor(e.since / 1000)}:R>`;
      return e.state === "offline"
        ? `🔴 ${e.name} went offline ${t}`
        : `🟢 ${e.name} is back online (since ${t})`;
    });
    if (events.length > 20) lines.push(`…and ${events.length - 20} more`);
    return `<@${discordUserId}>\n${lines.join("\n")}${this.#footer()}`;
  }

  #footer(): string {
    return this.#o.statusUrl ? `\n[check status](<${this.#o.statusUrl}>)` : "";
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
    const when = `<t:${Math.floor(record.foundAt / 1000)}:F>`;
    const text = `⛏️ Block found: height ${record.height} by ${censorWorker(record.worker)} ` +
      `(hash ${censorHash(record.hash)}) at ${when}` +
      (pings.length > 0 ? `\n${pings.map((id) => `<@${id}>`).join(" ")}` : "") + this.#footer();
    this.#o.enqueue({ content: text, mentionUserIds: pings });
    return pings;
  }
}
