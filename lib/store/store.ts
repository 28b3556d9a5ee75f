/**
 * PoolStore: everything denopool keeps across restarts, on Deno KV. A local SQLite-backed file under
 * the data dir by default, or a remote KV URL (`status.store_url`) so several pool nodes and a
 * mirror can share one store.
 *
 * Every write is one `atomic()` commit (read-modify-write ones check the versionstamp they read and
 * retry), so a kill -9 leaves either the old or the new state, never half of one. Every commit also
 * bumps {@linkcode WRITES_KEY}; a backup that saw the counter unchanged before and after its listing
 * saw one consistent state (see `backup.ts`). Values are superjson strings (`codec.ts`); keys are
 * laid out in `keys.ts`.
 *
 * Found blocks are kept here as records only: the block bytes stay in the file journal of
 * `lib/pool/blocks.ts` (KV values are limited to 64 KiB, a block is not).
 *
 * @module
 */

import { sha256 } from "../bitcoin/sha256.ts";
import { bytesToHex } from "../bitcoin/hex.ts";
import { censorWorker } from "../status/censor.ts";
import type { BanEntry } from "../pool/bans.ts";
import type { FoundBlockRecord } from "../pool/blocks.ts";
import { decodeValue, encodeValue } from "./codec.ts";
import { BACKUP_LOCK_KEY, keys, WRITES_KEY } from "./keys.ts";

/** Most workers one user may save. */
export const MAX_SAVED_WORKERS = 64;

/** Life of a one-time Discord link code (ms). */
export const ONE_TIME_CODE_TTL_MS = 5 * 60_000;

/** Best shares kept pool-wide. */
export const BEST_SHARES_KEPT = 16;

/** Minutes of pool and worker history kept (24 h). */
export const HISTORY_MINUTES = 1440;

const HISTORY_EXPIRE_MS = (HISTORY_MINUTES + 60) * 60_000;
const MAX_RETRIES = 64;

/** One of the pool's best shares (as `lib/pool/best_shares.ts` keeps them). */
export interface BestShare {
  /** Full worker name (censored when shown). */
  readonly worker: string;
  /** Share difficulty. */
  readonly difficulty: number;
  /** When it was accepted (ms since the epoch). */
  readonly at: number;
  /** Share hash, RPC hex. */
  readonly hash: string;
}

/** One minute of pool history. */
export interface PoolSample {
  /** Unix minute (`floor(ms / 60000)`). */
  readonly minute: number;
  /** Pool hashrate (H/s). */
  readonly hashrate: number;
  /** Authorized workers online. */
  readonly workers: number;
}

/** One minute of a saved worker's history. */
export interface WorkerSample {
  /** Unix minute. */
  readonly minute: number;
  /** Hashrate summed over its connections (H/s). */
  readonly hashrate: number;
  /** Best share difficulty seen on its live connections. */
  readonly bestDifficulty: number;
}

/** What the pool last knew about a worker hash (shared by every user who saved it). */
export interface WorkerSeen {
  /** When it was last seen online. */
  readonly lastOnlineAt: Date;
  /** Best share difficulty it ever reached while saved by someone. */
  readonly bestDifficulty: number;
}

/** A worker on a user's list. The raw worker name is never stored. */
export interface SavedWorker {
  /** SHA-256 of the full worker name, 64 lowercase hex. */
  readonly hash: string;
  /** Censored display name. */
  readonly name: string;
  /** Offline/online notifications for this worker. */
  readonly notifyEnabled: boolean;
  /** When it was saved. */
  readonly savedAt: Date;
}

/** What {@linkcode PoolStore.saveWorker} did. */
export type SaveWorkerResult = "saved" | "exists" | "full";

/** A signed-in user as seen by the pool. */
export interface UserSeen {
  /** First sign-in. */
  readonly firstSeen: Date;
  /** Latest authenticated request. */
  readonly lastSeen: Date;
  /** Authenticated requests counted. */
  readonly count: number;
}

/** A user's Discord link. */
export interface DiscordLink {
  /** Discord user id (snowflake). */
  readonly discordUserId: string;
  /** Discord notifications on. */
  readonly enabled: boolean;
  /** When it was linked. */
  readonly linkedAt: Date;
}

/** A one-time code handed out to link Discord. */
export interface OneTimeCode {
  /** The code, `XXXXX-XXXXX`. */
  readonly code: string;
  /** The user it links. */
  readonly userId: string;
  /** When it stops working. */
  readonly expiresAt: Date;
}

/** Where the store lives: `storeUrl` when set, else `<dataDir>/store/denopool.kv`. */
export function storeLocation(config: {
  readonly server: { readonly dataDir: string };
  readonly status: { readonly storeUrl: string };
}): string {
  return config.status.storeUrl || `${config.server.dataDir}/store/denopool.kv`;
}

/** SHA-256 of a worker name as 64 lowercase hex (the saved-worker key). */
export function workerNameHash(name: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(name)));
}

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

// Crockford-like alphabet: no I, L, O, U (no misreading, no words).
const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ0123456789";

/** A fresh random one-time code, `XXXXX-XXXXX` (50 bits). */
export function newOneTimeCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let out = "";
  for (let i = 0; i < 10; i++) {
    if (i === 5) out += "-";
    out += CODE_ALPHABET[bytes[i] & 31];
  }
  return out;
}

/** Normalises user input of a code (case, spaces); undefined when it cannot be one. */
export function normaliseOneTimeCode(input: unknown): string | undefined {
  if (typeof input !== "string") return undefined;
  const s = input.trim().toUpperCase();
  return /^[A-Z0-9]{5}-[A-Z0-9]{5}$/.test(s) ? s : undefined;
}

/** Opens the store at `location`: a `http(s)://` KV URL, or a file path (parent dir created). */
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

/** The pool's persistent state on one Deno KV database. */
export class PoolStore {
  /** The underlying database (backup/restore read and write it directly). */
  readonly kv: Deno.Kv;
  readonly #now: () => number;
  #closed = false;
  #writeTail: Promise<unknown> = Promise.resolve();

  /** Wraps an open database. */
  constructor(kv: Deno.Kv, options: { now?: () => number } = {}) {
    this.kv = kv;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Settles every write queued so far, including ones queued while waiting (a ban set during
   * shutdown). Failed writes are settled too: their callers saw the error.
   */
  async flush(): Promise<void> {
    let tail: Promise<unknown>;
    do {
      tail = this.#writeTail;
      await tail;
    } while (tail !== this.#writeTail);
  }

  /** Closes the database; later calls fail. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.kv.close();
  }

  /** Committed writes so far (the backup consistency counter). */
  async writes(): Promise<bigint> {
    const entry = await this.kv.get<Deno.KvU64>(WRITES_KEY);
    return entry.value?.value ?? 0n;
  }

  // --- found blocks --------------------------------------------------------------------------

  /** Records (or updates) a found block; the newest status wins. */
  async putBlock(record: FoundBlockRecord): Promise<void> {
    await this.#set(keys.block(record.hash), record);
  }

  /** Found blocks, highest first, at most `limit`. */
  async blocks(limit = Number.POSITIVE_INFINITY): Promise<FoundBlockRecord[]> {
    const out = await this.#list<FoundBlockRecord>(keys.blocks);
    out.sort((a, b) => b.height - a.height || b.foundAt - a.foundAt);
    return out.slice(0, limit);
  }

  // --- bans ----------------------------------------------------------------------------------

  /** Stores a ban; it expires from the store when it ends. */
  async putBan(entry: BanEntry): Promise<void> {
    const left = entry.until - this.#now();
    if (left <= 0) return;
    await this.#write((op) => op.set(keys.ban(entry.key), encodeValue(entry), { expireIn: left }));
  }

  /** Removes a ban. */
  async deleteBan(key: string): Promise<void> {
    await this.#write((op) => op.delete(keys.ban(key)));
  }

  /** Bans still in force, soonest expiry first. */
  async bans(): Promise<BanEntry[]> {
    const now = this.#now();
    return (await this.#list<BanEntry>(keys.bans)).filter((b) => b.until > now)
      .sort((a, b) => a.until - b.until);
  }

  // --- best shares ---------------------------------------------------------------------------

  /** Replaces the stored best-shares list (best first, at most {@linkcode BEST_SHARES_KEPT}). */
  async putBestShares(list: readonly BestShare[]): Promise<void> {
    await this.#set(keys.bestShares, list.slice(0, BEST_SHARES_KEPT));
  }

  /** The pool's best shares, best first. */
  async bestShares(): Promise<BestShare[]> {
    return (await this.#get<BestShare[]>(keys.bestShares)).value ?? [];
  }

  // --- history -------------------------------------------------------------------------------

  /** Stores one minute of pool history (kept for 24 h). */
  async putPoolSample(sample: PoolSample): Promise<void> {
    await this.#write((op) =>
      op.set(keys.poolSample(sample.minute), encodeValue(sample), { expireIn: HISTORY_EXPIRE_MS })
    );
  }

  /** Pool history from `sinceMinute` on, oldest first. */
  async poolHistory(sinceMinute = 0): Promise<PoolSample[]> {
    return await this.#list<PoolSample>(keys.poolHistory, keys.poolSample(sinceMinute));
  }

  /**
   * Stores one minute of a worker's history and updates what was last seen of it, in one commit.
   */
  async putWorkerSample(hash: string, sample: WorkerSample, seenAt: Date): Promise<void> {
    await this.#update<WorkerSeen, void>(keys.workerSeen(hash), (seen) => ({
      value: {
        lastOnlineAt: seenAt,
        bestDifficulty: Math.max(seen?.bestDifficulty ?? 0, sample.bestDifficulty),
      },
      result: undefined,
      also: (op) =>
        op.set(keys.workerSample(hash, sample.minute), encodeValue(sample), {
          expireIn: HISTORY_EXPIRE_MS,
        }),
    }));
  }

  /** A worker's history from `sinceMinute` on, oldest first. */
  async workerHistory(hash: string, sinceMinute = 0): Promise<WorkerSample[]> {
    return await this.#list<WorkerSample>(
      keys.workerHistory(hash),
      keys.workerSample(hash, sinceMinute),
    );
  }

  /** What was last seen of each hash (missing ones are left out). */
  async workersSeen(hashes: readonly string[]): Promise<Map<string, WorkerSeen>> {
    const out = new Map<string, WorkerSeen>();
    // getMany takes at most 10 keys per call.
    for (let i = 0; i < hashes.length; i += 10) {
      const chunk = hashes.slice(i, i + 10);
      const entries = await this.kv.getMany<string[]>(chunk.map((h) => keys.workerSeen(h)));
      entries.forEach((e, j) => {
        if (e.value !== null) out.set(chunk[j], decodeValue<WorkerSeen>(e.value));
      });
    }
    return out;
  }

  // --- saved workers -------------------------------------------------------------------------

  /** The user's saved workers, in the order saved. */
  async savedWorkers(userId: string): Promise<SavedWorker[]> {
    return (await this.#get<SavedWorker[]>(keys.saved(userId))).value ?? [];
  }

  /**
   * Saves a worker by its full name: only its SHA-256 and a censored display name are stored.
   * At most {@linkcode MAX_SAVED_WORKERS} per user.
   */
  saveWorker(userId: string, workerName: string): Promise<SaveWorkerResult> {
    const hash = workerNameHash(workerName);
    const name = censorWorker(workerName);
    return this.#update<SavedWorker[], SaveWorkerResult>(keys.saved(userId), (list = []) => {
      if (list.some((w) => w.hash === hash)) return { result: "exists" };
      if (list.length >= MAX_SAVED_WORKERS) return { result: "full" };
      const worker: SavedWorker = {
        hash,
        name,
        notifyEnabled: true,
        savedAt: new Date(this.#now()),
      };
      return {
        value: [...list, worker],
        result: "saved",
        also: (op) => op.set(keys.savedBy(hash, userId), encodeValue(true)),
      };
    });
  }

  /** Removes a saved worker by hash; true when it was on the list. */
  removeWorker(userId: string, hash: string): Promise<boolean> {
    const h = hash.toLowerCase();
    return this.#update<SavedWorker[], boolean>(keys.saved(userId), (list = []) => {
      if (!list.some((w) => w.hash === h)) return { result: false };
      return {
        value: list.filter((w) => w.hash !== h),
        result: true,
        also: (op) => op.delete(keys.savedBy(h, userId)).delete(keys.notifyState(userId, h)),
      };
    });
  }

  /** Turns one saved worker's notifications on or off; false when it is not saved. */
  setWorkerNotify(userId: string, hash: string, enabled: boolean): Promise<boolean> {
    const h = hash.toLowerCase();
    return this.#update<SavedWorker[], boolean>(keys.saved(userId), (list = []) => {
      const i = list.findIndex((w) => w.hash === h);
      if (i < 0) return { result: false };
      const next = list.slice();
      next[i] = { ...list[i], notifyEnabled: enabled };
      return { value: next, result: true };
    });
  }

  /** Users who saved `hash`. */
  async usersWhoSaved(hash: string): Promise<string[]> {
    const out: string[] = [];
    for await (const e of this.kv.list({ prefix: keys.savedByHash(hash) })) {
      out.push(String(e.key[e.key.length - 1]));
    }
    return out;
  }

  // --- users ---------------------------------------------------------------------------------

  /** Records an authenticated request of `userId`. */
  touchUser(userId: string): Promise<void> {
    const now = new Date(this.#now());
    return this.#update<UserSeen, void>(keys.user(userId), (seen) => ({
      value: {
        firstSeen: seen?.firstSeen ?? now,
        lastSeen: now,
        count: (seen?.count ?? 0) + 1,
      },
      result: undefined,
    }));
  }

  /** First/last seen of a user, if ever signed in. */
  async user(userId: string): Promise<UserSeen | undefined> {
    return (await this.#get<UserSeen>(keys.user(userId))).value;
  }

  // --- Discord links -------------------------------------------------------------------------

  /** The user's Discord link, if linked. */
  async discordLink(userId: string): Promise<DiscordLink | undefined> {
    return (await this.#get<DiscordLink>(keys.discord(userId))).value;
  }

  /** The pool user a Discord user is linked to, if any. */
  async userForDiscord(discordUserId: string): Promise<string | undefined> {
    return (await this.#get<string>(keys.discordUser(discordUserId))).value;
  }

  /** Every linked user with their link. */
  async discordLinks(): Promise<Map<string, DiscordLink>> {
    const out = new Map<string, DiscordLink>();
    for await (const e of this.kv.list<string>({ prefix: keys.discordLinks })) {
      out.set(String(e.key[e.key.length - 1]), decodeValue<DiscordLink>(e.value));
    }
    return out;
  }

  /**
   * Links `userId` to `discordUserId` (notifications on). A Discord user links to one pool user,
   * and a pool user to one Discord user: older links on either side are replaced.
   */
  linkDiscord(userId: string, discordUserId: string): Promise<void> {
    return this.#transact(async () => {
      const [link, owner] = await this.kv.getMany<string[]>([
        keys.discord(userId),
        keys.discordUser(discordUserId),
      ]);
      const op = this.#atomic().check(link, owner);
      if (link.value !== null) {
        const old = decodeValue<DiscordLink>(link.value).discordUserId;
        if (old !== discordUserId) op.delete(keys.discordUser(old));
      }
      if (owner.value !== null) {
        const oldUser = decodeValue<string>(owner.value);
        if (oldUser !== userId) op.delete(keys.discord(oldUser));
      }
      const value: DiscordLink = { discordUserId, enabled: true, linkedAt: new Date(this.#now()) };
      op.set(keys.discord(userId), encodeValue(value));
      op.set(keys.discordUser(discordUserId), encodeValue(userId));
      return { op, result: undefined };
    });
  }

  /** Removes the user's Discord link; true when there was one. */
  unlinkDiscord(userId: string): Promise<boolean> {
    return this.#transact(async () => {
      const link = await this.kv.get<string>(keys.discord(userId));
      if (link.value === null) return { result: false };
      const { discordUserId } = decodeValue<DiscordLink>(link.value);
      const op = this.#atomic().check(link).delete(keys.discord(userId));
      op.delete(keys.discordUser(discordUserId));
      return { op, result: true };
    });
  }

  /** Turns the user's Discord notifications on or off; false when not linked. */
  setDiscordNotify(userId: string, enabled: boolean): Promise<boolean> {
    return this.#update<DiscordLink, boolean>(keys.discord(userId), (link) => {
      if (link === undefined) return { result: false };
      return { value: { ...link, enabled }, result: true };
    });
  }

  /** Where the Discord link bot stopped reading (a message id). */
  async discordCursor(): Promise<string | undefined> {
    return (await this.#get<string>(keys.discordCursor)).value;
  }

  /** Saves where the Discord link bot stopped reading. */
  async setDiscordCursor(messageId: string): Promise<void> {
    await this.#set(keys.discordCursor, messageId);
  }

  // --- one-time codes ------------------------------------------------------------------------

  /** A new one-time code for `userId`; an older live code of the user stops working. */
  createCode(userId: string): Promise<OneTimeCode> {
    return this.#transact(async () => {
      const previous = await this.kv.get<string>(keys.codeOf(userId));
      const code = newOneTimeCode();
      const created: OneTimeCode = {
        code,
        userId,
        expiresAt: new Date(this.#now() + ONE_TIME_CODE_TTL_MS),
      };
      const op = this.#atomic().check(previous).check({ key: keys.code(code), versionstamp: null });
      if (previous.value !== null) op.delete(keys.code(decodeValue<string>(previous.value)));
      op.set(keys.code(code), encodeValue(created), { expireIn: ONE_TIME_CODE_TTL_MS });
      op.set(keys.codeOf(userId), encodeValue(code), { expireIn: ONE_TIME_CODE_TTL_MS });
      return { op, result: created };
    });
  }

  /** The live code of `userId`, if any. */
  async liveCode(userId: string): Promise<OneTimeCode | undefined> {
    const of = await this.#get<string>(keys.codeOf(userId));
    if (of.value === undefined) return undefined;
    const found = (await this.#get<OneTimeCode>(keys.code(of.value))).value;
    return found && found.expiresAt.getTime() > this.#now() ? found : undefined;
  }

  /** Uses up a code: returns its user when it was live, and deletes it either way. */
  redeemCode(code: string): Promise<string | undefined> {
    return this.#transact(async () => {
      const entry = await this.kv.get<string>(keys.code(code));
      if (entry.value === null) return { result: undefined };
      const found = decodeValue<OneTimeCode>(entry.value);
      const of = await this.kv.get<string>(keys.codeOf(found.userId));
      const op = this.#atomic().check(entry, of).delete(keys.code(code));
      if (of.value !== null && decodeValue<string>(of.value) === code) {
        op.delete(keys.codeOf(found.userId));
      }
      return { op, result: found.expiresAt.getTime() > this.#now() ? found.userId : undefined };
    });
  }

  /** Clears `code` when it belongs to `userId`; true when something was cleared. */
  clearCode(userId: string, code: string): Promise<boolean> {
    return this.#transact(async () => {
      const entry = await this.kv.get<string>(keys.code(code));
      if (entry.value === null) return { result: false };
      if (decodeValue<OneTimeCode>(entry.value).userId !== userId) return { result: false };
      const of = await this.kv.get<string>(keys.codeOf(userId));
      const op = this.#atomic().check(entry, of).delete(keys.code(code));
      if (of.value !== null && decodeValue<string>(of.value) === code) {
        op.delete(keys.codeOf(userId));
      }
      return { op, result: true };
    });
  }

  // --- notifier state ------------------------------------------------------------------------

  /** Notifier state of every saved worker of `userId`, by hash. */
  async notifyStates<T>(userId: string): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    const prefix = keys.notifyState(userId, "").slice(0, 3);
    for await (const e of this.kv.list<string>({ prefix })) {
      out.set(String(e.key[e.key.length - 1]), decodeValue<T>(e.value));
    }
    return out;
  }

  /** Saves the notifier state of one saved worker. */
  async putNotifyState<T>(userId: string, hash: string, state: T): Promise<void> {
    await this.#set(keys.notifyState(userId, hash), state);
  }

  // --- plumbing ------------------------------------------------------------------------------

  /**
   * An atomic operation that counts as one committed write and fails while a backup holds the
   * lock (the backup then sees a store that no commit can change under it).
   */
  #atomic(): Deno.AtomicOperation {
    return this.kv.atomic().check({ key: BACKUP_LOCK_KEY, versionstamp: null }).sum(WRITES_KEY, 1n);
  }

  /**
   * Runs `attempt` until its operation commits. A commit that fails because a backup holds the
   * lock waits for the lock; any other failure (a checked key moved) retries at once, at most
   * {@linkcode MAX_RETRIES} times. `attempt` may return no operation to finish without writing.
   */
  #transact<R>(
    attempt: () => Promise<{ op?: Deno.AtomicOperation; result: R }>,
  ): Promise<R> {
    // Writes from this process go one at a time: they are few (never per share), and racing
    // each other on the same keys only burns retries. Conflicts left are with other processes
    // sharing a remote store; those back off with jitter.
    const run = this.#writeTail.then(async () => {
      for (let conflicts = 0; conflicts < MAX_RETRIES;) {
        const { op, result } = await attempt();
        if (op === undefined || (await op.commit()).ok) return result;
        if (!(await waitForBackupLock(this.kv))) {
          conflicts++;
          await new Promise((r) => setTimeout(r, Math.random() * 5 * conflicts));
        }
      }
      throw new Error("store: too much contention");
    });
    this.#writeTail = run.catch(() => {});
    return run;
  }

  async #write(mutate: (op: Deno.AtomicOperation) => void): Promise<void> {
    await this.#transact(() => {
      const op = this.#atomic();
      mutate(op);
      return Promise.resolve({ op, result: undefined });
    });
  }

  async #set(key: Deno.KvKey, value: unknown): Promise<void> {
    const text = encodeValue(value);
    await this.#write((op) => op.set(key, text));
  }

  async #get<T>(key: Deno.KvKey): Promise<{ value: T | undefined }> {
    const entry = await this.kv.get<string>(key);
    return { value: entry.value === null ? undefined : decodeValue<T>(entry.value) };
  }

  async #list<T>(prefix: Deno.KvKey, start?: Deno.KvKey): Promise<T[]> {
    const out: T[] = [];
    const selector = start ? { prefix, start } : { prefix };
    for await (const e of this.kv.list<string>(selector)) out.push(decodeValue<T>(e.value));
    return out;
  }

  /**
   * Read-modify-write of one key, retried while another writer got there first. `change` sees
   * the current value and returns the new one (`value` absent → nothing written), its result,
   * and optionally more mutations for the same commit.
   */
  #update<T, R = boolean>(
    key: Deno.KvKey,
    change: (current: T | undefined) => {
      value?: T;
      result: R;
      also?: (op: Deno.AtomicOperation) => void;
    },
  ): Promise<R> {
    return this.#transact(async () => {
      const entry = await this.kv.get<string>(key);
      const current = entry.value === null ? undefined : decodeValue<T>(entry.value);
      const next = change(current);
      if (next.value === undefined) return { result: next.result };
      const op = this.#atomic().check(entry).set(key, encodeValue(next.value));
      next.also?.(op);
      return { op, result: next.result };
    });
  }
}

/** How long a backup may hold the write lock before writers take it back (ms). */
export const BACKUP_LOCK_TTL_MS = 30_000;

/**
 * Waits while a live backup lock is held; a lock past its deadline (its backup died) is removed.
 * Resolves true when there was a lock, false when the failed commit had another cause.
 */
export async function waitForBackupLock(
  kv: Deno.Kv,
  now: () => number = Date.now,
): Promise<boolean> {
  const lock = await kv.get<string>(BACKUP_LOCK_KEY);
  if (lock.value === null) return false;
  const { until } = decodeValue<{ until: number }>(lock.value);
  if (until <= now()) {
    await kv.atomic().check(lock).delete(BACKUP_LOCK_KEY).commit();
    return true;
  }
  await new Promise((r) => setTimeout(r, 10));
  return true;
}
