/**
 * One Stratum v1 miner connection: the method handlers, the work it was sent, and share judging.
 *
 * A `Session` knows no sockets. It receives text lines from its connection (`handleLine`) and
 * writes complete lines through a {@link SessionTransport}; everything it shares with other
 * sessions (jobs, bans, extranonce1 allocation, duplicate filter, worker registry, clock) comes
 * from its {@link SessionHost}, which the server implements. That keeps it testable and keeps the
 * server a thin I/O shell.
 *
 * Share judging order (codes `[code, message, null]`):
 * 1. params shape (20), subscribed (25), authorized (24), banned (24);
 * 2. job known to this connection (21 `job not found`);
 * 3. formats: extranonce2 (20), ntime (20), nonce (20), version within the negotiated mask (20);
 * 4. duplicate (22), before hashing, on the normalised key;
 * 5. hash; a block is handed to the `BlockSink` at once, whatever the policy says (unless the pool
 *    already solved its tip);
 * 6. policy (`lib/pool/policy.ts`; judged on arrival, applied now): ntime window (20), job from an
 *    earlier or already solved tip (21), low difficulty (23);
 * 7. accept.
 * Nothing before the duplicate check changes state, so a malformed submit cannot poison the
 * judging of later shares.
 *
 * @module
 */

import { hexToBytes, isHex } from "../lib/bitcoin/hex.ts";
import { difficultyToTarget, targetToDifficulty } from "../lib/bitcoin/target.ts";
import type { BanList, InvalidShareOptions } from "../lib/pool/bans.ts";
import { InvalidShareCounter, isBlacklistedClient } from "../lib/pool/bans.ts";
import type {
  BlockCandidate,
  BlockSubmitResult,
  CoinbaseParts,
  Job,
  JobSource,
  Payout,
  ResolvePayout,
  ShareChecker,
  ShareInput,
  ShareVerdict,
} from "../lib/pool/types.ts";
import { Vardiff, type VardiffOptions } from "../lib/pool/vardiff.ts";
import {
  isSolvedTip,
  judgeShare,
  ntimeInWindow,
  type PolicyRule,
  screenShare,
  tipStanding,
} from "../lib/pool/policy.ts";
import type { RejectReason, WorkerRegistry, WorkerStats } from "../lib/pool/worker_stats.ts";
import type { ShareDeduper } from "./dedupe.ts";
import {
  encodeError,
  encodeNotification,
  encodeNotify,
  encodeNotifyBytes,
  encodeResult,
  encodeSetDifficulty,
  encodeShowMessage,
  encodeTrue,
  formatDifficulty,
  hex32,
  parseHex32,
  parseHexUpTo32,
  parseRequest,
  type RpcId,
  StratumErrorCode as Code,
} from "./protocol.ts";

/** Per-session behaviour, resolved by the server from its options. */
export interface SessionConfig {
  /** Bytes of extranonce2 the miner rolls. */
  readonly extranonce2Size: number;
  /** Shared pool password; `undefined` for none. */
  readonly poolPassword: string | undefined;
  /** Version bits the pool lets miners roll (BIP310), before the job's own mask. */
  readonly versionMask: number;
  /** Difficulty before any hint or vardiff step. */
  readonly initialDifficulty: number;
  /** Vardiff tuning. */
  readonly vardiff: Partial<VardiffOptions>;
  /** Invalid-share ban tuning. */
  readonly invalidShares: Partial<InvalidShareOptions>;
  /** Miner clients refused at subscribe (user agent or client name, case-insensitive). */
  readonly clientBlacklist: readonly string[];
  /** Delay between subscribe+authorize and the first set_difficulty + notify. */
  readonly initialWorkDelayMs: number;
  /** Seconds an ntime may run ahead of max(job curtime, now). */
  readonly ntimeMaxForwardSec: number;
  /** Notified jobs each session remembers for judging shares. */
  readonly recentJobs: number;
  /** Answer to `client.get_version`. */
  readonly serverVersion: string;
  /** Validates user names. */
  readonly resolvePayout: ResolvePayout;
}

/** Where a session writes. */
export interface SessionTransport {
  /** Queues one complete line (newline included). */
  write(line: string): void;
  /**
   * Queues one complete line already encoded as UTF-8, in order with `write`; the bytes may be
   * shared with other connections and must not be modified. Optional: without it the session
   * writes the text instead.
   */
  writeBytes?(line: Uint8Array): void;
  /** Closes the connection once queued lines are written. */
  close(): void;
}

/**
 * What a session shares with the rest of the server. `J` is the job type of the source, which the
 * block sink must be able to build (the server's options pair them).
 */
export interface SessionHost<J extends Job = Job> {
  /** Resolved per-session configuration. */
  readonly config: SessionConfig;
  /** Job feed. */
  readonly jobs: JobSource<J>;
  /** Share hasher. */
  readonly checker: ShareChecker;
  /**
   * Block submitter: a `BlockSink<J>`, held through a method so a server over pool jobs is still
   * a server (`StratumServerOptions` checks the pairing where the server is made).
   */
  readonly blocks: { submit(candidate: BlockCandidate<J>): Promise<BlockSubmitResult> };
  /** Worker and payout-address bans. */
  readonly bans: BanList;
  /** Pool-wide duplicate filter. */
  readonly dedupe: ShareDeduper;
  /** Live worker registry. */
  readonly registry: WorkerRegistry;
  /** Clock (ms since the epoch). */
  now(): number;
  /**
   * Gives a session its extranonce1: the one of `resumeId` when that session closed recently and
   * its extranonce1 is free, else a fresh one. Returns the difficulty to restore, if any.
   */
  allocateExtranonce1(resumeId: string | undefined): { extranonce1: number; difficulty?: number };
  /** Takes back an extranonce1 and remembers it (and the difficulty) for resumption. */
  releaseExtranonce1(extranonce1: number, difficulty: number | undefined): void;
  /** Operator log for rare events (blocks, bans); never called per share. */
  log(message: string): void;
}

/** One job as this session notified it. */
interface NotifiedJob<J extends Job> {
  readonly job: J;
  readonly coinbase: CoinbaseParts;
  readonly difficulty: number;
  readonly shareTarget: bigint;
}

/** Longest user agent and user name accepted. */
const MAX_NAME_LENGTH = 256;

/** The solved tips of a job source without a tip owner (a test feed): none. */
const NO_SOLVED_TIPS: readonly Uint8Array[] = Object.freeze([]);

/** The state and handlers of one miner connection. */
export class Session<J extends Job = Job> {
  /** Connection id (unique in this process). */
  readonly id: string;
  /** The connection's live stats (registered once authorized). */
  readonly stats: WorkerStats;
  /** Time of the last line received (ms since the epoch). */
  lastActivity: number;

  readonly #host: SessionHost<J>;
  readonly #config: SessionConfig;
  readonly #transport: SessionTransport;
  readonly #vardiff: Vardiff;
  /** Invalid-share counter; made with the first share (an idle connection never needs one). */
  #invalid: InvalidShareCounter | undefined;
  /** Jobs notified to this connection by notify id; made with the first work sent. */
  #recent: Map<string, NotifiedJob<J>> | undefined;

  #extranonce1 = -1;
  #extranonce1Bytes: Uint8Array | undefined;
  #extranonce1Hex = "";
  #userAgent = "";
  #user: (Payout & { readonly name: string }) | undefined;
  #versionMask = 0;
  #sentVersionMask = -1;
  #extranonceSubscribed = false;
  #sentDifficulty = 0;
  #initialWorkTimer: ReturnType<typeof setTimeout> | undefined;
  #workStarted = false;
  #paused = false;
  #notifyCounter = 0;
  #targetDifficulty = NaN;
  #target = 0n;
  #closed = false;

  /** A session for a new connection; it does nothing until lines arrive. */
  constructor(host: SessionHost<J>, transport: SessionTransport, stats: WorkerStats) {
    this.#host = host;
    this.#config = host.config;
    this.#transport = transport;
    this.stats = stats;
    this.id = stats.connectionId;
    const now = host.now();
    this.lastActivity = now;
    this.#vardiff = new Vardiff(this.#config.vardiff, this.#config.initialDifficulty, now);
  }

  /** True once the miner subscribed. */
  get subscribed(): boolean {
    return this.#extranonce1 >= 0;
  }

  /** The authorized user name, if any. */
  get user(): string | undefined {
    return this.#user?.name;
  }

  /** True once the first work went out. */
  get working(): boolean {
    return this.#workStarted;
  }

  /** The connection's extranonce1 as hex ("" before subscribe). */
  get extranonce1Hex(): string {
    return this.#extranonce1Hex;
  }

  /** The difficulty in force. */
  get difficulty(): number {
    return this.#vardiff.difficulty;
  }

  /** Txids of a notified job (by its notify id), or of the newest one when no id is given. */
  #transactionsOf(jobId: unknown): readonly string[] {
    let notified: NotifiedJob<J> | undefined;
    const recent = this.#recent;
    if (recent === undefined) return [];
    if (typeof jobId === "string") notified = recent.get(jobId);
    else for (const n of recent.values()) notified = n;
    return notified?.job.txids ?? [];
  }

  /** Handles one line from the miner. */
  handleLine(line: string): void {
    if (this.#closed) return;
    this.lastActivity = this.#host.now();
    const req = parseRequest(line);
    if ("error" in req) {
      if (req.error === "parse") {
        this.#transport.write(encodeError(req.id, Code.PARSE_ERROR, "parse error"));
      } else {
        this.#transport.write(encodeError(req.id, Code.INVALID_REQUEST, "invalid request"));
      }
      this.close();
      return;
    }
    const { id, method, params } = req;
    switch (method) {
      case "mining.submit":
        this.#submit(id, params);
        return;
      case "mining.subscribe":
        return this.#subscribe(id, params);
      case "mining.authorize":
      case "mining.auth":
        return this.#authorize(id, params);
      case "mining.configure":
        return this.#configure(id, params);
      case "mining.suggest_difficulty":
      case "mining.set_difficulty":
        return this.#suggestDifficulty(id, params[0], false);
      case "mining.suggest_target":
      case "mining.set_target":
        return this.#suggestDifficulty(id, params[0], true);
      case "mining.extranonce.subscribe":
        this.#extranonceSubscribed = true;
        this.#transport.write(encodeTrue(id));
        this.#sendExtranonce();
        return;
      case "mining.get_transactions":
        this.#transport.write(encodeResult(id, this.#transactionsOf(params[0])));
        return;
      case "mining.ping":
      case "client.ping":
        this.#transport.write(encodeResult(id, "pong"));
        return;
      case "client.get_version":
        this.#transport.write(encodeResult(id, this.#config.serverVersion));
        return;
      case "mining.capabilities":
        this.#transport.write(encodeTrue(id));
        return;
      case "":
        return; // a reply to something we sent: nothing to do
      default:
        if (id !== null) {
          this.#transport.write(encodeError(id, Code.METHOD_NOT_FOUND, "method not found"));
        }
    }
  }

  /** Answers a line that went over the length cap (when its id is known), then closes. */
  rejectOversizeLine(id: RpcId): void {
    if (id !== null) {
      this.#transport.write(encodeError(id, Code.INVALID, "message too long"));
    }
    this.close();
  }

  /** Hands out a new job from the feed (the server calls this for every session). */
  onJob(job: J): void {
    if (this.#closed || !this.#workStarted) return;
    if (!this.#host.jobs.ready) {
      this.#pause();
      return;
    }
    if (this.#paused) {
      this.#paused = false;
      this.#sendWork(job, true);
      return;
    }
    this.#sendWork(job, job.clean);
  }

  /** Periodic upkeep: waiting for work, readiness changes, vardiff for silent miners. */
  tick(now: number): void {
    if (this.#closed) return;
    if (!this.#workStarted) {
      if (this.#user !== undefined && this.subscribed && this.#initialWorkTimer === undefined) {
        this.#startWork();
      }
      return;
    }
    const jobs = this.#host.jobs;
    if (!jobs.ready) {
      this.#pause();
      return;
    }
    const current = jobs.current();
    if (current === undefined) return;
    if (this.#paused) {
      this.#paused = false;
      this.#sendWork(current, true);
      return;
    }
    if (this.#vardiff.onTick(now) !== undefined) this.#sendWork(current, false);
  }

  /** Sends `client.show_message` with `text`. */
  showMessage(text: string): void {
    this.#transport.write(encodeShowMessage(text));
  }

  /** Closes the connection (after queued lines are written) and releases what it holds. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#initialWorkTimer !== undefined) clearTimeout(this.#initialWorkTimer);
    this.#initialWorkTimer = undefined;
    this.#host.registry.remove(this.id);
    if (this.#extranonce1 >= 0) {
      this.#host.releaseExtranonce1(
        this.#extranonce1,
        this.#workStarted ? this.#vardiff.difficulty : undefined,
      );
    }
    this.#transport.close();
  }

  // ---- methods ---------------------------------------------------------------------------

  #subscribe(id: RpcId, params: readonly unknown[]): void {
    const userAgent = params[0] ?? "";
    if (typeof userAgent !== "string") {
      this.#transport.write(encodeError(id, Code.INVALID, "invalid params"));
      return;
    }
    if (userAgent.length > MAX_NAME_LENGTH) {
      this.#transport.write(encodeError(id, Code.INVALID, "user agent too long"));
      this.close();
      return;
    }
    if (isBlacklistedClient(userAgent, this.#config.clientBlacklist)) {
      this.#transport.write(encodeError(id, Code.INVALID, "banned miner type"));
      this.close();
      return;
    }
    if (!this.subscribed) {
      const resumeId = typeof params[1] === "string" ? params[1] : undefined;
      const { extranonce1, difficulty } = this.#host.allocateExtranonce1(resumeId);
      this.#extranonce1 = extranonce1;
      this.#extranonce1Hex = hex32(extranonce1);
      this.#extranonce1Bytes = hexToBytes(this.#extranonce1Hex);
      this.#userAgent = userAgent;
      this.stats.userAgent = userAgent;
      if (difficulty !== undefined) this.#vardiff.suggest(difficulty, this.#host.now());
    }
    // Subscription id = extranonce1 hex: a miner that reconnects passes it back as params[1].
    this.#transport.write(encodeResult(id, [
      [["mining.notify", this.#extranonce1Hex]],
      this.#extranonce1Hex,
      this.#config.extranonce2Size,
    ]));
    if (this.#extranonceSubscribed) this.#sendExtranonce();
    this.#scheduleInitialWork();
  }

  #authorize(id: RpcId, params: readonly unknown[]): void {
    const name = typeof params[0] === "string" ? params[0].trim() : undefined;
    const password = typeof params[1] === "string" ? params[1] : "";
    if (name === undefined || name === "") {
      this.#transport.write(encodeError(id, Code.INVALID, "worker name required"));
      return;
    }
    if (name.length > MAX_NAME_LENGTH) {
      this.#transport.write(encodeError(id, Code.INVALID, "worker name too long"));
      return;
    }
    if (this.#user !== undefined) {
      if (this.#user.name === name) this.#transport.write(encodeTrue(id));
      else {
        this.#transport.write(
          encodeError(id, Code.INVALID, "already authorized as another worker"),
        );
      }
      return;
    }
    const pass = this.#config.poolPassword;
    if (pass !== undefined && pass !== "" && !passwordMatches(password, pass)) {
      this.#transport.write(encodeError(id, Code.UNAUTHORIZED, "invalid password"));
      this.close();
      return;
    }
    const payout = this.#config.resolvePayout(name);
    if ("error" in payout) {
      this.#transport.write(encodeError(id, Code.INVALID, `invalid worker name: ${payout.error}`));
      return;
    }
    const now = this.#host.now();
    const ban = this.#host.bans.get(name, now) ?? this.#host.bans.get(payout.address, now);
    if (ban !== undefined) {
      const text = `banned until ${new Date(ban.until).toISOString()}: ${ban.reason}`;
      this.showMessage(text[0].toUpperCase() + text.slice(1));
      this.#transport.write(encodeError(id, Code.UNAUTHORIZED, text));
      this.close();
      return;
    }
    this.#user = { ...payout, name };
    this.stats.name = name;
    this.stats.address = payout.address;
    this.stats.worker = payout.worker;
    this.#host.registry.add(this.stats);
    const hint = difficultyHint(password);
    if (hint !== undefined) {
      this.#vardiff.setFloor(hint, now);
      this.#vardiff.suggest(hint, now);
    }
    this.#transport.write(encodeTrue(id));
    this.#scheduleInitialWork();
  }

  #configure(id: RpcId, params: readonly unknown[]): void {
    const extensions = params[0];
    const rawOptions = params[1];
    if (!Array.isArray(extensions)) {
      this.#transport.write(encodeError(id, Code.INVALID, "invalid params"));
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
          const mask = (requested & this.#config.versionMask) >>> 0;
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
          this.#vardiff.setFloor(value, this.#host.now());
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
    this.#transport.write(encodeResult(id, result));
    if (maskToSend >= 0) {
      this.#sentVersionMask = maskToSend;
      this.#transport.write(encodeNotification("mining.set_version_mask", [hex32(maskToSend)]));
    }
    if (this.#workStarted) this.#maybeNewDifficultyWork();
  }

  #suggestDifficulty(id: RpcId, value: unknown, isTarget: boolean): void {
    let difficulty: number | undefined;
    if (isTarget) {
      if (typeof value === "string" && value.length > 0 && value.length <= 64 && isHexText(value)) {
        const target = BigInt("0x" + value);
        if (target > 0n) difficulty = targetToDifficulty(target);
      }
    } else if (value === undefined || value === null || value === 0 || value === "0") {
      this.#transport.write(encodeTrue(id)); // "no preference"
      return;
    } else {
      difficulty = toPositiveNumber(value);
    }
    if (difficulty === undefined || !Number.isFinite(difficulty)) {
      this.#transport.write(
        encodeError(id, Code.INVALID, isTarget ? "invalid target" : "invalid difficulty"),
      );
      return;
    }
    this.#vardiff.suggest(difficulty, this.#host.now());
    this.#transport.write(encodeTrue(id));
    if (this.#workStarted) this.#maybeNewDifficultyWork();
  }

  // ---- work ------------------------------------------------------------------------------

  #scheduleInitialWork(): void {
    if (this.#workStarted || this.#initialWorkTimer !== undefined) return;
    if (this.#user === undefined || !this.subscribed || this.#closed) return;
    // A short timer (not the miner's next line) sends the first work, leaving room for a
    // suggest_difficulty that follows authorize in the same burst.
    this.#initialWorkTimer = setTimeout(() => {
      this.#initialWorkTimer = undefined;
      this.#startWork();
    }, this.#config.initialWorkDelayMs);
  }

  #startWork(): void {
    if (this.#closed || this.#workStarted) return;
    const jobs = this.#host.jobs;
    const job = jobs.ready ? jobs.current() : undefined;
    if (job === undefined) {
      if (!this.#paused) {
        this.#paused = true;
        this.showMessage(jobs.notReadyReason ?? "Pool is waiting for work from the node");
      }
      return;
    }
    this.#paused = false;
    this.#workStarted = true;
    this.#sendWork(job, true);
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.showMessage(this.#host.jobs.notReadyReason ?? "Pool is not ready; work paused");
  }

  /** After a difficulty change by hint: new work at the new difficulty if it differs. */
  #maybeNewDifficultyWork(): void {
    if (this.#vardiff.difficulty === this.#sentDifficulty || this.#paused) return;
    const job = this.#host.jobs.current();
    if (job !== undefined) this.#sendWork(job, false);
  }

  #sendWork(job: J, clean: boolean): void {
    const user = this.#user;
    if (user === undefined || this.#closed) return;
    const now = this.#host.now();
    const difficulty = this.#vardiff.difficulty;
    if (difficulty !== this.#sentDifficulty) {
      this.#sentDifficulty = difficulty;
      this.stats.difficulty = difficulty;
      this.#transport.write(encodeSetDifficulty(difficulty));
    }
    if (this.#versionMask !== 0) {
      const effective = (this.#versionMask & job.versionMask) >>> 0;
      if (effective !== this.#sentVersionMask) {
        this.#sentVersionMask = effective;
        this.#transport.write(encodeNotification("mining.set_version_mask", [hex32(effective)]));
      }
    }
    // Same job at a new difficulty gets a new id, so shares on the earlier notify keep being
    // judged at the difficulty they were sent with.
    let notifyId = job.id;
    const recent = this.#recent ??= new Map();
    const existing = recent.get(notifyId);
    if (existing !== undefined && existing.difficulty !== difficulty) {
      notifyId = `${job.id}.${(++this.#notifyCounter).toString(16)}`;
    }
    const coinbase = job.coinbaseFor(user.script);
    recent.delete(notifyId);
    recent.set(notifyId, {
      job,
      coinbase,
      difficulty,
      shareTarget: this.#targetOf(difficulty),
    });
    if (recent.size > this.#config.recentJobs) {
      recent.delete(recent.keys().next().value!);
    }
    // The encoded line is shared by every session on this coinbase: one encode per new block
    // and payout script, not one per connection.
    const transport = this.#transport;
    if (transport.writeBytes !== undefined) {
      transport.writeBytes(encodeNotifyBytes(notifyId, job, coinbase, clean));
    } else {
      transport.write(encodeNotify(notifyId, job, coinbase, clean));
    }
    this.stats.noteNotify(now);
    this.stats.noteWork(
      coinbase,
      job.height,
      this.#extranonce1Bytes!.length + this.#config.extranonce2Size,
      user.script,
    );
  }

  /** The share target of `difficulty`, computed once per difficulty change (bigint work). */
  #targetOf(difficulty: number): bigint {
    if (difficulty !== this.#targetDifficulty) {
      this.#target = difficultyToTarget(difficulty);
      this.#targetDifficulty = difficulty;
    }
    return this.#target;
  }

  #sendExtranonce(): void {
    if (!this.subscribed) return;
    this.#transport.write(
      encodeNotification("mining.set_extranonce", [
        this.#extranonce1Hex,
        this.#config.extranonce2Size,
      ]),
    );
  }

  // ---- shares ----------------------------------------------------------------------------

  #reject(id: RpcId, code: number, message: string, reason: RejectReason): void {
    this.stats.noteRejected(reason, this.#host.now());
    this.#transport.write(encodeError(id, code, message));
  }

  /** A malformed or policy-violating share: rejected, and counted toward an invalid-share ban. */
  #rejectInvalid(id: RpcId, message: string): void {
    this.#reject(id, Code.INVALID, message, "invalid");
    this.#noteInvalid();
  }

  #noteInvalid(): void {
    const user = this.#user;
    const now = this.#host.now();
    if (user === undefined) return;
    const invalid = this.#invalid ??= new InvalidShareCounter(this.#config.invalidShares);
    if (!invalid.noteInvalid(now)) return;
    const banMs = invalid.options.banMs;
    const ban = this.#host.bans.ban(
      user.name,
      "too many invalid shares",
      banMs,
      now,
      "invalid-shares",
    );
    this.#host.log(`banned ${user.name} until ${new Date(ban.until).toISOString()}: ${ban.reason}`);
    this.showMessage(`Banned until ${new Date(ban.until).toISOString()}: ${ban.reason}`);
  }

  #submit(id: RpcId, params: readonly unknown[]): void {
    if (params.length < 5 || params.length > 6 || typeof params[1] !== "string") {
      return this.#rejectInvalid(id, "invalid params");
    }
    if (!this.subscribed) {
      return this.#reject(id, Code.NOT_SUBSCRIBED, "not subscribed", "not-subscribed");
    }
    const user = this.#user;
    if (user === undefined) {
      return this.#reject(id, Code.UNAUTHORIZED, "unauthorized", "unauthorized");
    }
    const host = this.#host;
    const now = host.now();
    const ban = host.bans.get(user.name, now);
    if (ban !== undefined) {
      return this.#reject(
        id,
        Code.UNAUTHORIZED,
        `banned until ${new Date(ban.until).toISOString()}: ${ban.reason}`,
        "unauthorized",
      );
    }
    const notified = this.#recent?.get(params[1]);
    if (notified === undefined) return this.#reject(id, Code.STALE, "job not found", "stale");
    const { job } = notified;

    const en2Hex = params[2];
    if (typeof en2Hex !== "string" || !isHex(en2Hex, this.#config.extranonce2Size)) {
      return this.#rejectInvalid(
        id,
        `invalid extranonce2: expected ${this.#config.extranonce2Size * 2} hex digits`,
      );
    }
    const ntime = parseHex32(params[3]);
    if (ntime < 0) return this.#rejectInvalid(id, "invalid ntime: expected 8 hex digits");
    const nonce = parseHex32(params[4]);
    if (nonce < 0) return this.#rejectInvalid(id, "invalid nonce: expected 8 hex digits");
    let version = job.version;
    if (params.length === 6) {
      const bits = parseHexUpTo32(params[5]);
      if (bits < 0) return this.#rejectInvalid(id, "invalid version: expected hex digits");
      const rolled = this.#rollVersion(job, bits);
      if (rolled < 0) return this.#rejectInvalid(id, "version bits outside the negotiated mask");
      version = rolled;
    }

    // Policy rules are judged on arrival but applied after hashing: a block is never lost to them.
    const tips = host.jobs.tips;
    const broken = screenShare(
      ntimeInWindow(ntime, job, Math.floor(now / 1000), this.#config.ntimeMaxForwardSec),
      tips !== undefined
        ? tipStanding(job.prevhash, tips.prevhash, tips.solved)
        : tipStanding(job.prevhash, host.jobs.current()?.prevhash, NO_SOLVED_TIPS),
    );

    if (!host.dedupe.add(job.seq, job.id, this.#extranonce1, en2Hex, ntime, nonce, version)) {
      return this.#reject(id, Code.DUPLICATE, "duplicate share", "duplicate");
    }

    const share: ShareInput = {
      extranonce1: this.#extranonce1Bytes!,
      extranonce2: hexToBytes(en2Hex),
      ntime,
      nonce,
      version,
      shareTarget: notified.shareTarget,
    };
    host.checker.check(job, notified.coinbase, share).then(
      (verdict) => this.#judge(id, notified, share, verdict, user.name, broken),
      (error) => {
        host.log(`share check failed for ${user.name}: ${errorText(error)}`);
        this.#transport.write(encodeError(id, Code.INVALID, "internal error checking share"));
      },
    );
  }

  /** The full header version for `bits` sent by the miner, or -1 when it rolls forbidden bits. */
  #rollVersion(job: Job, bits: number): number {
    const mask = (this.#versionMask & job.versionMask) >>> 0;
    const base = job.version >>> 0;
    // Miners send either only the rolled bits (BIP310) or the full rolled version.
    const outside = (bits & ~mask) >>> 0;
    if (outside !== 0 && outside !== (base & ~mask) >>> 0) return -1;
    return ((base & ~mask) | (bits & mask)) >>> 0;
  }

  /** Answers a checked share; synchronous (no promise per share) unless it is a block. */
  #judge(
    id: RpcId,
    notified: NotifiedJob<J>,
    share: ShareInput,
    verdict: ShareVerdict,
    worker: string,
    broken: PolicyRule | undefined,
  ): void {
    const host = this.#host;
    // Solved now, not on arrival: a block found while this share was hashed counts.
    const tips = host.jobs.tips;
    const solvedNow = verdict.meetsNetworkTarget && tips !== undefined &&
      isSolvedTip(notified.job.prevhash, tips.solved);
    const ruling = judgeShare(broken, verdict, solvedNow);
    if (ruling.kind === "block") {
      void this.#submitBlock(id, notified, share, verdict, worker);
      return;
    }
    if (this.#closed) return;
    const now = host.now();
    if (ruling.kind === "accept") {
      this.#accept(id, notified, verdict, now);
      return;
    }
    this.stats.noteRejected(ruling.reason, now, verdict.difficulty);
    switch (ruling.rule) {
      case "ntime":
        this.#transport.write(encodeError(id, Code.INVALID, "ntime out of range"));
        this.#noteInvalid();
        return;
      case "stale-tip":
      case "solved-tip":
        this.#transport.write(
          encodeError(id, Code.STALE, "stale share: job is for an earlier block"),
        );
        return;
      case "low-difficulty":
        this.#transport.write(encodeError(
          id,
          Code.LOW_DIFFICULTY,
          `low difficulty share (got ${formatDifficulty(verdict.difficulty)}, expected ${
            formatDifficulty(notified.difficulty)
          })`,
        ));
        return;
    }
  }

  /** Submits a share that meets the network target, then answers it by the node's verdict. */
  async #submitBlock(
    id: RpcId,
    notified: NotifiedJob<J>,
    share: ShareInput,
    verdict: ShareVerdict,
    worker: string,
  ): Promise<void> {
    const host = this.#host;
    // Submit first: nothing (policy, a closed connection) stands between a block and the node.
    let accepted = false;
    let stale = false;
    let reason = "";
    try {
      const result = await host.blocks.submit({
        job: notified.job,
        coinbase: notified.coinbase,
        share,
        verdict,
        worker,
      });
      accepted = result.accepted;
      stale = result.stale === true;
      reason = result.reason ?? "rejected";
      host.log(
        `block ${result.hash} at height ${notified.job.height} by ${worker}: ${
          accepted ? "accepted" : stale ? "stale (" + reason + ")" : "rejected (" + reason + ")"
        }`,
      );
    } catch (error) {
      reason = errorText(error);
      host.log(`block submit by ${worker} failed: ${reason}`);
    }
    const now = host.now();
    if (this.#closed) return;
    if (accepted) {
      this.#accept(id, notified, verdict, now);
    } else if (stale) {
      // Not the miner's fault: another of the pool's blocks on this tip got there first.
      this.stats.noteRejected("stale", now, verdict.difficulty);
      this.#transport.write(
        encodeError(id, Code.STALE, "stale share: the pool already found a block on this tip"),
      );
    } else {
      this.stats.noteRejected("invalid", now, verdict.difficulty);
      this.#transport.write(encodeError(id, Code.INVALID, `block rejected: ${reason}`));
    }
  }

  #accept(id: RpcId, notified: NotifiedJob<J>, verdict: ShareVerdict, now: number): void {
    this.#transport.write(encodeTrue(id));
    this.stats.noteAccepted(notified.difficulty, verdict.difficulty, now);
    this.#host.registry.bestShares.offer(this.stats.name, verdict.difficulty, verdict.hash, now);
    this.#invalid?.noteAccepted();
    if (this.#vardiff.onShare(now) !== undefined && !this.#paused) {
      const job = this.#host.jobs.current();
      if (job !== undefined) this.#sendWork(job, false);
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------

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

/** The difficulty hint `d=` / `diff=` / `sd=` in a password, if any. */
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

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
