/**
 * The snapshots of a status-only mirror: the public JSON payloads pulled from elsewhere (an upstream
 * pool's API or a shared Deno KV store), served as `JsonSnapshots` so the same routes and pages
 * serve them. Each payload keeps the `updatedAt`/`nextUpdateAt` it was published with, so a mirror
 * whose source stops keeps answering with the original `X-JSON-Updated-At`.
 *
 * Only the two widest variants are pulled: `/api/pool-hashrate?include_history=1` and
 * `/api/blocks?limit=100`. The narrower ones are derived from them byte for byte: dropping
 * `pool_hashrate_history` from the parsed object, or keeping the first `limit` blocks, and
 * re-serialising with `JSON.stringify` gives the bytes the upstream would serve (its bodies are
 * `JSON.stringify` output, which parse → stringify reproduces exactly).
 *
 * @module
 */

import type { CachedJson, JsonSnapshots, SnapshotName } from "../status/snapshots.ts";

/** Most blocks `/api/blocks` returns; the mirror pulls this many. */
export const MIRROR_BLOCKS = 100;

/** One pulled payload. */
export interface MirrorPayload {
  /** The JSON bytes as published. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** When the publisher built it (ms since the epoch). */
  readonly updatedAt: number;
  /** When the publisher meant to rebuild it (ms since the epoch). */
  readonly nextUpdateAt: number;
}

interface Entry extends MirrorPayload {
  readonly variants: Map<string | number, Uint8Array<ArrayBuffer>>;
  parsed?: unknown;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The last good payload of each public endpoint, served as {@linkcode JsonSnapshots}. */
export class MirrorSnapshots implements JsonSnapshots {
  readonly #entries = new Map<SnapshotName, Entry>();

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
    this.#entries.set(name, { ...payload, variants: new Map(), parsed });
  }

  /** The stored payload of `name` as it was pulled. */
  get(name: SnapshotName): MirrorPayload | undefined {
    return this.#entries.get(name);
  }

  /** `/api/overview`. */
  overview(): CachedJson | undefined {
    return this.#entries.get("overview");
  }

  /** `/api/pool-page`. */
  poolPage(): CachedJson | undefined {
    return this.#entries.get("poolPage");
  }

  /** `/api/node`. */
  node(): CachedJson | undefined {
    return this.#entries.get("node");
  }

  /** `/api/server`. */
  server(): CachedJson | undefined {
    return this.#entries.get("server");
  }

  /** `/api/pool-hashrate`; without history it is the pulled body minus `pool_hashrate_history`. */
  poolHashrate(includeHistory: boolean): CachedJson | undefined {
    const entry = this.#entries.get("poolHashrate");
    if (!entry || includeHistory) return entry;
    let body = entry.variants.get("base");
    if (!body) {
      const copy = { ...(entry.parsed as Record<string, unknown>) };
      delete copy.pool_hashrate_history;
      body = encoder.encode(JSON.stringify(copy));
      entry.variants.set("base", body);
    }
    return { body, updatedAt: entry.updatedAt, nextUpdateAt: entry.nextUpdateAt };
  }

  /** `/api/blocks`: the first `limit` (1..100) of the pulled blocks. */
  blocks(limit: number): CachedJson | undefined {
    const entry = this.#entries.get("blocks");
    if (!entry) return undefined;
    const items = entry.parsed as unknown[];
    const n = Math.min(Math.max(1, Math.trunc(limit) || 1), MIRROR_BLOCKS, items.length);
    if (n === items.length) return entry;
    let body = entry.variants.get(n);
    if (!body) {
      body = encoder.encode("[" + items.slice(0, n).map((b) => JSON.stringify(b)).join(",") + "]");
      entry.variants.set(n, body);
    }
    return { body, updatedAt: entry.updatedAt, nextUpdateAt: entry.nextUpdateAt };
  }
}
