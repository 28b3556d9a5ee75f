/**
 * What the parts of a Stratum session share: the per-session configuration, the transport it
 * writes to, the host it shares with the rest of the server, and the session itself as its parts
 * see it. `session.ts` (the dispatcher) builds one {@linkcode SessionContext} per connection and
 * hands it to `handshake.ts`, `work.ts` and `submit.ts`.
 *
 * @module
 */

import type { BanList, InvalidShareOptions } from "../lib/pool/mod.ts";
import type {
  BlockCandidate,
  BlockSubmitResult,
  Job,
  JobSource,
  ResolvePayout,
  ShareChecker,
} from "../lib/pool/mod.ts";
import type { Vardiff, VardiffOptions } from "../lib/pool/mod.ts";
import type { WorkerRegistry, WorkerStats } from "../lib/pool/mod.ts";
import type { ShareDeduper } from "./dedupe.ts";
import type { ConnectionShares } from "./backpressure.ts";

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
  /**
   * The connection's count of shares in flight, if it applies back-pressure: the session takes
   * one per share sent to the checker and gives it back once the answer is written.
   */
  readonly shares?: ConnectionShares;
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
  /** The operator's difficulty floor for a worker name, if one is set. */
  difficultyFloor?(worker: string): number | undefined;
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

/** The session as its parts see it. */
export interface SessionLink {
  /** True once the session closed (its parts then write nothing more). */
  readonly closed: boolean;
  /** Sends `client.show_message` with `text`. */
  showMessage(text: string): void;
  /** Closes the connection (after queued lines are written) and releases what it holds. */
  close(): void;
}

/** Everything one connection's parts work with; made once per session. */
export interface SessionContext<J extends Job = Job> {
  /** What the session shares with the server. */
  readonly host: SessionHost<J>;
  /** Where it writes. */
  readonly transport: SessionTransport;
  /** The connection's live stats. */
  readonly stats: WorkerStats;
  /** The connection's difficulty: hinted by the handshake, stepped and sent by the work. */
  readonly vardiff: Vardiff;
  /** The session itself. */
  readonly session: SessionLink;
}
