/**
 * Notifications: the events the pool tells about (blocks, saved workers offline/online and new
 * best shares, the node down/back), the notices made from them, one persisted rate-limited queue
 * per channel behind a hub that never waits, and the channels: ntfy, Telegram (with its bot) and
 * signed webhooks. Discord (`lib/discord`) is one more channel on the same interface.
 *
 * @example
 * ```ts
 * import { NotifyHub, WebhookChannel } from "./mod.ts";
 * import { openStore } from "../store/mod.ts";
 *
 * const store = await openStore(":memory:");
 * const hub = new NotifyHub({ store });
 * hub.add(new WebhookChannel({ url: "https://hooks.example/pool", secret: "s3cret", store }));
 * console.log(hub.channels); // ["webhook"]
 * await hub.stop();
 * store.close();
 * ```
 *
 * @module
 */

export * from "./channel.ts";
export * from "./events.ts";
export * from "./http.ts";
export * from "./hub.ts";
export * from "./ntfy.ts";
export * from "./queue.ts";
export * from "./telegram.ts";
export * from "./targets.ts";
export * from "./telegram_bot.ts";
export * from "./watch.ts";
export * from "./webhook.ts";
