/**
 * The handshake of one Stratum v1 connection: who the miner is and what it negotiated.
 *
 * `mining.subscribe` (user agent, blacklist, extranonce1, resumption), `mining.authorize` (pool
 * password, user name → payout, bans, difficulty hint in the password), `mining.configure`
 * (BIP310 version rolling, minimum difficulty, extranonce subscription),
 * `mining.extranonce.subscribe`, and the difficulty/target suggestions. It writes the answers; what
 * follows for the work (first work, new difficulty, the version mask sent) it tells its
 * {@linkcode HandshakeEvents}, which the session wires to `work.ts`.
 *
 * @module
 */

import { hexToBytes } from "../lib/bitcoin/mod.ts";
import { targetToDifficulty } from "../lib/bitcoin/mod.ts";
import { isBlacklistedClient } from "../lib/pool/mod.ts";
import type { Payout } from "../lib/pool/mod.ts";
import type { SessionContext } from "./session_context.ts";
import {
  encodeError,
  encodeNotification,
  encodeResult,
  encodeTrue,
  hex32,
  parseHexUpTo32,
  type RpcId,
  StratumErrorCode as Code,
} from "./protocol.ts";

/** Longest user agent and user name accepted. */
const MAX_NAME_LENGTH = 256;

/** An authorized user: the payout of its name, and the name. */
export type SessionUser = Payout & { readonly name: string };

/** What the handshake tells the rest of the session. */
export interface HandshakeEvents {
  /** Subscribed or newly authorized: the first work may be due. */
  scheduleInitialWork(): void;
  /** `mining.set_version_mask` with `mask` went out (from `mining.configure`). */
  versionMaskSent(mask: number): void;
  /** The miner asked for another difficulty (a suggestion, or a minimum in `mining.configure`). */
  difficultyHinted(): void;
}

/** Subscription, authorization and negotiation of one connection. */
export class Handshake {
  readonly #ctx: SessionContext;
  #events: HandshakeEvents | undefined;

  #extranonce1 = -1;
  #extranonce1Bytes: Uint8Array | undefined;
  #extranonce1Hex = "";
  #user: SessionUser | undefined;
  #versionMask = 0;
  #extranonceSubscribed = false;

  /** The handshake of one connection; {@linkcode Handshake.listen} names who hears its events. */
  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  /** Sends the handshake's events to `events` (the session's work: no closures per connection). */
  listen(events: HandshakeEvents): void {
    this.#events = events;
  }

  /** True once the miner subscribed. */
  get subscribed(): boolean {
    return this.#extranonce1 >= 0;
  }

  /** The connection's extranonce1 (-1 before subscribe). */
  get extranonce1(): number {
    return this.#extranonce1;
  }

  /** The extranonce1 bytes every share of this connection carries (one array, reused). */
  get extranonce1Bytes(): Uint8Array | undefined {
    return this.#extranonce1Bytes;
  }

  /** The connection's extranonce1 as hex ("" before subscribe). */
  get extranonce1Hex(): string {
    return this.#extranonce1Hex;
  }

  /** The authorized user, if any. */
  get user(): SessionUser | undefined {
    return this.#user;
  }

  /** Version bits this miner may roll (BIP310), before each job's own mask; 0 when not negotiated. */
  get versionMask(): number {
    return this.#versionMask;
  }

  /** `mining.subscribe`: the extranonce1 (a resumed one when the miner passes its old id). */
  subscribe(id: RpcId, params: readonly unknown[]): void {
    const userAgent = params[0] ?? "";
    if (typeof userAgent !== "string") {
      this.#ctx.transport.write(encodeError(id, Code.INVALID, "invalid params"));
      return;
    }
    if (userAgent.length > MAX_NAME_LENGTH) {
      this.#ctx.transport.write(encodeError(id, Code.INVALID, "user agent too long"));
      this.#ctx.session.close();
      return;
    }
    if (isBlacklistedClient(userAgent, this.#ctx.host.config.clientBlacklist)) {
      this.#ctx.transport.write(encodeError(id, Code.INVALID, "banned miner type"));
      this.#ctx.session.close();
      return;
    }
    if (!this.subscribed) {
      const resumeId = typeof params[1] === "string" ? params[1] : undefined;
      const { extranonce1, difficulty } = this.#ctx.host.allocateExtranonce1(resumeId);
      this.#extranonce1 = extranonce1;
      this.#extranonce1Hex = hex32(extranonce1);
      this.#extranonce1Bytes = hexToBytes(this.#extranonce1Hex);
      this.#ctx.stats.userAgent = userAgent;
      if (difficulty !== undefined) this.#ctx.vardiff.suggest(difficulty, this.#ctx.host.now());
    }
    // Subscription id = extranonce1 hex: a miner that reconnects passes it back as params[1].
    this.#ctx.transport.write(encodeResult(id, [
      [["mining.notify", this.#extranonce1Hex]],
      this.#extranonce1Hex,
      this.#ctx.host.config.extranonce2Size,
    ]));
    if (this.#extranonceSubscribed) this.#sendExtranonce();
    this.#events?.scheduleInitialWork();
  }

  /** `mining.authorize`: pool password, user name → payout, bans, a difficulty hint. */
  authorize(id: RpcId, params: readonly unknown[]): void {
    const name = typeof params[0] === "string" ? params[0].trim() : undefined;
    const password = typeof params[1] === "string" ? params[1] : "";
    if (name === undefined || name === "") {
      this.#ctx.transport.write(encodeError(id, Code.INVALID, "worker name required"));
      return;
    }
    if (name.length > MAX_NAME_LENGTH) {
      this.#ctx.transport.write(encodeError(id, Code.INVALID, "worker name too long"));
      return;
    }
    if (this.#user !== undefined) {
      if (this.#user.name === name) this.#ctx.transport.write(encodeTrue(id));
      else {
        this.#ctx.transport.write(
          encodeError(id, Code.INVALID, "already authorized as another worker"),
        );
      }
      return;
    }
    const pass = this.#ctx.host.config.poolPassword;
    if (pass !== undefined && pass !== "" && !passwordMatches(password, pass)) {
      this.#ctx.transport.write(encodeError(id, Code.UNAUTHORIZED, "invalid password"));
      this.#ctx.session.close();
      return;
    }
    const payout = this.#ctx.host.config.resolvePayout(name);
    if ("error" in payout) {
      this.#ctx.transport.write(
        encodeError(id, Code.INVALID, `invalid worker name: ${payout.error}`),
      );
      return;
    }
    const now = this.#ctx.host.now();
    const ban = this.#ctx.host.bans.get(name, now) ?? this.#ctx.host.bans.get(payout.address, now);
    if (ban !== undefined) {
      const text = `banned until ${new Date(ban.until).toISOString()}: ${ban.reason}`;
      this.#ctx.session.showMessage(text[0].toUpperCase() + text.slice(1));
      this.#ctx.transport.write(encodeError(id, Code.UNAUTHORIZED, text));
      this.#ctx.session.close();
      return;
    }
    this.#user = { ...payout, name };
    const stats = this.#ctx.stats;
    stats.name = name;
    stats.address = payout.address;
    stats.worker = payout.worker;
    this.#ctx.host.registry.add(stats);
    const floor = this.#ctx.host.difficultyFloor?.(name);
    if (floor !== undefined) this.#ctx.vardiff.setFloor(floor, now);
    const hint = difficultyHint(password);
    if (hint !== undefined) {
      this.#ctx.vardiff.setFloor(hint, now);
      this.#ctx.vardiff.suggest(hint, now);
    }
    this.#ctx.transport.write(encodeTrue(id));
    this.#events?.scheduleInitialWork();
  }

  /** `mining.configure` (BIP310): version rolling, minimum difficulty, extranonce subscription. */
  configure(id: RpcId, params: readonly unknown[]): void {
    const extensions = params[0];
    const rawOptions = params[1];
    if (!Array.isArray(extensions)) {
      this.#ctx.transport.write(encodeError(id, Code.INVALID, "invalid params"));
      return;
    }
    const options = new Map<string, unknown>();
    if (typeof rawOptions === "object" && rawOptions !== null && !Array.isArray(rawOptions)) {
      for (const [k, v] of Object.entries(rawOptions)) options.set(normalizeKey(k), v);
    }
    const result: Record<string, unknown> = {};
    let maskToSend = -1;
    for (const ext of extensions) {
      if (typeof ext !== "string") continue;
      const name = normalizeKey(ext);
      switch (name) {
        case "version-rolling": {
          const requested = parseMaskOption(options.get("version-rolling.mask"));
          const mask = (requested & this.#ctx.host.config.versionMask) >>> 0;
          if (requested < 0 || mask === 0) {
            result[ext] = false;
            break;
          }
          this.#versionMask = mask;
          result[ext] = true;
          result["version-rolling.mask"] = hex32(mask);
          maskToSend = mask;
          break;
        }
        case "minimum-difficulty": {
          const value = toPositiveNumber(options.get("minimum-difficulty.value"));
          if (value === undefined) {
            result[ext] = false;
            break;
          }
          this.#ctx.vardiff.setFloor(value, this.#ctx.host.now());
          result[ext] = true;
          break;
        }
        case "subscribe-extranonce":
          this.#extranonceSubscribed = true;
          result[ext] = true;
          break;
        default:
          result[ext] = false;
      }
    }
    this.#ctx.transport.write(encodeResult(id, result));
    if (maskToSend >= 0) {
      this.#events?.versionMaskSent(maskToSend);
      this.#ctx.transport.write(encodeNotification("mining.set_version_mask", [hex32(maskToSend)]));
    }
    this.#events?.difficultyHinted();
  }

  /** `mining.extranonce.subscribe`: from now on a resumed or changed extranonce1 is announced. */
  subscribeExtranonce(id: RpcId): void {
    this.#extranonceSubscribed = true;
    this.#ctx.transport.write(encodeTrue(id));
    this.#sendExtranonce();
  }

  /** `mining.suggest_difficulty` / `mining.suggest_target` (and their `set_` spellings). */
  suggestDifficulty(id: RpcId, value: unknown, isTarget: boolean): void {
    let difficulty: number | undefined;
    if (isTarget) {
      if (typeof value === "string" && value.length > 0 && value.length <= 64 && isHexText(value)) {
        const target = BigInt("0x" + value);
        if (target > 0n) difficulty = targetToDifficulty(target);
      }
    } else if (value === undefined || value === null || value === 0 || value === "0") {
      this.#ctx.transport.write(encodeTrue(id)); // "no preference"
      return;
    } else {
      difficulty = toPositiveNumber(value);
    }
    if (difficulty === undefined || !Number.isFinite(difficulty)) {
      this.#ctx.transport.write(
        encodeError(id, Code.INVALID, isTarget ? "invalid target" : "invalid difficulty"),
      );
      return;
    }
    this.#ctx.vardiff.suggest(difficulty, this.#ctx.host.now());
    this.#ctx.transport.write(encodeTrue(id));
    this.#events?.difficultyHinted();
  }

  #sendExtranonce(): void {
    if (!this.subscribed) return;
    this.#ctx.transport.write(
      encodeNotification("mining.set_extranonce", [
        this.#extranonce1Hex,
        this.#ctx.host.config.extranonce2Size,
      ]),
    );
  }
}

function normalizeKey(key: string): string {
  return key.toLowerCase().replaceAll("_", "-");
}

function parseMaskOption(value: unknown): number {
  if (value === undefined) return 0xffffffff;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value >>> 0;
  return parseHexUpTo32(value);
}

function toPositiveNumber(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
  return n > 0 && Number.isFinite(n) ? n : undefined;
}

function isHexText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** Splits a password into `key=value` tokens (separators: `,` `;` `&` and whitespace). */
function passwordTokens(password: string): string[] {
  return password.split(/[,;&\s]+/).filter((t) => t !== "");
}

/** True when `password` is the pool password, or carries it as `p=` / `pass=` / `password=`. */
function passwordMatches(password: string, poolPassword: string): boolean {
  if (password === poolPassword) return true;
  for (const token of passwordTokens(password)) {
    const eq = token.indexOf("=");
    if (eq < 0) continue;
    const key = token.slice(0, eq).toLowerCase();
    if (
      (key === "p" || key === "pass" || key === "password") && token.slice(eq + 1) === poolPassword
    ) {
      return true;
    }
  }
  return false;
}

/**
 * The difficulty hint `d=` / `diff=` / `sd=` / `difficulty=` in a password, if any.
 *
 * @example
 * ```ts
 * difficultyHint("x,d=512"); // 512
 * difficultyHint("x"); // undefined
 * ```
 */
export function difficultyHint(password: string): number | undefined {
  for (const token of passwordTokens(password)) {
    const eq = token.indexOf("=");
    if (eq < 0) continue;
    const key = token.slice(0, eq).toLowerCase();
    if (key === "d" || key === "diff" || key === "sd" || key === "difficulty") {
      const value = toPositiveNumber(token.slice(eq + 1));
      if (value !== undefined) return value;
    }
  }
  return undefined;
}
