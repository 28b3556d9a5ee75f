/**
 * Telegram links between pool users and Telegram chats (one to one, both ways), each with its
 * notification switch, and the update id the Telegram bot read last. The same shape as the
 * Discord links (`discord.ts`): a user links a chat by sending the bot `/link CODE` with a
 * one-time code from the saved-workers page (`codes.ts`).
 *
 * @module
 */

import { decodeValue, encodeValue } from "./codec.ts";
import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** A user's Telegram link. */
export interface TelegramLink {
  /** Telegram chat id (decimal, may be negative for groups). */
  readonly chatId: string;
  /** Telegram notifications on. */
  readonly enabled: boolean;
  /** When it was linked. */
  readonly linkedAt: Date;
}

/** Stored Telegram links and the bot's update offset. */
export interface TelegramStore {
  /** The user's Telegram link, if linked. */
  get(userId: string): Promise<TelegramLink | undefined>;
  /** The pool user a chat is linked to, if any. */
  userFor(chatId: string): Promise<string | undefined>;
  /** Every linked user with their link. */
  all(): Promise<Map<string, TelegramLink>>;
  /**
   * Links `userId` to `chatId` (notifications on). A chat links to one pool user and a pool user
   * to one chat: older links on either side are replaced.
   */
  link(userId: string, chatId: string): Promise<void>;
  /** Removes the user's Telegram link; true when there was one. */
  unlink(userId: string): Promise<boolean>;
  /** Turns the user's Telegram notifications on or off; false when not linked. */
  setNotify(userId: string, enabled: boolean): Promise<boolean>;
  /** The last update id the bot handled. */
  offset(): Promise<number | undefined>;
  /** Saves the last update id the bot handled. */
  setOffset(updateId: number): Promise<void>;
}

/**
 * {@linkcode TelegramStore} on Deno KV: `["v1","telegram",userId]` with its reverse index
 * `["v1","telegram-chat",chatId]` (changed together), and `["v1","telegram-offset"]`.
 */
export class KvTelegramStore implements TelegramStore {
  readonly #core: KvCore;

  /** A Telegram store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** The user's Telegram link, if linked. */
  async get(userId: string): Promise<TelegramLink | undefined> {
    return await this.#core.get<TelegramLink>(keys.telegram(userId));
  }

  /** The pool user a chat is linked to, if any. */
  async userFor(chatId: string): Promise<string | undefined> {
    return await this.#core.get<string>(keys.telegramChat(chatId));
  }

  /** Every linked user with their link. */
  async all(): Promise<Map<string, TelegramLink>> {
    return await this.#core.entries<TelegramLink>(keys.telegramLinks);
  }

  /**
   * Links `userId` to `chatId` (notifications on). A chat links to one pool user and a pool user
   * to one chat: older links on either side are replaced.
   */
  link(userId: string, chatId: string): Promise<void> {
    const core = this.#core;
    return core.transact(async () => {
      const [link, owner] = await core.kv.getMany<string[]>([
        keys.telegram(userId),
        keys.telegramChat(chatId),
      ]);
      const op = core.atomic().check(link, owner);
      if (link.value !== null) {
        const old = decodeValue<TelegramLink>(link.value).chatId;
        if (old !== chatId) op.delete(keys.telegramChat(old));
      }
      if (owner.value !== null) {
        const oldUser = decodeValue<string>(owner.value);
        if (oldUser !== userId) op.delete(keys.telegram(oldUser));
      }
      const value: TelegramLink = { chatId, enabled: true, linkedAt: new Date(core.now()) };
      op.set(keys.telegram(userId), encodeValue(value));
      op.set(keys.telegramChat(chatId), encodeValue(userId));
      return { op, result: undefined };
    });
  }

  /** Removes the user's Telegram link; true when there was one. */
  unlink(userId: string): Promise<boolean> {
    const core = this.#core;
    return core.transact(async () => {
      const link = await core.kv.get<string>(keys.telegram(userId));
      if (link.value === null) return { result: false };
      const { chatId } = decodeValue<TelegramLink>(link.value);
      const op = core.atomic().check(link).delete(keys.telegram(userId));
      op.delete(keys.telegramChat(chatId));
      return { op, result: true };
    });
  }

  /** Turns the user's Telegram notifications on or off; false when not linked. */
  setNotify(userId: string, enabled: boolean): Promise<boolean> {
    return this.#core.update<TelegramLink, boolean>(keys.telegram(userId), (link) => {
      if (link === undefined) return { result: false };
      return { value: { ...link, enabled }, result: true };
    });
  }

  /** The last update id the bot handled. */
  async offset(): Promise<number | undefined> {
    return await this.#core.get<number>(keys.telegramOffset);
  }

  /** Saves the last update id the bot handled. */
  async setOffset(updateId: number): Promise<void> {
    await this.#core.set(keys.telegramOffset, updateId);
  }
}
