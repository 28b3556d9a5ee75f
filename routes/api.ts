/**
 * The public JSON API (`docs/json-api.md`) as a Hono app on Web-standard Request/Response.
 * It only reads pre-serialised snapshots: a request costs a map lookup and a header set.
 *
 * - `GET`/`HEAD` `/api/overview`, `/api/pool-page`, `/api/node`, `/api/server`,
 *   `/api/pool-hashrate` (`include_history=1`), `/api/blocks` (`limit`), `/api/openapi.json`;
 * - `Content-Type: application/json`, `Cache-Control: no-cache, no-store, must-revalidate`,
 *   `X-JSON-Updated-At` / `X-JSON-Next-Update-At` (RFC3339) on every snapshot;
 * - errors are plain text: 400 bad query, 404 unknown path (also the removed `/api/pool`),
 *   405 other methods with `Allow: GET, HEAD`, 503 before the first snapshot is built.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { ENDPOINTS, openApiDocument, type OpenApiOptions } from "../lib/status/schemas.ts";
import type { CachedJson, JsonSnapshots } from "../lib/status/snapshots.ts";
import { rfc3339 } from "../lib/status/views.ts";

/** Options of {@linkcode createApiRoutes}. */
export interface ApiRoutesOptions {
  /** Title, version and server URL of `/api/openapi.json`. */
  readonly openApi?: OpenApiOptions;
}

/** `limit` of `/api/blocks` when absent. */
export const DEFAULT_BLOCKS_LIMIT = 10;
/** Largest `limit` of `/api/blocks`; larger values are clamped to it. */
export const MAX_BLOCKS_LIMIT = 100;

const CACHE_CONTROL = "no-cache, no-store, must-revalidate";
const ALLOW = "GET, HEAD";

/**
 * `limit` of `/api/blocks`: absent or empty → 10; an integer → clamped to 1..100; anything else →
 * `undefined` (the caller answers 400).
 */
export function parseBlocksLimit(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return DEFAULT_BLOCKS_LIMIT;
  if (!/^[+-]?\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Math.min(MAX_BLOCKS_LIMIT, Math.max(1, n));
}

function jsonResponse(snapshot: CachedJson): Response {
  return new Response(snapshot.body, {
    headers: {
      "Content-Type": "application/json",
      "Cache-Control": CACHE_CONTROL,
      "X-JSON-Updated-At": rfc3339(snapshot.updatedAt),
      "X-JSON-Next-Update-At": rfc3339(snapshot.nextUpdateAt),
      "X-Content-Type-Options": "nosniff",
    },
  });
}

function plain(c: Context, status: 400 | 404 | 405 | 503, message: string): Response {
  c.header("Cache-Control", CACHE_CONTROL);
  c.header("X-Content-Type-Options", "nosniff");
  return c.text(message, status);
}

function serve(c: Context, snapshot: CachedJson | undefined): Response {
  if (snapshot) return jsonResponse(snapshot);
  c.header("Retry-After", "1");
  return plain(c, 503, "snapshot not ready\n");
}

/** The `/api/*` routes over `snapshots`; mount with `app.route("/", createApiRoutes(...))`. */
export function createApiRoutes(snapshots: JsonSnapshots, options: ApiRoutesOptions = {}): Hono {
  const app = new Hono();
  const openApiBody = new TextEncoder().encode(JSON.stringify(openApiDocument(options.openApi)));

  app.get("/api/overview", (c) => serve(c, snapshots.overview()));
  app.get("/api/pool-page", (c) => serve(c, snapshots.poolPage()));
  app.get("/api/node", (c) => serve(c, snapshots.node()));
  app.get("/api/server", (c) => serve(c, snapshots.server()));
  app.get(
    "/api/pool-hashrate",
    (c) => serve(c, snapshots.poolHashrate(c.req.query("include_history") === "1")),
  );
  app.get("/api/blocks", (c) => {
    const limit = parseBlocksLimit(c.req.query("limit"));
    if (limit === undefined) return plain(c, 400, "limit must be an integer from 1 to 100\n");
    return serve(c, snapshots.blocks(limit));
  });
  app.get("/api/openapi.json", () =>
    new Response(openApiBody, {
      headers: {
        "Content-Type": "application/json",
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
      },
    }));

  for (const path of [...Object.keys(ENDPOINTS), "/api/openapi.json"]) {
    app.all(path, (c) => {
      c.header("Allow", ALLOW);
      return plain(c, 405, "method not allowed\n");
    });
  }
  return app;
}
