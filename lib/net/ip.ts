/**
 * IP address literals as bytes: parsing (IPv4, IPv6, IPv4-mapped), canonical text, and sets of
 * addresses and CIDR ranges. Pure, no I/O; the status server's client address and Stratum's
 * admission exempt list both build on it.
 *
 * @example
 * ```ts
 * import { IpRanges, parseIp } from "./ip.ts";
 * const loopback = new IpRanges(["127.0.0.0/8", "::1"]);
 * loopback.has(parseIp("127.0.0.2")!); // true
 * ```
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
