/**
 * Clerk session tokens (RS256 via jose), the session reader, and the request helpers of the
 * authenticated routes: same-origin checks, bounded bodies, the session cookie.
 *
 * @example
 * ```ts
 * import { isSameOriginRequest } from "./mod.ts";
 * isSameOriginRequest(new Headers({ origin: "https://pool.example" }), "pool.example"); // true
 * ```
 *
 * @module
 */

export * from "./clerk.ts";
export * from "./request.ts";
export * from "./session.ts";
