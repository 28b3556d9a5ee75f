/**
 * The notification outbox: every notice waiting in a channel's queue (`lib/notify/queue.ts`) is
 * written here when it is queued and deleted once it was delivered (or given up), so notices
 * queued when the pool stops are sent after it starts again. The item's shape belongs to the
 * queue; the store keeps it as given. Ids sort in the order the notices were queued.
 *
 * @module
 */

import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** Stored queued notices, by channel and id. */
export interface NoticeQueueStore {
  /** Stores (or replaces) one queued item of `channel`. */
  put<T>(channel: string, id: string, item: T): Promise<void>;
  /** Removes one queued item; removing a missing one is not an error. */
  delete(channel: string, id: string): Promise<void>;
  /** Every queued item of `channel`, oldest id first. */
  list<T>(channel: string): Promise<T[]>;
}

/** {@linkcode NoticeQueueStore} on Deno KV: `["v1","notice-queue",channel,id]`. */
export class KvNoticeQueueStore implements NoticeQueueStore {
  readonly #core: KvCore;

  /** An outbox on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** Stores (or replaces) one queued item of `channel`. */
  async put<T>(channel: string, id: string, item: T): Promise<void> {
    await this.#core.set(keys.queuedNotice(channel, id), item);
  }

  /** Removes one queued item; removing a missing one is not an error. */
  async delete(channel: string, id: string): Promise<void> {
    await this.#core.write((op) => op.delete(keys.queuedNotice(channel, id)));
  }

  /** Every queued item of `channel`, oldest id first. */
  async list<T>(channel: string): Promise<T[]> {
    return await this.#core.list<T>(keys.queuedNotices(channel));
  }
}
