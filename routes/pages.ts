/**
 * The status web UI as a Hono app: server-rendered pages from the same snapshots the JSON API
 * serves, the static files they use (`/static/*`, all local: no CDN; `304` to a matching
 * `If-None-Match`), the worker lookup (`/worker`, `/worker/sha256?hash=`,
 * `/api/worker-lookup?hash=`), and security headers on every answer (nosniff, no referrer, no
 * framing) plus a CSP without inline scripts or styles on every page, all `hono/secure-headers`
 * (`middleware.ts`).
 *
 * Mount it as the `pages` of `createStatusApp`. It reads `JsonSnapshots` only, so a live pool and a
 * status mirror serve the same pages.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { isStale } from "../static/format.js";
import type { CachedJson, JsonSnapshots } from "../lib/status/snapshots.ts";
import { rfc3339 } from "../lib/status/views.ts";
import { hostWithoutPort } from "../lib/status/host.ts";
import { BLOCKS_PAGE_LIMIT, BlocksPage, NodePage, PoolPage, ServerPage } from "./pages/details.tsx";
import { HelpPage } from "./pages/help.tsx";
import { parseWorkerHash, type WorkerLookup, type WorkerLookupView } from "./pages/lookup.ts";
import { OVERVIEW_BLOCKS, OverviewPage } from "./pages/overview.tsx";
import { clerkFrontendApi, SavedWorkersPage } from "./pages/saved_workers.tsx";
import type { ApiKey, PageContext, PageData, PageSite, StratumEndpoint } from "./pages/types.ts";
import { type LookupState, WorkerPage } from "./pages/worker.tsx";
import { pageContentSecurityPolicy, pageHeaders, revalidate } from "./middleware.ts";
import type { Routes } from "./routes.ts";

export type { PageSite, StratumEndpoint } from "./pages/types.ts";
export type { WorkerLookup, WorkerLookupView } from "./pages/lookup.ts";
export { sourcesWorkerLookup } from "./pages/lookup.ts";

/** Options of {@linkcode createPageRoutes}. */
export interface PageRoutesOptions {
  /** The snapshots the pages are rendered from (the ones the JSON API serves). */
  readonly snapshots: JsonSnapshots;
  /** Brand, network, Stratum ports, Clerk key. */
  readonly site: PageSite;
  /** Finds live workers by name hash; without it the lookup says it is unavailable. */
  readonly workers?: WorkerLookup;
  /** `--no-json`: no `/api/worker-lookup` (the page itself still works). */
  readonly noJson?: boolean;
  /** True while the data is known to be old (a mirror whose upstream fails). */
  readonly stale?: () => boolean;
  /** Leave `/saved-workers` to another module (the authenticated routes). */
  readonly withoutSavedWorkers?: boolean;
  /** Wall clock (ms); injectable for tests. */
  readonly now?: () => number;
}

/** Static files served under `/static/` and their content types. */
export const STATIC_FILES: Readonly<Record<string, string>> = {
  "app.css": "text/css; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "format.js": "text/javascript; charset=utf-8",
  "theme.js": "text/javascript; charset=utf-8",
  "worker.js": "text/javascript; charset=utf-8",
  "sha256.js": "text/javascript; charset=utf-8",
  "saved-workers.js": "text/javascript; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};

interface StaticFile {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
  readonly version: string;
}

/** Reads the static files next to this module (works on Deno Deploy: reads only). */
async function loadStatic(): Promise<Map<string, StaticFile>> {
  const out = new Map<string, StaticFile>();
  for (const [name, type] of Object.entries(STATIC_FILES)) {
    const body = await Deno.readFile(new URL(`../static/${name}`, import.meta.url));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
    const version = Array.from(digest.subarray(0, 5), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    out.set(name, { body, type, version });
  }
  return out;
}

const decoder = new TextDecoder();
const parsed = new WeakMap<Uint8Array, unknown>();

/** The parsed body of a snapshot; parsed once per snapshot body, not per request. */
function parse<T>(
  snapshot: CachedJson | undefined,
): { data: T; updatedAt: number; nextUpdateAt: number } | undefined {
  if (!snapshot) return undefined;
  let data = parsed.get(snapshot.body);
  if (data === undefined) {
    data = JSON.parse(decoder.decode(snapshot.body));
    parsed.set(snapshot.body, data);
  }
  return { data: data as T, updatedAt: snapshot.updatedAt, nextUpdateAt: snapshot.nextUpdateAt };
}

function stratumEndpoints(site: PageSite, requestHost: string | undefined): StratumEndpoint[] {
  const host = site.stratumHost ?? (requestHost ? hostWithoutPort(requestHost) : undefined);
  if (!host) return [];
  const out: StratumEndpoint[] = [];
  if (site.stratumPort !== undefined) {
    out.push({ url: `stratum+tcp://${host}:${site.stratumPort}`, tls: false });
  }
  if (site.stratumTlsPort !== undefined) {
    out.push({ url: `stratum+ssl://${host}:${site.stratumTlsPort}`, tls: true });
  }
  return out;
}

/** The status pages and their static files; mount as `pages` of `createStatusApp`. */
export async function createPageRoutes(options: PageRoutesOptions): Promise<Routes> {
  const files = await loadStatic();
  const now = options.now ?? (() => Date.now());
  const { snapshots, site } = options;
  const clerkOrigin = site.clerkPublishableKey
    ? clerkFrontendApi(site.clerkPublishableKey)
    : undefined;
  // Every HTML page gets the CSP (`page`); nothing else does: the CSP is about documents.
  const page: MiddlewareHandler = pageContentSecurityPolicy(clerkOrigin);
  const asset = (name: string) => `/static/${name}?v=${files.get(name)?.version ?? "0"}`;

  const gather = (keys: readonly ApiKey[], blocksLimit: number): PageData => {
    const data: PageData = {};
    for (const key of keys) {
      switch (key) {
        case "overview":
          data.overview = parse(snapshots.overview());
          break;
        case "pool":
          data.pool = parse(snapshots.poolPage());
          break;
        case "node":
          data.node = parse(snapshots.node());
          break;
        case "server":
          data.server = parse(snapshots.server());
          break;
        case "hashrate":
          data.hashrate = parse(snapshots.poolHashrate(true));
          break;
        case "blocks":
          data.blocks = parse(snapshots.blocks(blocksLimit));
          break;
        case "lookup":
          break;
      }
    }
    return data;
  };

  const context = (c: Context, data: PageData): PageContext => {
    const at = now();
    let stale = options.stale?.() ?? false;
    for (const snap of Object.values(data)) {
      const s = snap as { updatedAt: number; nextUpdateAt: number } | undefined;
      if (s && isStale(s.updatedAt, s.nextUpdateAt, at)) stale = true;
    }
    return {
      path: c.req.path,
      site,
      data,
      stratum: stratumEndpoints(site, c.req.header("host")),
      stale,
      now: at,
      asset,
    };
  };

  const html = async (c: Context, page: JSX.Element, status: 200 | 400 | 503 = 200) => {
    const body = "<!doctype html>" + (await page).toString();
    return c.body(body, status, {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-cache, no-store, must-revalidate",
    });
  };

  const app = new Hono();
  app.use("*", pageHeaders());

  app.get("/", page, (c) => {
    const ctx = context(c, gather(["overview", "hashrate", "blocks"], OVERVIEW_BLOCKS));
    return html(c, OverviewPage({ ctx }));
  });
  app.get("/pool", page, (c) => html(c, PoolPage({ ctx: context(c, gather(["pool"], 0)) })));
  app.get("/node", page, (c) => html(c, NodePage({ ctx: context(c, gather(["node"], 0)) })));
  app.get(
    "/server",
    page,
    (c) => html(c, ServerPage({ ctx: context(c, gather(["server"], 0)) })),
  );
  app.get("/blocks", page, (c) => {
    const ctx = context(c, gather(["blocks"], BLOCKS_PAGE_LIMIT));
    return html(c, BlocksPage({ ctx }));
  });
  app.get("/help", page, (c) => html(c, HelpPage({ ctx: context(c, {}) })));
  if (!options.withoutSavedWorkers) {
    app.get("/saved-workers", page, (c) => html(c, SavedWorkersPage({ ctx: context(c, {}) })));
  }

  app.get(
    "/worker",
    page,
    (c) => html(c, WorkerPage({ ctx: context(c, {}), state: { kind: "form" } })),
  );
  app.get("/worker/sha256", page, async (c) => {
    const hash = parseWorkerHash(c.req.query("hash"));
    if (!hash) {
      return html(c, WorkerPage({ ctx: context(c, {}), state: { kind: "bad-hash" } }), 400);
    }
    const state: LookupState = { kind: "result", hash };
    if (!options.workers) {
      return html(c, WorkerPage({ ctx: context(c, {}), state: { kind: "unavailable" } }), 503);
    }
    try {
      const view = await options.workers.lookup(hash);
      const at = now();
      const data: PageData = { lookup: { data: view, updatedAt: at, nextUpdateAt: at + 10_000 } };
      return html(c, WorkerPage({ ctx: context(c, data), state }));
    } catch {
      return html(c, WorkerPage({ ctx: context(c, {}), state: { kind: "unavailable" } }), 503);
    }
  });

  if (!options.noJson) {
    app.get("/api/worker-lookup", async (c) => {
      c.header("Cache-Control", "no-cache, no-store, must-revalidate");
      const hash = parseWorkerHash(c.req.query("hash"));
      if (!hash) return c.text("hash must be 64 hex digits\n", 400);
      if (!options.workers) return c.text("worker lookup not available\n", 404);
      let view: WorkerLookupView;
      try {
        view = await options.workers.lookup(hash);
      } catch {
        c.header("Retry-After", "5");
        return c.text("worker list not available\n", 503);
      }
      const at = now();
      return c.body(JSON.stringify(view), 200, {
        "Content-Type": "application/json",
        "X-JSON-Updated-At": rfc3339(at),
        "X-JSON-Next-Update-At": rfc3339(at + 10_000),
      });
    });
  }

  app.get("/favicon.ico", (c) => c.redirect(asset("favicon.svg"), 301));
  app.get("/static/:name", revalidate(), (c) => {
    const file = files.get(c.req.param("name"));
    if (!file) return c.text("not found\n", 404);
    const versioned = c.req.query("v") === file.version;
    return c.body(file.body, 200, {
      "Content-Type": file.type,
      "Cache-Control": versioned ? "public, max-age=31536000, immutable" : "public, max-age=300",
      ETag: `"${file.version}"`,
    });
  });
  return app;
}
