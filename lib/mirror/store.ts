/**
 * The snapshots of a status-only mirror: the public JSON payloads pulled from elsewhere (an upstream
 * pool's API or a shared Deno KV store), served as `JsonSnapshots` so the same routes and pages
 * serve them. Each payload keeps the `updatedAt`/`nextUpdateAt` it was published with, so a mirror
 * whose source stops keeps answering with the original `X-JSON-Updated-At`.
 *
 * Only the widest variant of each endpoint is pulled (the endpoint table's `widestQuery`):
 * `/api/pool-hashrate?include_history=1` and `/api/blocks?limit=100`. The narrower ones are derived from them byte for byte: dropping
 * `pool_hashrate_history` from the parsed object, or keeping the first `limit` blocks, and
 * re-serialising with `JSON.stringify` gives the bytes the upstream would serve (its bodies are
 * `JSON.stringify` output, which parse → stringify reproduces exactly).
 *
 * @module
 */

import { MAX_BLOCKS_LIMIT, type SnapshotName } from "../status/endpoints.ts";
import { type CachedJson, type SnapshotEntry, SnapshotTable } from "../status/snapshots.ts";

/** Most blocks `/api/blocks` returns; the mirror pulls this many. */
export const MIRROR_BLOCKS: number = MAX_BLOCKS_LIMIT;

/** One pulled payload. */
export interface MirrorPayload {
  /** The JSON bytes as published. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** When the publisher built it (ms since the epoch). */
  readonly updatedAt: number;
  /** When the publisher meant to rebuild it (ms since the epoch). */
  readonly nextUpdateAt: number;
}

/** An entry of {@linkcode MirrorSnapshots}: a pulled payload and its parsed JSON. */
export interface MirrorEntry extends MirrorPayload, SnapshotEntry {
  /** The payload parsed, which the variants are made from. */
  readonly parsed: unknown;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The last good payload of each public endpoint, served as {@linkcode JsonSnapshots}. */
export class MirrorSnapshots extends SnapshotTable<MirrorEntry> {
  /**
   * Stores the payload of `name` (for `poolHashrate` the with-history body, for `blocks` the
   * 100-block body). Rejects bodies that are not JSON of the right shape, keeping the old one.
   */
  set(name: SnapshotName, payload: MirrorPayload): void {
    const parsed: unknown = JSON.parse(decoder.decode(payload.body));
    const shapeOk = name === "blocks"
      ? Array.isArray(parsed)
      : typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
    if (!shapeOk) throw new Error(`${name}: unexpected JSON shape`);
    if (!Number.isFinite(payload.updatedAt) || !Number.isFinite(payload.nextUpdateAt)) {
      throw new Error(`${name}: missing update times`);
    }
    this.entries.set(name, { ...payload, variants: new Map(), parsed });
  }

  /** The stored payload of `name` as it was pulled. */
  get(name: SnapshotName): MirrorPayload | undefined {
    return this.entries.get(name);
  }

  /** `/api/pool-hashrate`; without history it is the pulled body minus `pool_hashrate_history`. */
  poolHashrate(includeHistory: boolean): CachedJson | undefined {
    const entry = this.entries.get("poolHashrate");
    if (!entry || includeHistory) return entry;
    return MirrorSnapshots.variant(entry, "base", () => {
      const copy = { ...(entry.parsed as Record<string, unknown>) };
      delete copy.pool_hashrate_history;
      return encoder.encode(JSON.stringify(copy));
    });
  }

  /** `/api/blocks`: the first `limit` (1..100) of the pulled blocks. */
  blocks(limit: number): CachedJson | undefined {
    const entry = this.entries.get("blocks");
    if (!entry) return undefined;
    const items = entry.parsed as unknown[];
    const n = MirrorSnapshots.blockCount(limit, MIRROR_BLOCKS, items.length);
    if (n === items.length) return entry;
    return MirrorSnapshots.variant(
      entry,
      n,
      () => encoder.encode("[" + items.slice(0, n).map((b) => JSON.stringify(b)).join(",") + "]"),
    );
  }
}
