/**
 * Admission control for new Stratum connections: total cap, per-IP cap, a token-bucket accept
 * limiter and a ban on IPs that reconnect in a loop.
 *
 * Pure: the caller passes `now` (ms since the epoch). The server calls `admit` on accept and
 * `release` when an admitted connection closes.
 *
 * @module
 */

import { BanList, ChurnTracker, IpConnectionCounter } from "./bans.ts";

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
  /** Connects from one IP inside `churnWindowMs` that count as a reconnect loop. */
  readonly churnMaxConnects: number;
  /** Window of the churn count. */
  readonly churnWindowMs: number;
  /** How long an IP caught churning is refused. */
  readonly churnBanMs: number;
}

/** 50 000 connections, 256 per IP, 500/s with bursts of 1000, > 60 connects/min → 1 h ban. */
export const DEFAULT_ADMISSION_OPTIONS: AdmissionOptions = Object.freeze({
  maxConnections: 50_000,
  maxPerIp: 256,
  acceptRatePerSecond: 500,
  acceptBurst: 1000,
  churnMaxConnects: 60,
  churnWindowMs: 60_000,
  churnBanMs: 3_600_000,
});

/** Why a connection was refused. */
export type AdmissionRefusal = "capacity" | "ip-limit" | "rate-limit" | "banned" | "churn";

/** The answer for one new connection. */
export type AdmissionVerdict =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly reason: AdmissionRefusal };

const ADMITTED: AdmissionVerdict = Object.freeze({ admitted: true });

/** Decides whether a new connection may stay, and tracks the open ones. */
export class Admission {
  /** The limits in force. */
  readonly options: AdmissionOptions;
  /** IP bans (keys `ip:<address>`), shared with whoever else bans IPs. */
  readonly bans: BanList;
  readonly #perIp = new IpConnectionCounter();
  readonly #churn: ChurnTracker;
  readonly #bucket: TokenBucket;
  #open = 0;

  /** Uses the defaults overridden by `options`; `bans` may be shared with the server. */
  constructor(options: Partial<AdmissionOptions>, now: number, bans = new BanList()) {
    this.options = { ...DEFAULT_ADMISSION_OPTIONS, ...options };
    this.bans = bans;
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

  /**
   * Judges a connection from `ip`. Checks run cheapest-first; churn is counted for every attempt,
   * refused or not, so a reconnect loop is caught even while it is being refused.
   */
  admit(ip: string, now: number): AdmissionVerdict {
    const banKey = "ip:" + ip;
    if (this.bans.get(banKey, now) !== undefined) return refuse("banned");
    if (this.#churn.note(ip, now)) {
      this.bans.ban(banKey, "reconnecting too often", this.options.churnBanMs, now);
      return refuse("churn");
    }
    if (this.#open >= this.options.maxConnections) return refuse("capacity");
    if (this.#perIp.count(ip) >= this.options.maxPerIp) return refuse("ip-limit");
    if (!this.#bucket.take(now)) return refuse("rate-limit");
    this.#open++;
    this.#perIp.add(ip);
    return ADMITTED;
  }

  /** Marks an admitted connection from `ip` as closed. */
  release(ip: string): void {
    if (this.#open > 0) this.#open--;
    this.#perIp.remove(ip);
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
