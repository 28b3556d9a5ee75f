/**
 * Pulls an upstream pool's public JSON API into `MirrorSnapshots` with `fetch`, each endpoint on
 * the upstream's own cadence (10 s overview/pool/node/server, 5 s pool hashrate, 3 s blocks). A
 * failed pull keeps the last good payload and its times, and marks the mirror stale until the
 * next success. Web-standard APIs only (fetch, AbortSignal, timers): it runs on Deno Deploy.
 *
 * @module
 */

import type { WorkerLookup, WorkerLookupView } from "../../routes/pages/lookup.ts";
import {
  type Clock,
  DEFAULT_INTERVALS,
  type SnapshotName,
  systemClock,
} from "../status/snapshots.ts";
import { MIRROR_BLOCKS, MirrorSnapshots } from "./store.ts";

/** The upstream path pulled for each snapshot. */
export const UPSTREAM_PATHS: Readonly<Record<SnapshotName, string>> = {
  overview: "/api/overview",
  poolPage: "/api/pool-page",
  node: "/api/node",
  server: "/api/server",
  poolHashrate: "/api/pool-hashrate?include_history=1",
  blocks: `/api/blocks?limit=${MIRROR_BLOCKS}`,
};

/** Options of {@linkcode UpstreamPuller}. */
export interface UpstreamPullerOptions {
  /** Base URL of the upstream pool's status site (`https://pool.example`). */
  readonly upstreamUrl: string;
  /** Where the payloads go (default: a new store). */
  readonly store?: MirrorSnapshots;
  /** `fetch` (default: the global one). */
  readonly fetch?: typeof fetch;
  /** Clock and timers. */
  readonly clock?: Clock;
  /** Pull period per endpoint (ms); missing ones use the upstream's defaults. */
  readonly intervals?: Partial<Record<SnapshotName, number>>;
  /** Longest one pull may take (ms, 5000). */
  readonly timeoutMs?: number;
  /** Told about every failed pull (the puller itself never logs). */
  readonly onError?: (name: SnapshotName, error: unknown) => void;
}

/** Parses an RFC3339 header value to ms, or NaN. */
function headerTime(response: Response, name: string): number {
  const value = response.headers.get(name);
  return value ? Date.parse(value) : NaN;
}

/** Keeps a {@linkcode MirrorSnapshots} filled from an upstream pool. */
export class UpstreamPuller {
  /** The pulled snapshots (serve these). */
  readonly store: MirrorSnapshots;
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #clock: Clock;
  readonly #intervals: Record<SnapshotName, number>;
  readonly #timeoutMs: number;
  readonly #onError: (name: SnapshotName, error: unknown) => void;
  readonly #failing = new Set<SnapshotName>();
  readonly #timers = new Map<SnapshotName, unknown>();
  readonly #inFlight = new Map<SnapshotName, Promise<boolean>>();
  #running = false;

  /** A puller that does nothing until {@linkcode start} or {@linkcode pull}. */
  constructor(options: UpstreamPullerOptions) {
    this.#base = options.upstreamUrl.replace(/\/+$/, "");
    this.store = options.store ?? new MirrorSnapshots();
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#clock = options.clock ?? systemClock;
    this.#intervals = { ...DEFAULT_INTERVALS, ...options.intervals };
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#onError = options.onError ?? (() => {});
  }

  /** True while the latest pull of any endpoint failed. */
  stale(): boolean {
    return this.#failing.size > 0;
  }

  /** Pulls every endpoint now and keeps each on its timer; resolves when the first pulls settle. */
  async start(): Promise<void> {
    this.#running = true;
    await this.pull();
  }

  /** Stops every timer (pulls in flight finish but schedule nothing). */
  stop(): void {
    this.#running = false;
    for (const handle of this.#timers.values()) this.#clock.clearTimeout(handle);
    this.#timers.clear();
  }

  /**
   * Pulls `name` (or every endpoint) now; resolves true when every pull succeeded. A pull already
   * in flight is joined. Never rejects.
   */
  pull(name?: SnapshotName): Promise<boolean> {
    if (name === undefined) {
      const names = Object.keys(UPSTREAM_PATHS) as SnapshotName[];
      return Promise.all(names.map((n) => this.pull(n))).then((ok) => ok.every(Boolean));
    }
    const pending = this.#inFlight.get(name);
    if (pending) return pending;
    const run = this.#pullOne(name).finally(() => {
      this.#inFlight.delete(name);
      this.#schedule(name);
    });
    this.#inFlight.set(name, run);
    return run;
  }

  async #pullOne(name: SnapshotName): Promise<boolean> {
    try {
      const response = await this.#fetch(this.#base + UPSTREAM_PATHS[name], {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: "follow",
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`upstream answered ${response.status}`);
      }
      const body = new Uint8Array(await response.arrayBuffer());
      this.store.set(name, {
        body,
        updatedAt: headerTime(response, "X-JSON-Updated-At"),
        nextUpdateAt: headerTime(response, "X-JSON-Next-Update-At"),
      });
      this.#failing.delete(name);
      return true;
    } catch (error) {
      this.#failing.add(name);
      this.#onError(name, error);
      return false;
    }
  }

  #schedule(name: SnapshotName): void {
    const old = this.#timers.get(name);
    if (old !== undefined) this.#clock.clearTimeout(old);
    this.#timers.delete(name);
    if (!this.#running) return;
    this.#timers.set(name, this.#clock.setTimeout(() => this.pull(name), this.#intervals[name]));
  }
}

/**
 * Worker lookup through the upstream's `/api/worker-lookup`, each answer kept for `ttlMs` (10 s)
 * in a small cache so a busy mirror does not multiply upstream requests.
 */
export function upstreamWorkerLookup(
  upstreamUrl: string,
  options: { fetch?: typeof fetch; ttlMs?: number; timeoutMs?: number; maxEntries?: number } = {},
): WorkerLookup {
  const base = upstreamUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const ttl = options.ttlMs ?? 10_000;
  const max = options.maxEntries ?? 256;
  const cache = new Map<string, { at: number; view: Promise<WorkerLookupView> }>();
  return {
    lookup(hash) {
      const now = Date.now();
      const hit = cache.get(hash);
      if (hit && now - hit.at < ttl) return hit.view;
      const view = (async () => {
        const response = await doFetch(`${base}/api/worker-lookup?hash=${hash}`, {
          headers: { accept: "application/json" },
          signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
        });
        if (!response.ok) {
          await response.body?.cancel();
          throw new Error(`upstream answered ${response.status}`);
        }
        const data = await response.json() as WorkerLookupView;
        if (data?.hash !== hash || !Array.isArray(data.connections)) {
          throw new Error("upstream lookup answer has the wrong shape");
        }
        return data;
      })();
      view.catch(() => cache.delete(hash));
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(hash, { at: now, view });
      return view;
    },
  };
}
