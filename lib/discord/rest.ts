/**
 * A small Discord REST client for the bot: post a message, read a channel, delete a message.
 * HTTP 429 answers are honoured (`retry_after` from the body, else the `Retry-After` header) and
 * retried; an exhausted bucket (`X-RateLimit-Remaining: 0`) delays the next request by
 * `X-RateLimit-Reset-After`. The base URL is configurable (`discord.api_base_url`) so tests run
 * against a local stand-in.
 *
 * @module
 */

/** Options of {@linkcode DiscordRest}. */
export interface DiscordRestOptions {
  /** API base, e.g. `https://discord.com/api/v10` (no trailing slash needed). */
  readonly baseUrl: string;
  /** Bot token (from `secrets.toml`). */
  readonly token: string;
  /** Retries of one request after 429 or 5xx (default 5). */
  readonly maxRetries?: number;
  /** Longest wait honoured for one 429, ms (default 60 s); longer waits fail the request. */
  readonly maxRetryAfterMs?: number;
  /** Timeout of one HTTP call, ms (default 10 s). */
  readonly timeoutMs?: number;
  /** HTTP client (default the global `fetch`). */
  readonly fetch?: typeof fetch;
  /** Sleep (tests may shorten it). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A Discord API failure. */
export class DiscordApiError extends Error {
  /** HTTP status (0 for a transport error). */
  readonly status: number;
  /** Status and Discord's message. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "DiscordApiError";
    this.status = status;
  }
}

/** The fields of a Discord message the bot reads. */
export interface DiscordMessage {
  /** Message id (snowflake). */
  readonly id: string;
  /** Text. */
  readonly content: string;
  /** Author. */
  readonly author: { readonly id: string; readonly bot?: boolean };
}

/** Who a message may ping. */
export interface AllowedMentions {
  /** User ids that may be pinged (nothing else is). */
  readonly users: readonly string[];
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The Discord REST API as the bot uses it. */
export class DiscordRest {
  readonly #o: Required<DiscordRestOptions>;
  #pausedUntil = 0;
  /** 429 answers seen (for the operator and tests). */
  rateLimited = 0;

  /** A client for one bot token. */
  constructor(options: DiscordRestOptions) {
    this.#o = {
      maxRetries: 5,
      maxRetryAfterMs: 60_000,
      timeoutMs: 10_000,
      fetch: globalThis.fetch.bind(globalThis),
      sleep: defaultSleep,
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
    };
  }

  /** Posts `content` to a channel; only the listed users can be pinged. */
  async createMessage(
    channelId: string,
    content: string,
    mentions: AllowedMentions = { users: [] },
    replyTo?: string,
  ): Promise<DiscordMessage> {
    return await this.request<DiscordMessage>("POST", `/channels/${channelId}/messages`, {
      content,
      allowed_mentions: { parse: [], users: mentions.users.slice(0, 100) },
      ...(replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } } : {}),
    });
  }

  /** Messages of a channel after `after` (oldest first), at most 100. */
  async channelMessages(channelId: string, after?: string): Promise<DiscordMessage[]> {
    const q = new URLSearchParams({ limit: "100" });
    if (after) q.set("after", after);
    const list = await this.request<DiscordMessage[]>(
      "GET",
      `/channels/${channelId}/messages?${q}`,
    );
    return [...list].sort((a, b) => compareSnowflakes(a.id, b.id));
  }

  /** Deletes a message (needs Manage Messages; failures are the caller's to ignore). */
  async deleteMessage(channelId: string, messageId: string): Promise<void> {
    await this.request<unknown>("DELETE", `/channels/${channelId}/messages/${messageId}`);
  }

  /** One API call with rate-limit handling; resolves with the parsed JSON (or undefined). */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0;; attempt++) {
      const wait = this.#pausedUntil - Date.now();
      if (wait > 0) await this.#o.sleep(wait);
      let res: Response;
      try {
        res = await this.#o.fetch(`${this.#o.baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bot ${this.#o.token}`,
            "user-agent": "DiscordBot (https://github.com/denopool, 0.1)",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.#o.timeoutMs),
        });
      } catch (err) {
        if (attempt >= this.#o.maxRetries) {
          throw new DiscordApiError(0, err instanceof Error ? err.message : String(err));
        }
        await this.#o.sleep(Math.min(30_000, 500 * 2 ** attempt));
        continue;
      }
      if (res.headers.get("x-ratelimit-remaining") === "0") {
        const reset = Number(res.headers.get("x-ratelimit-reset-after"));
        if (Number.isFinite(reset) && reset > 0) this.#pausedUntil = Date.now() + reset * 1000;
      }
      if (res.status === 429) {
        this.rateLimited++;
        const retryMs = await retryAfterMs(res);
        if (attempt >= this.#o.maxRetries || retryMs > this.#o.maxRetryAfterMs) {
          throw new DiscordApiError(429, `rate limited for ${retryMs} ms`);
        }
        await this.#o.sleep(retryMs);
        continue;
      }
      if (res.status >= 500 && attempt < this.#o.maxRetries) {
        await res.body?.cancel();
        await this.#o.sleep(Math.min(30_000, 500 * 2 ** attempt));
        continue;
      }
      const text = await res.text();
      if (!res.ok) {
        throw new DiscordApiError(
          res.status,
          `${method} ${path}: ${res.status} ${text.slice(0, 200)}`,
        );
      }
      return (text === "" ? undefined : JSON.parse(text)) as T;
    }
  }
}

/** The wait a 429 asks for, ms: JSON `retry_after` (seconds), else `Retry-After`, else 1 s. */
async function retryAfterMs(res: Response): Promise<number> {
  let seconds = Number.NaN;
  try {
    const body = await res.json() as { retry_after?: unknown };
    if (typeof body.retry_after === "number") seconds = body.retry_after;
  } catch {
    // not JSON
  }
  if (!Number.isFinite(seconds)) seconds = Number(res.headers.get("retry-after"));
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 1;
  return Math.ceil(seconds * 1000);
}

/** Orders two snowflakes (decimal strings of up to 20 digits) numerically. */
export function compareSnowflakes(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
