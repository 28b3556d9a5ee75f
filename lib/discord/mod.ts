/**
 * Discord: the REST client, the Discord channel of `lib/notify` (one shared room, pings for
 * linked users), the message text, a rate-limited message queue, the Discord-only worker notifier
 * and the `!link` bot.
 *
 * @example
 * ```ts
 * import { MessageQueue } from "./mod.ts";
 * typeof MessageQueue; // "function"
 * ```
 *
 * @module
 */

export * from "./channel.ts";
export * from "./format.ts";
export * from "./link_bot.ts";
export * from "./notifier.ts";
export * from "./queue.ts";
export * from "./rest.ts";
