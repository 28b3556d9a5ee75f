/**
 * Signed-in users as the pool has seen them: first and latest authenticated request, and a count.
 *
 * @module
 */

import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** A signed-in user as seen by the pool. */
export interface UserSeen {
  /** First sign-in. */
  readonly firstSeen: Date;
  /** Latest authenticated request. */
  readonly lastSeen: Date;
  /** Authenticated requests counted. */
  readonly count: number;
}

/** Stored sightings of signed-in users. */
export interface UserStore {
  /** Records an authenticated request of `userId`. */
  touch(userId: string): Promise<void>;
  /** First/last seen of a user, if ever signed in. */
  get(userId: string): Promise<UserSeen | undefined>;
}

/** {@linkcode UserStore} on Deno KV: `["v1","user",userId]`. */
export class KvUserStore implements UserStore {
  readonly #core: KvCore;

  /** A user store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** Records an authenticated request of `userId`. */
  touch(userId: string): Promise<void> {
    const now = new Date(this.#core.now());
    return this.#core.update<UserSeen, void>(keys.user(userId), (seen) => ({
      value: {
        firstSeen: seen?.firstSeen ?? now,
        lastSeen: now,
        count: (seen?.count ?? 0) + 1,
      },
      result: undefined,
    }));
  }

  /** First/last seen of a user, if ever signed in. */
  async get(userId: string): Promise<UserSeen | undefined> {
    return await this.#core.get<UserSeen>(keys.user(userId));
  }
}
