/**
 * The store's key layout. Every key starts with {@linkcode KEY_VERSION}; a future layout gets a new
 * prefix and a migration, so old and new code never read each other's values by accident.
 *
 * | key                                        | value                                 |
 * | ------------------------------------------ | ------------------------------------- |
 * | `["v1","meta","writes"]`                   | KvU64: committed writes (backups)     |
 * | `["v1","meta","backup-lock"]`              | `{until}` while a backup runs         |
 * | `["v1","block",hash]`                      | found block record (no block bytes)   |
 * | `["v1","ban",key]`                         | ban entry (expires with the ban)      |
 * | `["v1","best-shares"]`                     | the pool's best shares, best first    |
 * | `["v1","pool-history",minute]`             | pool sample of one Unix minute        |
 * | `["v1","worker-history",hash,minute]`      | saved worker's sample of one minute   |
 * | `["v1","worker-seen",hash]`                | last seen online / best share of hash |
 * | `["v1","saved",userId]`                    | the user's saved workers (≤ 64)       |
 * | `["v1","saved-by",hash,userId]`            | reverse index: who saved a hash       |
 * | `["v1","user",userId]`                     | first/last seen of a signed-in user   |
 * | `["v1","discord",userId]`                  | the user's Discord link and switch    |
 * | `["v1","discord-user",discordId]`          | reverse index: Discord user → userId  |
 * | `["v1","code",code]`                       | one-time link code → userId, expiry   |
 * | `["v1","code-of",userId]`                  | the user's one live code              |
 * | `["v1","notify-state",userId,hash]`        | notifier state of one saved worker    |
 * | `["v1","discord-cursor"]`                  | last Discord message id the bot read  |
 * | `["v1","telegram",userId]`                 | the user's Telegram link and switch   |
 * | `["v1","telegram-chat",chatId]`            | reverse index: Telegram chat → userId |
 * | `["v1","telegram-offset"]`                 | last Telegram update id the bot read  |
 * | `["v1","notify-prefs",userId]`             | the user's ntfy and webhook targets   |
 * | `["v1","notice-queue",channel,id]`         | a notice waiting in a channel's queue |
 *
 * @module
 */

/** First element of every key. */
export const KEY_VERSION = "v1";

/** Counter bumped by every committed write; a backup is consistent when it did not move. */
export const WRITES_KEY: Deno.KvKey = [KEY_VERSION, "meta", "writes"];

/** Held by a running backup or restore: the store's commits fail (and wait) while it exists. */
export const BACKUP_LOCK_KEY: Deno.KvKey = [KEY_VERSION, "meta", "backup-lock"];

/** Key builders, one per record kind. */
export const keys = {
  /** A found block by hash (RPC hex). */
  block: (hash: string): Deno.KvKey => [KEY_VERSION, "block", hash],
  /** Prefix of every found block. */
  blocks: [KEY_VERSION, "block"] as Deno.KvKey,
  /** A ban by banned key. */
  ban: (key: string): Deno.KvKey => [KEY_VERSION, "ban", key],
  /** Prefix of every ban. */
  bans: [KEY_VERSION, "ban"] as Deno.KvKey,
  /** The best-shares list. */
  bestShares: [KEY_VERSION, "best-shares"] as Deno.KvKey,
  /** A pool history sample by Unix minute. */
  poolSample: (minute: number): Deno.KvKey => [KEY_VERSION, "pool-history", minute],
  /** Prefix of the pool history. */
  poolHistory: [KEY_VERSION, "pool-history"] as Deno.KvKey,
  /** A saved worker's history sample by Unix minute. */
  workerSample: (hash: string, minute: number): Deno.KvKey => [
    KEY_VERSION,
    "worker-history",
    hash,
    minute,
  ],
  /** Prefix of one worker's history. */
  workerHistory: (hash: string): Deno.KvKey => [KEY_VERSION, "worker-history", hash],
  /** Last-seen facts of a worker hash. */
  workerSeen: (hash: string): Deno.KvKey => [KEY_VERSION, "worker-seen", hash],
  /** A user's saved-worker list. */
  saved: (userId: string): Deno.KvKey => [KEY_VERSION, "saved", userId],
  /** Reverse index entry: `userId` saved `hash`. */
  savedBy: (hash: string, userId: string): Deno.KvKey => [KEY_VERSION, "saved-by", hash, userId],
  /** Prefix of everyone who saved `hash`. */
  savedByHash: (hash: string): Deno.KvKey => [KEY_VERSION, "saved-by", hash],
  /** A signed-in user's first/last seen. */
  user: (userId: string): Deno.KvKey => [KEY_VERSION, "user", userId],
  /** A user's Discord link. */
  discord: (userId: string): Deno.KvKey => [KEY_VERSION, "discord", userId],
  /** Prefix of every Discord link. */
  discordLinks: [KEY_VERSION, "discord"] as Deno.KvKey,
  /** Reverse index: Discord user id → user id. */
  discordUser: (discordId: string): Deno.KvKey => [KEY_VERSION, "discord-user", discordId],
  /** A one-time code. */
  code: (code: string): Deno.KvKey => [KEY_VERSION, "code", code],
  /** The one live code of a user. */
  codeOf: (userId: string): Deno.KvKey => [KEY_VERSION, "code-of", userId],
  /** Prefix of every notifier state of one user. */
  notifyStates: (userId: string): Deno.KvKey => [KEY_VERSION, "notify-state", userId],
  /** Notifier state of one saved worker of one user. */
  notifyState: (userId: string, hash: string): Deno.KvKey => [
    KEY_VERSION,
    "notify-state",
    userId,
    hash,
  ],
  /** Last Discord message id read by the link bot. */
  discordCursor: [KEY_VERSION, "discord-cursor"] as Deno.KvKey,
  /** A user's Telegram link. */
  telegram: (userId: string): Deno.KvKey => [KEY_VERSION, "telegram", userId],
  /** Prefix of every Telegram link. */
  telegramLinks: [KEY_VERSION, "telegram"] as Deno.KvKey,
  /** Reverse index: Telegram chat id → user id. */
  telegramChat: (chatId: string): Deno.KvKey => [KEY_VERSION, "telegram-chat", chatId],
  /** Last Telegram update id handled by the bot. */
  telegramOffset: [KEY_VERSION, "telegram-offset"] as Deno.KvKey,
  /** A user's own notification targets. */
  notifyPrefs: (userId: string): Deno.KvKey => [KEY_VERSION, "notify-prefs", userId],
  /** Prefix of every user's notification targets. */
  notifyPrefsAll: [KEY_VERSION, "notify-prefs"] as Deno.KvKey,
  /** One notice waiting in a channel's queue. */
  queuedNotice: (channel: string, id: string): Deno.KvKey => [
    KEY_VERSION,
    "notice-queue",
    channel,
    id,
  ],
  /** Prefix of every notice waiting in one channel's queue. */
  queuedNotices: (channel: string): Deno.KvKey => [KEY_VERSION, "notice-queue", channel],
} as const;
