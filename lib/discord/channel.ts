/**
 * Discord as one notification channel (`lib/notify`'s interface): one shared room, the notice
 * channel. Pool notices are posted there (a block pings its linked owners); a user's notices are
 * posted there pinging only that user, when their link's switch is on. A user notice the pool
 * notice already pings for (a block's owner) is not posted twice.
 *
 * @module
 */

import type { DomainStores } from "../store/mod.ts";
import type { Notice, NotifyChannel } from "../notify/mod.ts";
import { DeliveryError } from "../notify/mod.ts";
import {
  discordBestShareMessage,
  discordBlockMessage,
  discordFooter,
  discordWorkerMessage,
} from "./format.ts";
import type { OutgoingMessage } from "./queue.ts";
import { DiscordApiError, type DiscordRest } from "./rest.ts";

/** Options of {@linkcode DiscordChannel}. */
export interface DiscordChannelOptions {
  /** REST client. */
  readonly rest: DiscordRest;
  /** The notice channel's id. */
  readonly channelId: string;
  /** The store (links). */
  readonly store: Pick<DomainStores, "discord">;
  /** Link appended to messages, if any. */
  readonly statusUrl?: string;
}

/** Discord's longest message. */
const MAX_CONTENT = 2000;

/**
 * The Discord channel.
 *
 * @example
 * ```ts
 * import { DiscordChannel, DiscordRest } from "./mod.ts";
 * import { openStore } from "../store/mod.ts";
 *
 * const store = await openStore(":memory:");
 * const rest = new DiscordRest({ baseUrl: "https://discord.com/api/v10", token: "BOT" });
 * const discord = new DiscordChannel({ rest, channelId: "123456789012345678", store });
 * console.log(discord.name); // "discord"
 * store.close();
 * ```
 */
export class DiscordChannel implements NotifyChannel<OutgoingMessage> {
  /** Channel name. */
  readonly name = "discord";
  readonly #o: DiscordChannelOptions;

  /** A channel posting to one Discord channel. */
  constructor(options: DiscordChannelOptions) {
    this.#o = options;
  }

  /** The message for a notice, if it goes to Discord. */
  async prepare(notice: Notice): Promise<OutgoingMessage[]> {
    const { store, statusUrl } = this.#o;
    const e = notice.event;
    if (notice.audience.kind === "pool") {
      if (e.type === "block.found") {
        const pings: string[] = [];
        for (const userId of notice.mentions) {
          const link = await store.discord.get(userId);
          if (link?.enabled) pings.push(link.discordUserId);
        }
        const content = discordBlockMessage(
          { height: e.height, hash: e.hash, worker: e.worker, foundAt: e.at },
          pings,
          statusUrl,
        );
        return [{ content, mentionUserIds: pings }];
      }
      return [{ content: notice.text + discordFooter(statusUrl), mentionUserIds: [] }];
    }
    if (notice.covered) return [];
    const link = await store.discord.get(notice.audience.userId);
    if (!link?.enabled) return [];
    const id = link.discordUserId;
    const content = e.type === "workers.changed"
      ? discordWorkerMessage(id, e.changes, statusUrl)
      : e.type === "share.best"
      ? discordBestShareMessage(id, e.shares, statusUrl)
      : `<@${id}>\n${notice.text}${discordFooter(statusUrl)}`;
    return [{ content, mentionUserIds: [id] }];
  }

  /** Posts one message (the REST client retries 429 and 5xx itself). */
  async send(m: OutgoingMessage, _signal: AbortSignal): Promise<void> {
    const content = m.content.length > MAX_CONTENT
      ? m.content.slice(0, MAX_CONTENT - 1) + "…"
      : m.content;
    try {
      await this.#o.rest.createMessage(this.#o.channelId, content, { users: m.mentionUserIds });
    } catch (err) {
      // The client has retried already: what is left is final.
      const status = err instanceof DiscordApiError ? err.status : 0;
      throw new DeliveryError(err instanceof Error ? err.message : String(err), status === 0);
    }
  }

  /** Users with a link whose switch is on. */
  async users(): Promise<Iterable<string>> {
    const all = await this.#o.store.discord.all();
    return [...all].filter(([, l]) => l.enabled).map(([u]) => u);
  }
}
