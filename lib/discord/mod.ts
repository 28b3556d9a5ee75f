/**
 * Discord: the REST client, a rate-limited message queue, the worker online/offline notifier and
 * the `!link` bot.
 *
 * @example
 * ```ts
 * import { MessageQueue } from "./mod.ts";
 * typeof MessageQueue; // "function"
 * ```
 *
 * @module
 */

export * from "./link_bot.ts";
export * from "./notifier.ts";
export * from "./queue.ts";
export * from "./rest.ts";
