/**
 * The watches that turn what the pool sees into events: {@linkcode WorkerWatch} for saved workers
 * (offline, back online, new best share) and {@linkcode NodeWatch} for the node (down, back).
 *
 * Each (user, saved worker) pair has a confirmed state (online/offline) and the state last
 * observed with the time it was first observed. A change is confirmed, and published, only after
 * it has held for the threshold (`offlineAfterMs` going offline, `onlineAfterMs` coming back), so
 * a quick reconnect is silent. A pair seen for the first time takes the observed state without an
 * event (no flood at boot or right after saving). The state, with the best share already told, is
 * kept in the store, so a restart neither forgets a pending change nor repeats an event. Only the
 * users `users()` names (those with somewhere to be told) and workers with notifications on are
 * looked at; one user's changes of one pass are one event.
 *
 * The passes run on {@linkcode Periodic} (`lib/periodic.ts`): the first an interval after
 * `start` (the miners are not back at boot), each next one an interval after the last one ended.
 *
 * @module
 */

import { Periodic, type Timers } from "../periodic.ts";
import type { DomainStores } from "../store/mod.ts";
import type { BestShareChange, NotifyEvent, WorkerChange } from "./events.ts";

/** The watch's memory of one saved worker of one user (stored). */
export interface NotifyState {
  /** Confirmed state (the last one published or taken at first sight). */
  readonly state: "online" | "offline";
  /** State last observed. */
  readonly observed: "online" | "offline";
  /** When `observed` was first seen (ms since the epoch). */
  readonly observedSince: number;
  /** Best share difficulty already accounted for (absent in states older than best shares). */
  readonly best?: number;
}

/** A task whose first pass waits an interval; passes never overlap; `stop` waits. */
class DelayedTask<T> {
  #task: Periodic<T | void> | undefined;
  #pass: Promise<T> | undefined;
  constructor(
    private readonly body: () => Promise<T>,
    private readonly timers: Timers | undefined,
    private readonly onError: (e: unknown) => void,
  ) {}
  start(intervalMs: number): void {
    if (this.#task?.started) return;
    let waited = false;
    this.#task = new Periodic<T | void>({
      // Periodic runs a pass at once; that one is skipped, so the first pass waits an interval.
      run: () => waited ? this.run() : void (waited = true),
      intervalMs,
      timers: this.timers,
      onError: this.onError,
    });
    void this.#task.start();
  }
  run(): Promise<T> {
    this.#pass ??= this.body().finally(() => this.#pass = undefined);
    return this.#pass;
  }
  async stop(): Promise<void> {
    await this.#task?.stop();
    await this.#pass?.catch(() => {});
  }
}

/** Options of {@linkcode WorkerWatch}. */
export interface WorkerWatchOptions {
  /** The store (saved workers, states). */
  readonly store: Pick<DomainStores, "savedWorkers" | "notifyStates">;
  /** Users to look at (those with a channel to be told on). */
  readonly users: () => Promise<Iterable<string>>;
  /** Hashes of the worker names online now. */
  readonly onlineHashes: () => ReadonlySet<string>;
  /** Best share difficulty of each live worker hash now; absent → no best-share events. */
  readonly bestShares?: () => ReadonlyMap<string, number>;
  /** Where events go. */
  readonly publish: (event: NotifyEvent) => void;
  /** Offline this long before "offline" is published, ms. */
  readonly offlineAfterMs: number;
  /** Back this long before "back online" is published, ms. */
  readonly onlineAfterMs: number;
  /** Clock, ms since the epoch. */
  readonly now?: () => number;
  /** Error sink for failed timed passes (default: ignored). */
  readonly onError?: (error: unknown) => void;
  /** Timers of the passes (default: the global ones); tests pass a manual clock. */
  readonly timers?: Timers;
}

/** Watches the saved workers of users who can be told, and publishes their changes. */
export class WorkerWatch {
  readonly #o: WorkerWatchOptions;
  readonly #now: () => number;
  readonly #task: DelayedTask<WorkerChange[]>;

  /** A watch; call {@linkcode start} or drive it with {@linkcode check}. */
  constructor(options: WorkerWatchOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#task = new DelayedTask(() => this.#check(), options.timers, (e) => options.onError?.(e));
  }

  /** Checks every `intervalMs`, the first pass an interval from now. Does nothing while running. */
  start(intervalMs: number): void {
    this.#task.start(intervalMs);
  }

  /** Stops the passes and waits for a pass in progress (timed or called). */
  stop(): Promise<void> {
    return this.#task.stop();
  }

  /**
   * One pass; returns the state changes it published (best shares are published, not returned).
   * A pass already running is joined, so passes never overlap; rejects when the pass fails.
   */
  check(): Promise<WorkerChange[]> {
    return this.#task.run();
  }

  async #check(): Promise<WorkerChange[]> {
    const { store } = this.#o;
    const online = this.#o.onlineHashes();
    const bests = this.#o.bestShares?.();
    const now = this.#now();
    const all: WorkerChange[] = [];
    for (const userId of new Set(await this.#o.users())) {
      const saved = (await store.savedWorkers.list(userId)).filter((w) => w.notifyEnabled);
      if (saved.length === 0) continue;
      const states = await store.notifyStates.list<NotifyState>(userId);
      const changes: WorkerChange[] = [];
      const shares: BestShareChange[] = [];
      for (const w of saved) {
        const observed = online.has(w.hash) ? "online" : "offline";
        const old = states.get(w.hash);
        const live = bests?.get(w.hash) ?? 0;
        let next: NotifyState;
        if (old === undefined) {
          next = { state: observed, observed, observedSince: now };
          if (bests) next = { ...next, best: live };
        } else {
          next = old.observed === observed ? old : { ...old, observed, observedSince: now };
          const holdMs = observed === "online" ? this.#o.onlineAfterMs : this.#o.offlineAfterMs;
          if (next.state !== observed && now - next.observedSince >= holdMs) {
            next = { ...next, state: observed };
            changes.push({
              userId,
              hash: w.hash,
              name: w.name,
              state: observed,
              since: next.observedSince,
            });
          }
          if (bests && (next.best === undefined || live > next.best)) {
            if (next.best !== undefined) {
              shares.push({
                userId,
                hash: w.hash,
                name: w.name,
                difficulty: live,
                previous: next.best,
                at: now,
              });
            }
            next = { ...next, best: live };
          }
        }
        if (next !== old) await store.notifyStates.put(userId, w.hash, next);
      }
      if (changes.length > 0) {
        this.#o.publish({ type: "workers.changed", userId, changes, at: now });
        all.push(...changes);
      }
      if (shares.length > 0) this.#o.publish({ type: "share.best", userId, shares, at: now });
    }
    return all;
  }
}

/** What the node watch reads: is the node giving work, and if not, why. */
export interface NodeHealth {
  /** True while the node gives work. */
  readonly up: boolean;
  /** Why not, when down. */
  readonly reason?: string;
}

/** Options of {@linkcode NodeWatch}. */
export interface NodeWatchOptions {
  /** The node's health now. */
  readonly health: () => NodeHealth;
  /** Where events go. */
  readonly publish: (event: NotifyEvent) => void;
  /** Down this long before "node down" is published, ms. */
  readonly downAfterMs: number;
  /** Back this long before "node back" is published, ms (default 0: the next pass). */
  readonly upAfterMs?: number;
  /** Clock, ms since the epoch. */
  readonly now?: () => number;
  /** Error sink for failed timed passes (default: ignored). */
  readonly onError?: (error: unknown) => void;
  /** Timers of the passes (default: the global ones). */
  readonly timers?: Timers;
}

/**
 * Watches the node: "down" once it has given no work for `downAfterMs`, "back" once it gives
 * work again (and has held `upAfterMs`). It starts out taking the node as up, so a node that is
 * down from boot is reported once the threshold has passed; its memory is not stored.
 */
export class NodeWatch {
  readonly #o: NodeWatchOptions;
  readonly #now: () => number;
  readonly #task: DelayedTask<NotifyEvent | undefined>;
  #state: "up" | "down" = "up";
  #observed: "up" | "down" = "up";
  #since: number;
  #reason = "";

  /** A watch; call {@linkcode start} or drive it with {@linkcode check}. */
  constructor(options: NodeWatchOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#since = this.#now();
    this.#task = new DelayedTask(
      () => Promise.resolve(this.#check()),
      options.timers,
      (e) => options.onError?.(e),
    );
  }

  /** Checks every `intervalMs`, the first pass an interval from now. */
  start(intervalMs: number): void {
    this.#task.start(intervalMs);
  }

  /** Stops the passes. */
  stop(): Promise<void> {
    return this.#task.stop();
  }

  /** One pass; resolves with the event it published, if any. */
  check(): Promise<NotifyEvent | undefined> {
    return this.#task.run();
  }

  #check(): NotifyEvent | undefined {
    const h = this.#o.health();
    const now = this.#now();
    const observed = h.up ? "up" : "down";
    if (observed !== this.#observed) {
      this.#observed = observed;
      this.#since = now;
    }
    if (!h.up) this.#reason = h.reason ?? "unknown";
    const hold = observed === "down" ? this.#o.downAfterMs : this.#o.upAfterMs ?? 0;
    if (observed === this.#state || now - this.#since < hold) return undefined;
    this.#state = observed;
    const event: NotifyEvent = observed === "down"
      ? { type: "node.down", reason: this.#reason, since: this.#since, at: now }
      : { type: "node.up", since: this.#since, at: now };
    this.#o.publish(event);
    return event;
  }
}
