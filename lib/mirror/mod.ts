/**
 * The status-only mirror's parts: snapshots pulled from an upstream pool or read from Deno KV,
 * and the pool's side that publishes them to KV.
 *
 * @example
 * ```ts
 * import { publishesSnapshots } from "./mod.ts";
 * publishesSnapshots({ storeUrl: "", mirrorPublish: "auto" }); // false
 * ```
 *
 * @module
 */

export * from "./kv.ts";
export * from "./publish.ts";
export * from "./store.ts";
export * from "./upstream.ts";
