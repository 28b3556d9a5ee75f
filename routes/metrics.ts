/**
 * `GET /metrics`: Prometheus text exposition of the pool's operational metrics. Meant for its own
 * listener (see `createStatusApp` for mounting it on the public one).
 *
 * @module
 */

import { Hono } from "hono";
import { type MetricsSource, renderPrometheus } from "../lib/status/metrics.ts";
import type { Routes } from "./routes.ts";

/** Content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A Hono app serving `GET`/`HEAD /metrics` from `source`; other methods get 405. */
export function createMetricsRoutes(source: MetricsSource): Routes {
  const app = new Hono();
  app.get("/metrics", () =>
    new Response(renderPrometheus(source.metrics()), {
      headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" },
    }));
  app.all("/metrics", (c) => {
    c.header("Allow", "GET, HEAD");
    return c.text("method not allowed\n", 405);
  });
  app.notFound((c) => c.text("not found\n", 404));
  return app;
}
