/**
 * The bot side of linking, without a gateway connection: the bot polls the notice channel over
 * REST (`GET /channels/{id}/messages?after=…`) and reads commands from members:
 *
 * - `!link CODE` (or `!notify CODE`) — redeems a one-time code from the saved-workers page and
 *   links the author's Discord account to that pool user (notifications on);
 * - `!notify-stop` — turns notifications off for the author's link.
 *
 * The command message is deleted (best effort: it needs Manage Messages) so codes do not linger,
 * and the bot replies in the channel. Where it stopped reading is kept in the store, so a restart
 * neither skips nor repeats commands. Polling suits a bot that only needs a few commands, keeps
 * the pool free of a long-lived websocket, and lets tests drive it through `poll()` against a
 * stand-in API. (Reading message text needs the Message Content intent, or the command must
 * mention the bot.) The polling runs on {@linkcode Poller} (`lib/periodic.ts`): the first poll an
 * interval after `start`, each next one an interval after the last one ended.
 *
 * @module
 */

import { Poller, type Timers } from "../periodic.ts";
import { type DomainStores, normaliseOneTimeCode } from "../store/mod.ts";
import type { DiscordMessage, DiscordRest } from "./rest.ts";

/** Options of {@linkcode DiscordLinkBot}. */
export interface DiscordLinkBotOptions {
  /** REST client. */
  readonly rest: DiscordRest;
  /** The store (codes, links, cursor). */
  readonly store: Pick<DomainStores, "codes" | "discord">;
  /** Channel the bot reads and answers in. */
  readonly channelId: string;
  /** Error sink (default: ignored). */
  readonly onError?: (error: unknown) => void;
  /** Timers of the polling (default: the global ones); tests pass a manual clock. */
  readonly timers?: Timers;
}

/** What one poll did. */
export interface PollResult {
  /** Messages read. */
  readonly read: number;
  /** Discord users linked. */
  readonly linked: readonly string[];
  /** Discord users that turned notifications off. */
  readonly stopped: readonly string[];
}

const LINK = /^\s*(?:<@!?\d+>\s*)?!(?:link|notify)\s+(\S+)\s*$/i;
const STOP = /^\s*(?:<@!?\d+>\s*)?!notify-stop\s*$/i;

/** Reads link commands from the notice channel. */
export class DiscordLinkBot {
  readonly #o: DiscordLinkBotOptions;
  readonly #poller: Poller<PollResult>;

  /** A bot for one channel. */
  constructor(options: DiscordLinkBotOptions) {
    this.#o = options;
    this.#poller = new Poller({
      run: () => this.#run(),
      timers: options.timers,
      onError: (e) => options.onError?.(e),
    });
  }

  /**
   * Polls every `intervalMs`: the first poll an interval from now, each next one an interval after
   * the last one ended. Does nothing while already polling.
   */
  start(intervalMs: number): void {
    this.#poller.start(intervalMs);
  }

  /** Stops polling and waits for a poll in progress (timed or called). */
  async stop(): Promise<void> {
    await this.#poller.stop();
  }

  /**
   * Reads new messages once and acts on the commands. A poll already running (timed or called) is
   * joined, so polls never overlap; rejects when the poll fails.
   */
  poll(): Promise<PollResult> {
    return this.#poller.poll();
  }

  async #run(): Promise<PollResult> {
    const { rest, store, channelId } = this.#o;
    const cursor = await store.discord.cursor();
    const messages = await rest.channelMessages(channelId, cursor);
    const linked: string[] = [];
    const stopped: string[] = [];
    for (const m of messages) {
      if (!m.author.bot) await this.#handle(m, linked, stopped);
      // Advance after each message: a crash repeats at most the one in hand.
      await store.discord.setCursor(m.id);
    }
    return { read: messages.length, linked, stopped };
  }

  async #handle(m: DiscordMessage, linked: string[], stopped: string[]): Promise<void> {
    const { rest, store, channelId } = this.#o;
    const link = LINK.exec(m.content);
    if (link) {
      await rest.deleteMessage(channelId, m.id).catch(() => {});
      const code = normaliseOneTimeCode(link[1]);
      const userId = code ? await store.codes.redeem(code) : undefined;
      if (userId === undefined) {
        await this.#reply(
          m,
          "That code is not valid any more. Make a new one on the saved-workers page.",
        );
        return;
      }
      await store.discord.link(userId, m.author.id);
      linked.push(m.author.id);
      await this.#reply(
        m,
        "Linked ✅ You will be pinged here about your saved workers. `!notify-stop` turns it off.",
      );
      return;
    }
    if (STOP.test(m.content)) {
      const userId = await store.discord.userFor(m.author.id);
      if (userId !== undefined) await store.discord.setNotify(userId, false);
      stopped.push(m.author.id);
      await this.#reply(m, userId === undefined ? "You are not linked." : "Notifications off.");
    }
  }

  async #reply(m: DiscordMessage, text: string): Promise<void> {
    await this.#o.rest.createMessage(this.#o.channelId, `<@${m.author.id}> ${text}`, {
      users: [m.author.id],
    }).catch((e) => this.#o.onError?.(e));
  }
}
