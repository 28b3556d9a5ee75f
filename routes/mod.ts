/**
 * The HTTP routes as Hono apps: the JSON API, the pages, `/metrics`, sign-in and saved workers,
 * and the admin panel, each composed from small middleware over Request/Response.
 *
 * @example
 * ```ts
 * import { createStatusApp } from "./mod.ts";
 * // const app = createStatusApp({ snapshots, pages });
 * // Deno.serve(app.fetch);
 * typeof createStatusApp; // "function"
 * ```
 *
 * @module
 */

export * from "./api.ts";
export * from "./app.ts";
export * from "./auth.ts";
export * from "./metrics.ts";
export * from "./middleware.ts";
export * from "./pages.ts";
export * from "./routes.ts";
export * from "./saved_workers.ts";
export * from "./admin/app.tsx";
