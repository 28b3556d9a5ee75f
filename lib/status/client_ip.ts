/**
 * Who is asking the status server, and how often they may: the client address behind trusted
 * reverse proxies ({@linkcode clientIp}, `X-Forwarded-For` believed only from
 * `server.trusted_proxies`), a bounded per-client {@linkcode RateLimiter}, and
 * {@linkcode statusRateGate}, the status server's limits on the worker lookup and the page
 * actions answered with `429` and `Retry-After`.
 *
 * Addresses are compared as bytes, so `::ffff:192.0.2.1` is `192.0.2.1` and IPv6 spellings do not
 * matter. IPv6 clients are limited per /64, the block one subscriber usually holds.
 *
 * @module
 */

/** An IP address as 4 (IPv4) or 16 (IPv6) bytes. */
export type IpBytes = Uint8Array;

function parseIpv4(text: string): IpBytes | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(?:0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): IpBytes | undefined {
  if (text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const words: number[] = [];
  // An IPv4 tail (`::ffff:192.0.2.1`) stands for the last two groups.
  const last = [...head, ...tail].at(-1);
  let v4: IpBytes | undefined;
  if (last !== undefined && last.includes(".")) {
    v4 = parseIpv4(last);
    // It must be the very last thing: `1.2.3.4::` is not an address.
    if (!v4 || (halves.length === 2 && tail.length === 0)) return undefined;
    (tail.length > 0 ? tail : head).pop();
  }
  for (const g of [...head, ...tail]) if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
  const have = head.length + tail.length + (v4 ? 2 : 0);
  if (halves.length === 2 ? have > 7 : have !== 8) return undefined;
  for (const g of head) words.push(parseInt(g, 16));
  if (halves.length === 2) { for (let i = have; i < 8; i++) words.push(0); }
  for (const g of tail) words.push(parseInt(g, 16));
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  if (v4) out.set(v4, 12);
  return out;
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * Parses an IP address literal: dotted-quad IPv4 (no leading zeros) or IPv6 (`::`, an IPv4
 * tail, brackets and a `%zone` allowed). An IPv4-mapped IPv6 address comes back as IPv4.
 * Undefined for anything else (host names, ports, garbage).
 */
export function parseIp(text: string): IpBytes | undefined {
  let s = text.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  if (!s.includes(":")) return parseIpv4(s);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const v6 = parseIpv6(s);
  if (v6 && V4_MAPPED_PREFIX.every((b, i) => v6[i] === b)) return v6.slice(12);
  return v6;
}

/**
 * Parses one `X-Forwarded-For` entry: an address, or one with a port as some proxies write it
 * (`192.0.2.1:4711`, `[2001:db8::1]:4711`). Undefined when malformed.
 */
export function parseForwardedEntry(entry: string): IpBytes | undefined {
  const s = entry.trim();
  const bracketPort = /^\[([^\]]+)\]:\d{1,5}$/.exec(s);
  if (bracketPort) return parseIp(bracketPort[1]);
  const v4Port = /^([\d.]+):\d{1,5}$/.exec(s);
  if (v4Port) return parseIpv4(v4Port[1]);
  return parseIp(s);
}

/** The canonical text of an address: dotted quad, or RFC 5952 IPv6 (lower case, longest `::`). */
export function formatIp(ip: IpBytes): string {
  if (ip.length === 4) return ip.join(".");
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((ip[i] << 8) | ip[i + 1]);
  let bestAt = -1;
  let bestLength = 1; // a single zero group is not shortened
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) [bestAt, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (bestAt < 0) return hex(words);
  return `${hex(words.slice(0, bestAt))}::${hex(words.slice(bestAt + bestLength))}`;
}

/** A set of addresses and CIDR ranges (`server.trusted_proxies`). */
export class IpRanges {
  readonly #ranges: { readonly base: IpBytes; readonly bits: number }[] = [];

  /** Parses `entries` (`192.0.2.10`, `10.0.0.0/8`, `2001:db8::/32`); throws on a bad entry. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const slash = entry.indexOf("/");
      const base = parseIp(slash < 0 ? entry : entry.slice(0, slash));
      if (!base) throw new RangeError(`not an IP address or CIDR range: ${entry}`);
      let bits = base.length * 8;
      if (slash >= 0) {
        const text = entry.slice(slash + 1);
        bits = Number(text);
        // A mapped IPv4 base (`::ffff:10.0.0.0/104`) was turned into IPv4: its prefix shrinks too.
        if (base.length === 4 && entry.includes(":")) bits -= 96;
        if (!/^\d{1,3}$/.test(text) || bits < 0 || bits > base.length * 8) {
          throw new RangeError(`bad prefix length in ${entry}`);
        }
      }
      this.#ranges.push({ base, bits });
    }
  }

  /** Number of entries. */
  get size(): number {
    return this.#ranges.length;
  }

  /** True when `ip` lies in one of the ranges. */
  has(ip: IpBytes): boolean {
    for (const { base, bits } of this.#ranges) {
      if (base.length !== ip.length) continue;
      const whole = bits >> 3;
      let match = true;
      for (let i = 0; i < whole && match; i++) match = base[i] === ip[i];
      const rest = bits & 7;
      if (match && rest > 0) {
        const mask = (0xff << (8 - rest)) & 0xff;
        match = (base[whole] & mask) === (ip[whole] & mask);
      }
      if (match) return true;
    }
    return false;
  }
}

/**
 * The client's address. When the peer (`remoteAddr`, the socket's address) is a trusted proxy,
 * `X-Forwarded-For` is walked from the right, skipping trusted proxies and malformed entries, and
 * the first untrusted address is the client; when every entry is trusted, the leftmost one is (a
 * client inside the trusted network). Otherwise, or without a usable header, it is the peer: a
 * client that is not a trusted proxy cannot choose its address by sending the header.
 */
export function clientIp(
  remoteAddr: string,
  headers: Headers,
  trustedProxies: IpRanges | readonly string[],
): string {
  const peer = parseIp(remoteAddr);
  if (!peer) return remoteAddr;
  const trusted = trustedProxies instanceof IpRanges
    ? trustedProxies
    : new IpRanges(trustedProxies);
  if (trusted.size === 0 || !trusted.has(peer)) return formatIp(peer);
  // Repeated header lines arrive joined with ", ", in order.
  const entries = (headers.get("x-forwarded-for") ?? "").split(",");
  let leftmostTrusted: IpBytes | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const ip = parseForwardedEntry(entries[i]);
    if (!ip) continue;
    if (!trusted.has(ip)) return formatIp(ip);
    leftmostTrusted = ip;
  }
  return formatIp(leftmostTrusted ?? peer);
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
