/**
 * The work of one Stratum v1 connection: what it was sent and at which difficulty.
 *
 * The first work after subscribe + authorize (after a short delay that leaves room for a
 * difficulty suggestion), `mining.set_difficulty` / `mining.set_version_mask` / `mining.notify`
 * for every new job, pausing while the pool is not ready, vardiff steps (on accepted shares and
 * for silent miners on the upkeep tick), and the recent notified jobs that shares are judged
 * against (each with the difficulty and share target it was sent with).
 *
 * @module
 */

import { difficultyToTarget } from "../lib/bitcoin/mod.ts";
import type { CoinbaseParts, Job } from "../lib/pool/mod.ts";
import type { Handshake } from "./handshake.ts";
import type { SessionContext } from "./session_context.ts";
import {
  encodeNotification,
  encodeNotify,
  encodeNotifyBytes,
  encodeSetDifficulty,
  hex32,
} from "./protocol.ts";

/** One job as this connection was notified of it. */
export interface NotifiedJob<J extends Job = Job> {
  /** The job. */
  readonly job: J;
  /** The coinbase halves the miner was given (its own payout script). */
  readonly coinbase: CoinbaseParts;
  /** The difficulty the job was sent with. */
  readonly difficulty: number;
  /** The share target of that difficulty. */
  readonly shareTarget: bigint;
}

/** Jobs sent to one connection, and its difficulty. */
export class Work<J extends Job = Job> {
  readonly #ctx: SessionContext<J>;
  readonly #identity: Handshake;
  /** Jobs notified to this connection by notify id; made with the first work sent. */
  #recent: Map<string, NotifiedJob<J>> | undefined;
  #sentDifficulty = 0;
  #sentVersionMask = -1;
  #initialWorkTimer: ReturnType<typeof setTimeout> | undefined;
  #started = false;
  #paused = false;
  #notifyCounter = 0;
  #targetDifficulty = NaN;
  #target = 0n;

  /** No work yet; `identity` is the connection's handshake (user, extranonce1, version mask). */
  constructor(ctx: SessionContext<J>, identity: Handshake) {
    this.#ctx = ctx;
    this.#identity = identity;
  }

  /** True once the first work went out. */
  get started(): boolean {
    return this.#started;
  }

  /** The difficulty in force. */
  get difficulty(): number {
    return this.#ctx.vardiff.difficulty;
  }

  /** A job this connection was notified of, by its notify id. */
  notified(notifyId: string): NotifiedJob<J> | undefined {
    return this.#recent?.get(notifyId);
  }

  /** Txids of a notified job (by its notify id), or of the newest one when no id is given. */
  transactionsOf(jobId: unknown): readonly string[] {
    let notified: NotifiedJob<J> | undefined;
    const recent = this.#recent;
    if (recent === undefined) return [];
    if (typeof jobId === "string") notified = recent.get(jobId);
    else for (const n of recent.values()) notified = n;
    return notified?.job.txids ?? [];
  }

  /** A new job from the feed. */
  onJob(job: J): void {
    if (this.#ctx.session.closed || !this.#started) return;
    if (!this.#ctx.host.jobs.ready) {
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
    if (!this.#started) {
      const identity = this.#identity;
      if (
        identity.user !== undefined && identity.subscribed && this.#initialWorkTimer === undefined
      ) {
        this.#startWork();
      }
      return;
    }
    const jobs = this.#ctx.host.jobs;
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
    if (this.#ctx.vardiff.onTick(now) !== undefined) this.#sendWork(current, false);
  }

  /** Subscribed and authorized: the first work goes out after the configured delay. */
  scheduleInitialWork(): void {
    if (this.#started || this.#initialWorkTimer !== undefined) return;
    const identity = this.#identity;
    if (identity.user === undefined || !identity.subscribed || this.#ctx.session.closed) return;
    // A short timer (not the miner's next line) sends the first work, leaving room for a
    // suggest_difficulty that follows authorize in the same burst.
    this.#initialWorkTimer = setTimeout(() => {
      this.#initialWorkTimer = undefined;
      this.#startWork();
    }, this.#ctx.host.config.initialWorkDelayMs);
  }

  /** Notes the version mask the miner was last told (by the handshake's `mining.configure`). */
  versionMaskSent(mask: number): void {
    this.#sentVersionMask = mask;
  }

  /** After a difficulty hint: new work at the new difficulty if it differs (once work started). */
  difficultyHinted(): void {
    if (!this.#started) return;
    if (this.#ctx.vardiff.difficulty === this.#sentDifficulty || this.#paused) return;
    const job = this.#ctx.host.jobs.current();
    if (job !== undefined) this.#sendWork(job, false);
  }

  /** An accepted share: a vardiff step may be due, with new work at the new difficulty. */
  accepted(now: number): void {
    if (this.#ctx.vardiff.onShare(now) !== undefined && !this.#paused) {
      const job = this.#ctx.host.jobs.current();
      if (job !== undefined) this.#sendWork(job, false);
    }
  }

  /** The session closed: no first work will follow. */
  close(): void {
    if (this.#initialWorkTimer !== undefined) clearTimeout(this.#initialWorkTimer);
    this.#initialWorkTimer = undefined;
  }

  #startWork(): void {
    if (this.#ctx.session.closed || this.#started) return;
    const jobs = this.#ctx.host.jobs;
    const job = jobs.ready ? jobs.current() : undefined;
    if (job === undefined) {
      if (!this.#paused) {
        this.#paused = true;
        this.#ctx.session.showMessage(
          jobs.notReadyReason ?? "Pool is waiting for work from the node",
        );
      }
      return;
    }
    this.#paused = false;
    this.#started = true;
    this.#sendWork(job, true);
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#ctx.session.showMessage(
      this.#ctx.host.jobs.notReadyReason ?? "Pool is not ready; work paused",
    );
  }

  #sendWork(job: J, clean: boolean): void {
    const identity = this.#identity;
    const user = identity.user;
    if (user === undefined || this.#ctx.session.closed) return;
    const now = this.#ctx.host.now();
    const difficulty = this.#ctx.vardiff.difficulty;
    if (difficulty !== this.#sentDifficulty) {
      this.#sentDifficulty = difficulty;
      this.#ctx.stats.difficulty = difficulty;
      this.#ctx.transport.write(encodeSetDifficulty(difficulty));
    }
    const versionMask = identity.versionMask;
    if (versionMask !== 0) {
      const effective = (versionMask & job.versionMask) >>> 0;
      if (effective !== this.#sentVersionMask) {
        this.#sentVersionMask = effective;
        this.#ctx.transport.write(
          encodeNotification("mining.set_version_mask", [hex32(effective)]),
        );
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
    if (recent.size > this.#ctx.host.config.recentJobs) {
      recent.delete(recent.keys().next().value!);
    }
    // The encoded line is shared by every session on this coinbase: one encode per new block
    // and payout script, not one per connection.
    const transport = this.#ctx.transport;
    if (transport.writeBytes !== undefined) {
      transport.writeBytes(encodeNotifyBytes(notifyId, job, coinbase, clean));
    } else {
      transport.write(encodeNotify(notifyId, job, coinbase, clean));
    }
    this.#ctx.stats.noteNotify(now);
    this.#ctx.stats.noteWork(
      coinbase,
      job.height,
      identity.extranonce1Bytes!.length + this.#ctx.host.config.extranonce2Size,
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
}
