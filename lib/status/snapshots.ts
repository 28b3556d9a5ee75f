/**
 * The snapshot cache behind the public JSON API. Each endpoint is rebuilt on its own timer from
 * `StatusSources`, censored (`views.ts`), and serialised once per refresh; every request in between
 * is answered with the same bytes. Each snapshot carries `updatedAt`/`nextUpdateAt` for the
 * `X-JSON-Updated-At` / `X-JSON-Next-Update-At` headers.
 *
 * Variants are serialised lazily and at most once per refresh: `/api/pool-hashrate` with history,
 * and `/api/blocks?limit=n`, whose entries are serialised one by one at refresh time and joined per
 * limit on first use (at most 100 joins per refresh, no JSON work on later requests).
 *
 * A failed or timed-out rebuild keeps the previous bytes (their `updatedAt` tells how old they are)
 * and tries again at the next tick; before the first success an endpoint has no snapshot.
 *
 * The snapshots are the rows of the endpoint table (`endpoints.ts`); each one is rebuilt by its own
 * {@linkcode Periodic} task (`lib/periodic.ts`).
 *
 * @module
 */

import { Periodic } from "../periodic.ts";
import {
  DEFAULT_INTERVALS,
  MAX_BLOCKS_LIMIT,
  perSnapshot,
  SNAPSHOT_ENDPOINTS,
  type SnapshotName,
} from "./endpoints.ts";
import type { HashrateSample, StatusSources, StatusStatic } from "./sources.ts";
import { type SystemMetrics, SystemSampler } from "./system.ts";
import {
  buildFoundBlock,
  buildHashrateHistory,
  buildNode,
  buildOverview,
  buildPoolHashrate,
  buildPoolPage,
  buildServer,
  buildWidget,
  DEFAULT_LIMITS,
  type OverviewLimits,
} from "./views.ts";

/** Time and timers, injectable for tests. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds; returns an opaque handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a pending `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/** One pre-serialised JSON payload and its cache times (ms since the epoch). */
export interface CachedJson {
  /** The UTF-8 JSON bytes, shared by every response until the next refresh. Do not mutate. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** When the payload was built. */
  readonly updatedAt: number;
  /** When the next rebuild is due. */
  readonly nextUpdateAt: number;
}

/**
 * What the routes read: the latest payload of each public endpoint, or `undefined` before the
 * first build. The live pool's {@linkcode SnapshotCache} implements it; so can a status mirror.
 */
export interface JsonSnapshots {
  /** `/api/overview`. */
  overview(): CachedJson | undefined;
  /** `/api/pool-page`. */
  poolPage(): CachedJson | undefined;
  /** `/api/node`. */
  node(): CachedJson | undefined;
  /** `/api/server`. */
  server(): CachedJson | undefined;
  /** `/api/pool-hashrate`, with `pool_hashrate_history` when `includeHistory`. */
  poolHashrate(includeHistory: boolean): CachedJson | undefined;
  /** `/api/blocks`, the `limit` (1..100) newest blocks. */
  blocks(limit: number): CachedJson | undefined;
  /** `/api/widget`. */
  widget(): CachedJson | undefined;
}

export { DEFAULT_INTERVALS, type SnapshotName } from "./endpoints.ts";

/** A stored snapshot and the bodies derived from it (built on first use, dropped with it). */
export interface SnapshotEntry extends CachedJson {
  /** Derived bodies by key: the other `/api/pool-hashrate` variant, block lists per limit. */
  readonly variants: Map<string | number, Uint8Array<ArrayBuffer>>;
}

/**
 * {@linkcode JsonSnapshots} over a table of entries by name, shared by the live cache and a status
 * mirror: the four single-body endpoints answer with their stored entry; the two endpoints with
 * variants derive them once per entry with {@linkcode SnapshotTable.variant}.
 */
export abstract class SnapshotTable<E extends SnapshotEntry> implements JsonSnapshots {
  /** The latest entry of each endpoint that has one. */
  protected readonly entries: Map<SnapshotName, E> = new Map();

  /** `/api/overview`. */
  overview(): CachedJson | undefined {
    return this.entries.get("overview");
  }

  /** `/api/pool-page`. */
  poolPage(): CachedJson | undefined {
    return this.entries.get("poolPage");
  }

  /** `/api/node`. */
  node(): CachedJson | undefined {
    return this.entries.get("node");
  }

  /** `/api/server`. */
  server(): CachedJson | undefined {
    return this.entries.get("server");
  }

  /** `/api/widget`. */
  widget(): CachedJson | undefined {
    return this.entries.get("widget");
  }

  /** `/api/pool-hashrate`, with `pool_hashrate_history` when `includeHistory`. */
  abstract poolHashrate(includeHistory: boolean): CachedJson | undefined;

  /** `/api/blocks`, the `limit` newest blocks. */
  abstract blocks(limit: number): CachedJson | undefined;

  /** The body `build` makes from `entry`, built on first use under `key` and kept with the entry. */
  protected static variant(
    entry: SnapshotEntry,
    key: string | number,
    build: () => Uint8Array<ArrayBuffer>,
  ): CachedJson {
    let body = entry.variants.get(key);
    if (!body) {
      body = build();
      entry.variants.set(key, body);
    }
    return { body, updatedAt: entry.updatedAt, nextUpdateAt: entry.nextUpdateAt };
  }

  /** How many of `available` blocks a `limit` asks for: clamped to 1..`max`, junk counts as 1. */
  protected static blockCount(limit: number, max: number, available: number): number {
    return Math.min(Math.max(1, Math.trunc(limit) || 1), max, available);
  }
}

/** Options of {@linkcode SnapshotCache}. */
export interface SnapshotCacheOptions {
  /** Raw pool data. */
  readonly sources: StatusSources;
  /** Settings from configuration. */
  readonly statics: StatusStatic;
  /** Clock and timers (default: the real ones). */
  readonly clock?: Clock;
  /** Refresh period per endpoint (ms); missing ones use {@linkcode DEFAULT_INTERVALS}. */
  readonly intervals?: Partial<Record<SnapshotName, number>>;
  /** List sizes of the overview and pool page. */
  readonly limits?: OverviewLimits;
  /** Process/OS metrics for `/api/server` (default: a {@linkcode SystemSampler} on this process). */
  readonly system?: () => SystemMetrics;
  /** JSON serialiser (default `JSON.stringify`); injectable so tests can count serialisations. */
  readonly serialize?: (value: unknown) => string;
  /** Longest an async rebuild (node info, found blocks) may take before it counts as failed (ms). */
  readonly buildTimeoutMs?: number;
  /** Samples kept when the cache keeps the pool hashrate history itself (72 = 6 min at 5 s). */
  readonly historySlots?: number;
  /** Most blocks `/api/blocks` can return (100). */
  readonly maxBlocks?: number;
  /** Told about every failed rebuild (the cache itself never logs). */
  readonly onError?: (name: SnapshotName, error: unknown) => void;
}

/** An entry of {@linkcode SnapshotCache}: the built bytes and what their variants are made from. */
export interface CacheEntry extends SnapshotEntry {
  /** Moved on when a rebuild fails and the old bytes stay. */
  nextUpdateAt: number;
  /** What the variants are made from. */
  readonly extra?: unknown;
}

interface PoolHashrateExtra {
  readonly base: object;
  readonly history: readonly HashrateSample[];
}

/** Builds the public snapshots on timers and hands out their serialised bytes. */
export class SnapshotCache extends SnapshotTable<CacheEntry> {
  readonly #sources: StatusSources;
  readonly #statics: StatusStatic;
  readonly #clock: Clock;
  readonly #intervals: Record<SnapshotName, number>;
  readonly #limits: OverviewLimits;
  readonly #system: () => SystemMetrics;
  readonly #serialize: (value: unknown) => string;
  readonly #encoder = new TextEncoder();
  readonly #timeoutMs: number;
  readonly #historySlots: number;
  readonly #maxBlocks: number;
  readonly #onError: (name: SnapshotName, error: unknown) => void;
  readonly #tasks: Record<SnapshotName, Periodic<void>>;
  readonly #history: HashrateSample[] = [];

  /** A cache that builds nothing until {@linkcode start} or {@linkcode refresh}. */
  constructor(options: SnapshotCacheOptions) {
    super();
    this.#sources = options.sources;
    this.#statics = options.statics;
    this.#clock = options.clock ?? systemClock;
    this.#intervals = { ...DEFAULT_INTERVALS, ...options.intervals };
    this.#limits = options.limits ?? DEFAULT_LIMITS;
    if (options.system) {
      this.#system = options.system;
    } else {
      const sampler = new SystemSampler();
      this.#system = () => sampler.sample();
    }
    this.#serialize = options.serialize ?? JSON.stringify;
    this.#timeoutMs = options.buildTimeoutMs ?? 5_000;
    this.#historySlots = options.historySlots ?? 72;
    this.#maxBlocks = options.maxBlocks ?? MAX_BLOCKS_LIMIT;
    const onError = options.onError ?? (() => {});
    this.#onError = onError;
    this.#tasks = perSnapshot(({ name }) =>
      new Periodic<void>({
        run: () => this.#rebuild(name),
        intervalMs: this.#intervals[name],
        timers: this.#clock,
        onError: (error) => onError(name, error),
      })
    );
  }

  /** Builds every snapshot now and keeps each on its timer; resolves when the first builds settle. */
  async start(): Promise<void> {
    await Promise.all(SNAPSHOT_ENDPOINTS.map(({ name }) => this.#tasks[name].start()));
  }

  /**
   * Stops every timer at once, then resolves when the builds in flight have settled (they
   * schedule nothing).
   */
  async stop(): Promise<void> {
    await Promise.all(SNAPSHOT_ENDPOINTS.map(({ name }) => this.#tasks[name].stop()));
  }

  /**
   * Rebuilds `name` (or every snapshot) now, e.g. on a new block, and restarts its timer.
   * A rebuild already in flight is joined, not duplicated. Never rejects.
   */
  async refresh(name?: SnapshotName): Promise<void> {
    const names = name === undefined ? SNAPSHOT_ENDPOINTS.map((e) => e.name) : [name];
    await Promise.all(names.map((n) => this.#tasks[n].trigger()));
  }

  /** `/api/pool-hashrate`; the history variant is serialised on first use after each refresh. */
  poolHashrate(includeHistory: boolean): CachedJson | undefined {
    const entry = this.entries.get("poolHashrate");
    if (!entry || !includeHistory) return entry;
    return SnapshotCache.variant(entry, "history", () => {
      const { base, history } = entry.extra as PoolHashrateExtra;
      // The snapshot of this refresh with its history added (not a rebuild from live data).
      const points = buildHashrateHistory(history);
      return this.#encode(insertAfter(base, "pool_hashrate", "pool_hashrate_history", points));
    });
  }

  /** `/api/blocks`: the `limit` newest blocks (clamped to 1..maxBlocks); joined once per limit. */
  blocks(limit: number): CachedJson | undefined {
    const entry = this.entries.get("blocks");
    if (!entry) return undefined;
    const items = entry.extra as readonly string[];
    const n = SnapshotCache.blockCount(limit, this.#maxBlocks, items.length);
    return SnapshotCache.variant(
      entry,
      n,
      () => this.#encoder.encode("[" + items.slice(0, n).join(",") + "]"),
    );
  }

  #encode(value: unknown): Uint8Array<ArrayBuffer> {
    return this.#encoder.encode(this.#serialize(value));
  }

  async #rebuild(name: SnapshotName): Promise<void> {
    const interval = this.#intervals[name];
    try {
      const built = await this.#build(name);
      const updatedAt = this.#clock.now();
      this.entries.set(name, {
        body: built.body,
        updatedAt,
        nextUpdateAt: updatedAt + interval,
        variants: new Map(),
        extra: built.extra,
      });
    } catch (error) {
      const entry = this.entries.get(name);
      if (entry) entry.nextUpdateAt = this.#clock.now() + interval;
      this.#onError(name, error);
    }
  }

  async #build(name: SnapshotName): Promise<{ body: Uint8Array<ArrayBuffer>; extra?: unknown }> {
    const sources = this.#sources;
    const statics = this.#statics;
    switch (name) {
      case "overview": {
        const started = performance.now();
        const view = buildOverview(sources, statics, this.#clock.now(), this.#limits);
        view.render_duration = Math.round((performance.now() - started) * 1e6);
        return { body: this.#encode(view) };
      }
      case "poolPage":
        return { body: this.#encode(buildPoolPage(sources, this.#limits)) };
      case "node": {
        const info = await this.#withTimeout(sources.nodeInfo());
        return { body: this.#encode(buildNode(info, statics)) };
      }
      case "server":
        return { body: this.#encode(buildServer(sources, this.#system())) };
      case "widget":
        return {
          body: this.#encode(buildWidget(sources, this.#clock.now(), this.#intervals.widget)),
        };
      case "poolHashrate": {
        const now = this.#clock.now();
        const base = buildPoolHashrate(sources, statics, now);
        const history = this.#historyAt(now, base.pool_hashrate, base.block_height);
        const extra: PoolHashrateExtra = { base, history };
        return { body: this.#encode(base), extra };
      }
      case "blocks": {
        const records = await this.#withTimeout(sources.foundBlocks(this.#maxBlocks));
        const items = records.slice(0, this.#maxBlocks).map((r) =>
          this.#serialize(buildFoundBlock(r))
        );
        return { body: this.#encoder.encode("[" + items.join(",") + "]"), extra: items };
      }
    }
  }

  /** The history to publish with this refresh; samples it when the sources keep none. */
  #historyAt(now: number, hashrate: number, height: number): readonly HashrateSample[] {
    if (this.#sources.hashrateHistory) return [...this.#sources.hashrateHistory()];
    const tipKnown = this.#sources.tip() !== undefined;
    this.#history.push(
      tipKnown ? { at: now, hashrate, blockHeight: height } : { at: now, hashrate },
    );
    if (this.#history.length > this.#historySlots) {
      this.#history.splice(0, this.#history.length - this.#historySlots);
    }
    return [...this.#history];
  }

  #withTimeout<T>(work: Promise<T>): Promise<T> {
    let handle: unknown;
    const timeout = new Promise<never>((_, reject) => {
      handle = this.#clock.setTimeout(
        () => reject(new Error(`no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    return Promise.race([work, timeout]).finally(() => this.#clock.clearTimeout(handle));
  }
}

/** A copy of `base` with `key: value` inserted right after `after` (keeps the documented order). */
function insertAfter(
  base: object,
  after: string,
  key: string,
  value: unknown,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) {
    out[k] = v;
    if (k === after) out[key] = value;
  }
  return out;
}
