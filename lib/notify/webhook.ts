/**
 * Generic webhooks: a notice is one `POST` of a JSON body — the event type, when, the notice's
 * title and text, and the event's fields (no user ids) — signed so the receiver can check it came
 * from the pool:
 *
 * - `X-Denopool-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>`, keyed with the
 *   shared secret (`webhook_secret` in `secrets.toml` for the pool's URL; a per-user secret made
 *   by the pool and shown on the saved-workers page for a user's URL);
 * - `X-Denopool-Timestamp: <Unix seconds>` (the body's `sent_at` carries the same instant, covered
 *   by the signature), `X-Denopool-Event: <type>` and `X-Denopool-Delivery: <id>` (the same on
 *   every retry, for de-duplication).
 *
 * Failures follow the queue's rules: 5xx, 429 and network errors are retried with exponential
 * back-off, 4xx are not.
 *
 * @module
 */

import { censorHash } from "../status/censor.ts";
import type { DomainStores } from "../store/mod.ts";
import type { NotifyChannel } from "./channel.ts";
import type { Notice, NotifyEvent } from "./events.ts";
import { deliverHttp } from "./http.ts";
import { DeliveryError } from "./queue.ts";

/** One webhook call as queued. */
export interface WebhookPayload {
  /** Target URL. */
  readonly url: string;
  /** Delivery id (the same on every retry). */
  readonly id: string;
  /** Event type. */
  readonly type: NotifyEvent["type"];
  /** The JSON body without `sent_at` (added at each try). */
  readonly body: Readonly<Record<string, unknown>>;
  /** The user whose URL it is (their secret is read at send time); absent → the pool's. */
  readonly userId?: string;
}

/** Options of {@linkcode WebhookChannel}. */
export interface WebhookChannelOptions {
  /** The pool's webhook URL; absent → pool notices are not sent. */
  readonly url?: string;
  /** The pool's shared secret (required with `url`). */
  readonly secret?: string;
  /** The store (users' own webhooks and their secrets). */
  readonly store: Pick<DomainStores, "notifyPrefs">;
  /** HTTP client (default the global `fetch`). */
  readonly fetch?: typeof fetch;
  /** Clock, ms since the epoch (the timestamp). */
  readonly now?: () => number;
}

/** Header names of a webhook call. */
export const WEBHOOK_HEADERS = {
  /** `sha256=<hex>`. */
  signature: "x-denopool-signature",
  /** Unix seconds. */
  timestamp: "x-denopool-timestamp",
  /** Event type. */
  event: "x-denopool-event",
  /** Delivery id. */
  delivery: "x-denopool-delivery",
} as const;

const encoder = new TextEncoder();

/** Hex HMAC-SHA256 of `body` keyed with `secret`. */
export async function hmacSha256Hex(secret: string, body: string | Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const data = typeof body === "string" ? encoder.encode(body) : body;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, data as BufferSource));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The event's fields for a webhook body: what happened, without user ids. */
export function eventFields(event: NotifyEvent): Record<string, unknown> {
  switch (event.type) {
    case "block.found":
      return {
        height: event.height,
        hash: event.hash,
        hash_short: censorHash(event.hash),
        worker: event.worker,
        worker_hash: event.workerHash,
        found_at: new Date(event.at).toISOString(),
      };
    case "workers.changed":
      return {
        changes: event.changes.map((c) => ({
          worker: c.name,
          worker_hash: c.hash,
          state: c.state,
          since: new Date(c.since).toISOString(),
        })),
      };
    case "share.best":
      return {
        shares: event.shares.map((s) => ({
          worker: s.name,
          worker_hash: s.hash,
          difficulty: s.difficulty,
          previous: s.previous,
          at: new Date(s.at).toISOString(),
        })),
      };
    case "node.down":
      return { reason: event.reason, since: new Date(event.since).toISOString() };
    case "node.up":
      return { since: new Date(event.since).toISOString() };
  }
}

/**
 * The webhook channel.
 *
 * @example
 * ```ts
 * import { hmacSha256Hex } from "./webhook.ts";
 *
 * // What a receiver computes to check `X-Denopool-Signature`.
 * const mac = await hmacSha256Hex("shared-secret", '{"type":"node.up"}');
 * console.log(mac.length); // 64
 * ```
 */
export class WebhookChannel implements NotifyChannel<WebhookPayload> {
  /** Channel name. */
  readonly name = "webhook";
  readonly #o: WebhookChannelOptions;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;

  /** A channel for the pool's webhook and users' own. */
  constructor(options: WebhookChannelOptions) {
    if (options.url && !options.secret) throw new Error("webhook: a URL needs a shared secret");
    this.#o = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#now = options.now ?? Date.now;
  }

  /** One call to the pool's URL (pool notices) or to the user's URL (user notices). */
  async prepare(notice: Notice): Promise<WebhookPayload[]> {
    let url: string | undefined;
    let userId: string | undefined;
    if (notice.audience.kind === "pool") {
      url = this.#o.url;
    } else {
      userId = notice.audience.userId;
      url = (await this.#o.store.notifyPrefs.get(userId)).webhookUrl;
    }
    if (!url) return [];
    const id = crypto.randomUUID();
    const body = {
      id,
      type: notice.event.type,
      audience: notice.audience.kind,
      title: notice.title,
      text: notice.text,
      priority: notice.priority,
      tags: notice.tags,
      ...(notice.url ? { url: notice.url } : {}),
      event: eventFields(notice.event),
    };
    return [{ url, id, type: notice.event.type, body, ...(userId ? { userId } : {}) }];
  }

  /** POSTs one call, signed. */
  async send(p: WebhookPayload, signal: AbortSignal): Promise<void> {
    const secret = p.userId === undefined
      ? this.#o.secret
      : (await this.#o.store.notifyPrefs.get(p.userId)).webhookSecret;
    if (!secret) throw new DeliveryError("webhook: no secret to sign with", false);
    const seconds = Math.floor(this.#now() / 1000);
    const text = JSON.stringify({ ...p.body, sent_at: seconds });
    const signature = await hmacSha256Hex(secret, text);
    await deliverHttp(this.#fetch, p.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "denopool-webhook/1",
        [WEBHOOK_HEADERS.signature]: `sha256=${signature}`,
        [WEBHOOK_HEADERS.timestamp]: String(seconds),
        [WEBHOOK_HEADERS.event]: p.type,
        [WEBHOOK_HEADERS.delivery]: p.id,
      },
      body: text,
      signal,
    }, "webhook");
  }

  /** Users with their own webhook. */
  async users(): Promise<Iterable<string>> {
    const all = await this.#o.store.notifyPrefs.all();
    return [...all].filter(([, p]) => p.webhookUrl).map(([u]) => u);
  }
}
