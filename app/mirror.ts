/**
 * The status-only mirror: the public `/api/*` endpoints and the pages of a pool, served from an
 * upstream pool's API (`UPSTREAM_URL`) or from a shared Deno KV store (`KV_URL`). No Stratum, no
 * node, no authenticated routes (they answer 404), no file writes: it runs on Deno Deploy as is.
 *
 * Environment: `UPSTREAM_URL` or `KV_URL` (`default` = the platform's KV, else a path or URL),
 * `PORT` (8080; 0 = any free port), `LISTEN_HOST` (0.0.0.0; not `HOSTNAME`, which shells and
 * containers set to the machine's own name), `BRAND_NAME`, `NETWORK`, `STRATUM_HOST`,
 * `STRATUM_PORT`, `STRATUM_TLS_PORT`, `POOL_FEE_PERCENT`.
 *
 * @module
 */

import { createStatusApp, type Routes } from "../routes/app.ts";
import { createPageRoutes } from "../routes/pages.ts";
import type { PageSite, WorkerLookup } from "../routes/pages.ts";
import type { SnapshotName } from "../lib/status/endpoints.ts";
import type { JsonSnapshots } from "../lib/status/snapshots.ts";
import { KvSnapshotReader } from "../lib/mirror/kv.ts";
import { UpstreamPuller, upstreamWorkerLookup } from "../lib/mirror/upstream.ts";

/** Where the mirror gets its snapshots. */
export type MirrorSource =
  | { readonly kind: "upstream"; readonly url: string }
  | { readonly kind: "kv"; readonly url: string };

/** Settings of a mirror. */
export interface MirrorConfig {
  /** Snapshot source. */
  readonly source: MirrorSource;
  /** Listen port. */
  readonly port: number;
  /** Listen address. */
  readonly hostname: string;
  /** What the pages show about the pool. */
  readonly site: PageSite;
}

/** A configuration problem in the environment. */
export class MirrorConfigError extends Error {
  /** The variable at fault. */
  readonly variable: string;
  /** An error about `variable`. */
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "MirrorConfigError";
    this.variable = variable;
  }
}

function port(env: (name: string) => string | undefined, name: string): number | undefined {
  const raw = env(name);
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new MirrorConfigError(name, `not a port number: ${raw}`);
  }
  return n;
}

/** The mirror's settings from environment variables (`env` = `Deno.env.get`). */
export function mirrorConfigFromEnv(env: (name: string) => string | undefined): MirrorConfig {
  const upstream = env("UPSTREAM_URL");
  const kvUrl = env("KV_URL");
  let source: MirrorSource;
  if (upstream) {
    let url: URL;
    try {
      url = new URL(upstream);
    } catch {
      throw new MirrorConfigError("UPSTREAM_URL", `not a URL: ${upstream}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new MirrorConfigError("UPSTREAM_URL", "must be http:// or https://");
    }
    source = { kind: "upstream", url: url.origin + url.pathname.replace(/\/+$/, "") };
  } else if (kvUrl) {
    source = { kind: "kv", url: kvUrl };
  } else {
    throw new MirrorConfigError("UPSTREAM_URL", "set UPSTREAM_URL (or KV_URL)");
  }
  const fee = env("POOL_FEE_PERCENT");
  const feeNum = fee ? Number(fee) : undefined;
  if (feeNum !== undefined && !(feeNum >= 0 && feeNum < 100)) {
    throw new MirrorConfigError("POOL_FEE_PERCENT", `not a percentage: ${fee}`);
  }
  const upstreamHost = source.kind === "upstream" ? new URL(source.url).hostname : undefined;
  const site: PageSite = {
    brandName: env("BRAND_NAME") || "denopool",
    network: env("NETWORK") || undefined,
    stratumHost: env("STRATUM_HOST") || upstreamHost,
    stratumPort: port(env, "STRATUM_PORT") ?? 3333,
    stratumTlsPort: port(env, "STRATUM_TLS_PORT"),
    poolFeePercent: feeNum,
    mirrorOf: source.kind === "upstream" ? source.url : "a shared store",
  };
  return {
    source,
    port: port(env, "PORT") ?? 8080,
    hostname: env("LISTEN_HOST") || "0.0.0.0",
    site,
  };
}

/** Options of {@linkcode createMirror}. */
export interface CreateMirrorOptions {
  /** `fetch` for the upstream (default: the global one). */
  readonly fetch?: typeof fetch;
  /** An open KV store (default: `Deno.openKv` of the configured URL). */
  readonly kv?: Deno.Kv;
  /** Told about every failed pull or read. */
  readonly onError?: (name: SnapshotName, error: unknown) => void;
}

/** A mirror ready to serve: its app, snapshots and lifecycle. */
export interface Mirror {
  /** The app (public API + pages; no auth, no metrics). */
  readonly app: Routes;
  /** What the app serves. */
  readonly snapshots: JsonSnapshots;
  /** True while the source is failing. */
  stale(): boolean;
  /** Pulls or reads everything now and keeps doing so on the cadences. */
  start(): Promise<void>;
  /**
   * Stops the timers, waits for the pulls or reads in flight, and closes a KV store the mirror
   * opened.
   */
  stop(): Promise<void>;
}

/** Builds a mirror from its settings. */
export async function createMirror(
  config: MirrorConfig,
  options: CreateMirrorOptions = {},
): Promise<Mirror> {
  let snapshots: JsonSnapshots;
  let stale: () => boolean;
  let start: () => Promise<void>;
  let stop: () => Promise<void>;
  let workers: WorkerLookup | undefined;
  if (config.source.kind === "upstream") {
    const puller = new UpstreamPuller({
      upstreamUrl: config.source.url,
      fetch: options.fetch,
      onError: options.onError,
    });
    snapshots = puller.store;
    stale = () => puller.stale();
    start = () => puller.start();
    stop = () => puller.stop();
    workers = upstreamWorkerLookup(config.source.url, { fetch: options.fetch });
  } else {
    const url = config.source.url;
    const kv = options.kv ?? await Deno.openKv(url === "default" ? undefined : url);
    const reader = new KvSnapshotReader({ kv, onError: options.onError });
    snapshots = reader.store;
    stale = () => reader.stale();
    start = () => reader.start();
    stop = async () => {
      await reader.stop();
      if (!options.kv) kv.close();
    };
  }
  const pages = await createPageRoutes({ snapshots, site: config.site, workers, stale });
  // Titled as the pool titles its own (`<brand> JSON API`), so the same brand gives the same bytes.
  const app = createStatusApp({
    snapshots,
    pages,
    openApi: { title: `${config.site.brandName} JSON API` },
  });
  return { app, snapshots, stale, start, stop };
}
