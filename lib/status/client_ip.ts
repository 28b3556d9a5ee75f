/**
 * Who is asking the status server, over what, and how often they may: the client address behind
 * trusted reverse proxies ({@linkcode clientIp}, `X-Forwarded-For` or RFC 7239 `Forwarded: for=`
 * believed only from `server.trusted_proxies`), whether the client's request is HTTPS
 * ({@linkcode isHttpsRequest}: TLS to the pool, or `Forwarded: proto=` / `X-Forwarded-Proto`
 * from a trusted proxy), a bounded per-client {@linkcode RateLimiter}, and
 * {@linkcode statusRateGate}, the status server's limits on the worker lookup and the page
 * actions answered with `429` and `Retry-After`.
 *
 * Addresses are compared as bytes, so `::ffff:192.0.2.1` is `192.0.2.1` and IPv6 spellings do not
 * matter. IPv6 clients are limited per /64, the block one subscriber usually holds.
 *
 * @module
 */

import { formatIp, type IpBytes, IpRanges, parseForwardedEntry, parseIp } from "../net/mod.ts";

export { formatIp, type IpBytes, IpRanges, parseForwardedEntry, parseIp } from "../net/mod.ts";

/** One element of an RFC 7239 `Forwarded` header: its parameters, names in lower case. */
export type ForwardedElement = Readonly<Record<string, string>>;

const TOKEN_CHAR = /^[!#$%&'*+.^_`|~0-9A-Za-z-]$/;

/**
 * The elements of an RFC 7239 `Forwarded` header value (repeated header lines arrive joined with
 * ", "): comma-separated elements of `;`-separated `name=value` pairs, each value a token or a
 * quoted string (`\` escapes). Undefined when the value is malformed anywhere, so a garbled
 * header is ignored as a whole rather than half-believed.
 */
export function parseForwarded(value: string): ForwardedElement[] | undefined {
  const elements: ForwardedElement[] = [];
  let element: Record<string, string> = {};
  let i = 0;
  const n = value.length;
  const skipSpace = () => {
    while (i < n && (value[i] === " " || value[i] === "\t")) i++;
  };
  for (;;) {
    skipSpace();
    let j = i;
    while (j < n && TOKEN_CHAR.test(value[j])) j++;
    if (j === i || value[j] !== "=") return undefined;
    const name = value.slice(i, j).toLowerCase();
    i = j + 1;
    let v = "";
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) return undefined;
        const c = value[i++];
        if (c === '"') break;
        if (c === "\\") {
          if (i >= n) return undefined;
          v += value[i++];
        } else v += c;
      }
    } else {
      j = i;
      while (j < n && TOKEN_CHAR.test(value[j])) j++;
      if (j === i) return undefined;
      v = value.slice(i, j);
      i = j;
    }
    if (name in element) return undefined; // a parameter twice in one element (RFC 7239 4)
    element[name] = v;
    skipSpace();
    if (i >= n) break;
    if (value[i] === ";") i++;
    else if (value[i] === ",") {
      elements.push(element);
      element = {};
      i++;
    } else return undefined;
  }
  elements.push(element);
  return elements;
}

function trustedSet(trustedProxies: IpRanges | readonly string[]): IpRanges {
  return trustedProxies instanceof IpRanges ? trustedProxies : new IpRanges(trustedProxies);
}

/**
 * The element of a trusted peer's `Forwarded` header that describes the client's own hop: walked
 * from the right (the peer's element last), skipping elements whose `for` is a trusted proxy;
 * the leftmost one when all are. Undefined without a well-formed header.
 */
function clientHop(headers: Headers, trusted: IpRanges): ForwardedElement | undefined {
  const header = headers.get("forwarded");
  const elements = header === null ? undefined : parseForwarded(header);
  if (!elements) return undefined;
  for (let i = elements.length - 1; i > 0; i--) {
    const by = elements[i].for === undefined ? undefined : parseForwardedEntry(elements[i].for);
    if (!by || !trusted.has(by)) return elements[i];
  }
  return elements[0];
}

/**
 * The client's address. When the peer (`remoteAddr`, the socket's address) is a trusted proxy,
 * `X-Forwarded-For` is walked from the right, skipping trusted proxies and malformed entries, and
 * the first untrusted address is the client; when every entry is trusted, the leftmost one is (a
 * client inside the trusted network). Without `X-Forwarded-For`, the `for=` addresses of an RFC
 * 7239 `Forwarded` header are walked the same way. Otherwise, or without a usable header, it is
 * the peer: a client that is not a trusted proxy cannot choose its address by sending a header.
 */
export function clientIp(
  remoteAddr: string,
  headers: Headers,
  trustedProxies: IpRanges | readonly string[],
): string {
  const peer = parseIp(remoteAddr);
  if (!peer) return remoteAddr;
  const trusted = trustedSet(trustedProxies);
  if (trusted.size === 0 || !trusted.has(peer)) return formatIp(peer);
  // Repeated header lines arrive joined with ", ", in order.
  const xff = headers.get("x-forwarded-for");
  let entries: string[];
  if (xff !== null) entries = xff.split(",");
  else {
    const forwarded = headers.get("forwarded");
    const elements = forwarded === null ? undefined : parseForwarded(forwarded);
    entries = (elements ?? []).map((e) => e.for ?? "");
  }
  let leftmostTrusted: IpBytes | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const ip = parseForwardedEntry(entries[i]);
    if (!ip) continue;
    if (!trusted.has(ip)) return formatIp(ip);
    leftmostTrusted = ip;
  }
  return formatIp(leftmostTrusted ?? peer);
}

/**
 * True when the client's request is HTTPS: the connection to the pool is TLS (`tls`), or the peer
 * is a trusted proxy that says so. A trusted peer's word is its `Forwarded` header's `proto=`
 * for the client's hop (see {@linkcode clientIp} for the walk) when that element has one, else
 * the last `X-Forwarded-Proto` value (the one the nearest proxy set). From any other peer both
 * headers are ignored. This is the one decision behind the `Secure` cookie flag and the scheme of
 * the request URL the status routes see.
 */
export function isHttpsRequest(
  remoteAddr: string,
  headers: Headers,
  trustedProxies: IpRanges | readonly string[],
  tls = false,
): boolean {
  if (tls) return true;
  const peer = parseIp(remoteAddr);
  const trusted = trustedSet(trustedProxies);
  if (!peer || trusted.size === 0 || !trusted.has(peer)) return false;
  const proto = clientHop(headers, trusted)?.proto;
  if (proto !== undefined) return proto.toLowerCase() === "https";
  const xfp = headers.get("x-forwarded-proto");
  if (xfp === null) return false;
  return (xfp.split(",").at(-1) ?? "").trim().toLowerCase() === "https";
}

/** The key a client is limited by: its IPv4 address, or its IPv6 /64. */
export function rateKey(ip: string): string {
  const bytes = parseIp(ip);
  if (!bytes || bytes.length === 4) return ip;
  const prefix = new Uint8Array(16);
  prefix.set(bytes.subarray(0, 8));
  return `${formatIp(prefix)}/64`;
}

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Requests allowed per window, also the burst. */
  readonly limit: number;
  /** The window (ms); the allowance refills evenly over it. */
  readonly windowMs: number;
  /** Most clients tracked at once (default 65,536); past it the least recently seen go first. */
  readonly maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key: `limit` requests at once, refilled at `limit` per `windowMs`. Memory is
 * bounded: full buckets are forgotten, and past `maxKeys` the least recently seen client goes.
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #perMs: number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();

  /** A limiter of `limit` requests per `windowMs` per key. */
  constructor(options: RateLimiterOptions) {
    if (!(options.limit >= 1) || !(options.windowMs > 0)) {
      throw new RangeError("rate limit needs limit ≥ 1 and a positive window");
    }
    this.#limit = options.limit;
    this.#perMs = options.limit / options.windowMs;
    this.#maxKeys = options.maxKeys ?? 65_536;
  }

  /** Clients tracked now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one request for `key` at `now` (ms); 0 when allowed, else ms until one is. */
  take(key: string, now: number): number {
    const buckets = this.#buckets;
    let b = buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.#limit, b.tokens + Math.max(0, now - b.at) * this.#perMs);
      b.at = now;
      buckets.delete(key); // re-inserted below: the map stays in least-recently-seen order
    } else {
      if (buckets.size >= this.#maxKeys) this.#evict(now);
      b = { tokens: this.#limit, at: now };
    }
    buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.#perMs);
  }

  #evict(now: number): void {
    const buckets = this.#buckets;
    for (const [key, b] of buckets) {
      if (b.tokens + (now - b.at) * this.#perMs >= this.#limit) buckets.delete(key);
    }
    // All still limited (many clients at once): the least recently seen go.
    for (const key of buckets.keys()) {
      if (buckets.size < this.#maxKeys) break;
      buckets.delete(key);
    }
  }
}

/** Worker lookups per minute per client (`/worker/sha256`, `/api/worker-lookup`). */
export const LOOKUP_LIMIT_PER_MINUTE = 30;
/** Page actions per minute per client (every POST: session refresh, saved-worker forms). */
export const ACTION_LIMIT_PER_MINUTE = 60;

/** Which limit a request falls under, if any. */
export type RateClass = "lookup" | "action";

/** The limit class of a status-server request; undefined for pages and the JSON API. */
export function statusRateClass(method: string, pathname: string): RateClass | undefined {
  if (method === "POST") return "action";
  if (
    (method === "GET" || method === "HEAD") &&
    (pathname === "/worker/sha256" || pathname === "/api/worker-lookup")
  ) {
    return "lookup";
  }
  return undefined;
}

/** Options of {@linkcode statusRateGate}. */
export interface StatusRateGateOptions {
  /** `server.trusted_proxies`. */
  readonly trustedProxies: readonly string[];
  /** Worker lookups per minute per client; default {@linkcode LOOKUP_LIMIT_PER_MINUTE}. */
  readonly lookupPerMinute?: number;
  /** Page actions per minute per client; default {@linkcode ACTION_LIMIT_PER_MINUTE}. */
  readonly actionPerMinute?: number;
  /** Clock (ms); default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The status server's per-client limits: given a request and its socket's peer address, a `429`
 * answer (plain text, `Retry-After` in whole seconds) when the client is over its limit, else
 * undefined (serve it). Requests outside the limited classes cost nothing but a path check.
 */
export function statusRateGate(
  options: StatusRateGateOptions,
): (request: Request, remoteAddr: string) => Response | undefined {
  const trusted = new IpRanges(options.trustedProxies);
  const now = options.now ?? Date.now;
  const limiters: Record<RateClass, RateLimiter> = {
    lookup: new RateLimiter({
      limit: options.lookupPerMinute ?? LOOKUP_LIMIT_PER_MINUTE,
      windowMs: 60_000,
    }),
    action: new RateLimiter({
      limit: options.actionPerMinute ?? ACTION_LIMIT_PER_MINUTE,
      windowMs: 60_000,
    }),
  };
  return (request, remoteAddr) => {
    const rateClass = statusRateClass(request.method, new URL(request.url).pathname);
    if (rateClass === undefined) return undefined;
    const ip = clientIp(remoteAddr, request.headers, trusted);
    const waitMs = limiters[rateClass].take(rateKey(ip), now());
    if (waitMs === 0) return undefined;
    return new Response("too many requests; try again later\n", {
      status: 429,
      headers: {
        "Content-Type": "text/plain; charset=utf-8",
        "Retry-After": String(Math.max(1, Math.ceil(waitMs / 1000))),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  };
}
