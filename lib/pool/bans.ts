/**
 * Ban bookkeeping: timed bans by key, the invalid-share counter that earns one, per-IP connection
 * counts, reconnect churn per IP and the miner-client blacklist.
 *
 * Pure: every call that depends on time takes `now` (ms since the epoch), so tests drive the clock.
 *
 * @module
 */

/**
 * Which rule set a ban: `invalid-shares` (a worker's bad shares), `churn` (an IP's reconnect
 * loop: short-lived protection, never persisted) or `operator` (set by hand).
 */
export type BanSource = "invalid-shares" | "churn" | "operator";

/** One active ban. */
export interface BanEntry {
  /** What is banned: a worker name, a payout address or `ip:<address>`. */
  readonly key: string;
  /** When the ban ends (ms since the epoch). */
  readonly until: number;
  /** Short human reason, shown to the miner and on the status page. */
  readonly reason: string;
  /** The rule that set it (absent on bans stored before sources were recorded). */
  readonly source?: BanSource;
}

/** Told about every new or lifted ban (the store persists them); expiry is not reported. */
export interface BanListener {
  /** A ban was set or lengthened. */
  onBan?(entry: BanEntry): void;
  /** A ban was lifted before its end. */
  onUnban?(key: string): void;
}

/** Timed bans by key; expired entries vanish on read and on `prune`. */
export class BanList {
  readonly #entries = new Map<string, BanEntry>();
  #listener: BanListener | undefined;

  /** An empty list; `listener` hears about bans set and lifted. */
  constructor(listener?: BanListener) {
    this.#listener = listener;
  }

  /**
   * Replaces the listener (undefined: none). For a list made by someone else, such as the IP bans
   * of `Admission`, which the pool persists once its store is open.
   */
  setListener(listener: BanListener | undefined): void {
    this.#listener = listener;
  }

  /** Bans `key` for `durationMs` from `now`, set by `source`; a longer existing ban is kept. */
  ban(key: string, reason: string, durationMs: number, now: number, source?: BanSource): BanEntry {
    const until = now + durationMs;
    const existing = this.get(key, now);
    if (existing !== undefined && existing.until >= until) return existing;
    const entry: BanEntry = source === undefined
      ? { key, until, reason }
      : { key, until, reason, source };
    this.#entries.set(key, entry);
    this.#listener?.onBan?.(entry);
    return entry;
  }

  /** The active ban on `key`, if any. */
  get(key: string, now: number): BanEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Lifts the ban on `key`; true when there was one. */
  unban(key: string): boolean {
    const had = this.#entries.delete(key);
    if (had) this.#listener?.onUnban?.(key);
    return had;
  }

  /** Every active ban, soonest expiry first. */
  list(now: number): BanEntry[] {
    this.prune(now);
    return [...this.#entries.values()].sort((a, b) => a.until - b.until);
  }

  /** Drops expired bans. */
  prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.until <= now) this.#entries.delete(key);
    }
  }

  /** Number of entries held (expired ones included until pruned). */
  get size(): number {
    return this.#entries.size;
  }
}

/** Thresholds of the invalid-share ban. */
export interface InvalidShareOptions {
  /** Invalid shares inside one window that earn a ban. */
  readonly threshold: number;
  /** Length of the counting window; it restarts when it runs out. */
  readonly windowMs: number;
  /** Accepted shares that forgive one invalid one (0 = no forgiveness). */
  readonly acceptedPerForgiven: number;
  /** How long the ban lasts. */
  readonly banMs: number;
}

/** 40 invalid shares in 5 minutes earn a 15-minute ban; every 2 accepted forgive 1. */
export const DEFAULT_INVALID_SHARE_OPTIONS: InvalidShareOptions = Object.freeze({
  threshold: 40,
  windowMs: 5 * 60_000,
  acceptedPerForgiven: 2,
  banMs: 15 * 60_000,
});

/**
 * Counts malformed or policy-violating shares of one connection (not stale, duplicate or low
 * difficulty: those are honest races and luck).
 */
export class InvalidShareCounter {
  /** The thresholds in force. */
  readonly options: InvalidShareOptions;
  #windowStart = -Infinity;
  #invalid = 0;
  #acceptedCredit = 0;

  /** Uses the defaults overridden by `options`. */
  constructor(options: Partial<InvalidShareOptions> = {}) {
    this.options = { ...DEFAULT_INVALID_SHARE_OPTIONS, ...options };
  }

  /** Invalid shares counted in the current window (after forgiveness). */
  get count(): number {
    return this.#invalid;
  }

  /** Records one invalid share; true when the threshold is reached (time to ban). */
  noteInvalid(now: number): boolean {
    if (now - this.#windowStart >= this.options.windowMs) {
      this.#windowStart = now;
      this.#invalid = 0;
      this.#acceptedCredit = 0;
    }
    this.#invalid++;
    if (this.#invalid >= this.options.threshold) {
      this.#invalid = 0;
      return true;
    }
    return false;
  }

  /** Records one accepted share, forgiving invalid ones at the configured rate. */
  noteAccepted(): void {
    const per = this.options.acceptedPerForgiven;
    if (per <= 0 || this.#invalid === 0) return;
    if (++this.#acceptedCredit >= per) {
      this.#acceptedCredit = 0;
      this.#invalid--;
    }
  }
}

/** Open connections per IP address. */
export class IpConnectionCounter {
  readonly #counts = new Map<string, number>();

  /** Open connections from `ip`. */
  count(ip: string): number {
    return this.#counts.get(ip) ?? 0;
  }

  /** Counts one more connection from `ip`; returns the new count. */
  add(ip: string): number {
    const n = (this.#counts.get(ip) ?? 0) + 1;
    this.#counts.set(ip, n);
    return n;
  }

  /** Counts one connection from `ip` as closed. */
  remove(ip: string): void {
    const n = (this.#counts.get(ip) ?? 0) - 1;
    if (n > 0) this.#counts.set(ip, n);
    else this.#counts.delete(ip);
  }

  /** Distinct IPs with open connections. */
  get ips(): number {
    return this.#counts.size;
  }
}

/** Limits of the reconnect-churn tracker. */
export interface ChurnOptions {
  /** Wasted connections (ended without useful work) allowed from one IP inside the window. */
  readonly maxConnects: number;
  /** Length of the window. */
  readonly windowMs: number;
}

/** More than 60 wasted connections in 60 s from one IP is churn. */
export const DEFAULT_CHURN_OPTIONS: ChurnOptions = Object.freeze({
  maxConnects: 60,
  windowMs: 60_000,
});

/**
 * Counts wasted connections per IP in fixed windows to catch miners stuck in a reconnect loop. The
 * caller decides what counts ({@linkcode Admission} notes only connections that did no useful work).
 */
export class ChurnTracker {
  /** The limits in force. */
  readonly options: ChurnOptions;
  readonly #windows = new Map<string, { start: number; connects: number }>();

  /** Uses the defaults overridden by `options`. */
  constructor(options: Partial<ChurnOptions> = {}) {
    this.options = { ...DEFAULT_CHURN_OPTIONS, ...options };
  }

  /** Records one wasted connection from `ip`; true when it goes over the limit. */
  note(ip: string, now: number): boolean {
    let w = this.#windows.get(ip);
    if (w === undefined || now - w.start >= this.options.windowMs) {
      w = { start: now, connects: 0 };
      this.#windows.set(ip, w);
    }
    return ++w.connects > this.options.maxConnects;
  }

  /** Forgets windows that have run out. */
  prune(now: number): void {
    for (const [ip, w] of this.#windows) {
      if (now - w.start >= this.options.windowMs) this.#windows.delete(ip);
    }
  }
}

/** A miner client name and version parsed from the `mining.subscribe` user agent. */
export interface MinerClient {
  /** Client name, e.g. `cgminer`, `bmminer`, `NerdMiner`. */
  readonly name: string;
  /** Version text after the name, possibly empty. */
  readonly version: string;
}

/** Splits a user agent such as `cgminer/4.11.1` or `bmminer 2.0` into name and version. */
export function parseMinerClient(userAgent: string): MinerClient {
  const text = userAgent.trim();
  const cut = text.search(/[/\s]/);
  if (cut < 0) return { name: text, version: "" };
  return { name: text.slice(0, cut), version: text.slice(cut + 1).trim() };
}

/**
 * True when `userAgent` is on `blacklist`: a case-insensitive match of the whole user agent or of
 * its parsed client name.
 */
export function isBlacklistedClient(userAgent: string, blacklist: readonly string[]): boolean {
  if (blacklist.length === 0) return false;
  const full = userAgent.trim().toLowerCase();
  const name = parseMinerClient(userAgent).name.toLowerCase();
  for (const entry of blacklist) {
    const e = entry.trim().toLowerCase();
    if (e !== "" && (e === full || e === name)) return true;
  }
  return false;
}
