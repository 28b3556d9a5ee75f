/**
 * The Telegram bot: polls `getUpdates` and answers commands sent to it in a chat.
 *
 * - `/link CODE` — redeems a one-time code from the saved-workers page (the same codes as the
 *   Discord `!link`) and links this chat to that pool user, notifications on;
 * - `/status` — the pool's state in a few lines (what `status()` says);
 * - `/workers` — the linked user's saved workers, online or offline;
 * - `/stop` — notifications off for this chat (`/link` again turns them back on);
 * - `/start`, `/help` — what the bot does.
 *
 * Commands may carry the bot's name (`/status@pool_bot`). Where the bot stopped reading (the last
 * update id) is kept in the store, so a restart neither skips nor repeats commands. Polls run on
 * {@linkcode Poller}: the first an interval after `start`, each next one an interval after the
 * last one ended; tests call {@linkcode TelegramBot.poll}.
 *
 * @module
 */

import { Poller, type Timers } from "../periodic.ts";
import { type DomainStores, normaliseOneTimeCode } from "../store/mod.ts";
import type { TelegramApi, TelegramUpdate } from "./telegram.ts";

/** Options of {@linkcode TelegramBot}. */
export interface TelegramBotOptions {
  /** The API client. */
  readonly api: TelegramApi;
  /** The store (codes, links, offset, saved workers). */
  readonly store: Pick<DomainStores, "codes" | "telegram" | "savedWorkers">;
  /** The pool's state as text, for `/status`. */
  readonly status: () => string | Promise<string>;
  /** Hashes of the worker names online now, for `/workers`. */
  readonly onlineHashes: () => ReadonlySet<string>;
  /** Long-poll wait of one `getUpdates`, seconds (default 0: answer at once). */
  readonly longPollSeconds?: number;
  /** Error sink (default: ignored). */
  readonly onError?: (error: unknown) => void;
  /** Timers of the polling (default: the global ones). */
  readonly timers?: Timers;
}

/** What one poll did. */
export interface TelegramPollResult {
  /** Updates read. */
  readonly read: number;
  /** Chats linked. */
  readonly linked: readonly string[];
  /** Commands answered (command names, in order). */
  readonly answered: readonly string[];
}

const COMMAND = /^\/([a-z_]+)(?:@\w+)?(?:\s+(.*))?$/is;

const HELP = "This bot tells you about your saved workers on the pool.\n" +
  "/link CODE — link this chat (get a code on the saved-workers page)\n" +
  "/status — the pool now\n/workers — your saved workers\n/stop — notifications off";

/** Reads commands sent to the pool's Telegram bot and answers them. */
export class TelegramBot {
  readonly #o: TelegramBotOptions;
  readonly #poller: Poller<TelegramPollResult>;

  /** A bot on one API client. */
  constructor(options: TelegramBotOptions) {
    this.#o = options;
    this.#poller = new Poller({
      run: () => this.#run(),
      timers: options.timers,
      onError: (e) => options.onError?.(e),
    });
  }

  /** Polls every `intervalMs`, the first poll an interval from now. Does nothing while polling. */
  start(intervalMs: number): void {
    this.#poller.start(intervalMs);
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    await this.#poller.stop();
  }

  /** Reads new updates once and answers them; a poll in flight is joined. */
  poll(): Promise<TelegramPollResult> {
    return this.#poller.poll();
  }

  async #run(): Promise<TelegramPollResult> {
    const { api, store } = this.#o;
    const last = await store.telegram.offset();
    const updates = await api.getUpdates(
      last === undefined ? undefined : last + 1,
      this.#o.longPollSeconds ?? 0,
    );
    const linked: string[] = [];
    const answered: string[] = [];
    for (const u of [...updates].sort((a, b) => a.update_id - b.update_id)) {
      if (last !== undefined && u.update_id <= last) continue;
      try {
        await this.#handle(u, linked, answered);
      } catch (e) {
        this.#o.onError?.(e);
      }
      // Advance after each update: a crash repeats at most the one in hand.
      await store.telegram.setOffset(u.update_id);
    }
    return { read: updates.length, linked, answered };
  }

  async #handle(u: TelegramUpdate, linked: string[], answered: string[]): Promise<void> {
    const m = u.message;
    if (!m?.text || m.from?.is_bot) return;
    const cmd = COMMAND.exec(m.text.trim());
    if (!cmd) return;
    const name = cmd[1].toLowerCase();
    const arg = (cmd[2] ?? "").trim();
    const chatId = String(m.chat.id);
    const reply = (text: string) => this.#o.api.sendMessage(chatId, text);
    const { store } = this.#o;
    switch (name) {
      case "link": {
        const code = normaliseOneTimeCode(arg);
        const userId = code ? await store.codes.redeem(code) : undefined;
        if (userId === undefined) {
          await reply("That code is not valid any more. Make a new one on the saved-workers page.");
        } else {
          await store.telegram.link(userId, chatId);
          linked.push(chatId);
          await reply(
            "Linked ✅ You will be told here about your saved workers. /stop turns it off.",
          );
        }
        break;
      }
      case "status":
        await reply(await this.#o.status());
        break;
      case "workers":
        await reply(await this.#workers(chatId));
        break;
      case "stop": {
        const userId = await store.telegram.userFor(chatId);
        if (userId !== undefined) await store.telegram.setNotify(userId, false);
        await reply(userId === undefined ? "This chat is not linked." : "Notifications off.");
        break;
      }
      case "start":
      case "help":
        await reply(HELP);
        break;
      default:
        return;
    }
    answered.push(name);
  }

  async #workers(chatId: string): Promise<string> {
    const userId = await this.#o.store.telegram.userFor(chatId);
    if (userId === undefined) return "This chat is not linked: send /link CODE first.";
    const saved = await this.#o.store.savedWorkers.list(userId);
    if (saved.length === 0) return "No saved workers yet.";
    const online = this.#o.onlineHashes();
    const up = saved.filter((w) => online.has(w.hash)).length;
    const rows = saved.slice(0, 40).map((w) => `${online.has(w.hash) ? "🟢" : "🔴"} ${w.name}`);
    if (saved.length > 40) rows.push(`…and ${saved.length - 40} more`);
    return `${up} of ${saved.length} saved workers online\n${rows.join("\n")}`;
  }
}
