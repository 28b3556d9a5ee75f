/**
 * The pool's store: everything denopool keeps across restarts, on Deno KV. A local SQLite-backed
 * file under the data dir by default, or a remote KV URL (`status.store_url`) so several pool nodes
 * and a mirror can share one store.
 *
 * {@linkcode openStore} gives a {@linkcode PoolStore}: one domain store per kind of record (bans,
 * blocks, best shares, history, saved workers, users, Discord and Telegram links, one-time codes, notifier
 * states, users' notification targets, queued notices), all on the same database through one KV core (`core.ts`: atomic writes that honour the
 * backup lock and bump the write counter, one write queue, one clock). Values are superjson strings
 * (`codec.ts`); keys are laid out in `keys.ts`. A consumer takes only the domain stores it uses,
 * e.g. `Pick<DomainStores, "bans">`, so a test or another backend supplies just those.
 *
 * @example Saving a worker and reading the list back
 * ```ts
 * import { openStore } from "./store.ts";
 *
 * const store = await openStore(":memory:");
 * await store.savedWorkers.save("user_1", "bc1qexample.rig-1"); // "saved"
 * const [worker] = await store.savedWorkers.list("user_1");
 * console.log(worker.name); // the censored name; the raw one is never stored
 * await store.flush();
 * store.close();
 * ```
 *
 * @module
 */

import { workerNameHash } from "../status/worker_hash.ts";
import type { FoundBlockRecord } from "../pool/mod.ts";
import { KvCore } from "./core.ts";
import { type BanStore, KvBanStore } from "./bans.ts";
import { type BlockStore, KvBlockStore } from "./blocks.ts";
import { type BestShareStore, KvBestShareStore } from "./best_shares.ts";
import { type HistoryStore, KvHistoryStore } from "./history.ts";
import { KvSavedWorkerStore, type SavedWorkerStore } from "./saved_workers.ts";
import { KvUserStore, type UserStore } from "./users.ts";
import { type DiscordStore, KvDiscordStore } from "./discord.ts";
import { type CodeStore, KvCodeStore } from "./codes.ts";
import { KvNotifyStateStore, type NotifyStateStore } from "./notify_states.ts";
import { KvTelegramStore, type TelegramStore } from "./telegram.ts";
import { KvNotifyPrefsStore, type NotifyPrefsStore } from "./notify_prefs.ts";
import { KvNoticeQueueStore, type NoticeQueueStore } from "./notice_queue.ts";

/** Where the store lives: `storeUrl` when set, else `<dataDir>/store/denopool.kv`. */
export function storeLocation(config: {
  readonly server: { readonly dataDir: string };
  readonly status: { readonly storeUrl: string };
}): string {
  return config.status.storeUrl || `${config.server.dataDir}/store/denopool.kv`;
}

// The saved-worker key; defined in lib/status/worker_hash.ts (the lookup routes hash with it too)
// and re-exported here for the store's many callers.
export { workerNameHash };

/** Worker name → SHA-256 hex, remembered (live names repeat on every pass; bounded). */
export class WorkerNameHashes {
  readonly #map = new Map<string, string>();

  /** The hash of `name`. */
  get(name: string): string {
    let h = this.#map.get(name);
    if (h === undefined) {
      if (this.#map.size >= 65_536) this.#map.clear();
      h = workerNameHash(name);
      this.#map.set(name, h);
    }
    return h;
  }
}

/** True for 64 lowercase or uppercase hex characters. */
export function isWorkerHash(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-fA-F]{64}$/.test(value);
}

/**
 * The domain stores, whatever the backend. Consumers pick the ones they use, e.g.
 * `Pick<DomainStores, "savedWorkers" | "history">`, so a test hands them just those.
 *
 * @example A consumer of the bans alone, fed a stand-in
 * ```ts
 * import type { DomainStores } from "./store.ts";
 *
 * async function bannedKeys(store: Pick<DomainStores, "bans">): Promise<string[]> {
 *   return (await store.bans.list()).map((b) => b.key);
 * }
 * const until = Date.now() + 60_000;
 * const standIn: Pick<DomainStores, "bans"> = {
 *   bans: {
 *     put: () => Promise.resolve(),
 *     delete: () => Promise.resolve(),
 *     list: () => Promise.resolve([{ key: "ip:192.0.2.1", until, reason: "by hand" }]),
 *   },
 * };
 * console.log(await bannedKeys(standIn)); // ["ip:192.0.2.1"]
 * ```
 */
export interface DomainStores {
  /** Bans in force. */
  readonly bans: BanStore;
  /** Found-block records. */
  readonly blocks: BlockStore;
  /** The pool's best shares. */
  readonly bestShares: BestShareStore;
  /** Pool and saved-worker history, and what was last seen of each worker. */
  readonly history: HistoryStore;
  /** Users' saved workers and who saved each. */
  readonly savedWorkers: SavedWorkerStore;
  /** Signed-in users as seen. */
  readonly users: UserStore;
  /** Discord links and the link bot's cursor. */
  readonly discord: DiscordStore;
  /** One-time Discord link codes. */
  readonly codes: CodeStore;
  /** The notifier's per-worker state. */
  readonly notifyStates: NotifyStateStore;
  /** Telegram links and the Telegram bot's offset. */
  readonly telegram: TelegramStore;
  /** Users' own notification targets (ntfy topic, webhook). */
  readonly notifyPrefs: NotifyPrefsStore;
  /** Notices waiting in the channels' queues. */
  readonly noticeQueue: NoticeQueueStore;
}

/**
 * Opens the store at `location`: a `http(s)://` KV URL, or a file path (parent dir created).
 *
 * @example
 * ```ts
 * import { openStore } from "./store.ts";
 *
 * const store = await openStore(":memory:", { now: () => Date.UTC(2025, 0, 1) });
 * await store.bans.put({ key: "ip:192.0.2.1", until: Date.UTC(2025, 0, 2), reason: "by hand" });
 * console.log((await store.bans.list()).length); // 1
 * store.close();
 * ```
 */
export async function openStore(
  location: string,
  options: { now?: () => number } = {},
): Promise<PoolStore> {
  if (!/^https?:\/\//.test(location)) {
    const slash = location.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(location.slice(0, slash), { recursive: true });
  }
  return new PoolStore(await Deno.openKv(location), options);
}

/** The pool's persistent state on one Deno KV database: the domain stores and their lifecycle. */
export class PoolStore implements DomainStores {
  /** The underlying database (backup/restore and the mirror publisher read and write it directly). */
  readonly kv: Deno.Kv;
  /** Bans in force. */
  readonly bans: BanStore;
  /** Found-block records. */
  readonly blocks: BlockStore;
  /** The pool's best shares. */
  readonly bestShares: BestShareStore;
  /** Pool and saved-worker history, and what was last seen of each worker. */
  readonly history: HistoryStore;
  /** Users' saved workers and who saved each. */
  readonly savedWorkers: SavedWorkerStore;
  /** Signed-in users as seen. */
  readonly users: UserStore;
  /** Discord links and the link bot's cursor. */
  readonly discord: DiscordStore;
  /** One-time Discord link codes. */
  readonly codes: CodeStore;
  /** The notifier's per-worker state. */
  readonly notifyStates: NotifyStateStore;
  /** Telegram links and the Telegram bot's offset. */
  readonly telegram: TelegramStore;
  /** Users' own notification targets (ntfy topic, webhook). */
  readonly notifyPrefs: NotifyPrefsStore;
  /** Notices waiting in the channels' queues. */
  readonly noticeQueue: NoticeQueueStore;
  readonly #core: KvCore;

  /** Wraps an open database; `now` is the store's clock (default `Date.now`). */
  constructor(kv: Deno.Kv, options: { now?: () => number } = {}) {
    const core = new KvCore(kv, options.now);
    this.#core = core;
    this.kv = kv;
    this.bans = new KvBanStore(core);
    this.blocks = new KvBlockStore(core);
    this.bestShares = new KvBestShareStore(core);
    this.history = new KvHistoryStore(core);
    this.savedWorkers = new KvSavedWorkerStore(core);
    this.users = new KvUserStore(core);
    this.discord = new KvDiscordStore(core);
    this.codes = new KvCodeStore(core);
    this.notifyStates = new KvNotifyStateStore(core);
    this.telegram = new KvTelegramStore(core);
    this.notifyPrefs = new KvNotifyPrefsStore(core);
    this.noticeQueue = new KvNoticeQueueStore(core);
  }

  /**
   * Settles every write queued so far by any domain store, including ones queued while waiting
   * (a ban set during shutdown). Failed writes are settled too: their callers saw the error.
   */
  flush(): Promise<void> {
    return this.#core.flush();
  }

  /** Closes the database; later calls fail. Safe to call twice. */
  close(): void {
    this.#core.close();
  }

  /** Committed writes so far (the backup consistency counter). */
  writes(): Promise<bigint> {
    return this.#core.writes();
  }

  /**
   * Records (or updates) a found block.
   *
   * @deprecated Use `store.blocks.put(record)`; kept only until `app/pool.ts` calls that.
   */
  putBlock(record: FoundBlockRecord): Promise<void> {
    return this.blocks.put(record);
  }
}
