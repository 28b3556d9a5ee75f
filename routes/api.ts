/**
 * The public JSON API (`docs/json-api.md`) as a Hono app on Web-standard Request/Response.
 * It only reads pre-serialised snapshots: a request costs a map lookup and a header set.
 *
 * - `GET`/`HEAD` every path of the endpoint table (`lib/status/endpoints.ts`: `/api/overview`,
 *   `/api/pool-page`, `/api/node`, `/api/server`, `/api/pool-hashrate` (`include_history=1`),
 *   `/api/blocks` (`limit`)), each answered with its row's `select`, and `/api/openapi.json`;
 * - `Content-Type: application/json`, `Cache-Control: no-cache, no-store, must-revalidate`,
 *   `X-JSON-Updated-At` / `X-JSON-Next-Update-At` (RFC3339) on every snapshot (`nosniff` is added
 *   by the status app, `routes/app.ts`);
 * - errors are plain text: 400 bad query, 404 unknown path (also the removed `/api/pool`),
 *   405 other methods with `Allow: GET, HEAD`, 503 before the first snapshot is built.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { isBadQuery, SNAPSHOT_ENDPOINTS } from "../lib/status/endpoints.ts";
import { openApiDocument, type OpenApiOptions } from "../lib/status/openapi.ts";
import type { CachedJson, JsonSnapshots } from "../lib/status/snapshots.ts";
import { rfc3339 } from "../lib/status/views.ts";
import type { Routes } from "./routes.ts";

/** Options of {@linkcode createApiRoutes}. */
export interface ApiRoutesOptions {
  /** Title, version and server URL of `/api/openapi.json`. */
  readonly openApi?: OpenApiOptions;
}

const CACHE_CONTROL = "no-cache, no-store, must-revalidate";
const ALLOW = "GET, HEAD";
const OPENAPI_PATH = "/api/openapi.json";

// `X-Content-Type-Options: nosniff` is the status app's (`createStatusApp`), on every answer.

function jsonResponse(snapshot: CachedJson): Response {
  return new Response(snapshot.body, {
    headers: {
      "Content-Type": "application/json",
      "Cache-Control": CACHE_CONTROL,
      "X-JSON-Updated-At": rfc3339(snapshot.updatedAt),
      "X-JSON-Next-Update-At": rfc3339(snapshot.nextUpdateAt),
    },
  });
}

function plain(c: Context, status: 400 | 404 | 405 | 503, message: string): Response {
  c.header("Cache-Control", CACHE_CONTROL);
  return c.text(message, status);
}

function serve(c: Context, snapshot: CachedJson | undefined): Response {
  if (snapshot) return jsonResponse(snapshot);
  c.header("Retry-After", "1");
  return plain(c, 503, "snapshot not ready\n");
}

/** The `/api/*` routes over `snapshots`; `createStatusApp` mounts them. */
export function createApiRoutes(snapshots: JsonSnapshots, options: ApiRoutesOptions = {}): Routes {
  const app = new Hono();
  const openApiBody = new TextEncoder().encode(JSON.stringify(openApiDocument(options.openApi)));

  for (const endpoint of SNAPSHOT_ENDPOINTS) {
    app.get(endpoint.path, (c) => {
      const selected = endpoint.select(snapshots, (name) => c.req.query(name));
      if (isBadQuery(selected)) return plain(c, 400, selected.badQuery);
      return serve(c, selected);
    });
  }
  app.get(OPENAPI_PATH, () =>
    new Response(openApiBody, {
      headers: { "Content-Type": "application/json", "Cache-Control": CACHE_CONTROL },
    }));

  for (const path of [...SNAPSHOT_ENDPOINTS.map((e) => e.path), OPENAPI_PATH]) {
    app.all(path, (c) => {
      c.header("Allow", ALLOW);
      return plain(c, 405, "method not allowed\n");
    });
  }
  return app;
}
