/**
 * Each user's own notification targets, chosen on the saved-workers page: an ntfy topic URL and a
 * webhook URL with the secret its bodies are signed with. (Discord and Telegram are linked with a
 * one-time code instead: `discord.ts`, `telegram.ts`.) URLs are checked by the caller before they
 * are stored.
 *
 * @module
 */

import { decodeValue, encodeValue } from "./codec.ts";
import type { KvCore } from "./core.ts";
import { keys } from "./keys.ts";

/** One user's notification targets; an absent member is not set. */
export interface NotifyPrefs {
  /** The user's ntfy topic URL. */
  readonly ntfyUrl?: string;
  /** The user's webhook URL. */
  readonly webhookUrl?: string;
  /** The secret the user's webhook bodies are signed with (hex, made by the pool). */
  readonly webhookSecret?: string;
}

/** Stored per-user notification targets. */
export interface NotifyPrefsStore {
  /** The user's targets (an empty object when none are set). */
  get(userId: string): Promise<NotifyPrefs>;
  /** Every user with at least one target. */
  all(): Promise<Map<string, NotifyPrefs>>;
  /**
   * Replaces the user's targets; an object with no member removes the entry. A new webhook URL
   * without a secret keeps the stored secret, or gets a fresh random one.
   */
  set(userId: string, prefs: NotifyPrefs): Promise<NotifyPrefs>;
}

/** A fresh webhook secret: 32 random bytes as hex. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** {@linkcode NotifyPrefsStore} on Deno KV: `["v1","notify-prefs",userId]`. */
export class KvNotifyPrefsStore implements NotifyPrefsStore {
  readonly #core: KvCore;

  /** A prefs store on `core`. */
  constructor(core: KvCore) {
    this.#core = core;
  }

  /** The user's targets (an empty object when none are set). */
  async get(userId: string): Promise<NotifyPrefs> {
    return (await this.#core.get<NotifyPrefs>(keys.notifyPrefs(userId))) ?? {};
  }

  /** Every user with at least one target. */
  async all(): Promise<Map<string, NotifyPrefs>> {
    return await this.#core.entries<NotifyPrefs>(keys.notifyPrefsAll);
  }

  /**
   * Replaces the user's targets; an object with no member removes the entry. A new webhook URL
   * without a secret keeps the stored secret, or gets a fresh random one.
   */
  set(userId: string, prefs: NotifyPrefs): Promise<NotifyPrefs> {
    const key = keys.notifyPrefs(userId);
    const core = this.#core;
    return core.transact(async () => {
      const entry = await core.kv.get<string>(key);
      const old = entry.value === null ? {} : decodeValue<NotifyPrefs>(entry.value);
      const next: { ntfyUrl?: string; webhookUrl?: string; webhookSecret?: string } = {};
      if (prefs.ntfyUrl) next.ntfyUrl = prefs.ntfyUrl;
      if (prefs.webhookUrl) {
        next.webhookUrl = prefs.webhookUrl;
        next.webhookSecret = prefs.webhookSecret || old.webhookSecret || newWebhookSecret();
      }
      const op = core.atomic().check(entry);
      if (Object.keys(next).length === 0) op.delete(key);
      else op.set(key, encodeValue(next));
      return { op, result: next };
    });
  }
}
