/**
 * One Stratum v1 miner connection: reads its lines and hands each method to the part that owns it.
 *
 * A `Session` knows no sockets. It receives text lines from its connection (`handleLine`) and
 * writes complete lines through a {@link SessionTransport}; everything it shares with other
 * sessions (jobs, bans, extranonce1 allocation, duplicate filter, worker registry, clock) comes
 * from its {@link SessionHost}, which the server implements. That keeps it testable and keeps the
 * server a thin I/O shell.
 *
 * The parts, one purpose each, share one `SessionContext` (`session_context.ts`):
 * - `handshake.ts`: subscribe, authorize, configure, difficulty suggestions: the user, its payout,
 *   extranonce1 and the negotiated version mask;
 * - `work.ts`: the jobs sent (notify, difficulty, version mask), vardiff, pausing, the recent jobs;
 * - `submit.ts`: `mining.submit`, from parsing to the answer, with the share policy of
 *   `lib/pool/policy.ts` (judging order in that module);
 * - this module: the method table, the connection's life (activity, upkeep, close).
 *
 * @example A session on a stand-in transport
 * ```ts ignore
 * const session = new Session(host, { write: (line) => console.log(line), close() {} }, stats);
 * session.handleLine('{"id":1,"method":"mining.subscribe","params":["miner/1.0"]}');
 * ```
 *
 * @module
 */

import type { Job } from "../lib/pool/mod.ts";
import { Vardiff, type VardiffOptions } from "../lib/pool/mod.ts";
import type { WorkerStats } from "../lib/pool/mod.ts";
import { Handshake } from "./handshake.ts";
import { Work } from "./work.ts";
import { SubmitHandler } from "./submit.ts";
import type {
  SessionContext,
  SessionHost,
  SessionLink,
  SessionTransport,
} from "./session_context.ts";
import {
  encodeError,
  encodeResult,
  encodeShowMessage,
  encodeTrue,
  parseRequest,
  type RpcId,
  StratumErrorCode as Code,
} from "./protocol.ts";

export type { SessionConfig, SessionHost, SessionTransport } from "./session_context.ts";
export { difficultyHint } from "./handshake.ts";

/** The state and handlers of one miner connection. */
export class Session<J extends Job = Job> implements SessionLink, SessionContext<J> {
  /** Connection id (unique in this process). */
  readonly id: string;
  /** The connection's live stats (registered once authorized). */
  readonly stats: WorkerStats;
  /** Time of the last line received (ms since the epoch). */
  lastActivity: number;

  /** What the session shares with the server (the parts read it through the session). */
  readonly host: SessionHost<J>;
  /** Where the session writes. */
  readonly transport: SessionTransport;
  /** The connection's difficulty. */
  readonly vardiff: Vardiff;
  readonly #handshake: Handshake;
  readonly #work: Work<J>;
  readonly #submits: SubmitHandler<J>;
  #closed = false;

  /** A session for a new connection; it does nothing until lines arrive. */
  constructor(host: SessionHost<J>, transport: SessionTransport, stats: WorkerStats) {
    this.host = host;
    this.transport = transport;
    this.stats = stats;
    this.id = stats.connectionId;
    const now = host.now();
    this.lastActivity = now;
    this.vardiff = new Vardiff(host.config.vardiff, host.config.initialDifficulty, now);
    // The session is the context its parts share: no second object per connection.
    this.#handshake = new Handshake(this);
    this.#work = new Work(this, this.#handshake);
    this.#handshake.listen(this.#work);
    this.#submits = new SubmitHandler(this, this.#handshake, this.#work);
  }

  /** The session itself, as its parts see it. */
  get session(): SessionLink {
    return this;
  }

  /** True once the miner subscribed. */
  get subscribed(): boolean {
    return this.#handshake.subscribed;
  }

  /** The authorized user name, if any. */
  get user(): string | undefined {
    return this.#handshake.user?.name;
  }

  /** True once the first work went out. */
  get working(): boolean {
    return this.#work.started;
  }

  /** True once the session closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The connection's extranonce1 as hex ("" before subscribe). */
  get extranonce1Hex(): string {
    return this.#handshake.extranonce1Hex;
  }

  /** The difficulty in force. */
  get difficulty(): number {
    return this.#work.difficulty;
  }

  /** Handles one line from the miner. */
  handleLine(line: string): void {
    if (this.#closed) return;
    this.lastActivity = this.host.now();
    const req = parseRequest(line);
    if ("error" in req) {
      if (req.error === "parse") {
        this.transport.write(encodeError(req.id, Code.PARSE_ERROR, "parse error"));
      } else {
        this.transport.write(encodeError(req.id, Code.INVALID_REQUEST, "invalid request"));
      }
      this.close();
      return;
    }
    const { id, method, params } = req;
    switch (method) {
      case "mining.submit":
        this.#submits.submit(id, params);
        return;
      case "mining.subscribe":
        return this.#handshake.subscribe(id, params);
      case "mining.authorize":
      case "mining.auth":
        return this.#handshake.authorize(id, params);
      case "mining.configure":
        return this.#handshake.configure(id, params);
      case "mining.suggest_difficulty":
      case "mining.set_difficulty":
        return this.#handshake.suggestDifficulty(id, params[0], false);
      case "mining.suggest_target":
      case "mining.set_target":
        return this.#handshake.suggestDifficulty(id, params[0], true);
      case "mining.extranonce.subscribe":
        return this.#handshake.subscribeExtranonce(id);
      case "mining.get_transactions":
        this.transport.write(encodeResult(id, this.#work.transactionsOf(params[0])));
        return;
      case "mining.ping":
      case "client.ping":
        this.transport.write(encodeResult(id, "pong"));
        return;
      case "client.get_version":
        this.transport.write(encodeResult(id, this.host.config.serverVersion));
        return;
      case "mining.capabilities":
        this.transport.write(encodeTrue(id));
        return;
      case "":
        return; // a reply to something we sent: nothing to do
      default:
        if (id !== null) {
          this.transport.write(encodeError(id, Code.METHOD_NOT_FOUND, "method not found"));
        }
    }
  }

  /** Answers a line that went over the length cap (when its id is known), then closes. */
  rejectOversizeLine(id: RpcId): void {
    if (id !== null) {
      this.transport.write(encodeError(id, Code.INVALID, "message too long"));
    }
    this.close();
  }

  /** Hands out a new job from the feed (the server calls this for every session). */
  onJob(job: J): void {
    this.#work.onJob(job);
  }

  /** Periodic upkeep: waiting for work, readiness changes, vardiff for silent miners. */
  tick(now: number): void {
    if (this.#closed) return;
    this.#work.tick(now);
  }

  /**
   * Operator: the lowest difficulty of this connection (`undefined`: back to the pool minimum).
   * A raised difficulty reaches the miner at once as `mining.set_difficulty` with fresh work.
   */
  setDifficultyFloor(difficulty: number | undefined): void {
    this.vardiff.setFloor(difficulty ?? this.vardiff.options.minDifficulty, this.host.now());
    this.#work.difficultyHinted();
  }

  /** Operator: new vardiff aim and range; a difficulty pushed into the range is sent at once. */
  retuneVardiff(
    patch: Partial<
      Pick<VardiffOptions, "targetSharesPerMinute" | "minDifficulty" | "maxDifficulty">
    >,
  ): void {
    if (this.vardiff.retune(patch, this.host.now()) !== undefined) {
      this.#work.difficultyHinted();
    }
  }

  /** Sends `client.show_message` with `text`. */
  showMessage(text: string): void {
    this.transport.write(encodeShowMessage(text));
  }

  /** Closes the connection (after queued lines are written) and releases what it holds. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#work.close();
    this.host.registry.remove(this.id);
    const handshake = this.#handshake;
    if (handshake.subscribed) {
      this.host.releaseExtranonce1(
        handshake.extranonce1,
        this.#work.started ? this.#work.difficulty : undefined,
      );
    }
    this.transport.close();
  }
}
