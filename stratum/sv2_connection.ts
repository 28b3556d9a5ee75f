/**
 * One Stratum V2 connection, server side, standard channels only: the Noise NX responder
 * handshake, the encrypted frame reader, SetupConnection, OpenStandardMiningChannel, the jobs
 * (NewMiningJob + SetNewPrevHash) and SubmitSharesStandard judged by the same share policy as V1.
 *
 * **Extranonce mapping.** A job's coinbase is `coinb1 ‖ extranonce1 ‖ extranonce2 ‖ coinb2` with
 * V1's sizes (4 bytes of extranonce1, `extranonce2Size` bytes of extranonce2). A standard channel
 * gets 4 unique bytes from the `allocateExtranoncePrefix` option, which take the place of V1's
 * extranonce1; its extranonce2 is all zeros (a standard channel's miner rolls only the header:
 * nonce, ntime, version bits). The spec makes a standard channel's `extranonce_prefix` the whole
 * extranonce between the coinbase halves (05-Mining-Protocol.md: "For a standard channel:
 * `extranonce_prefix`", and the full extended extranonce of a group's standard channels "is
 * `extranonce_prefix`"), so OpenStandardMiningChannel.Success carries `unique4 ‖ zeros`
 * (`4 + extranonce2Size` bytes). The share checker sees an ordinary V1 share (`extranonce1` =
 * the unique 4 bytes, `extranonce2` = zeros), and V1 sessions and V2 channels never mine the same
 * coinbase as long as the allocator shares its space with V1's extranonce1 allocator. The merkle
 * root of each NewMiningJob is computed here from that coinbase and the job's branch.
 *
 * **Job ids.** A channel's job id is the pool job's `seq` (unique per process). A job on a new tip
 * (or a clean job) is sent as a future job (`min_ntime` = null) followed by SetNewPrevHash, as the
 * spec orders it (05-Mining-Protocol.md, SetNewPrevHash); a job on the same tip is sent active,
 * with `min_ntime` = the template's curtime.
 *
 * **Errors.** A bad MAC, a malformed frame, a frame over `maxFrameBytes`, anything before
 * SetupConnection other than SetupConnection, or a second SetupConnection closes the connection.
 * Frames of unknown message types (or extensions) are read whole and ignored. A SetupConnection
 * the server cannot serve is answered with SetupConnection.Error and the connection closed.
 *
 * @module
 */

import { bytesToHex, concatBytes, equalBytes, sha256d } from "../lib/bitcoin/mod.ts";
import {
  difficultyToTarget,
  hashToBigInt,
  merkleRootFromBranch,
  targetToBytesLE,
  targetToDifficulty,
} from "../lib/bitcoin/mod.ts";
import {
  isSolvedTip,
  judgeShare,
  ntimeInWindow,
  type PolicyRule,
  screenShare,
  tipStanding,
} from "../lib/pool/mod.ts";
import type {
  BlockSink,
  CoinbaseParts,
  Job,
  JobSource,
  Payout,
  ResolvePayout,
  ShareChecker,
  ShareInput,
  ShareVerdict,
} from "../lib/pool/mod.ts";
import {
  decodeMessagePayload,
  ENCRYPTED_HEADER_SIZE,
  encryptedPayloadLength,
  HANDSHAKE_ACT1_SIZE,
  type NoiseKeyPair,
  NoiseResponder,
  type NoiseSession,
  OpenMiningChannelErrorCode,
  type OpenStandardMiningChannel,
  type SetupConnection,
  SetupConnectionErrorCode,
  SetupConnectionFlags,
  type SignatureNoiseMessage,
  SubmitSharesErrorCode,
  type SubmitSharesStandard,
  Sv2Error,
  type Sv2Message,
  Sv2Protocol,
  Sv2UnknownMessageError,
  Sv2Writer,
  writeMessage,
} from "../lib/sv2/mod.ts";
import { type ConnectionShares, ShareGate } from "./backpressure.ts";
import { ShareDeduper } from "./dedupe.ts";
import { ExactReader, OrderedWriter } from "./sv2_io.ts";

/** The Stratum V2 protocol version this server speaks. */
export const SV2_PROTOCOL_VERSION = 2;
/** Default time the client has to send handshake act 1 and SetupConnection, ms. */
export const DEFAULT_SV2_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Default largest payload (plaintext msg_length) accepted from a client, bytes. */
export const DEFAULT_SV2_MAX_FRAME_BYTES = 16_384;
/** Default number of jobs a channel remembers for submits (older ones are `invalid-job-id`). */
export const DEFAULT_SV2_JOBS_PER_CHANNEL = 16;
/** Size of the unique part of a standard channel's extranonce, bytes (V1's extranonce1 size). */
export const SV2_EXTRANONCE_UNIQUE_SIZE = 4;
/** Default bytes queued for a client that does not read before it is dropped. */
export const DEFAULT_SV2_MAX_PENDING_WRITE_BYTES = 1 << 20;
/** Default number of channels one connection may open. */
export const DEFAULT_SV2_MAX_CHANNELS = 64;
/**
 * OpenMiningChannel.Error code for a connection at its channel limit (not a spec code; the spec
 * lets implementations add codes, 03-Protocol-Overview.md §3.5).
 */
export const TOO_MANY_CHANNELS = "too-many-channels";

/** What one SV2 connection needs. `J` pairs the job source with a block sink that builds its jobs. */
export interface Sv2ConnectionOptions<J extends Job = Job> {
  /** The server's static Noise key pair. */
  readonly staticKey: NoiseKeyPair;
  /** The certificate of `staticKey`, signed by the pool authority. */
  readonly certificate: SignatureNoiseMessage;
  /** Job feed. */
  readonly jobs: JobSource<J>;
  /** Share hasher. */
  readonly checker: ShareChecker;
  /** Block submitter: builds blocks of the feed's jobs. */
  readonly blocks: BlockSink<J>;
  /** `ADDRESS[.worker]` → payout, or why not. */
  readonly resolvePayout: ResolvePayout;
  /**
   * 4 fresh bytes for a new channel's extranonce, unique among the live channels and V1 sessions
   * (they stand for V1's extranonce1), or `undefined` when none are free.
   */
  readonly allocateExtranoncePrefix: () => Uint8Array | undefined;
  /** Gives a closed channel's 4 bytes (as allocated) back to the allocator. */
  readonly releaseExtranoncePrefix?: (prefix: Uint8Array) => void;
  /** The job's extranonce2 size in bytes (V1's `extranonce2Size`, 1..8). */
  readonly extranonce2Size: number;
  /** Share difficulty of a channel opened without a usable nominal hash rate. */
  readonly startDifficulty: number;
  /** Lowest share difficulty a nominal hash rate may give (default: `startDifficulty`). */
  readonly minDifficulty?: number;
  /** Seconds per share aimed at from the nominal hash rate (default 10). */
  readonly shareIntervalSeconds?: number;
  /**
   * Time the client has from connecting to its SetupConnection (act 1 included), ms (default
   * 10 s); past it the connection is closed.
   */
  readonly handshakeTimeoutMs?: number;
  /** Channels one connection may open (default 64); more are refused with `too-many-channels`. */
  readonly maxChannels?: number;
  /**
   * This connection's count of shares in flight, from the server's pool-wide `ShareGate`: over
   * its limits the connection stops reading until half are answered (every share is still
   * answered). By default a gate of its own with V1's per-connection limit (64).
   */
  readonly shares?: ConnectionShares;
  /**
   * Bytes queued for a client that does not read before the connection is closed (default
   * 1 MiB).
   */
  readonly maxPendingWriteBytes?: number;
  /** Largest payload accepted, bytes (default 16 KiB). */
  readonly maxFrameBytes?: number;
  /** Jobs a channel remembers (default 16). */
  readonly jobsPerChannel?: number;
  /** How far past `max(curtime, now)` a share's ntime may be, seconds (default 7000, as V1). */
  readonly ntimeMaxForwardSec?: number;
  /** Clock, ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Where blocks and failures are logged (never per share). */
  readonly log?: (line: string) => void;
}

/** A job as one channel was given it. */
interface ChannelJob<J extends Job> {
  readonly job: J;
  readonly coinbase: CoinbaseParts;
  readonly shareTarget: bigint;
  readonly difficulty: number;
}

/** One open standard channel. */
interface StandardChannel<J extends Job> {
  readonly id: number;
  readonly payout: Payout;
  /** Full worker name, `ADDRESS[.worker]`. */
  readonly worker: string;
  /** The 4 allocated bytes (V1's extranonce1). */
  readonly prefix: Uint8Array;
  readonly prefixWord: number;
  readonly extranonce2: Uint8Array;
  /** The full extranonce, `prefix ‖ extranonce2`: the channel's extranonce_prefix on the wire. */
  readonly extranonce: Uint8Array;
  readonly shareTarget: bigint;
  readonly difficulty: number;
  readonly jobs: Map<number, ChannelJob<J>>;
  /** The tip of the last SetNewPrevHash. */
  prevhash: Uint8Array | undefined;
}

const NO_SOLVED_TIPS: readonly Uint8Array[] = Object.freeze([]);
/** The one extranonce2 digit string a standard channel's shares are deduplicated under. */
const FIXED_EXTRANONCE2_KEY = "0";

/**
 * Serves one accepted connection as a Stratum V2 mining connection (standard channels). The
 * returned object's `done` resolves when the connection is closed, for any reason.
 *
 * @example
 * ```ts ignore
 * const listener = Deno.listen({ port: 3336 });
 * for await (const conn of listener) serveSv2Connection(conn, options);
 * ```
 */
export function serveSv2Connection<J extends Job>(
  conn: Deno.Conn,
  options: Sv2ConnectionOptions<J>,
): Sv2Connection<J> {
  return new Sv2Connection(conn, options);
}

/** A served Stratum V2 connection (see {@linkcode serveSv2Connection}). */
export class Sv2Connection<J extends Job = Job> {
  /** Resolves once the connection is closed and its channels released. */
  readonly done: Promise<void>;
  readonly #conn: Deno.Conn;
  readonly #o: Sv2ConnectionOptions<J>;
  readonly #reader: ExactReader;
  readonly #writer: OrderedWriter;
  readonly #frame = new Sv2Writer(512);
  readonly #channels = new Map<number, StandardChannel<J>>();
  readonly #dedupe = new ShareDeduper({ replayWindowMs: 0 });
  readonly #now: () => number;
  readonly #maxForward: number;
  readonly #jobsPerChannel: number;
  readonly #shares: ConnectionShares;
  readonly #maxPendingWrite: number;
  #session: NoiseSession | undefined;
  #setup = false;
  #nextChannelId = 1;
  #closed = false;
  #closeReason = "";
  #unsubscribe: (() => void) | undefined;
  #deadline: ReturnType<typeof setTimeout> | undefined;

  /** Starts serving `conn`; prefer {@linkcode serveSv2Connection}. */
  constructor(conn: Deno.Conn, options: Sv2ConnectionOptions<J>) {
    if (!Number.isInteger(options.extranonce2Size) || options.extranonce2Size < 1) {
      throw new RangeError(`extranonce2Size must be a positive integer`);
    }
    if (!(options.startDifficulty > 0)) throw new RangeError("startDifficulty must be above 0");
    this.#conn = conn;
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#maxForward = options.ntimeMaxForwardSec ?? 7000;
    this.#jobsPerChannel = options.jobsPerChannel ?? DEFAULT_SV2_JOBS_PER_CHANNEL;
    this.#shares = options.shares ?? new ShareGate().connection();
    this.#maxPendingWrite = options.maxPendingWriteBytes ?? DEFAULT_SV2_MAX_PENDING_WRITE_BYTES;
    this.#reader = new ExactReader(conn);
    this.#writer = new OrderedWriter(conn, () => this.close("write failed"));
    this.done = this.#run();
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the connection was closed ("" while open). */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** Number of open channels. */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Closes the connection (idempotent) and releases its channels. */
  close(reason = "closed"): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    clearTimeout(this.#deadline);
    this.#shares.close();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const ch of this.#channels.values()) this.#o.releaseExtranoncePrefix?.(ch.prefix);
    this.#channels.clear();
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async #run(): Promise<void> {
    try {
      if (!(await this.#handshake())) return;
      await this.#readFrames();
    } catch (error) {
      this.close(error instanceof Sv2Error ? error.message : `error: ${String(error)}`);
    } finally {
      this.close(this.#closeReason || "end of stream");
    }
  }

  async #handshake(): Promise<boolean> {
    const timeout = this.#o.handshakeTimeoutMs ?? DEFAULT_SV2_HANDSHAKE_TIMEOUT_MS;
    this.#deadline = setTimeout(() => this.close("handshake timeout"), timeout);
    const act1 = await this.#reader.read(HANDSHAKE_ACT1_SIZE);
    if (act1 === null || this.#closed) return false;
    const responder = new NoiseResponder({
      staticKey: this.#o.staticKey,
      certificate: this.#o.certificate,
    });
    const { act2, session } = responder.respond(act1);
    this.#session = session;
    this.#writer.write(act2);
    return true;
  }

  async #readFrames(): Promise<void> {
    const session = this.#session!;
    const limit = this.#o.maxFrameBytes ?? DEFAULT_SV2_MAX_FRAME_BYTES;
    while (!this.#closed) {
      const sealedHeader = await this.#reader.read(ENCRYPTED_HEADER_SIZE);
      if (sealedHeader === null) return;
      const header = session.decryptHeader(sealedHeader);
      if (header.msgLength > limit) {
        return this.close(`frame of ${header.msgLength} bytes is over the limit of ${limit}`);
      }
      const sealed = await this.#reader.read(encryptedPayloadLength(header.msgLength));
      if (sealed === null) return;
      const payload = session.decryptPayload(header, sealed);
      let message: Sv2Message;
      try {
        message = decodeMessagePayload(header, payload);
      } catch (error) {
        if (error instanceof Sv2UnknownMessageError && this.#setup) continue; // ignored
        throw error;
      }
      if (this.#closed) return;
      this.#handle(message);
      if (this.#shares.mustWait) await this.#shares.drained();
    }
  }

  #handle(message: Sv2Message): void {
    if (!this.#setup) {
      if (message.type !== "SetupConnection") {
        return this.close(`${message.type} before SetupConnection`);
      }
      return this.#setupConnection(message);
    }
    switch (message.type) {
      case "SetupConnection":
        return this.close("a second SetupConnection");
      case "OpenStandardMiningChannel":
        return this.#openStandard(message);
      case "OpenExtendedMiningChannel":
        return this.#send({
          type: "OpenMiningChannel.Error",
          requestId: message.requestId,
          // This server serves standard channels only (the code the reference uses for it).
          errorCode: OpenMiningChannelErrorCode.ExtendedChannelsNotSupportedForStandardJobs,
        });
      case "SubmitSharesStandard":
        return this.#submit(message);
      case "SubmitSharesExtended":
        return this.#send({
          type: "SubmitShares.Error",
          channelId: message.channelId,
          sequenceNumber: message.sequenceNumber,
          errorCode: SubmitSharesErrorCode.InvalidChannelId,
        });
      case "UpdateChannel":
        if (!this.#channels.has(message.channelId)) {
          this.#send({
            type: "UpdateChannel.Error",
            channelId: message.channelId,
            errorCode: "invalid-channel-id",
          });
        }
        return; // the target stays: vardiff for V2 is a later slice
      case "CloseChannel": {
        const ch = this.#channels.get(message.channelId);
        if (ch !== undefined) {
          this.#channels.delete(ch.id);
          this.#o.releaseExtranoncePrefix?.(ch.prefix);
          if (this.#channels.size === 0) {
            this.#unsubscribe?.();
            this.#unsubscribe = undefined;
          }
        }
        return;
      }
      default:
        // A server→client message or one of another subprotocol: ignored.
        return;
    }
  }

  #setupConnection(m: SetupConnection): void {
    const refuse = (errorCode: string, flags = 0) => {
      this.#send({ type: "SetupConnection.Error", flags, errorCode });
      void this.#writer.drained().then(() => this.close(`setup refused: ${errorCode}`));
    };
    if (m.protocol !== Sv2Protocol.Mining) {
      return refuse(SetupConnectionErrorCode.UnsupportedProtocol);
    }
    if (m.minVersion > SV2_PROTOCOL_VERSION || m.maxVersion < SV2_PROTOCOL_VERSION) {
      return refuse(SetupConnectionErrorCode.ProtocolVersionMismatch);
    }
    const unsupported = m.flags & SetupConnectionFlags.RequiresWorkSelection;
    if (unsupported !== 0) {
      return refuse(SetupConnectionErrorCode.UnsupportedFeatureFlags, unsupported);
    }
    this.#setup = true;
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    this.#send({ type: "SetupConnection.Success", usedVersion: SV2_PROTOCOL_VERSION, flags: 0 });
  }

  #openStandard(m: OpenStandardMiningChannel): void {
    const error = (errorCode: string) =>
      this.#send({ type: "OpenMiningChannel.Error", requestId: m.requestId, errorCode });
    const payout = this.#o.resolvePayout(m.userIdentity);
    if ("error" in payout) return error(OpenMiningChannelErrorCode.UnknownUser);
    if (!(m.nominalHashRate >= 0) || !Number.isFinite(m.nominalHashRate)) {
      return error(OpenMiningChannelErrorCode.InvalidNominalHashrate);
    }
    if (this.#channels.size >= (this.#o.maxChannels ?? DEFAULT_SV2_MAX_CHANNELS)) {
      return error(TOO_MANY_CHANNELS);
    }
    const maxTarget = hashToBigInt(m.maxTarget);
    let difficulty = this.#difficultyFor(m.nominalHashRate);
    let shareTarget = difficultyToTarget(difficulty);
    if (maxTarget < shareTarget) {
      if (maxTarget === 0n) return error(OpenMiningChannelErrorCode.MaxTargetOutOfRange);
      shareTarget = maxTarget;
      difficulty = targetToDifficulty(shareTarget);
    }
    const prefix = this.#o.allocateExtranoncePrefix();
    if (prefix === undefined || prefix.length !== SV2_EXTRANONCE_UNIQUE_SIZE) {
      return error(OpenMiningChannelErrorCode.MinExtranonceSizeTooLarge);
    }
    const id = this.#nextChannelId++;
    const extranonce2 = new Uint8Array(this.#o.extranonce2Size);
    const ch: StandardChannel<J> = {
      id,
      payout,
      worker: m.userIdentity,
      prefix,
      prefixWord: new DataView(prefix.buffer, prefix.byteOffset, 4).getUint32(0),
      extranonce2,
      extranonce: concatBytes(prefix, extranonce2),
      shareTarget,
      difficulty,
      jobs: new Map(),
      prevhash: undefined,
    };
    this.#channels.set(id, ch);
    this.#send({
      type: "OpenStandardMiningChannel.Success",
      requestId: m.requestId,
      channelId: id,
      target: targetToBytesLE(shareTarget),
      extranoncePrefix: ch.extranonce,
      groupChannelId: 0,
    });
    this.#unsubscribe ??= this.#o.jobs.onJob((job) => this.#onJob(job));
    const job = this.#o.jobs.current();
    if (job !== undefined && this.#o.jobs.ready) this.#sendJob(ch, job);
  }

  #difficultyFor(hashRate: number): number {
    const o = this.#o;
    if (hashRate === 0) return o.startDifficulty;
    const d = hashRate * (o.shareIntervalSeconds ?? 10) / 2 ** 32;
    return Math.max(d, o.minDifficulty ?? o.startDifficulty);
  }

  #onJob(job: J): void {
    if (this.#closed || !this.#o.jobs.ready) return;
    for (const ch of this.#channels.values()) this.#sendJob(ch, job);
    const live = new Set<string>();
    for (const ch of this.#channels.values()) {
      for (const cj of ch.jobs.values()) live.add(cj.job.id);
    }
    this.#dedupe.retain((id) => live.has(id));
  }

  /** Sends `job` to `ch`: future job + SetNewPrevHash on a new tip, else an active job. */
  #sendJob(ch: StandardChannel<J>, job: J): void {
    const coinbase = job.coinbaseFor(ch.payout.script);
    const txid = sha256d(concatBytes(coinbase.coinb1, ch.extranonce, coinbase.coinb2));
    const merkleRoot = merkleRootFromBranch(txid, job.merkleBranch);
    const jobId = job.seq >>> 0;
    ch.jobs.delete(jobId);
    ch.jobs.set(jobId, {
      job,
      coinbase,
      shareTarget: ch.shareTarget,
      difficulty: ch.difficulty,
    });
    while (ch.jobs.size > this.#jobsPerChannel) ch.jobs.delete(ch.jobs.keys().next().value!);
    const newTip = job.clean || ch.prevhash === undefined || !equalBytes(ch.prevhash, job.prevhash);
    this.#send({
      type: "NewMiningJob",
      channelId: ch.id,
      jobId,
      minNtime: newTip ? null : job.curtime,
      version: job.version,
      merkleRoot,
    });
    if (newTip) {
      ch.prevhash = job.prevhash;
      this.#send({
        type: "SetNewPrevHash",
        channelId: ch.id,
        jobId,
        prevHash: job.prevhash,
        minNtime: job.curtime,
        nbits: job.bits,
      });
    }
  }

  #submitError(m: SubmitSharesStandard, errorCode: string): void {
    this.#send({
      type: "SubmitShares.Error",
      channelId: m.channelId,
      sequenceNumber: m.sequenceNumber,
      errorCode,
    });
  }

  #submit(m: SubmitSharesStandard): void {
    const ch = this.#channels.get(m.channelId);
    if (ch === undefined) return this.#submitError(m, SubmitSharesErrorCode.InvalidChannelId);
    const cj = ch.jobs.get(m.jobId);
    if (cj === undefined) return this.#submitError(m, SubmitSharesErrorCode.InvalidJobId);
    const job = cj.job;
    const version = m.version >>> 0;
    if (((version ^ job.version) & ~job.versionMask) >>> 0 !== 0) {
      return this.#submitError(m, SubmitSharesErrorCode.InvalidNonRollableVersionBit);
    }
    const now = this.#now();
    const tips = this.#o.jobs.tips;
    const broken = screenShare(
      ntimeInWindow(m.ntime, job, Math.floor(now / 1000), this.#maxForward),
      tips !== undefined
        ? tipStanding(job.prevhash, tips.prevhash, tips.solved)
        : tipStanding(job.prevhash, this.#o.jobs.current()?.prevhash, NO_SOLVED_TIPS),
    );
    if (
      !this.#dedupe.add(
        job.seq,
        job.id,
        ch.prefixWord,
        FIXED_EXTRANONCE2_KEY,
        m.ntime,
        m.nonce,
        version,
      )
    ) {
      return this.#submitError(m, SubmitSharesErrorCode.DuplicateShare);
    }
    const share: ShareInput = {
      extranonce1: ch.prefix,
      extranonce2: ch.extranonce2,
      ntime: m.ntime,
      nonce: m.nonce,
      version,
      shareTarget: cj.shareTarget,
    };
    const shares = this.#shares;
    shares.take();
    this.#o.checker.check(job, cj.coinbase, share).then(
      (verdict) => {
        shares.give();
        this.#judge(m, ch, cj, share, verdict, broken);
      },
      (error) => {
        shares.give();
        this.#o.log?.(`share check failed for ${ch.worker}: ${errorText(error)}`);
        this.#submitError(m, SubmitSharesErrorCode.InvalidShare);
      },
    );
  }

  #judge(
    m: SubmitSharesStandard,
    ch: StandardChannel<J>,
    cj: ChannelJob<J>,
    share: ShareInput,
    verdict: ShareVerdict,
    broken: PolicyRule | undefined,
  ): void {
    const tips = this.#o.jobs.tips;
    const solvedNow = verdict.meetsNetworkTarget && tips !== undefined &&
      isSolvedTip(cj.job.prevhash, tips.solved);
    const ruling = judgeShare(broken, verdict, solvedNow);
    if (ruling.kind === "block") {
      void this.#submitBlock(m, ch, cj, share, verdict);
      return;
    }
    if (ruling.kind === "accept") return this.#accept(m, cj);
    switch (ruling.rule) {
      case "ntime":
        return this.#submitError(m, SubmitSharesErrorCode.InvalidShare);
      case "stale-tip":
      case "solved-tip":
        return this.#submitError(m, SubmitSharesErrorCode.StaleShare);
      case "low-difficulty":
        return this.#submitError(m, SubmitSharesErrorCode.DifficultyTooLow);
    }
  }

  async #submitBlock(
    m: SubmitSharesStandard,
    ch: StandardChannel<J>,
    cj: ChannelJob<J>,
    share: ShareInput,
    verdict: ShareVerdict,
  ): Promise<void> {
    // Submit first: nothing (policy, a closed connection) stands between a block and the node.
    let accepted = false;
    let stale = false;
    try {
      const result = await this.#o.blocks.submit({
        job: cj.job,
        coinbase: cj.coinbase,
        share,
        verdict,
        worker: ch.worker,
      });
      accepted = result.accepted;
      stale = result.stale === true;
      this.#o.log?.(
        `block ${result.hash} at height ${cj.job.height} by ${ch.worker} (sv2 channel ${ch.id}, ` +
          `prefix ${bytesToHex(ch.prefix)}): ${
            accepted ? "accepted" : `${stale ? "stale" : "rejected"} (${result.reason ?? ""})`
          }`,
      );
    } catch (error) {
      this.#o.log?.(`block submit by ${ch.worker} failed: ${errorText(error)}`);
    }
    if (accepted) return this.#accept(m, cj);
    this.#submitError(
      m,
      stale ? SubmitSharesErrorCode.StaleShare : SubmitSharesErrorCode.InvalidShare,
    );
  }

  #accept(m: SubmitSharesStandard, cj: ChannelJob<J>): void {
    this.#send({
      type: "SubmitShares.Success",
      channelId: m.channelId,
      lastSequenceNumber: m.sequenceNumber,
      newSubmitsAcceptedCount: 1,
      // U64: the whole part of the share difficulty (a difficulty below 1 adds 0).
      newSharesSum: BigInt(Math.floor(cj.difficulty)),
    });
  }

  /** Encodes, seals and queues one message (nothing once closed). */
  #send(message: Sv2Message): void {
    if (this.#closed || this.#session === undefined) return;
    const frame = this.#frame.reset();
    writeMessage(frame, message);
    this.#writer.write(this.#session.encrypt(frame.bytes()));
    if (this.#writer.pending > this.#maxPendingWrite) this.close("the client does not read");
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
