/**
 * What every `create…Routes` of this folder returns and `createStatusApp` composes: a group of
 * HTTP routes with a Web-standard `fetch`. Each one is a Hono app; the signatures name this
 * interface rather than Hono's class, so what callers rely on is two methods, not a framework type.
 *
 * @module
 */

import { Hono } from "hono";

/** A group of HTTP routes (a Hono app made by one of this folder's `create…Routes`). */
export interface Routes {
  /** Answers one request; `env` is what `Deno.serve` passes (Hono's env on Deno: the peer). */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
  /** Answers a request for a path or URL, like `Hono#request` (tests call it). */
  request(input: string | URL | Request, init?: RequestInit): Response | Promise<Response>;
}

/**
 * Adds `routes` to `app` at the root (`app.route("/", routes)`): the routes merge, in order, and
 * a path `routes` does not match falls through to what is mounted after it. Both must be Hono
 * apps (what this folder makes); anything else is a `TypeError`.
 */
export function mountRoutes(app: Routes, routes: Routes): void {
  if (!(app instanceof Hono) || !(routes instanceof Hono)) {
    throw new TypeError("mountRoutes: both sides must be Hono apps");
  }
  app.route("/", routes);
}
