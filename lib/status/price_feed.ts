/**
 * The BTC price for the overview, only when `status.price_url` is configured: fetched on demand,
 * kept 30 minutes, never fetched twice at once, and never awaited by a status rebuild (the
 * snapshot shows the last good quote, or none).
 *
 * Understood answers (the currency matched case-insensitively):
 * CoinGecko `{"bitcoin":{"usd":97123.4}}`, mempool.space `{"time":…,"USD":97123}`,
 * blockchain.info `{"USD":{"last":97123.4,…}}`, or a plain `{"price":97123.4}`.
 *
 * @module
 */

import type { PriceQuote } from "./sources.ts";

/** Options of {@linkcode PriceFeed}. */
export interface PriceFeedOptions {
  /** Where to fetch the price. */
  readonly url: string;
  /** Currency code (`usd`); shown upper-case. */
  readonly currency: string;
  /** How long a quote is used before fetching again (ms, default 30 min). */
  readonly maxAgeMs?: number;
  /** Wait after a failed fetch before trying again (ms, default 1 min). */
  readonly retryMs?: number;
  /** Timeout of one fetch (ms, default 10 s). */
  readonly timeoutMs?: number;
  /** `fetch`, injectable for tests. */
  readonly fetch?: typeof fetch;
  /** Clock (ms since the epoch). */
  readonly now?: () => number;
  /** Told about failed fetches (the feed never logs). */
  readonly onError?: (error: unknown) => void;
}

function asPrice(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? value : undefined;
  if (typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  if (typeof value === "object" && value !== null) {
    const o = value as Record<string, unknown>;
    return asPrice(o.last) ?? asPrice(o.price);
  }
  return undefined;
}

function member(value: unknown, key: string): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(value)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/** The price of 1 BTC in `currency` from one of the understood answers, or undefined. */
export function parsePrice(body: unknown, currency: string): number | undefined {
  return asPrice(member(member(body, "bitcoin"), currency)) ??
    asPrice(member(body, currency)) ??
    asPrice(member(body, "price"));
}

/** A lazily refreshed BTC price quote. */
export class PriceFeed {
  readonly #o: Required<Omit<PriceFeedOptions, "onError">> & Pick<PriceFeedOptions, "onError">;
  #quote: PriceQuote | undefined;
  #lastAttempt = -Infinity;
  #inFlight: Promise<void> | undefined;

  /** A feed that fetches on the first {@linkcode quote}. */
  constructor(options: PriceFeedOptions) {
    // `??` rather than a spread of defaults: an option passed as `undefined` means "default".
    this.#o = {
      url: options.url,
      currency: options.currency,
      maxAgeMs: options.maxAgeMs ?? 30 * 60_000,
      retryMs: options.retryMs ?? 60_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      fetch: options.fetch ?? globalThis.fetch,
      now: options.now ?? Date.now,
      onError: options.onError,
    };
  }

  /** The latest quote (possibly old, up to one refresh); starts a refresh in the background when due. */
  quote(): PriceQuote | undefined {
    const now = this.#o.now();
    const age = this.#quote ? now - this.#quote.updatedAt : Infinity;
    if (age >= this.#o.maxAgeMs && now - this.#lastAttempt >= this.#o.retryMs) void this.refresh();
    return this.#quote;
  }

  /** Fetches now (joins a fetch in flight); never rejects. */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#fetch().finally(() => this.#inFlight = undefined);
    return this.#inFlight;
  }

  async #fetch(): Promise<void> {
    this.#lastAttempt = this.#o.now();
    try {
      const response = await this.#o.fetch(this.#o.url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`price: HTTP ${response.status}`);
      }
      const price = parsePrice(await response.json(), this.#o.currency);
      if (price === undefined) throw new Error(`price: no ${this.#o.currency} price in the answer`);
      this.#quote = { price, currency: this.#o.currency.toUpperCase(), updatedAt: this.#o.now() };
    } catch (error) {
      this.#o.onError?.(error);
    }
  }
}
