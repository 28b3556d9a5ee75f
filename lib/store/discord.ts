/**
 * Discord links between pool users and Discord users (one to one, both ways), each with its
 * notification switch, and where the link bot stopped reading its channel.
 *
 * @module
 */

import { decodeValue, encodeValue } from "./codec.ts";
import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** A user's Discord link. */
export interface DiscordLink {
  /** Discord user id (snowflake). */
  readonly discordUserId: string;
  /** Discord notifications on. */
  readonly enabled: boolean;
  /** When it was linked. */
  readonly linkedAt: Date;
}

/** Stored Discord links and the link bot's read cursor. */
export interface DiscordStore {
  /** The user's Discord link, if linked. */
  get(userId: string): Promise<DiscordLink | undefined>;
  /** The pool user a Discord user is linked to, if any. */
  userFor(discordUserId: string): Promise<string | undefined>;
  /** Every linked user with their link. */
  all(): Promise<Map<string, DiscordLink>>;
  /**
   * Links `userId` to `discordUserId` (notifications on). A Discord user links to one pool user,
   * and a pool user to one Discord user: older links on either side are replaced.
   */
  link(userId: string, discordUserId: string): Promise<void>;
  /** Removes the user's Discord link; true when there was one. */
  unlink(userId: string): Promise<boolean>;
  /** Turns the user's Discord notifications on or off; false when not linked. */
  setNotify(userId: string, enabled: boolean): Promise<boolean>;
  /** Where the Discord link bot stopped reading (a message id). */
  cursor(): Promise<string | undefined>;
  /** Saves where the Discord link bot stopped reading. */
  setCursor(messageId: string): Promise<void>;
}

/**
 * {@linkcode DiscordStore} on Deno KV: `["v1","discord",userId]` with its reverse index
 * `["v1","discord-user",discordId]` (changed together), and `["v1","discord-cursor"]`.
 */
export class KvDiscordStore implements DiscordStore {
  readonly #core: KvCore;

  /** A Discord store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** The user's Discord link, if linked. */
  async get(userId: string): Promise<DiscordLink | undefined> {
    return await this.#core.get<DiscordLink>(keys.discord(userId));
  }

  /** The pool user a Discord user is linked to, if any. */
  async userFor(discordUserId: string): Promise<string | undefined> {
    return await this.#core.get<string>(keys.discordUser(discordUserId));
  }

  /** Every linked user with their link. */
  async all(): Promise<Map<string, DiscordLink>> {
    return await this.#core.entries<DiscordLink>(keys.discordLinks);
  }

  /**
   * Links `userId` to `discordUserId` (notifications on). A Discord user links to one pool user,
   * and a pool user to one Discord user: older links on either side are replaced.
   */
  link(userId: string, discordUserId: string): Promise<void> {
    const core = this.#core;
    return core.transact(async () => {
      const [link, owner] = await core.kv.getMany<string[]>([
        keys.discord(userId),
        keys.discordUser(discordUserId),
      ]);
      const op = core.atomic().check(link, owner);
      if (link.value !== null) {
        const old = decodeValue<DiscordLink>(link.value).discordUserId;
        if (old !== discordUserId) op.delete(keys.discordUser(old));
      }
      if (owner.value !== null) {
        const oldUser = decodeValue<string>(owner.value);
        if (oldUser !== userId) op.delete(keys.discord(oldUser));
      }
      const value: DiscordLink = { discordUserId, enabled: true, linkedAt: new Date(core.now()) };
      op.set(keys.discord(userId), encodeValue(value));
      op.set(keys.discordUser(discordUserId), encodeValue(userId));
      return { op, result: undefined };
    });
  }

  /** Removes the user's Discord link; true when there was one. */
  unlink(userId: string): Promise<boolean> {
    const core = this.#core;
    return core.transact(async () => {
      const link = await core.kv.get<string>(keys.discord(userId));
      if (link.value === null) return { result: false };
      const { discordUserId } = decodeValue<DiscordLink>(link.value);
      const op = core.atomic().check(link).delete(keys.discord(userId));
      op.delete(keys.discordUser(discordUserId));
      return { op, result: true };
    });
  }

  /** Turns the user's Discord notifications on or off; false when not linked. */
  setNotify(userId: string, enabled: boolean): Promise<boolean> {
    return this.#core.update<DiscordLink, boolean>(keys.discord(userId), (link) => {
      if (link === undefined) return { result: false };
      return { value: { ...link, enabled }, result: true };
    });
  }

  /** Where the Discord link bot stopped reading (a message id). */
  async cursor(): Promise<string | undefined> {
    return await this.#core.get<string>(keys.discordCursor);
  }

  /** Saves where the Discord link bot stopped reading. */
  async setCursor(messageId: string): Promise<void> {
    await this.#core.set(keys.discordCursor, messageId);
  }
}
