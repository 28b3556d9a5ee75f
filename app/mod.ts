/**
 * The composition layer: the only code that reads the validated `Config` and wires the parts —
 * the pool, its status side, persistence, the admin panel and the status-only mirror.
 *
 * @example
 * ```ts
 * import { startPool } from "./mod.ts";
 * // const pool = await startPool(await loadConfig({ configPath: "config.toml" }));
 * // await pool.stop();
 * typeof startPool; // "function"
 * ```
 *
 * @module
 */

export * from "./admin.ts";
export * from "./mirror.ts";
export * from "./persistence.ts";
export * from "./pool.ts";
export * from "./status_service.ts";
export * from "./status_sources.ts";
