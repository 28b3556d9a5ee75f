/**
 * Bans in force (worker names, payout addresses, `ip:` keys). Each entry expires from the store
 * when its ban ends, so a restart only ever reads bans still in force.
 *
 * @module
 */

import type { BanEntry } from "../pool/mod.ts";
import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** Stored bans. */
export interface BanStore {
  /** Stores a ban; it expires from the store when it ends (an ended one is not written). */
  put(entry: BanEntry): Promise<void>;
  /** Removes a ban. */
  delete(key: string): Promise<void>;
  /** Bans still in force, soonest expiry first. */
  list(): Promise<BanEntry[]>;
}

/** {@linkcode BanStore} on Deno KV: `["v1","ban",key]`, expiring with the ban. */
export class KvBanStore implements BanStore {
  readonly #core: KvCore;

  /** A ban store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** Stores a ban; it expires from the store when it ends (an ended one is not written). */
  async put(entry: BanEntry): Promise<void> {
    const left = entry.until - this.#core.now();
    if (left <= 0) return;
    await this.#core.set(keys.ban(entry.key), entry, { expireIn: left });
  }

  /** Removes a ban. */
  async delete(key: string): Promise<void> {
    await this.#core.write((op) => op.delete(keys.ban(key)));
  }

  /** Bans still in force, soonest expiry first. */
  async list(): Promise<BanEntry[]> {
    const now = this.#core.now();
    return (await this.#core.list<BanEntry>(keys.bans)).filter((b) => b.until > now)
      .sort((a, b) => a.until - b.until);
  }
}
