/**
 * denopool's store: what the pool keeps across restarts (bans, found blocks, best shares, history,
 * saved workers, signed-in users, Discord and Telegram links, one-time codes, notifier states,
 * users' notification targets, queued notices) on one Deno KV
 * database, plus a consistent backup and restore.
 *
 * {@linkcode openStore} returns a {@linkcode PoolStore} holding one domain store per kind of record
 * (`store.bans`, `store.savedWorkers`, …) and the lifecycle (`flush`, `close`). Code that needs
 * only some of them takes `Pick<DomainStores, …>`, so a test or another backend provides just
 * those. The key layout is in `keys.ts`, values are superjson strings (`codec.ts`).
 *
 * @example Opening a store, saving a worker, reading history
 * ```ts
 * import { openStore, workerNameHash } from "./mod.ts";
 *
 * // The pool opens `storeLocation(config)`: a file under the data dir, or `status.store_url`.
 * const store = await openStore(":memory:");
 * try {
 *   await store.savedWorkers.save("user_1", "bc1qexample.rig-1"); // "saved" | "exists" | "full"
 *   const samples = await store.history.worker(workerNameHash("bc1qexample.rig-1"));
 *   console.log(samples.length);
 * } finally {
 *   await store.flush();
 *   store.close();
 * }
 * ```
 *
 * @module
 */

export {
  type DomainStores,
  isWorkerHash,
  openStore,
  PoolStore,
  storeLocation,
  workerNameHash,
  WorkerNameHashes,
} from "./store.ts";
export { BACKUP_LOCK_TTL_MS } from "./core.ts";
export type { BanStore } from "./bans.ts";
export type { BlockStore } from "./blocks.ts";
export { BEST_SHARES_KEPT, type BestShare, type BestShareStore } from "./best_shares.ts";
export {
  HISTORY_EXPIRE_MS,
  HISTORY_MINUTES,
  type HistoryStore,
  type PoolSample,
  type WorkerSample,
  type WorkerSeen,
} from "./history.ts";
export {
  MAX_SAVED_WORKERS,
  type SavedWorker,
  type SavedWorkerStore,
  type SaveWorkerResult,
} from "./saved_workers.ts";
export type { UserSeen, UserStore } from "./users.ts";
export type { DiscordLink, DiscordStore } from "./discord.ts";
export {
  type CodeStore,
  newOneTimeCode,
  normaliseOneTimeCode,
  ONE_TIME_CODE_TTL_MS,
  type OneTimeCode,
} from "./codes.ts";
export type { NotifyStateStore } from "./notify_states.ts";
export type { TelegramLink, TelegramStore } from "./telegram.ts";
export { newWebhookSecret, type NotifyPrefs, type NotifyPrefsStore } from "./notify_prefs.ts";
export type { NoticeQueueStore } from "./notice_queue.ts";
export { MAX_VALUE_BYTES, StoreCodecError } from "./codec.ts";
export {
  acquireBackupLock,
  BACKUP_FORMAT,
  BACKUP_VERSION,
  BackupError,
  type BackupSummary,
  exportStore,
  importStore,
  releaseBackupLock,
} from "./backup.ts";
