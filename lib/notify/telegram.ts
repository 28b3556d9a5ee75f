/**
 * Telegram: a small Bot API client (`sendMessage`, `getUpdates`) and the channel. Pool notices go
 * to the configured chat (a group or channel id, or `@channelname`), if any; a user's notices go
 * to the chat they linked with `/link CODE` (`telegram_bot.ts`), while its switch is on. Messages
 * are plain text (no parse mode, nothing to escape). The API base is configurable
 * (`notify.telegram.api_base_url`) so tests run against a local stand-in.
 *
 * @module
 */

import type { DomainStores } from "../store/mod.ts";
import type { NotifyChannel } from "./channel.ts";
import type { Notice } from "./events.ts";
import { deliverHttp } from "./http.ts";
import { DeliveryError } from "./queue.ts";

/** The fields of a Telegram update the bot reads. */
export interface TelegramUpdate {
  /** Update id (increasing). */
  readonly update_id: number;
  /** A new message, if it is one. */
  readonly message?: {
    /** Message id within the chat. */
    readonly message_id: number;
    /** The chat. */
    readonly chat: { readonly id: number; readonly type?: string };
    /** The sender. */
    readonly from?: { readonly id: number; readonly is_bot?: boolean };
    /** Text, if any. */
    readonly text?: string;
  };
}

/** Options of {@linkcode TelegramApi}. */
export interface TelegramApiOptions {
  /** API base, e.g. `https://api.telegram.org`. */
  readonly baseUrl: string;
  /** Bot token (from `secrets.toml`). */
  readonly token: string;
  /** HTTP client (default the global `fetch`). */
  readonly fetch?: typeof fetch;
  /** Timeout of one call, ms (default 10 s; a long poll adds its own wait). */
  readonly timeoutMs?: number;
}

/** The Telegram Bot API as the pool uses it. */
export class TelegramApi {
  readonly #o: TelegramApiOptions;
  readonly #fetch: typeof fetch;
  readonly #base: string;

  /** A client for one bot token. */
  constructor(options: TelegramApiOptions) {
    this.#o = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#base = `${options.baseUrl.replace(/\/+$/, "")}/bot${options.token}`;
  }

  /** Sends a plain-text message to a chat. */
  async sendMessage(chatId: string | number, text: string, signal?: AbortSignal): Promise<void> {
    await this.call("sendMessage", {
      chat_id: chatId,
      text: text.length > 4096 ? text.slice(0, 4095) + "…" : text,
      link_preview_options: { is_disabled: true },
    }, signal);
  }

  /** Updates after `offset - 1`, waiting up to `timeoutSeconds` for one (0 = answer at once). */
  async getUpdates(offset: number | undefined, timeoutSeconds = 0): Promise<TelegramUpdate[]> {
    const body: Record<string, unknown> = { timeout: timeoutSeconds, allowed_updates: ["message"] };
    if (offset !== undefined) body.offset = offset;
    const signal = AbortSignal.timeout((this.#o.timeoutMs ?? 10_000) + timeoutSeconds * 1000);
    return await this.call<TelegramUpdate[]>("getUpdates", body, signal);
  }

  /** One Bot API call; resolves with `result`, rejects with a `DeliveryError`. */
  async call<T>(method: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const answer = await deliverHttp(this.#fetch, `${this.#base}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: signal ?? AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
    }, `telegram ${method}`).catch((err) => {
      // The token is part of the URL: never let it into an error message.
      if (err instanceof DeliveryError) {
        throw new DeliveryError(
          err.message.replaceAll(this.#o.token, "…"),
          err.retryable,
          err.retryAfterMs,
        );
      }
      throw err;
    });
    let parsed: { ok?: boolean; result?: T; description?: string };
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      throw new DeliveryError(`telegram ${method}: the answer is not JSON`, true);
    }
    if (parsed.ok !== true) {
      throw new DeliveryError(`telegram ${method}: ${parsed.description ?? "not ok"}`, false);
    }
    return parsed.result as T;
  }
}

/** One Telegram message as queued. */
export interface TelegramPayload {
  /** Chat id (or `@channelname`). */
  readonly chatId: string;
  /** Text. */
  readonly text: string;
}

/** Options of {@linkcode TelegramChannel}. */
export interface TelegramChannelOptions {
  /** The API client. */
  readonly api: TelegramApi;
  /** The pool's chat; absent → pool notices are not sent to Telegram. */
  readonly chatId?: string;
  /** The store (users' linked chats). */
  readonly store: Pick<DomainStores, "telegram">;
}

/** Title, text and link of a notice as one plain-text message. */
export function plainMessage(notice: Notice): string {
  return `${notice.title}\n${notice.text}${notice.url ? `\n${notice.url}` : ""}`;
}

/**
 * The Telegram channel.
 *
 * @example
 * ```ts
 * import { TelegramApi, TelegramChannel } from "./telegram.ts";
 * import { openStore } from "../store/mod.ts";
 *
 * const store = await openStore(":memory:");
 * const api = new TelegramApi({ baseUrl: "https://api.telegram.org", token: "123:abc" });
 * const telegram = new TelegramChannel({ api, chatId: "-1001234567890", store });
 * console.log(telegram.name); // "telegram"
 * store.close();
 * ```
 */
export class TelegramChannel implements NotifyChannel<TelegramPayload> {
  /** Channel name. */
  readonly name = "telegram";
  readonly #o: TelegramChannelOptions;

  /** A channel for the pool's chat and users' linked chats. */
  constructor(options: TelegramChannelOptions) {
    this.#o = options;
  }

  /** One message to the pool's chat (pool notices) or the user's linked chat (user notices). */
  async prepare(notice: Notice): Promise<TelegramPayload[]> {
    let chatId: string | undefined;
    if (notice.audience.kind === "pool") {
      chatId = this.#o.chatId;
    } else {
      const link = await this.#o.store.telegram.get(notice.audience.userId);
      if (link?.enabled) chatId = link.chatId;
    }
    return chatId ? [{ chatId, text: plainMessage(notice) }] : [];
  }

  /** Sends one message. */
  async send(p: TelegramPayload, signal: AbortSignal): Promise<void> {
    await this.#o.api.sendMessage(p.chatId, p.text, signal);
  }

  /** Users with a linked chat, switch on. */
  async users(): Promise<Iterable<string>> {
    const all = await this.#o.store.telegram.all();
    return [...all].filter(([, l]) => l.enabled).map(([u]) => u);
  }
}
