/**
 * Share checking: a pool of Web Workers that hash shares (sha256d) in batches, with the
 * TypeScript or WebCrypto backend, self-healing when a worker dies.
 *
 * @example
 * ```ts
 * import { SharePool } from "./mod.ts";
 * // const shares = await SharePool.start({ workers: 2 });
 * // const verdict = await shares.check(input);
 * typeof SharePool; // "function"
 * ```
 *
 * @module
 */

export * from "./calibrate.ts";
export * from "./check.ts";
export * from "./pool.ts";
export * from "./protocol.ts";
export * from "./record.ts";
export * from "./synthetic.ts";
