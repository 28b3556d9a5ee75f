/**
 * Admission control for new Stratum connections: total cap, per-IP cap, a token-bucket accept
 * limiter and a short ban on IPs stuck in a reconnect loop.
 *
 * A reconnect loop is counted from connections that **end without useful work**: never
 * authorized, or closed within `churnMinLifetimeMs` without an accepted share. Connecting is never
 * counted by itself, so a farm of hundreds of machines behind one address (NAT, a local Stratum
 * proxy) may connect at once, or all reconnect after a pool restart, and none is refused.
 * Addresses on the exempt list (loopback by default) are never banned by these rules.
 *
 * Pure: the caller passes `now` (ms since the epoch). The server calls `admit` on accept and
 * `release` when an admitted connection closes, saying whether it did useful work.
 *
 * @example
 * ```ts
 * import { Admission } from "./admission.ts";
 * const a = new Admission({ churnMaxConnects: 2 }, 0);
 * a.admit("192.0.2.7", 0); // { admitted: true }
 * a.release("192.0.2.7", 100, false); // one connection that did nothing
 * ```
 *
 * @module
 */

import { IpRanges, parseIp } from "../net/mod.ts";
import { type BanEntry, BanList, ChurnTracker, IpConnectionCounter } from "./bans.ts";

/** A token bucket: `burst` tokens, refilled at `ratePerSecond`. */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  /** A full bucket at `now`. A rate of `Infinity` never limits. */
  constructor(ratePerSecond: number, burst: number, now: number) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = Math.max(1, burst);
    this.#tokens = this.#burst;
    this.#last = now;
  }

  /** Takes one token; false when the bucket is empty. */
  take(now: number): boolean {
    if (this.#ratePerMs === Infinity) return true;
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Limits applied to new connections. */
export interface AdmissionOptions {
  /** Open connections allowed in total. */
  readonly maxConnections: number;
  /** Open connections allowed from one IP. */
  readonly maxPerIp: number;
  /** Steady accept rate (connections per second, all IPs together). */
  readonly acceptRatePerSecond: number;
  /** Accepts allowed in a burst above the steady rate. */
  readonly acceptBurst: number;
  /**
   * Connections from one IP, ended without useful work inside `churnWindowMs`, that count as a
   * reconnect loop and ban the IP (`Infinity`: never).
   */
  readonly churnMaxConnects: number;
  /** Window of the churn count. */
  readonly churnWindowMs: number;
  /** How long an IP caught churning is refused (new connections only; open ones stay). */
  readonly churnBanMs: number;
  /**
   * An authorized connection that lasts this long is useful even without a share; a shorter one
   * is useful only when it had an accepted share.
   */
  readonly churnMinLifetimeMs: number;
  /** Addresses and CIDR ranges never banned by admission rules (IP bans and churn). */
  readonly exempt: readonly string[];
}

/** Loopback, IPv4 and IPv6: exempt by default, like fail2ban's `ignoreip`. */
export const DEFAULT_EXEMPT: readonly string[] = Object.freeze(["127.0.0.0/8", "::1"]);

/**
 * 50 000 connections, 1000 per IP, 500/s with bursts of 1000; more than 60 connections in a
 * minute that end without useful work (unauthorized, or under 10 s without a share) ban the IP
 * for 10 min; loopback is exempt.
 */
export const DEFAULT_ADMISSION_OPTIONS: AdmissionOptions = Object.freeze({
  maxConnections: 50_000,
  maxPerIp: 1000,
  acceptRatePerSecond: 500,
  acceptBurst: 1000,
  churnMaxConnects: 60,
  churnWindowMs: 60_000,
  churnBanMs: 600_000,
  churnMinLifetimeMs: 10_000,
  exempt: DEFAULT_EXEMPT,
});

/** The reason written on a reconnect-churn ban. */
export const CHURN_BAN_REASON = "reconnecting too often";

/** Why a connection was refused. */
export type AdmissionRefusal = "capacity" | "ip-limit" | "rate-limit" | "banned";

/** How an admitted connection ended, as `release` needs to know it. */
export interface ConnectionOutcome {
  /** When it was admitted (ms since the epoch). */
  readonly connectedAt: number;
  /** It authorized a worker. */
  readonly authorized: boolean;
  /** Shares accepted on it. */
  readonly acceptedShares: number;
}

/** The answer for one new connection. */
export type AdmissionVerdict =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly reason: AdmissionRefusal };

const ADMITTED: AdmissionVerdict = Object.freeze({ admitted: true });

/** Decides whether a new connection may stay, and tracks the open ones. */
export class Admission {
  /** The limits in force (replaced as a whole by {@linkcode Admission.retune}). */
  options: AdmissionOptions;
  /** IP bans (keys `ip:<address>`), shared with whoever else bans IPs. */
  readonly bans: BanList;
  readonly #perIp = new IpConnectionCounter();
  readonly #churn: ChurnTracker;
  #bucket: TokenBucket;
  #exempt: IpRanges;
  #open = 0;
  #churnBans = 0;

  /**
   * Uses the defaults overridden by `options`; `bans` may be shared with the server. Throws a
   * `RangeError` naming the entry when `options.exempt` holds something that is no address.
   */
  constructor(options: Partial<AdmissionOptions>, now: number, bans = new BanList()) {
    this.options = { ...DEFAULT_ADMISSION_OPTIONS, ...options };
    this.bans = bans;
    this.#exempt = new IpRanges(this.options.exempt);
    this.#churn = new ChurnTracker({
      maxConnects: this.options.churnMaxConnects,
      windowMs: this.options.churnWindowMs,
    });
    this.#bucket = new TokenBucket(
      this.options.acceptRatePerSecond,
      this.options.acceptBurst,
      now,
    );
  }

  /** Open admitted connections. */
  get open(): number {
    return this.#open;
  }

  /** Open admitted connections from `ip`. */
  openFrom(ip: string): number {
    return this.#perIp.count(ip);
  }

  /** True when `ip` is on the exempt list (never banned by admission rules). */
  isExempt(ip: string): boolean {
    if (this.#exempt.size === 0) return false;
    const bytes = parseIp(ip);
    return bytes !== undefined && this.#exempt.has(bytes);
  }

  /** Churn bans imposed since start. */
  get churnBans(): number {
    return this.#churnBans;
  }

  /**
   * Judges a connection from `ip`, cheapest check first: an IP ban (for exempt addresses only one
   * the operator set),
   * the total cap, the per-IP cap, the accept rate. Connecting is never held against an IP.
   */
  admit(ip: string, now: number): AdmissionVerdict {
    if (this.bans.size > 0) {
      // The exempt list is spared the automatic bans; a ban the operator set by hand holds.
      const ban = this.bans.get("ip:" + ip, now);
      if (ban !== undefined && (ban.source === "operator" || !this.isExempt(ip))) {
        return refuse("banned");
      }
    }
    if (this.#open >= this.options.maxConnections) return refuse("capacity");
    if (this.#perIp.count(ip) >= this.options.maxPerIp) return refuse("ip-limit");
    if (!this.#bucket.take(now)) return refuse("rate-limit");
    this.#open++;
    this.#perIp.add(ip);
    return ADMITTED;
  }

  /**
   * Marks an admitted connection from `ip` as closed. Without `outcome` (or when it did useful
   * work) nothing else happens; a connection that ended without useful work counts toward the
   * IP's reconnect loop, and the one that goes over the limit bans the IP (unless exempt).
   * Returns the ban when this close imposed one.
   */
  release(ip: string, now: number, outcome?: ConnectionOutcome): BanEntry | undefined {
    if (this.#open > 0) this.#open--;
    this.#perIp.remove(ip);
    if (outcome === undefined || this.isUseful(outcome, now)) return undefined;
    if (!this.#churn.note(ip, now) || this.isExempt(ip)) return undefined;
    this.#churnBans++;
    return this.bans.ban("ip:" + ip, CHURN_BAN_REASON, this.options.churnBanMs, now, "churn");
  }

  /** True when a connection ending now did useful work: authorized and a share or a long stay. */
  isUseful(outcome: ConnectionOutcome, now: number): boolean {
    if (!outcome.authorized) return false;
    return outcome.acceptedShares > 0 ||
      now - outcome.connectedAt >= this.options.churnMinLifetimeMs;
  }

  /**
   * Changes limits while running (the operator's overrides): the per-IP cap, the accept rate and
   * burst (a fresh, full bucket) and the exempt list. Open connections are not touched. Throws a
   * `RangeError` for an exempt entry that is no address, changing nothing.
   */
  retune(
    patch: Partial<
      Pick<AdmissionOptions, "maxPerIp" | "acceptRatePerSecond" | "acceptBurst" | "exempt">
    >,
    now: number,
  ): void {
    const exempt = patch.exempt === undefined ? this.#exempt : new IpRanges(patch.exempt);
    const next = { ...this.options, ...patch };
    if (
      next.acceptRatePerSecond !== this.options.acceptRatePerSecond ||
      next.acceptBurst !== this.options.acceptBurst
    ) {
      this.#bucket = new TokenBucket(next.acceptRatePerSecond, next.acceptBurst, now);
    }
    this.#exempt = exempt;
    this.options = next;
  }

  /** Forgets expired churn windows and bans. */
  prune(now: number): void {
    this.#churn.prune(now);
    this.bans.prune(now);
  }
}

function refuse(reason: AdmissionRefusal): AdmissionVerdict {
  return { admitted: false, reason };
}
