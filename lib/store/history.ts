/**
 * Per-minute history: the pool's hashrate and worker count, and each saved worker's hashrate and
 * best share, kept 24 h (an hour more, as expiry is lazy). Writing a worker's minute also updates
 * what was last seen of it (when online, best share ever), in the same commit; that record does not
 * expire.
 *
 * @module
 */

import { encodeValue } from "./codec.ts";
import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** Minutes of pool and worker history kept (24 h). */
export const HISTORY_MINUTES = 1440;

/** Life of one history sample (ms): the window plus an hour. */
export const HISTORY_EXPIRE_MS = (HISTORY_MINUTES + 60) * 60_000;

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

/** Stored pool and worker history, and what was last seen of each worker hash. */
export interface HistoryStore {
  /** Stores one minute of pool history (kept for 24 h). */
  putPool(sample: PoolSample): Promise<void>;
  /** Pool history from `sinceMinute` on, oldest first. */
  pool(sinceMinute?: number): Promise<PoolSample[]>;
  /** Stores one minute of a worker's history and updates what was last seen of it, in one commit. */
  putWorker(hash: string, sample: WorkerSample, seenAt: Date): Promise<void>;
  /** A worker's history from `sinceMinute` on, oldest first. */
  worker(hash: string, sinceMinute?: number): Promise<WorkerSample[]>;
  /** What was last seen of each hash (missing ones are left out). */
  seen(hashes: readonly string[]): Promise<Map<string, WorkerSeen>>;
}

/**
 * {@linkcode HistoryStore} on Deno KV: `["v1","pool-history",minute]`,
 * `["v1","worker-history",hash,minute]` (both expiring) and `["v1","worker-seen",hash]`.
 */
export class KvHistoryStore implements HistoryStore {
  readonly #core: KvCore;

  /** A history store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** Stores one minute of pool history (kept for 24 h). */
  async putPool(sample: PoolSample): Promise<void> {
    await this.#core.set(keys.poolSample(sample.minute), sample, { expireIn: HISTORY_EXPIRE_MS });
  }

  /** Pool history from `sinceMinute` on, oldest first. */
  async pool(sinceMinute = 0): Promise<PoolSample[]> {
    return await this.#core.list<PoolSample>(keys.poolHistory, keys.poolSample(sinceMinute));
  }

  /** Stores one minute of a worker's history and updates what was last seen of it, in one commit. */
  async putWorker(hash: string, sample: WorkerSample, seenAt: Date): Promise<void> {
    await this.#core.update<WorkerSeen, void>(keys.workerSeen(hash), (seen) => ({
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
  async worker(hash: string, sinceMinute = 0): Promise<WorkerSample[]> {
    return await this.#core.list<WorkerSample>(
      keys.workerHistory(hash),
      keys.workerSample(hash, sinceMinute),
    );
  }

  /** What was last seen of each hash (missing ones are left out). */
  async seen(hashes: readonly string[]): Promise<Map<string, WorkerSeen>> {
    const values = await this.#core.getMany<WorkerSeen>(hashes.map((h) => keys.workerSeen(h)));
    const out = new Map<string, WorkerSeen>();
    values.forEach((v, i) => {
      if (v !== undefined) out.set(hashes[i], v);
    });
    return out;
  }
}
