/**
 * The admin panel's port: what the operator sees (uncensored) and the actions they may take, as
 * plain data and methods. The composition layer implements it over the running pool; the admin
 * routes know only this, so they can be tested against a hand-made port and never reach into
 * the Stratum server or the stratifier.
 *
 * Times are milliseconds since the epoch. Errors an operator can fix (an unknown connection, a
 * bad value) are thrown as {@linkcode AdminActionError} with a plain message.
 *
 * @module
 */

/** One live Stratum connection, every field the operator may need. */
export interface AdminConnection {
  /** Connection id (base 36, unique while the pool runs). */
  readonly id: string;
  /** Full worker name (`ADDRESS[.rig]`), "" until authorized. */
  readonly worker: string;
  /** Payout address, "" until authorized. */
  readonly address: string;
  /** Remote IP address. */
  readonly ip: string;
  /** User agent from `mining.subscribe`. */
  readonly userAgent: string;
  /** `tcp` or `tls`. */
  readonly transport: "tcp" | "tls";
  /** Current share difficulty. */
  readonly difficulty: number;
  /** Estimated hashrate, H/s. */
  readonly hashrate: number;
  /** Accepted shares per minute. */
  readonly sharesPerMinute: number;
  /** Accepted shares. */
  readonly accepted: number;
  /** Rejected shares in total. */
  readonly rejected: number;
  /** Rejected shares by reason. */
  readonly rejectedByReason: Readonly<Record<string, number>>;
  /** Best share difficulty. */
  readonly bestDifficulty: number;
  /** When it connected. */
  readonly connectedAt: number;
  /** When the last accepted share came, if any. */
  readonly lastShareAt: number | undefined;
}

/** One ban in force. */
export interface AdminBan {
  /** The key: a worker name, a payout address, or `ip:<address>`. */
  readonly key: string;
  /** What is banned. */
  readonly kind: "worker" | "address" | "ip";
  /** The reason shown to the miner. */
  readonly reason: string;
  /** The rule that set it: `invalid-shares`, `churn`, `operator`, or `unknown`. */
  readonly source: string;
  /** When it ends. */
  readonly until: number;
}

/** One block in the journal. */
export interface AdminBlock {
  /** Height. */
  readonly height: number;
  /** Hash (RPC hex). */
  readonly hash: string;
  /** Full worker name it is credited to. */
  readonly worker: string;
  /** `submitting`, `accepted`, `rejected`, `stale`, … as the submitter keeps it. */
  readonly status: string;
  /** The node's answer for a rejection, or the last transport error. */
  readonly reason: string | undefined;
  /** submitblock calls made. */
  readonly attempts: number;
  /** When the share was found. */
  readonly foundAt: number;
  /** When the status last changed. */
  readonly updatedAt: number;
}

/** One recorded failure of the node link, ZMQ or the template feed. */
export interface AdminHealthEvent {
  /** When. */
  readonly at: number;
  /** Which part: `rpc`, `zmq`, `feed`, `journal`. */
  readonly part: string;
  /** What happened. */
  readonly message: string;
}

/** The node, ZMQ and template feed as the operator needs them. */
export interface AdminHealth {
  /** Node RPC reachable. */
  readonly rpcHealthy: boolean;
  /** ZMQ subscriptions healthy (undefined when ZMQ is off). */
  readonly zmqHealthy: boolean | undefined;
  /** The feed has current work for miners. */
  readonly feedReady: boolean;
  /** Why not, when not ready. */
  readonly notReadyReason: string | undefined;
  /** Current tip height and hash, when known. */
  readonly tip: { readonly height: number; readonly hash: string } | undefined;
  /** Recent failures, newest first. */
  readonly events: readonly AdminHealthEvent[];
}

/** Settings the operator may change while the pool runs; they apply at once and survive restarts. */
export interface AdminOverrides {
  /** Vardiff aim, shares per minute per connection. */
  readonly targetSharesPerMinute?: number;
  /** Lowest share difficulty. */
  readonly minDifficulty?: number;
  /** Highest share difficulty (0 = no limit). */
  readonly maxDifficulty?: number;
  /** Lines one connection may send per minute (0 = no limit). */
  readonly messagesPerMinute?: number;
  /** New connections accepted per second, all addresses together. */
  readonly acceptRatePerSecond?: number;
  /** Open connections allowed from one address (0 = no limit). */
  readonly maxConnectionsPerIp?: number;
  /** Addresses and CIDR ranges never banned by admission rules. */
  readonly exempt?: readonly string[];
  /** Text in the coinbase of new work. */
  readonly poolTag?: string;
}

/** The names of the overridable settings. */
export type OverrideKey = keyof AdminOverrides;

/** Every overridable setting and the config key (dotted TOML) it overrides. */
export const OVERRIDE_CONFIG_KEYS: Readonly<Record<OverrideKey, string>> = Object.freeze({
  targetSharesPerMinute: "difficulty.target_shares_per_minute",
  minDifficulty: "difficulty.min",
  maxDifficulty: "difficulty.max",
  messagesPerMinute: "stratum.messages_per_minute",
  acceptRatePerSecond: "stratum.accept_rate_per_second",
  maxConnectionsPerIp: "stratum.max_connections_per_ip",
  exempt: "bans.exempt",
  poolTag: "mining.pool_tag",
});

/** One setting of the effective configuration. */
export interface EffectiveSetting {
  /** Dotted TOML key, e.g. `difficulty.min`. */
  readonly key: string;
  /** Its value in force (secrets show as `"(set)"` or `""`). */
  readonly value: unknown;
  /** True when a runtime override is in force for it. */
  readonly overridden: boolean;
}

/** One line of the audit log. */
export interface AuditEntry {
  /** When. */
  readonly at: number;
  /** Who: `operator@<address>` of the session. */
  readonly who: string;
  /** The action, e.g. `kick`, `ban`, `override`, `login`, `login-failed`. */
  readonly action: string;
  /** What it was applied to (a connection id, a ban key, a setting), or "". */
  readonly target: string;
  /** Details (new values, durations), or "". */
  readonly detail: string;
}

/** What to ban. */
export interface BanRequest {
  /** A worker name, a payout address or an IP address. */
  readonly kind: "worker" | "address" | "ip";
  /** The name, address or IP. */
  readonly value: string;
  /** How long, in seconds. */
  readonly seconds: number;
  /** The reason shown to the miner. */
  readonly reason: string;
}

/** An action that cannot be done as asked; the message says why, for the operator. */
export class AdminActionError extends Error {
  /** HTTP status to answer with (400 bad input, 404 nothing to act on, 409 not now). */
  readonly status: 400 | 404 | 409;
  /**
   * An action refused.
   *
   * @param message why, plainly
   * @param status the HTTP status
   */
  constructor(message: string, status: 400 | 404 | 409 = 400) {
    super(message);
    this.name = "AdminActionError";
    this.status = status;
  }
}

/** Everything the admin routes read and do. */
export interface AdminPort {
  /** Every live connection, authorized or not. */
  connections(now: number): AdminConnection[];
  /** Every ban in force (workers, addresses and IPs), soonest end first. */
  bans(now: number): AdminBan[];
  /** The block journal, newest first. */
  blocks(): AdminBlock[];
  /** The raw block of a journaled block (hex), or undefined when it is not journaled. */
  rawBlock(hash: string): Promise<string | undefined>;
  /** Node, ZMQ and feed health. */
  health(): AdminHealth;
  /** The configuration in force, secrets redacted, overrides marked. */
  effectiveConfig(): EffectiveSetting[];
  /** The overrides in force. */
  overrides(): AdminOverrides;

  /** Closes a connection (after telling the miner why); false when there is none. */
  kick(connectionId: string, message: string): boolean;
  /** Bans a worker, address or IP and closes its open connections; returns the ban. */
  ban(request: BanRequest, now: number): AdminBan;
  /** Lifts a ban; false when there was none. */
  unban(key: string): boolean;
  /** Sends `client.show_message` to one connection, or every one when `connectionId` is undefined. */
  showMessage(connectionId: string | undefined, text: string): number;
  /**
   * Sets the lowest difficulty of every connection of `worker` (and of its later connections);
   * `undefined` lifts it. Returns how many live connections got it.
   */
  setDifficultyFloor(worker: string, difficulty: number | undefined): number;
  /** Sends a journaled block to the node again; resolves with the node's answer. */
  resubmitBlock(hash: string): Promise<string>;
  /** Applies `patch` (an `undefined` value clears that override), stores it, returns all in force. */
  setOverrides(patch: Partial<Record<OverrideKey, unknown>>): Promise<AdminOverrides>;

  /** Records one audit entry (store and operator log). */
  audit(entry: AuditEntry): Promise<void>;
  /** The newest audit entries, newest first. */
  auditLog(limit: number): Promise<AuditEntry[]>;
}
