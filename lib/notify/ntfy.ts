/**
 * ntfy (https://ntfy.sh or a self-hosted server): a notice is one `POST` of its text to a topic
 * URL, with `Title`, `Priority` (1–5), `Tags` and `Click` headers (non-ASCII titles RFC 2047
 * encoded, which ntfy decodes). The pool's own topic may take a bearer token (`ntfy_token` in
 * `secrets.toml`); users' own topics, set on the saved-workers page, get no token.
 *
 * @module
 */

import type { DomainStores } from "../store/mod.ts";
import type { NotifyChannel } from "./channel.ts";
import type { Notice } from "./events.ts";
import { deliverHttp, headerText } from "./http.ts";

/** One ntfy message as queued. */
export interface NtfyPayload {
  /** Topic URL. */
  readonly url: string;
  /** True for the pool's topic (the token is added at send time, never stored). */
  readonly pool: boolean;
  /** Title header. */
  readonly title: string;
  /** Message body. */
  readonly text: string;
  /** Priority 1–5. */
  readonly priority: number;
  /** Tags. */
  readonly tags: readonly string[];
  /** Click URL, if any. */
  readonly click?: string;
}

/** Options of {@linkcode NtfyChannel}. */
export interface NtfyChannelOptions {
  /** The pool's topic URL; absent → pool notices are not sent to ntfy. */
  readonly topicUrl?: string;
  /** Bearer token for the pool's topic. */
  readonly token?: string;
  /** The store (users' own topics). */
  readonly store: Pick<DomainStores, "notifyPrefs">;
  /** HTTP client (default the global `fetch`). */
  readonly fetch?: typeof fetch;
}

/**
 * The ntfy channel.
 *
 * @example
 * ```ts
 * import { NtfyChannel } from "./ntfy.ts";
 * import { openStore } from "../store/mod.ts";
 *
 * const store = await openStore(":memory:");
 * const ntfy = new NtfyChannel({ topicUrl: "https://ntfy.sh/my-pool", store });
 * console.log(ntfy.name); // "ntfy"
 * store.close();
 * ```
 */
export class NtfyChannel implements NotifyChannel<NtfyPayload> {
  /** Channel name. */
  readonly name = "ntfy";
  readonly #o: NtfyChannelOptions;
  readonly #fetch: typeof fetch;

  /** A channel for the pool's topic and users' own topics. */
  constructor(options: NtfyChannelOptions) {
    this.#o = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** One message to the pool's topic (pool notices) or to the user's topic (user notices). */
  async prepare(notice: Notice): Promise<NtfyPayload[]> {
    let url: string | undefined;
    let pool = false;
    if (notice.audience.kind === "pool") {
      url = this.#o.topicUrl;
      pool = true;
    } else {
      url = (await this.#o.store.notifyPrefs.get(notice.audience.userId)).ntfyUrl;
    }
    if (!url) return [];
    return [{
      url,
      pool,
      title: notice.title,
      text: notice.text,
      priority: notice.priority,
      tags: notice.tags,
      ...(notice.url ? { click: notice.url } : {}),
    }];
  }

  /** POSTs one message. */
  async send(p: NtfyPayload, signal: AbortSignal): Promise<void> {
    const headers: Record<string, string> = {
      "content-type": "text/plain; charset=utf-8",
      title: headerText(p.title),
      priority: String(p.priority),
    };
    if (p.tags.length > 0) headers.tags = headerText(p.tags.join(","));
    if (p.click) headers.click = p.click;
    if (p.pool && this.#o.token) headers.authorization = `Bearer ${this.#o.token}`;
    await deliverHttp(this.#fetch, p.url, {
      method: "POST",
      headers,
      body: p.text,
      signal,
    }, "ntfy");
  }

  /** Users with their own topic. */
  async users(): Promise<Iterable<string>> {
    const all = await this.#o.store.notifyPrefs.all();
    return [...all].filter(([, p]) => p.ntfyUrl).map(([u]) => u);
  }
}
