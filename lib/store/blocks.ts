/**
 * Found blocks, as records only: the block bytes stay in the file journal of
 * `lib/pool/blocks.ts` (KV values are limited to 64 KiB, a block is not).
 *
 * @module
 */

import type { FoundBlockRecord } from "../pool/mod.ts";
import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** Stored found-block records. */
export interface BlockStore {
  /** Records (or updates) a found block; the newest status wins. */
  put(record: FoundBlockRecord): Promise<void>;
  /** Found blocks, highest first, at most `limit`. */
  list(limit?: number): Promise<FoundBlockRecord[]>;
}

/** {@linkcode BlockStore} on Deno KV: `["v1","block",hash]`. */
export class KvBlockStore implements BlockStore {
  readonly #core: KvCore;

  /** A block store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** Records (or updates) a found block; the newest status wins. */
  async put(record: FoundBlockRecord): Promise<void> {
    await this.#core.set(keys.block(record.hash), record);
  }

  /** Found blocks, highest first, at most `limit`. */
  async list(limit = Number.POSITIVE_INFINITY): Promise<FoundBlockRecord[]> {
    const out = await this.#core.list<FoundBlockRecord>(keys.blocks);
    out.sort((a, b) => b.height - a.height || b.foundAt - a.foundAt);
    return out.slice(0, limit);
  }
}
