/**
 * The status layer: the ports the pool fills (`sources.ts`), snapshots rebuilt on timers and
 * serialised once, censoring, the endpoint table, schemas and the OpenAPI document, metrics, the
 * client address and the HTTPS decision behind trusted proxies, and the status HTTP server behind
 * its guard (`http_front.ts`).
 *
 * @example
 * ```ts
 * import { ENDPOINTS } from "./mod.ts";
 * Object.keys(ENDPOINTS).length > 0; // true
 * ```
 *
 * @module
 */

export * from "./censor.ts";
export * from "./client_ip.ts";
export * from "./endpoints.ts";
export * from "./http_front.ts";
export * from "./memory.ts";
export * from "./metrics.ts";
export * from "./node_info.ts";
export * from "./openapi.ts";
export * from "./price_feed.ts";
export * from "./schemas.ts";
export * from "./server.ts";
export * from "./snapshots.ts";
export * from "./sources.ts";
export * from "./system.ts";
export * from "./types.ts";
export * from "./views.ts";
export * from "./worker_hash.ts";
