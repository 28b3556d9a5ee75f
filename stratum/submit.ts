/**
 * `mining.submit` for one Stratum v1 connection: the share path from the line to the answer.
 *
 * Judging order (codes `[code, message, null]`):
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
 * judging of later shares. The path reuses the connection's extranonce1 bytes, answers without a
 * promise of its own unless the share is a block, and never logs (only blocks and bans are logged).
 *
 * @module
 */

import { hexToBytes, isHex } from "../lib/bitcoin/mod.ts";
import { InvalidShareCounter } from "../lib/pool/mod.ts";
import {
  isSolvedTip,
  judgeShare,
  ntimeInWindow,
  type PolicyRule,
  screenShare,
  tipStanding,
} from "../lib/pool/mod.ts";
import type { Job, ShareInput, ShareVerdict } from "../lib/pool/mod.ts";
import type { RejectReason } from "../lib/pool/mod.ts";
import type { Handshake } from "./handshake.ts";
import type { SessionContext } from "./session_context.ts";
import type { NotifiedJob, Work } from "./work.ts";
import {
  encodeError,
  encodeTrue,
  formatDifficulty,
  parseHex32,
  parseHexUpTo32,
  type RpcId,
  StratumErrorCode as Code,
} from "./protocol.ts";

/** The solved tips of a job source without a tip owner (a test feed): none. */
const NO_SOLVED_TIPS: readonly Uint8Array[] = Object.freeze([]);

/** Takes the shares of one connection: parses, dedupes, hashes, applies the policy, answers. */
export class SubmitHandler<J extends Job = Job> {
  readonly #ctx: SessionContext<J>;
  readonly #identity: Handshake;
  readonly #work: Work<J>;
  /** Invalid-share counter; made with the first share (an idle connection never needs one). */
  #invalid: InvalidShareCounter | undefined;

  /** The share path of a connection with this handshake and work. */
  constructor(ctx: SessionContext<J>, identity: Handshake, work: Work<J>) {
    this.#ctx = ctx;
    this.#identity = identity;
    this.#work = work;
  }

  /** `mining.submit`: `[user, job id, extranonce2, ntime, nonce, version bits?]`. */
  submit(id: RpcId, params: readonly unknown[]): void {
    if (params.length < 5 || params.length > 6 || typeof params[1] !== "string") {
      return this.#rejectInvalid(id, "invalid params");
    }
    const identity = this.#identity;
    if (!identity.subscribed) {
      return this.#reject(id, Code.NOT_SUBSCRIBED, "not subscribed", "not-subscribed");
    }
    const user = identity.user;
    if (user === undefined) {
      return this.#reject(id, Code.UNAUTHORIZED, "unauthorized", "unauthorized");
    }
    const host = this.#ctx.host;
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
    const notified = this.#work.notified(params[1]);
    if (notified === undefined) return this.#reject(id, Code.STALE, "job not found", "stale");
    const { job } = notified;

    const en2Hex = params[2];
    if (typeof en2Hex !== "string" || !isHex(en2Hex, this.#ctx.host.config.extranonce2Size)) {
      return this.#rejectInvalid(
        id,
        `invalid extranonce2: expected ${this.#ctx.host.config.extranonce2Size * 2} hex digits`,
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
      ntimeInWindow(ntime, job, Math.floor(now / 1000), this.#ctx.host.config.ntimeMaxForwardSec),
      tips !== undefined
        ? tipStanding(job.prevhash, tips.prevhash, tips.solved)
        : tipStanding(job.prevhash, host.jobs.current()?.prevhash, NO_SOLVED_TIPS),
    );

    if (!host.dedupe.add(job.seq, job.id, identity.extranonce1, en2Hex, ntime, nonce, version)) {
      return this.#reject(id, Code.DUPLICATE, "duplicate share", "duplicate");
    }

    const share: ShareInput = {
      extranonce1: identity.extranonce1Bytes!,
      extranonce2: hexToBytes(en2Hex),
      ntime,
      nonce,
      version,
      shareTarget: notified.shareTarget,
    };
    const gate = this.#ctx.transport.shares;
    gate?.take();
    host.checker.check(job, notified.coinbase, share).then(
      (verdict) => {
        gate?.give();
        this.#judge(id, notified, share, verdict, user.name, broken);
      },
      (error) => {
        gate?.give();
        host.log(`share check failed for ${user.name}: ${errorText(error)}`);
        this.#ctx.transport.write(encodeError(id, Code.INVALID, "internal error checking share"));
      },
    );
  }

  #reject(id: RpcId, code: number, message: string, reason: RejectReason): void {
    this.#ctx.stats.noteRejected(reason, this.#ctx.host.now());
    this.#ctx.transport.write(encodeError(id, code, message));
  }

  /** A malformed or policy-violating share: rejected, and counted toward an invalid-share ban. */
  #rejectInvalid(id: RpcId, message: string): void {
    this.#reject(id, Code.INVALID, message, "invalid");
    this.#noteInvalid();
  }

  #noteInvalid(): void {
    const user = this.#identity.user;
    const now = this.#ctx.host.now();
    if (user === undefined) return;
    const invalid = this.#invalid ??= new InvalidShareCounter(this.#ctx.host.config.invalidShares);
    if (!invalid.noteInvalid(now)) return;
    const banMs = invalid.options.banMs;
    const ban = this.#ctx.host.bans.ban(
      user.name,
      "too many invalid shares",
      banMs,
      now,
      "invalid-shares",
    );
    this.#ctx.host.log(
      `banned ${user.name} until ${new Date(ban.until).toISOString()}: ${ban.reason}`,
    );
    this.#ctx.session.showMessage(
      `Banned until ${new Date(ban.until).toISOString()}: ${ban.reason}`,
    );
  }

  /** The full header version for `bits` sent by the miner, or -1 when it rolls forbidden bits. */
  #rollVersion(job: Job, bits: number): number {
    const mask = (this.#identity.versionMask & job.versionMask) >>> 0;
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
    const host = this.#ctx.host;
    // Solved now, not on arrival: a block found while this share was hashed counts.
    const tips = host.jobs.tips;
    const solvedNow = verdict.meetsNetworkTarget && tips !== undefined &&
      isSolvedTip(notified.job.prevhash, tips.solved);
    const ruling = judgeShare(broken, verdict, solvedNow);
    if (ruling.kind === "block") {
      void this.#submitBlock(id, notified, share, verdict, worker);
      return;
    }
    if (this.#ctx.session.closed) return;
    const now = host.now();
    if (ruling.kind === "accept") {
      this.#accept(id, notified, verdict, now);
      return;
    }
    this.#ctx.stats.noteRejected(ruling.reason, now, verdict.difficulty);
    switch (ruling.rule) {
      case "ntime":
        this.#ctx.transport.write(encodeError(id, Code.INVALID, "ntime out of range"));
        this.#noteInvalid();
        return;
      case "stale-tip":
      case "solved-tip":
        this.#ctx.transport.write(
          encodeError(id, Code.STALE, "stale share: job is for an earlier block"),
        );
        return;
      case "low-difficulty":
        this.#ctx.transport.write(encodeError(
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
    const host = this.#ctx.host;
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
    if (this.#ctx.session.closed) return;
    if (accepted) {
      this.#accept(id, notified, verdict, now);
    } else if (stale) {
      // Not the miner's fault: another of the pool's blocks on this tip got there first.
      this.#ctx.stats.noteRejected("stale", now, verdict.difficulty);
      this.#ctx.transport.write(
        encodeError(id, Code.STALE, "stale share: the pool already found a block on this tip"),
      );
    } else {
      this.#ctx.stats.noteRejected("invalid", now, verdict.difficulty);
      this.#ctx.transport.write(encodeError(id, Code.INVALID, `block rejected: ${reason}`));
    }
  }

  #accept(id: RpcId, notified: NotifiedJob<J>, verdict: ShareVerdict, now: number): void {
    this.#ctx.transport.write(encodeTrue(id));
    const stats = this.#ctx.stats;
    stats.noteAccepted(notified.difficulty, verdict.difficulty, now);
    this.#ctx.host.registry.bestShares.offer(stats.name, verdict.difficulty, verdict.hash, now);
    this.#invalid?.noteAccepted();
    this.#work.accepted(now);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
