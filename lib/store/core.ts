/**
 * The KV core every domain store of `lib/store/` writes through: one `Deno.Kv`, one clock, one
 * write queue. Keys come from `keys.ts`, values go through `codec.ts`.
 *
 * Every write is one `atomic()` commit (read-modify-write ones check the versionstamp they read
 * and retry), so a kill -9 leaves either the old or the new state, never half of one. Every commit
 * also bumps {@linkcode WRITES_KEY} and checks that {@linkcode BACKUP_LOCK_KEY} is absent; a
 * backup that took the lock and saw the counter unchanged saw one consistent state (`backup.ts`).
 *
 * The domain stores hold a `KvCore` and nothing else of the database, so the retry, queue and
 * encoding rules live here once.
 *
 * @example Reading and writing one value through the core
 * ```ts
 * import { KvCore } from "./core.ts";
 *
 * const core = new KvCore(await Deno.openKv(":memory:"));
 * await core.set(["v1", "demo"], { at: new Date(0) });
 * const back = await core.get<{ at: Date }>(["v1", "demo"]);
 * console.log(back?.at.getTime()); // 0
 * core.close();
 * ```
 *
 * @module
 */

import { decodeValue, encodeValue } from "./codec.ts";
import { BACKUP_LOCK_KEY, WRITES_KEY } from "./keys.ts";

/** Commits retried after a conflict (a checked key moved) before a write gives up. */
const MAX_RETRIES = 64;

/** `getMany` takes at most this many keys per call. */
const GET_MANY_LIMIT = 10;

/** How long a backup may hold the write lock before writers take it back (ms). */
export const BACKUP_LOCK_TTL_MS = 30_000;

/** Options of a plain write. */
export interface SetOptions {
  /** Life of the entry (ms); absent → it never expires. */
  readonly expireIn?: number;
}

/**
 * What a read-modify-write decides from the current value: the new value (absent → nothing is
 * written), the result handed back, and optionally more mutations for the same commit.
 */
export interface UpdateStep<T, R> {
  /** The value to write; absent → no commit. */
  readonly value?: T;
  /** What the update resolves to. */
  readonly result: R;
  /** Further mutations of the same commit. */
  readonly also?: (op: Deno.AtomicOperation) => void;
}

/** One attempt of a transaction: the operation to commit (absent → done without writing). */
export interface Attempt<R> {
  /** The operation; absent → the transaction ends with `result` and no commit. */
  readonly op?: Deno.AtomicOperation;
  /** What the transaction resolves to once `op` committed. */
  readonly result: R;
}

/** One open Deno KV database shared by the domain stores, with its clock and write queue. */
export class KvCore {
  /** The underlying database (backup/restore and the mirror publisher use it directly). */
  readonly kv: Deno.Kv;
  /** The store's clock, ms since the epoch (tests move it by hand). */
  readonly now: () => number;
  #closed = false;
  #writeTail: Promise<unknown> = Promise.resolve();

  /** Wraps an open database; `now` defaults to `Date.now`. */
  constructor(kv: Deno.Kv, now: () => number = Date.now) {
    this.kv = kv;
    this.now = now;
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

  /**
   * An atomic operation that counts as one committed write and fails while a backup holds the
   * lock (the backup then sees a store that no commit can change under it).
   */
  atomic(): Deno.AtomicOperation {
    return this.kv.atomic().check({ key: BACKUP_LOCK_KEY, versionstamp: null }).sum(WRITES_KEY, 1n);
  }

  /**
   * Runs `attempt` until its operation commits. A commit that fails because a backup holds the
   * lock waits for the lock; any other failure (a checked key moved) retries at once, at most
   * {@linkcode MAX_RETRIES} times. `attempt` may return no operation to finish without writing.
   */
  transact<R>(attempt: () => Promise<Attempt<R>>): Promise<R> {
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

  /** One blind commit of the mutations `mutate` adds. */
  async write(mutate: (op: Deno.AtomicOperation) => void): Promise<void> {
    await this.transact(() => {
      const op = this.atomic();
      mutate(op);
      return Promise.resolve({ op, result: undefined });
    });
  }

  /** Stores `value` (encoded before the commit is queued) under `key`. */
  async set(key: Deno.KvKey, value: unknown, options: SetOptions = {}): Promise<void> {
    const text = encodeValue(value);
    const expiry = options.expireIn === undefined ? undefined : { expireIn: options.expireIn };
    await this.write((op) => op.set(key, text, expiry));
  }

  /** The value under `key`, or undefined when there is none. */
  async get<T>(key: Deno.KvKey): Promise<T | undefined> {
    const entry = await this.kv.get<string>(key);
    return entry.value === null ? undefined : decodeValue<T>(entry.value);
  }

  /** The values under `keys`, in order (undefined where missing); any number of keys. */
  async getMany<T>(keys: readonly Deno.KvKey[]): Promise<(T | undefined)[]> {
    const out: (T | undefined)[] = [];
    for (let i = 0; i < keys.length; i += GET_MANY_LIMIT) {
      const entries = await this.kv.getMany<string[]>(keys.slice(i, i + GET_MANY_LIMIT));
      for (const e of entries) out.push(e.value === null ? undefined : decodeValue<T>(e.value));
    }
    return out;
  }

  /** Every value under `prefix` in key order, from `start` on when given. */
  async list<T>(prefix: Deno.KvKey, start?: Deno.KvKey): Promise<T[]> {
    const out: T[] = [];
    const selector = start ? { prefix, start } : { prefix };
    for await (const e of this.kv.list<string>(selector)) out.push(decodeValue<T>(e.value));
    return out;
  }

  /** Every value under `prefix`, by the last part of its key (as a string), in key order. */
  async entries<T>(prefix: Deno.KvKey): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    for await (const e of this.kv.list<string>({ prefix })) {
      out.set(String(e.key[e.key.length - 1]), decodeValue<T>(e.value));
    }
    return out;
  }

  /** The last part of every key under `prefix` (as a string), in key order; values unread. */
  async lastKeyParts(prefix: Deno.KvKey): Promise<string[]> {
    const out: string[] = [];
    for await (const e of this.kv.list({ prefix })) out.push(String(e.key[e.key.length - 1]));
    return out;
  }

  /**
   * Read-modify-write of one key, retried while another writer got there first. `change` sees
   * the current value and returns the new one (`value` absent → nothing written), its result,
   * and optionally more mutations for the same commit.
   */
  update<T, R>(
    key: Deno.KvKey,
    change: (current: T | undefined) => UpdateStep<T, R>,
  ): Promise<R> {
    return this.transact(async () => {
      const entry = await this.kv.get<string>(key);
      const current = entry.value === null ? undefined : decodeValue<T>(entry.value);
      const next = change(current);
      if (next.value === undefined) return { result: next.result };
      const op = this.atomic().check(entry).set(key, encodeValue(next.value));
      next.also?.(op);
      return { op, result: next.result };
    });
  }
}

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
