/**
 * The status web app: composes the JSON API, optional metrics and the mount points for the HTML
 * pages and the authenticated routes, with plain-text 404/500 everywhere and
 * `X-Content-Type-Options: nosniff` on every answer (`hono/secure-headers`).
 *
 * Mount order: `auth` (under `/api`, e.g. session refresh, saved workers), the public JSON API,
 * `/metrics` when asked for, then `pages` (HTML, static files). `noJson` (`--no-json`) removes
 * every `/api/*` route, the authenticated ones included, so they all answer 404.
 *
 * @module
 */

import { Hono } from "hono";
import type { MetricsSource } from "../lib/status/metrics.ts";
import type { OpenApiOptions } from "../lib/status/openapi.ts";
import type { JsonSnapshots } from "../lib/status/snapshots.ts";
import { createApiRoutes } from "./api.ts";
import { createMetricsRoutes } from "./metrics.ts";
import { noSniff } from "./middleware.ts";
import { mountRoutes, type Routes } from "./routes.ts";

export type { Routes } from "./routes.ts";

/** Options of {@linkcode createStatusApp}. */
export interface StatusAppOptions {
  /** The snapshots the JSON API serves. */
  readonly snapshots: JsonSnapshots;
  /** `--no-json`: every `/api/*` answers 404. */
  readonly noJson?: boolean;
  /** Serve `/metrics` on this (public) app too; otherwise serve `createMetricsRoutes` apart. */
  readonly metrics?: MetricsSource;
  /** Title, version, server URL of `/api/openapi.json`. */
  readonly openApi?: OpenApiOptions;
  /** Authenticated `/api/*` routes (full paths), mounted before the public API. */
  readonly auth?: Routes;
  /** HTML pages and static files, mounted last. */
  readonly pages?: Routes;
}

/** The composed status app; hand its `fetch` to `serveStatus`. */
export function createStatusApp(options: StatusAppOptions): Routes {
  const app = new Hono();
  app.use("*", noSniff());
  if (!options.noJson) {
    if (options.auth) mountRoutes(app, options.auth);
    mountRoutes(app, createApiRoutes(options.snapshots, { openApi: options.openApi }));
  }
  if (options.metrics) mountRoutes(app, createMetricsRoutes(options.metrics));
  if (options.pages) mountRoutes(app, options.pages);
  app.notFound((c) => c.text("not found\n", 404));
  app.onError((_error, c) => c.text("internal server error\n", 500));
  return app;
}
