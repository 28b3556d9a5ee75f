/**
 * Each signed-in user's list of saved workers, and the reverse index of who saved a worker hash.
 * The raw worker name is never stored: only its SHA-256 and a censored display name.
 *
 * @module
 */

import { censorWorker } from "../status/censor.ts";
import { workerNameHash } from "../status/worker_hash.ts";
import { encodeValue } from "./codec.ts";
import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** Most workers one user may save. */
export const MAX_SAVED_WORKERS = 64;

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

/** What {@linkcode SavedWorkerStore.save} did. */
export type SaveWorkerResult = "saved" | "exists" | "full";

/** Users' saved workers. */
export interface SavedWorkerStore {
  /** The user's saved workers, in the order saved. */
  list(userId: string): Promise<SavedWorker[]>;
  /**
   * Saves a worker by its full name: only its SHA-256 and a censored display name are stored.
   * At most {@linkcode MAX_SAVED_WORKERS} per user.
   */
  save(userId: string, workerName: string): Promise<SaveWorkerResult>;
  /** Removes a saved worker by hash (and its notifier state); true when it was on the list. */
  remove(userId: string, hash: string): Promise<boolean>;
  /** Turns one saved worker's notifications on or off; false when it is not saved. */
  setNotify(userId: string, hash: string, enabled: boolean): Promise<boolean>;
  /** Users who saved `hash`. */
  usersWhoSaved(hash: string): Promise<string[]>;
}

/**
 * {@linkcode SavedWorkerStore} on Deno KV: the list at `["v1","saved",userId]` and the reverse
 * index `["v1","saved-by",hash,userId]`, always changed in the same commit.
 */
export class KvSavedWorkerStore implements SavedWorkerStore {
  readonly #core: KvCore;

  /** A saved-worker store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** The user's saved workers, in the order saved. */
  async list(userId: string): Promise<SavedWorker[]> {
    return (await this.#core.get<SavedWorker[]>(keys.saved(userId))) ?? [];
  }

  /**
   * Saves a worker by its full name: only its SHA-256 and a censored display name are stored.
   * At most {@linkcode MAX_SAVED_WORKERS} per user.
   */
  save(userId: string, workerName: string): Promise<SaveWorkerResult> {
    const hash = workerNameHash(workerName);
    const name = censorWorker(workerName);
    return this.#core.update<SavedWorker[], SaveWorkerResult>(keys.saved(userId), (list = []) => {
      if (list.some((w) => w.hash === hash)) return { result: "exists" };
      if (list.length >= MAX_SAVED_WORKERS) return { result: "full" };
      const worker: SavedWorker = {
        hash,
        name,
        notifyEnabled: true,
        savedAt: new Date(this.#core.now()),
      };
      return {
        value: [...list, worker],
        result: "saved",
        also: (op) => op.set(keys.savedBy(hash, userId), encodeValue(true)),
      };
    });
  }

  /** Removes a saved worker by hash (and its notifier state); true when it was on the list. */
  remove(userId: string, hash: string): Promise<boolean> {
    const h = hash.toLowerCase();
    return this.#core.update<SavedWorker[], boolean>(keys.saved(userId), (list = []) => {
      if (!list.some((w) => w.hash === h)) return { result: false };
      return {
        value: list.filter((w) => w.hash !== h),
        result: true,
        also: (op) => op.delete(keys.savedBy(h, userId)).delete(keys.notifyState(userId, h)),
      };
    });
  }

  /** Turns one saved worker's notifications on or off; false when it is not saved. */
  setNotify(userId: string, hash: string, enabled: boolean): Promise<boolean> {
    const h = hash.toLowerCase();
    return this.#core.update<SavedWorker[], boolean>(keys.saved(userId), (list = []) => {
      const i = list.findIndex((w) => w.hash === h);
      if (i < 0) return { result: false };
      const next = list.slice();
      next[i] = { ...list[i], notifyEnabled: enabled };
      return { value: next, result: true };
    });
  }

  /** Users who saved `hash`. */
  async usersWhoSaved(hash: string): Promise<string[]> {
    return await this.#core.lastKeyParts(keys.savedByHash(hash));
  }
}
