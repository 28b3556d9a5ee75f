/**
 * The Discord notifier's memory of each (user, saved worker) pair, so a restart neither forgets a
 * pending change nor repeats a notice. The state's shape belongs to the notifier
 * (`lib/discord/notifier.ts`); the store keeps it as given. Removing a saved worker drops its state
 * in the same commit (`saved_workers.ts`).
 *
 * @module
 */

import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** Stored notifier states, by user and worker hash. */
export interface NotifyStateStore {
  /** Notifier state of every saved worker of `userId`, by hash. */
  list<T>(userId: string): Promise<Map<string, T>>;
  /** Saves the notifier state of one saved worker. */
  put<T>(userId: string, hash: string, state: T): Promise<void>;
}

/** {@linkcode NotifyStateStore} on Deno KV: `["v1","notify-state",userId,hash]`. */
export class KvNotifyStateStore implements NotifyStateStore {
  readonly #core: KvCore;

  /** A notifier-state store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** Notifier state of every saved worker of `userId`, by hash. */
  async list<T>(userId: string): Promise<Map<string, T>> {
    return await this.#core.entries<T>(keys.notifyStates(userId));
  }

  /** Saves the notifier state of one saved worker. */
  async put<T>(userId: string, hash: string, state: T): Promise<void> {
    await this.#core.set(keys.notifyState(userId, hash), state);
  }
}
