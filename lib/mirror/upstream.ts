/**
 * Pulls an upstream pool's public JSON API into `MirrorSnapshots` with `fetch`: each row of the
 * endpoint table (`lib/status/endpoints.ts`) at its widest variant, on the upstream's default
 * cadence (10 s overview/pool/node/server, 5 s pool hashrate, 3 s blocks), each by its own
 * periodic task. A failed pull keeps the last good payload and its times, and marks the mirror
 * stale until the next success. Web-standard APIs only (fetch, AbortSignal, timers): it runs on
 * Deno Deploy.
 *
 * @module
 */

import type { WorkerLookup, WorkerLookupView } from "../../routes/pages/lookup.ts";
import {
  DEFAULT_INTERVALS,
  perSnapshot,
  SNAPSHOT_NAMES,
  type SnapshotName,
} from "../status/endpoints.ts";
import { Periodic } from "../periodic.ts";
import { type Clock, systemClock } from "../status/snapshots.ts";
import { MirrorSnapshots } from "./store.ts";

/** The upstream path pulled for each snapshot: the table's path and widest query. */
export const UPSTREAM_PATHS: Readonly<Record<SnapshotName, string>> = perSnapshot((e) =>
  e.path + e.widestQuery
);

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
  readonly #timeoutMs: number;
  readonly #onError: (name: SnapshotName, error: unknown) => void;
  readonly #failing = new Set<SnapshotName>();
  readonly #tasks: Record<SnapshotName, Periodic<boolean>>;

  /** A puller that does nothing until {@linkcode start} or {@linkcode pull}. */
  constructor(options: UpstreamPullerOptions) {
    this.#base = options.upstreamUrl.replace(/\/+$/, "");
    this.store = options.store ?? new MirrorSnapshots();
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    const clock: Clock = options.clock ?? systemClock;
    const intervals = { ...DEFAULT_INTERVALS, ...options.intervals };
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    const onError = options.onError ?? (() => {});
    this.#onError = onError;
    this.#tasks = perSnapshot(({ name }) =>
      new Periodic<boolean>({
        run: () => this.#pullOne(name),
        intervalMs: intervals[name],
        timers: clock,
        onError: (error) => onError(name, error),
      })
    );
  }

  /** True while the latest pull of any endpoint failed. */
  stale(): boolean {
    return this.#failing.size > 0;
  }

  /** Pulls every endpoint now and keeps each on its timer; resolves when the first pulls settle. */
  async start(): Promise<void> {
    await Promise.all(SNAPSHOT_NAMES.map((name) => this.#tasks[name].start()));
  }

  /** Stops every timer at once, then resolves when the pulls in flight have settled. */
  async stop(): Promise<void> {
    await Promise.all(SNAPSHOT_NAMES.map((name) => this.#tasks[name].stop()));
  }

  /**
   * Pulls `name` (or every endpoint) now and restarts its timer; resolves true when every pull
   * succeeded. A pull already in flight is joined. Never rejects.
   */
  async pull(name?: SnapshotName): Promise<boolean> {
    const names = name === undefined ? SNAPSHOT_NAMES : [name];
    const ok = await Promise.all(names.map((n) => this.#tasks[n].trigger()));
    return ok.every((v) => v === true);
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
